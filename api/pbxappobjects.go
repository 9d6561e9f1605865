package api

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"recordings/pbxlink"
	"recordings/store"
)

// The App objects on the PBX, through PbxAdminApi on the App-object
// connection (pbxlink.AppObjects): the admin app lists what the PBX holds
// (the app-object table is its cache), creates, renames and deletes the two
// apps' App objects there, and assigns them to users and config templates.
// Without a connected PBX every change is refused with 503 and nothing is
// sent or stored.

func (s *Server) routePBXAppObjects(apiMux *http.ServeMux) {
	apiMux.Handle("GET /api/admin/pbx/appobjects", s.admin(s.pbxAppObjectsStatus))
	apiMux.Handle("POST /api/admin/pbx/appobjects", s.admin(s.pbxCreateAppObject))
	apiMux.Handle("PUT /api/admin/pbx/appobjects/{name}", s.admin(s.pbxUpdateAppObject))
	apiMux.Handle("DELETE /api/admin/pbx/appobjects/{name}", s.admin(s.pbxDeleteAppObject))
	apiMux.Handle("POST /api/admin/pbx/appobjects/refresh", s.admin(s.pbxRefreshAppObjects))
	apiMux.Handle("GET /api/admin/pbx/templates", s.admin(s.pbxTemplates))
	apiMux.Handle("PUT /api/admin/pbx/assignments", s.admin(s.pbxAssign))
}

// appObjectPBXJSON is what the PBX last said of one app object.
type appObjectPBXJSON struct {
	State     string     `json:"state"` // "present", "missing", or "" (never listed by a PBX)
	GUID      string     `json:"guid,omitempty"`
	URL       string     `json:"url,omitempty"`
	Connected bool       `json:"connected"`
	SyncedAt  *time.Time `json:"synced_at,omitempty"`
}

// pbxAppObjectsJSON is the state of the App-object client: of one
// domain's PBX, or of all together with each domain's in Domains.
type pbxAppObjectsJSON struct {
	Domain    string     `json:"domain,omitempty"`
	Connected bool       `json:"connected"` // a PBX with PbxAdminApi is connected
	SyncedAt  *time.Time `json:"synced_at,omitempty"`
	Objects   int        `json:"objects"` // in the PBX's last list
	LastError string     `json:"last_error,omitempty"`
	// Domains: each domain's PBX (for the administrator of no domain).
	Domains []pbxAppObjectsJSON `json:"domains,omitempty"`
}

func appObjectsStateView(st pbxlink.AppObjectsState) pbxAppObjectsJSON {
	out := pbxAppObjectsJSON{Domain: st.Domain, Connected: st.Connected, Objects: st.Objects, LastError: st.LastError}
	if !st.SyncedAt.IsZero() {
		t := st.SyncedAt.UTC()
		out.SyncedAt = &t
	}
	return out
}

// pbxAppObjectsState is the client's state as an admin of domain sees it:
// that domain's PBX, or ("") every domain's together and each.
func (s *Server) pbxAppObjectsState(domain string) pbxAppObjectsJSON {
	if s.appObjs == nil {
		return pbxAppObjectsJSON{}
	}
	if domain != "" {
		return appObjectsStateView(s.appObjs.StateOf(domain))
	}
	out := appObjectsStateView(s.appObjs.State())
	for _, st := range s.appObjs.States() {
		out.Domains = append(out.Domains, appObjectsStateView(st))
	}
	return out
}

func pbxView(p store.AppObjectPBX) *appObjectPBXJSON {
	out := &appObjectPBXJSON{State: p.State, GUID: p.GUID, URL: p.URL, Connected: p.Connected}
	if !p.SyncedAt.IsZero() {
		t := p.SyncedAt.UTC()
		out.SyncedAt = &t
	}
	return out
}

func (s *Server) pbxAppObjectsStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.pbxAppObjectsState(userFrom(r.Context()).Domain))
}

// pbxFail answers an error of the App-object client.
func (s *Server) pbxFail(w http.ResponseWriter, r *http.Request, err error) {
	var pe *pbxlink.PBXError
	switch {
	case errors.Is(err, pbxlink.ErrNotConnected):
		httpError(w, http.StatusServiceUnavailable, "the PBX is not connected (or its App object lacks the Admin API): nothing changed")
	case errors.Is(err, pbxlink.ErrExists):
		httpError(w, http.StatusConflict, "an App object of that name exists on the PBX already")
	case errors.As(err, &pe):
		httpError(w, http.StatusBadGateway, pe.Error())
	case errors.Is(err, pbxlink.ErrInvalid):
		msg := err.Error()
		if i := strings.LastIndex(msg, ": "+pbxlink.ErrInvalid.Error()); i >= 0 {
			msg = msg[:i]
		}
		httpError(w, http.StatusBadRequest, msg)
	case errors.Is(err, pbxlink.ErrTimeout):
		httpError(w, http.StatusGatewayTimeout, "the PBX did not answer in time")
	default:
		s.fail(w, r, err)
	}
}

