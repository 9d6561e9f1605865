package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"recordings/store"
)

// listRefreshTimeout bounds the PBX's answer when the list is shown.
const listRefreshTimeout = 5 * time.Second

// App objects per domain (docs/pbx.md, Domains): an administrator of a
// domain sees the app objects of that domain and those of every domain,
// and changes only their domain's; the administrator of no domain sees and
// changes all, naming an object's domain with ?domain= where a name is in
// several domains.

// appObjectJSON is how the admin API shows and takes an app object.
type appObjectJSON struct {
	// Domain is the domain whose PBX holds it; "" for every domain. On
	// create, an administrator of a domain gets theirs.
	Domain      string    `json:"domain"`
	Name        string    `json:"name"`
	DisplayName string    `json:"display_name"`
	Type        string    `json:"type"`   // "user" or "admin"
	Access      []string  `json:"access"` // extensions: numbers or user names
	Created     time.Time `json:"created,omitzero"`
	// PBX is what the PBX last said of it (pbxappobjects.go); read-only.
	PBX *appObjectPBXJSON `json:"pbx,omitempty"`
}

func appObjectView(o store.AppObject) appObjectJSON {
	acc := o.Access
	if acc == nil {
		acc = []string{}
	}
	return appObjectJSON{Domain: o.Domain, Name: o.Name, DisplayName: o.DisplayName, Type: o.Type, Access: acc,
		Created: o.CreatedAt.UTC(), PBX: pbxView(o.PBX)}
}

// refreshAppObjects re-reads the lists of the connected PBXes of the
// domains admin u sees (the PBX Manager plugin changes App objects on the
// PBX directly); a failure leaves the cache, shown with last_error.
func (s *Server) refreshAppObjects(ctx context.Context, u store.User) {
	if s.appObjs == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, listRefreshTimeout)
	defer cancel()
	for _, st := range s.appObjs.States() {
		if !st.Connected || !store.InDomain(u.Domain, st.Domain) {
			continue
		}
		if err := s.appObjs.Refresh(ctx, st.Domain); err != nil {
			s.log.Warn("app objects: re-read the PBX's list", "domain", st.Domain, "err", err)
		}
	}
}

func (s *Server) listAppObjects(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	s.refreshAppObjects(r.Context(), u)
	objs, err := s.db.AppObjectsIn(r.Context(), u.Domain)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := struct {
		AppObjects []appObjectJSON   `json:"app_objects"`
		PBX        pbxAppObjectsJSON `json:"pbx"` // the PBX's App-object client
		// Domains are the configured domains an object may belong to
		// (for the administrator of no domain; empty with one or none).
		Domains []string `json:"domains"`
	}{AppObjects: make([]appObjectJSON, 0, len(objs)), PBX: s.pbxAppObjectsState(u.Domain), Domains: []string{}}
	if v := s.set.Values(); u.Domain == "" && len(v.Domains) > 1 {
		out.Domains = v.Domains
	}
	for _, o := range objs {
		out.AppObjects = append(out.AppObjects, appObjectView(o))
	}
	writeJSON(w, http.StatusOK, out)
}

// errAmbiguousObject answers a name in several domains looked up without
// one.
var errAmbiguousObject = refuse(http.StatusConflict,
	"app objects of that name exist in several domains: name the domain (?domain=)")

// appObjectFor finds the app object {name} of the request for admin u:
// for an administrator of a domain, that domain's (else the one of every
// domain); for the administrator of no domain, the one of ?domain= exactly
// ("" the one of every domain), else the one of every domain or the only
// one of that name.
func (s *Server) appObjectFor(ctx context.Context, r *http.Request, u store.User, name string) (store.AppObject, error) {
	q := r.URL.Query()
	domain, named := q.Get("domain"), q.Has("domain")
	if u.Domain != "" {
		if named && domain != "" && !strings.EqualFold(domain, u.Domain) {
			return store.AppObject{}, refuse(http.StatusNotFound, "no such app object")
		}
		domain = u.Domain
	}
	o, err := s.db.AppObjectIn(ctx, domain, name)
	switch {
	case errors.Is(err, store.ErrAmbiguous):
		return store.AppObject{}, errAmbiguousObject
	case err != nil:
		return store.AppObject{}, notFoundAs(err, "no such app object")
	case named && u.Domain == "" && !strings.EqualFold(o.Domain, domain):
		return store.AppObject{}, refuse(http.StatusNotFound, "no such app object")
	}
	return o, nil
}

