package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"recordings/internal/invalid"
	"recordings/store"
)

// Users: the one JSON shape of an account, the signed-in user (GET /api/me,
// websocket GetMe) and the admin's account management (websocket ListUsers
// and CreateUser, REST GET and PUT /api/admin/users…). The people's
// operations — changing one's password, an admin's reset, disable, delete
// and reassignment of recordings — are in people.go.

func (s *Server) routeUsers(apiMux *http.ServeMux) {
	apiMux.Handle("GET /api/me", s.authed(s.me))
	apiMux.Handle("GET /api/admin/users", s.admin(s.restListUsers))
	apiMux.Handle("POST /api/admin/users", s.admin(s.restCreateUser))
	apiMux.Handle("PUT /api/admin/users/{name}", s.admin(s.restUpdateUser))
	s.routePeople(apiMux)
	apiMux.Handle("PUT /api/admin/users/{name}/appobject", s.admin(s.restSetUserAppObject))
	apiMux.Handle("PUT /api/admin/users/{name}/licence", s.admin(s.restSetUserLicence))
}

// userJSON is how every route shows an account.
type userJSON struct {
	ID          int64     `json:"id,omitempty"`
	Name        string    `json:"name"`
	DisplayName string    `json:"display_name"`
	E164        string    `json:"e164"`
	Role        string    `json:"role"`
	MACs        []string  `json:"macs"`
	Licensed    bool      `json:"licensed"`
	HasPassword bool      `json:"has_password"`
	PasswordSet time.Time `json:"password_set,omitzero"` // when the password was last set
	Disabled    bool      `json:"disabled"`
	Created     time.Time `json:"created,omitzero"`
	// AppObject is the app object in effect: of a signed-in user the one
	// the sign-in came through (or the account's default), of an account
	// in the admin's list its default.
	AppObject string `json:"app_object"`
	// Sees: of a signed-in user, the owners the app object's access list
	// opens besides the user's own.
	Sees []string `json:"sees,omitempty"`
	// AppObjectDomain: of a signed-in user, the domain of the app object
	// whose list applies (Sees opens that domain's recordings only);
	// absent for an app object of every domain.
	AppObjectDomain string `json:"app_object_domain,omitempty"`
	// Source is "pbx" for a user replicated from the PBX (its display
	// name, number and devices follow the PBX), "local" for a local
	// account. PBXGUID, CN and DN are the PBX object's; PBXDeleted says
	// the PBX deleted the user (its recordings stay, marked).
	Source     string `json:"source"`
	PBXGUID    string `json:"pbx_guid,omitempty"`
	CN         string `json:"cn,omitempty"`
	DN         string `json:"dn,omitempty"`
	PBXDeleted bool   `json:"pbx_deleted,omitempty"`
	// Domain is the domain the account belongs to (that of the PBX that
	// replicated it); absent for an account of every domain.
	Domain string `json:"domain,omitempty"`
	// AppDomain: in the answers of the sign-in page (POST /api/login, GET
	// /api/session), the domain whose app URL (/{domain}/recordings/…) the
	// page sends the user to; absent when the instance serves any domain
	// (the page then uses the host name).
	AppDomain string `json:"app_domain,omitempty"`
	// AdminDomain: of the signed-in administrator (GET /api/me, GET
	// /api/session, POST /api/login, GetMe),
	// the domain they administer when it is not every domain (several
	// domains configured and the account of one of them): the
	// instance-wide parts of the admin API (credentials, instance
	// password, replication, backup, the typed-in licence count) answer
	// them 403, and the admin app leaves them out.
	AdminDomain string `json:"admin_domain,omitempty"`
}

func userView(u store.User) userJSON {
	macs := u.MACs
	if macs == nil {
		macs = []string{}
	}
	ao := u.Via
	if ao == "" {
		ao = u.AppObject
	}
	v := userJSON{ID: u.ID, Name: u.Name, DisplayName: u.DisplayName, E164: u.E164, Role: string(u.Role), MACs: macs,
		Licensed: u.Licensed, HasPassword: u.HasPassword, PasswordSet: u.PasswordAt.UTC(), Disabled: u.Disabled,
		Created: u.CreatedAt.UTC(), AppObject: ao, Sees: u.Sees, Source: "local", PBXGUID: u.PBXGUID, CN: u.CN, DN: u.DN,
		PBXDeleted: u.PBXDeleted, Domain: u.Domain, AppObjectDomain: u.ViaDomain}
	if u.PBXGUID != "" {
		v.Source = "pbx"
	}
	return v
}