// connectedAppObjects returns the client and the domain whose PBX the
// request is about, or answers 503 (that PBX is not connected) or 400
// (several are, and the request names none). The domain is the
// administrator's own, else ?domain= (or asked, from the body), else the
// only connected PBX's.
func (s *Server) connectedAppObjects(w http.ResponseWriter, r *http.Request, asked string) (*pbxlink.AppObjects, string) {
	if s.appObjs == nil {
		httpError(w, http.StatusServiceUnavailable, "the PBX is not connected (or its App object lacks the Admin API): nothing changed")
		return nil, ""
	}
	u := userFrom(r.Context())
	domain := cmp.Or(r.URL.Query().Get("domain"), asked)
	if u.Domain != "" {
		if domain != "" && !strings.EqualFold(domain, u.Domain) {
			httpError(w, http.StatusForbidden, fmt.Sprintf("an administrator of %.64q manages that domain's PBX only", u.Domain))
			return nil, ""
		}
		domain = u.Domain
	}
	d, err := s.appObjs.Domain(domain)
	switch {
	case errors.Is(err, pbxlink.ErrInvalid):
		httpError(w, http.StatusBadRequest, "domain: the PBXes of several domains are connected: name the domain (?domain=)")
		return nil, ""
	case err != nil:
		msg := "the PBX is not connected (or its App object lacks the Admin API): nothing changed"
		if domain != "" {
			msg = fmt.Sprintf("the PBX of %.64q is not connected (or its App object lacks the Admin API): nothing changed", domain)
		}
		httpError(w, http.StatusServiceUnavailable, msg)
		return nil, ""
	}
	return s.appObjs, d
}

// instanceURL is the URL the App objects of domain's PBX point under:
// base_url as given, else https://<host of this request>/<domain>/recordings
// (the configured spelling of domain; base_url is needed while no domain
// is configured).
func (s *Server) instanceURL(r *http.Request, domain, given string) (string, error) {
	if given != "" {
		return strings.TrimSuffix(given, "/"), nil
	}
	v := s.set.Values()
	if len(v.Domains) == 0 {
		return "", fmt.Errorf("base_url: needed while no domain is configured (e.g. https://rec.example.com/example.com/recordings)")
	}
	if d, ok := v.ServedDomain(domain); ok {
		domain = d
	} else {
		domain = v.DefaultDomain()
	}
	return "https://" + r.Host + "/" + domain + "/recordings", nil
}

type pbxAppObjectRequest struct {
	Domain      string `json:"domain"` // whose PBX; see connectedAppObjects
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Type        string `json:"type"`
	BaseURL     string `json:"base_url"`
}

func (s *Server) pbxCreateAppObject(w http.ResponseWriter, r *http.Request) {
	var req pbxAppObjectRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	ao, domain := s.connectedAppObjects(w, r, req.Domain)
	if ao == nil {
		return
	}
	if req.Type == "" {
		req.Type = store.AppObjectUser
	}
	base, err := s.instanceURL(r, domain, req.BaseURL)
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	title := req.DisplayName
	if title == "" {
		title = req.Name
	}
	if err := ao.Save(r.Context(), domain, pbxlink.AppObjectSpec{Name: strings.TrimSpace(req.Name), Title: title, Type: req.Type,
		BaseURL: base, Password: s.set.AppPassword()}); err != nil {
		s.pbxFail(w, r, err)
		return
	}
	s.log.Info("app object created on the PBX", "user", userFrom(r.Context()).Name, "app_object", req.Name, "domain", domain,
		"type", req.Type)
	s.writeCachedObject(w, r, domain, strings.TrimSpace(req.Name)) // the cache, refreshed
}

// writeCachedObject answers with the app object name of domain's PBX as
// the cache holds it.
func (s *Server) writeCachedObject(w http.ResponseWriter, r *http.Request, domain, name string) {
	o, err := s.db.AppObjectIn(r.Context(), domain, name)
	if err != nil {
		s.fail(w, r, notFoundAs(err, "no such app object"))
		return
	}
	writeJSON(w, http.StatusOK, appObjectView(o))
}

// cachedObject returns the app object {name} of domain's PBX from the
// cache, with its guid on the PBX.
func (s *Server) cachedObject(w http.ResponseWriter, r *http.Request, domain string) (store.AppObject, store.AppObjectPBX, bool) {
	name := r.PathValue("name")
	o, err := s.db.AppObjectIn(r.Context(), domain, name)
	if err != nil {
		s.fail(w, r, notFoundAs(err, "no such app object"))
		return o, store.AppObjectPBX{}, false
	}
	st := o.PBX
	if st.State != store.PBXStatePresent || st.GUID == "" || !strings.EqualFold(o.Domain, domain) {
		httpError(w, http.StatusConflict, "the PBX does not hold this app object (refresh, or create it on the PBX)")
		return o, st, false
	}
	return o, st, true
}

