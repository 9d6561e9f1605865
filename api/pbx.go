package api

import (
	"crypto/rand"
	"net/http"

	"recordings/pbx"
	"recordings/store"
)

// pbxState is the server's mutable state of the PBX integration.
type pbxState struct {
	// challenge makes AppLogin challenges (tests replace it to use the
	// protocol's published vectors).
	challenge func() (string, error)
}

func newPBXState() *pbxState {
	return &pbxState{challenge: func() (string, error) { return pbx.NewChallenge(rand.Reader) }}
}

// routePBX registers the CDR endpoint and the admin API of app objects,
// licences and stored CDRs.
func (s *Server) routePBX(mux, apiMux *http.ServeMux) {
	mux.HandleFunc("GET /{domain}/recordings/cdr", s.cdr)
	mux.HandleFunc("POST /{domain}/recordings/cdr", s.cdr)

	apiMux.Handle("GET /api/admin/appobjects", s.admin(s.listAppObjects))
	apiMux.Handle("POST /api/admin/appobjects", s.admin(s.createAppObject))
	apiMux.Handle("GET /api/admin/appobjects/{name}", s.admin(s.getAppObject))
	apiMux.Handle("PUT /api/admin/appobjects/{name}", s.admin(s.updateAppObject))
	apiMux.Handle("DELETE /api/admin/appobjects/{name}", s.admin(s.deleteAppObject))

	s.routePBXAppObjects(apiMux) // pbxappobjects.go

	apiMux.Handle("GET /api/admin/licences", s.admin(s.getLicences))
	apiMux.Handle("PUT /api/admin/licences", s.instanceAdmin(s.setLicences))
	apiMux.Handle("GET /api/admin/cdrs", s.admin(s.listCDRs))
}

// admin is authed for administrators only (403 for others).
func (s *Server) admin(h http.HandlerFunc) http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request) {
		if userFrom(r.Context()).Role != store.RoleAdmin {
			httpError(w, http.StatusForbidden, "administrators only")
			return
		}
		h(w, r)
	})
}

// instanceAdmin is admin for what applies to the whole instance (its
// credentials, the instance password, replication, backups, the typed-in
// licence count): with several domains configured, an administrator of a
// domain (adminDomain) is refused with 403 before h runs.
func (s *Server) instanceAdmin(h http.HandlerFunc) http.Handler {
	return s.admin(func(w http.ResponseWriter, r *http.Request) {
		if err := s.instanceWide(userFrom(r.Context())); err != nil {
			s.fail(w, r, err)
			return
		}
		h(w, r)
	})
}

// errInstanceWide refuses an administrator of a domain what applies to
// every domain.
var errInstanceWide = &clientError{status: http.StatusForbidden,
	msg: "instance-wide: only an administrator of every domain (an admin account of no domain) may use this"}

// instanceWide refuses u, an administrator, what applies to the whole
// instance unless u administers every domain (adminDomain ""; with one
// domain or none every administrator does).
func (s *Server) instanceWide(u store.User) error {
	if adminDomain(s.set.Values(), u) != "" {
		return errInstanceWide
	}
	return nil
}