// signInView is u as the sign-in page gets it: with the domain of the
// app URL to go to, so that an instance serving configured domains never
// sends a person to the 404 of a domain it does not serve. The account's
// own domain comes first; else the request's host name when it is a
// served domain; else the first served domain.
func (s *Server) signInView(u store.User, r *http.Request) userJSON {
	v := s.meView(u)
	vals := s.set.Values()
	if len(vals.Domains) == 0 {
		return v
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if d, ok := vals.ServedDomain(u.Domain); u.Domain != "" && ok {
		v.AppDomain = d
	} else if d, ok := vals.ServedDomain(host); ok {
		v.AppDomain = d
	} else {
		v.AppDomain = vals.DefaultDomain()
	}
	return v
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.meView(userFrom(r.Context())))
}

// meView is the signed-in account u as it sees itself.
func (s *Server) meView(u store.User) userJSON {
	v := userView(u)
	if u.Role == store.RoleAdmin {
		v.AdminDomain = s.managedDomain(u)
	}
	return v
}

type userReply struct {
	User userJSON `json:"user"`
}

func (s *Server) wsGetMe(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	return userReply{s.meView(u)}, nil
}

type usersReply struct {
	Users []userJSON `json:"users"`
	// Domains are the domains the admin may give an account (besides
	// none, for an administrator of no domain): see userdomain.go.
	Domains []string `json:"domains"`
}

// listUsers is every account, for the admin.
func (s *Server) listUsers(ctx context.Context, admin store.User) (usersReply, error) {
	users, err := s.db.Users(ctx)
	if err != nil {
		return usersReply{}, err
	}
	out := usersReply{Users: make([]userJSON, 0, len(users)), Domains: s.givableDomains(admin)}
	for _, u := range users {
		if d := s.managedDomain(admin); d != "" && !strings.EqualFold(u.Domain, d) {
			continue // another domain's, or the instance administrators'
		}
		out.Users = append(out.Users, userView(u))
	}
	return out, nil
}

func (s *Server) restListUsers(w http.ResponseWriter, r *http.Request) {
	out, err := s.listUsers(r.Context(), userFrom(r.Context()))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) wsListUsers(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	return s.listUsers(ctx, u)
}

// createUserRequest is a new local account.
type createUserRequest struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	E164        string `json:"e164"`
	Role        string `json:"role"`
	Password    string `json:"password"`
	// Domain: "" every domain, or one the instance serves; absent: the
	// admin's own (none for an administrator of no domain).
	Domain *string `json:"domain"`
}

// createUser adds a local account as admin.
func (s *Server) createUser(ctx context.Context, admin store.User, req createUserRequest) (userJSON, error) {
	req.Name = strings.TrimSpace(req.Name)
	switch {
	case req.Name == "" || len(req.Name) > 64:
		return userJSON{}, invalid.New("name", "1 to 64 characters")
	case strings.ContainsAny(req.Name, " \t\r\n/\\"):
		return userJSON{}, invalid.New("name", "no spaces or slashes")
	case len(req.DisplayName) > 128:
		return userJSON{}, invalid.New("display_name", "at most 128 bytes")
	case !validE164(req.E164):
		return userJSON{}, invalid.New("e164", "digits with an optional leading +, at most 20")
	case req.Role != "" && req.Role != string(store.RoleUser) && req.Role != string(store.RoleAdmin):
		return userJSON{}, invalid.New("role", `"user" or "admin"`)
	}
	if err := store.CheckNewPassword(req.Password); err != nil {
		return userJSON{}, err
	}
	domain, err := s.newAccountDomain(admin, req.Domain)
	if err != nil {
		return userJSON{}, err
	}
	role := store.Role(req.Role)
	if role == "" {
		role = store.RoleUser
	}
	nu, err := s.db.CreateUser(ctx, store.User{Name: req.Name, DisplayName: strings.TrimSpace(req.DisplayName), E164: req.E164,
		Role: role, Domain: domain}, req.Password)
	if err != nil {
		if errors.Is(err, store.ErrExists) {
			// Names are compared in their normalised form (store.NameKey).
			return userJSON{}, refuse(http.StatusConflict,
				"a user named %q, or one differing only in case or look-alike characters, exists already", req.Name)
		}
		return userJSON{}, err
	}
	s.log.Info("user created", "user", admin.Name, "new_user", nu.Name, "role", string(nu.Role), "domain", nu.Domain)
	return userView(nu), nil
}

// wsCreateUser is CreateUser {name, display_name, e164, role, password,
// domain}: answers {"user": user}.
func (s *Server) wsCreateUser(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	var req createUserRequest
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	out, err := s.createUser(ctx, u, req)
	if err != nil {
		return nil, err
	}
	return userReply{out}, nil
}

