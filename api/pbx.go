package api

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"recordings/pbx"
	"recordings/store"
)

// Settings keys of the PBX integration (admin API: GET/PUT /api/admin/pbx).
const (
	settingCDRUser      = "cdr_user"          // HTTP Basic user the PBX sends CDRs with ("" = open)
	settingCDRPassword  = "cdr_password"      // and its password
	settingAppPassword  = "instance_password" // the AppLogin password of this instance (the app objects' password in the PBX)
	settingNoCDRSeconds = "nocdr_grace_seconds"
)

// pbxState is the server's mutable state of the PBX integration.
type pbxState struct {
	limiter *loginLimiter
	// challenge makes AppLogin challenges (tests replace it to use the
	// protocol's published vectors).
	challenge func() (string, error)
}

func newPBXState(now func() time.Time) *pbxState {
	return &pbxState{limiter: newLoginLimiter(now), challenge: func() (string, error) { return pbx.NewChallenge(rand.Reader) }}
}

// routePBX registers the CDR endpoint and the admin API of app objects,
// licences and PBX settings.
func (s *Server) routePBX(apiMux, mux *http.ServeMux) {
	mux.HandleFunc("GET /{domain}/recordings/cdr", s.cdr)
	mux.HandleFunc("POST /{domain}/recordings/cdr", s.cdr)

	apiMux.Handle("GET /api/admin/appobjects", s.admin(s.listAppObjects))
	apiMux.Handle("POST /api/admin/appobjects", s.admin(s.createAppObject))
	apiMux.Handle("GET /api/admin/appobjects/{name}", s.admin(s.getAppObject))
	apiMux.Handle("PUT /api/admin/appobjects/{name}", s.admin(s.updateAppObject))
	apiMux.Handle("DELETE /api/admin/appobjects/{name}", s.admin(s.deleteAppObject))
	apiMux.Handle("PUT /api/admin/users/{name}/appobject", s.admin(s.setUserAppObject))
	apiMux.Handle("GET /api/admin/users", s.admin(s.listAdminUsers))
	apiMux.Handle("PUT /api/admin/users/{name}", s.admin(s.updateAdminUser))

	apiMux.Handle("GET /api/admin/licences", s.admin(s.getLicences))
	apiMux.Handle("PUT /api/admin/licences", s.admin(s.setLicences))
	apiMux.Handle("PUT /api/admin/users/{name}/licence", s.admin(s.setUserLicence))

	apiMux.Handle("GET /api/admin/pbx", s.admin(s.getPBXSettings))
	apiMux.Handle("PUT /api/admin/pbx", s.admin(s.setPBXSettings))
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

// setting reads one setting, "" when unset.
func (s *Server) setting(ctx context.Context, key string) (string, error) {
	v, _, err := s.db.Setting(ctx, key)
	return v, err
}

// equalSecret compares in constant time.
func equalSecret(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// canView reports whether u may see a recording owned by owner: admins see
// all; users their own and those of the owners their app object's access
// list opens (u.Sees, filled at sign-in by the store). Every path that
// shows, serves or changes a recording goes through here.
func canView(u store.User, owner string) bool {
	if u.Role == store.RoleAdmin {
		return true
	}
	if u.Name == "" || owner == "" {
		return false
	}
	if strings.EqualFold(owner, u.Name) {
		return true
	}
	for _, o := range u.Sees {
		if strings.EqualFold(o, owner) {
			return true
		}
	}
	return false
}