// mayChange refuses a change of o by admin u of another domain, or of an
// object of every domain by an administrator of a domain.
func mayChange(u store.User, o store.AppObject) error {
	if u.Domain == "" || strings.EqualFold(u.Domain, o.Domain) {
		return nil
	}
	if o.Domain == "" {
		return refuse(http.StatusForbidden,
			"this app object belongs to every domain: only an administrator of no domain may change it")
	}
	return refuse(http.StatusNotFound, "no such app object")
}

func (s *Server) getAppObject(w http.ResponseWriter, r *http.Request) {
	o, err := s.appObjectFor(r.Context(), r, userFrom(r.Context()), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, appObjectView(o))
}

// objectDomain is the domain a new app object of admin u belongs to: the
// administrator's own, else the one asked for (a configured domain, in
// its configured spelling, or "" for every domain).
func (s *Server) objectDomain(u store.User, asked string) (string, error) {
	asked = strings.TrimSpace(asked)
	if u.Domain != "" {
		if asked != "" && !strings.EqualFold(asked, u.Domain) {
			return "", refuse(http.StatusForbidden, "domain: an administrator of %.64q creates app objects of that domain only", u.Domain)
		}
		return u.Domain, nil
	}
	if asked == "" {
		return "", nil
	}
	if v := s.set.Values(); len(v.Domains) > 0 {
		d, ok := v.ServedDomain(asked)
		if !ok {
			return "", badRequest("domain: %.64q is not a domain this instance serves", asked)
		}
		return d, nil
	}
	return asked, nil
}

func (s *Server) createAppObject(w http.ResponseWriter, r *http.Request) {
	var req appObjectJSON
	if !decodeJSON(w, r, &req) {
		return
	}
	u := userFrom(r.Context())
	domain, err := s.objectDomain(u, req.Domain)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o, err := s.db.CreateAppObject(r.Context(), store.AppObject{Domain: domain, Name: req.Name, DisplayName: req.DisplayName,
		Type: req.Type, Access: req.Access})
	if err != nil {
		if errors.Is(err, store.ErrExists) {
			msg := fmt.Sprintf("an app object named %q exists already", req.Name)
			if domain != "" {
				msg += fmt.Sprintf(" in domain %q", domain)
			}
			httpError(w, http.StatusConflict, msg)
			return
		}
		s.fail(w, r, err)
		return
	}
	s.rightsChanged()
	s.log.Info("app object created", "user", u.Name, "app_object", o.Name, "domain", o.Domain,
		"type", o.Type, "access", len(o.Access))
	writeJSON(w, http.StatusCreated, appObjectView(o))
}

func (s *Server) updateAppObject(w http.ResponseWriter, r *http.Request) {
	var req appObjectJSON
	if !decodeJSON(w, r, &req) {
		return
	}
	u := userFrom(r.Context())
	name := r.PathValue("name")
	if req.Name != "" && !strings.EqualFold(req.Name, name) {
		httpError(w, http.StatusBadRequest, "name: app objects cannot be renamed (delete and create)")
		return
	}
	cur, err := s.appObjectFor(r.Context(), r, u, name)
	if err == nil {
		err = mayChange(u, cur)
	}
	if err == nil && req.Domain != "" && !strings.EqualFold(req.Domain, cur.Domain) {
		err = badRequest("domain: app objects cannot move to another domain (delete and create)")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o := store.AppObject{Domain: cur.Domain, Name: cur.Name, DisplayName: req.DisplayName, Type: req.Type, Access: req.Access}
	if err := s.db.UpdateAppObject(r.Context(), o); err != nil {
		s.fail(w, r, notFoundAs(err, "no such app object"))
		return
	}
	s.rightsChanged()
	s.log.Info("app object changed", "user", u.Name, "app_object", cur.Name, "domain", cur.Domain)
	if o, err = s.db.AppObjectIn(r.Context(), cur.Domain, cur.Name); err != nil {
		s.fail(w, r, notFoundAs(err, "no such app object"))
		return
	}
	writeJSON(w, http.StatusOK, appObjectView(o))
}

func (s *Server) deleteAppObject(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	o, err := s.appObjectFor(r.Context(), r, u, r.PathValue("name"))
	if err == nil {
		err = mayChange(u, o)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.db.DeleteAppObject(r.Context(), o.Domain, o.Name); err != nil {
		s.fail(w, r, notFoundAs(err, "no such app object"))
		return
	}
	s.rightsChanged()
	s.log.Info("app object deleted", "user", u.Name, "app_object", o.Name, "domain", o.Domain)
	w.WriteHeader(http.StatusNoContent)
}