// restCreateUser is POST /api/admin/users: 201 with the account.
func (s *Server) restCreateUser(w http.ResponseWriter, r *http.Request) {
	var req createUserRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	out, err := s.createUser(r.Context(), userFrom(r.Context()), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

func validE164(s string) bool {
	if s == "" {
		return true
	}
	d := strings.TrimPrefix(s, "+")
	if d == "" || len(d) > 20 {
		return false
	}
	for _, r := range d {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// updateUserRequest changes the fields given of an account.
type updateUserRequest struct {
	Name        string    `json:"name"` // websocket only; REST takes it from the path
	DisplayName *string   `json:"display_name"`
	E164        *string   `json:"e164"`
	Role        *string   `json:"role"`
	MACs        *[]string `json:"macs"`
	Domain      *string   `json:"domain"` // "" every domain (userdomain.go)
}

// updateUser changes an account's display name, number, role, device
// MACs and domain (the fields given), then re-resolves the recordings made
// under its name or on its old and new devices, so that ownership follows.
// The domain is checked before anything is stored.
func (s *Server) updateUser(ctx context.Context, admin store.User, req updateUserRequest) (userJSON, error) {
	u, err := s.db.User(ctx, req.Name)
	if err != nil {
		return userJSON{}, notFoundAs(err, "no such user")
	}
	if err := s.manages(admin, u); err != nil {
		return userJSON{}, err
	}
	domain, domainChanged, err := s.changedAccountDomain(admin, u, req.Domain)
	if err != nil {
		return userJSON{}, err
	}
	oldMACs, oldRole, oldDomain := u.MACs, u.Role, u.Domain
	if req.DisplayName != nil {
		u.DisplayName = strings.TrimSpace(*req.DisplayName)
	}
	if req.E164 != nil {
		u.E164 = strings.TrimSpace(*req.E164)
	}
	if req.Role != nil {
		u.Role = store.Role(*req.Role)
	}
	if req.MACs != nil {
		u.MACs = *req.MACs
	}
	if err := s.db.UpdateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrExists) {
			return userJSON{}, refuse(http.StatusConflict, "macs: a MAC address belongs to another user")
		}
		return userJSON{}, notFoundAs(err, "no such user")
	}
	if domainChanged {
		if _, err := s.db.SetUserDomain(ctx, u.Name, domain); err != nil {
			return userJSON{}, notFoundAs(err, "no such user")
		}
		// What the account sees changes at once: its websockets load
		// their rights again (rightsChanged below).
		s.log.Info("account domain changed", "user", admin.Name, "account", u.Name, "from", oldDomain, "to", domain)
	}
	s.log.Info("user changed", "user", admin.Name, "account", u.Name)
	if u.Role != oldRole {
		// The store ended the account's sessions; its websockets go too.
		n := s.closeUserSockets(u.ID, nil, "role changed")
		s.log.Info("role changed: sessions ended", "user", admin.Name, "account", u.Name,
			"from", string(oldRole), "to", string(u.Role), "websockets", n)
	}
	s.rightsChanged() // the number may open another access list
	macs := append(append([]string{}, oldMACs...), u.MACs...)
	if _, err := s.cdrs.RefreshDevices(ctx, u.Name, macs); err != nil {
		s.cdrLog.Warn("re-resolve recordings after user change", "account", u.Name, "err", err)
	}
	nu, err := s.db.User(ctx, u.Name)
	if err != nil {
		return userJSON{}, err
	}
	return userView(nu), nil
}

func (s *Server) restUpdateUser(w http.ResponseWriter, r *http.Request) {
	var req updateUserRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	req.Name = r.PathValue("name")
	out, err := s.updateUser(r.Context(), userFrom(r.Context()), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// wsUpdateUser is UpdateUser {name, display_name, e164, role, macs}:
// answers {"user": user}.
func (s *Server) wsUpdateUser(ctx context.Context, _ *wsClient, u store.User, body []byte) (any, error) {
	var req updateUserRequest
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	out, err := s.updateUser(ctx, u, req)
	if err != nil {
		return nil, err
	}
	return userReply{out}, nil
}

// restSetUserAppObject sets an account's default app object: the one whose
// access list applies to its local sign-ins and to AppLogins naming none.
func (s *Server) restSetUserAppObject(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AppObject *string `json:"app_object"`
	}
	if !decodeJSON(w, r, &req) {
		return
	}
	if req.AppObject == nil {
		httpError(w, http.StatusBadRequest, `body must be {"app_object": "<name>"|""}`)
		return
	}
	if _, err := s.managedAccount(r.Context(), userFrom(r.Context()), r.PathValue("name")); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.db.SetUserAppObject(r.Context(), r.PathValue("name"), *req.AppObject); err != nil {
		if errors.Is(err, store.ErrAmbiguous) {
			// An account of no domain, and the name is an object of
			// several domains (docs/pbx.md, Domains).
			err = refuse(http.StatusConflict, "app object %.64q exists in several domains; an account of no domain can "+
				"have only an app object of every domain or one whose name is in one domain only", *req.AppObject)
		}
		s.fail(w, r, notFoundAs(err, "no such user or app object"))
		return
	}
	s.rightsChanged()
	s.log.Info("default app object set", "user", userFrom(r.Context()).Name,
		"account", r.PathValue("name"), "app_object", *req.AppObject)
	w.WriteHeader(http.StatusNoContent)
}