func (s *Server) pbxUpdateAppObject(w http.ResponseWriter, r *http.Request) {
	var req pbxAppObjectRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	ao, domain := s.connectedAppObjects(w, r, req.Domain)
	if ao == nil {
		return
	}
	o, st, ok := s.cachedObject(w, r, domain)
	if !ok {
		return
	}
	if req.Name != "" && !strings.EqualFold(req.Name, o.Name) {
		httpError(w, http.StatusBadRequest, "name: app objects cannot be renamed (delete and create)")
		return
	}
	base := strings.TrimSuffix(strings.TrimSuffix(st.URL, "/"+pbxlink.UserAppFile), "/"+pbxlink.AdminAppFile)
	if req.BaseURL != "" {
		base = req.BaseURL
	}
	t := o.Type
	if req.Type != "" {
		t = req.Type
	}
	title := req.DisplayName
	if title == "" {
		title = o.DisplayName
	}
	if err := ao.Save(r.Context(), domain, pbxlink.AppObjectSpec{GUID: st.GUID, Name: o.Name, Title: title, Type: t, BaseURL: base}); err != nil {
		s.pbxFail(w, r, err)
		return
	}
	s.rightsChanged()
	s.log.Info("app object changed on the PBX", "user", userFrom(r.Context()).Name, "app_object", o.Name, "domain", domain)
	s.writeCachedObject(w, r, domain, o.Name)
}

func (s *Server) pbxDeleteAppObject(w http.ResponseWriter, r *http.Request) {
	ao, domain := s.connectedAppObjects(w, r, "")
	if ao == nil {
		return
	}
	o, st, ok := s.cachedObject(w, r, domain)
	if !ok {
		return
	}
	if err := ao.Delete(r.Context(), domain, st.GUID); err != nil {
		s.pbxFail(w, r, err)
		return
	}
	// Deleted on purpose: the row goes too (an object that merely vanished
	// from the PBX's list stays, marked missing, with its access list).
	if err := s.db.DeleteAppObject(r.Context(), o.Domain, o.Name); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.internalError(w, r, err)
		return
	}
	s.rightsChanged()
	s.log.Info("app object deleted on the PBX", "user", userFrom(r.Context()).Name, "app_object", o.Name, "domain", domain)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) pbxRefreshAppObjects(w http.ResponseWriter, r *http.Request) {
	ao, domain := s.connectedAppObjects(w, r, "")
	if ao == nil {
		return
	}
	if err := ao.Refresh(r.Context(), domain); err != nil {
		s.pbxFail(w, r, err)
		return
	}
	s.rightsChanged()
	writeJSON(w, http.StatusOK, s.pbxAppObjectsState(domain))
}

type templateJSON struct {
	CN   string   `json:"cn"`
	GUID string   `json:"guid,omitempty"`
	Apps []string `json:"apps"`
}

func (s *Server) pbxTemplates(w http.ResponseWriter, r *http.Request) {
	ao, domain := s.connectedAppObjects(w, r, "")
	if ao == nil {
		return
	}
	ts, err := ao.Templates(r.Context(), domain)
	if err != nil {
		s.pbxFail(w, r, err)
		return
	}
	out := struct {
		Templates []templateJSON `json:"templates"`
	}{Templates: make([]templateJSON, 0, len(ts))}
	for _, t := range ts {
		apps := t.Apps
		if apps == nil {
			apps = []string{}
		}
		out.Templates = append(out.Templates, templateJSON{CN: t.CN, GUID: t.GUID, Apps: apps})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) pbxAssign(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Domain    string `json:"domain"`     // whose PBX; see connectedAppObjects
		Object    string `json:"object"`     // the cn of a user or config template
		AppObject string `json:"app_object"` // the App object's name
		On        bool   `json:"on"`
	}
	if !decodeJSON(w, r, &req) {
		return
	}
	ao, domain := s.connectedAppObjects(w, r, req.Domain)
	if ao == nil {
		return
	}
	if err := ao.Assign(r.Context(), domain, req.Object, req.AppObject, req.On); err != nil {
		s.pbxFail(w, r, err)
		return
	}
	s.log.Info("app object assignment changed on the PBX", "user", userFrom(r.Context()).Name, "domain", domain, "object", req.Object,
		"app_object", req.AppObject, "on", req.On)
	w.WriteHeader(http.StatusNoContent)
}

// RightsChanged makes the open websockets recheck their rights: the app
// objects changed outside the HTTP layer (the PBX's list was read).
func (s *Server) RightsChanged() { s.rightsChanged() }
