package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"recordings/events"
	"recordings/internal/invalid"
	"recordings/store"
)

// People: a user changes their own password; an administrator resets
// passwords, disables, enables and deletes accounts and gives the
// recordings of an owner (an account, existing or deleted) to another.
//
// Every change of what an account may do ends its sessions (the store
// deletes them in the same transaction) and closes its websockets with code
// 4401 before the answer (closeUserSockets): a changed or reset password, a
// disabled or deleted account, a role change (users.go) and, for its one
// session, a logout (auth.go). The websocket a request came over is
// answered first, then closed.
//
// REST                                         websocket (admin but ChangePassword)
//
//	PUT    /api/me/password {old,new}             ChangePassword {old,new}
//	PUT    /api/admin/users/{name}/password        ResetPassword {name,password}
//	PUT    /api/admin/users/{name}/disabled        SetUserDisabled {name,disabled}
//	DELETE /api/admin/users/{name}                 DeleteUser {name}
//	POST   /api/admin/users/{name}/reassign {to}   ReassignRecordings {from,to}

func (s *Server) routePeople(apiMux *http.ServeMux) {
	apiMux.Handle("PUT /api/me/password", s.authed(s.restChangePassword))
	apiMux.Handle("PUT /api/admin/users/{name}/password", s.admin(s.restResetPassword))
	apiMux.Handle("PUT /api/admin/users/{name}/disabled", s.admin(s.restSetUserDisabled))
	apiMux.Handle("DELETE /api/admin/users/{name}", s.admin(s.restDeleteUser))
	apiMux.Handle("POST /api/admin/users/{name}/reassign", s.admin(s.restReassign))
}

type changePasswordRequest struct {
	Old string `json:"old"`
	New string `json:"new"`
}

// changePassword sets u's password to req.New after checking req.Old (through
// the sign-in throttle: a stolen session is no password oracle). It ends
// all of u's sessions, the current one included; self is the websocket the
// request came over (nil for REST).
func (s *Server) changePassword(ctx context.Context, u store.User, remote string, self *wsClient, req changePasswordRequest) error {
	if !u.HasPassword {
		return refuse(http.StatusConflict, "this account has no local password (it signs in through the PBX)")
	}
	if err := store.CheckNewPassword(req.New); err != nil {
		if ie, ok := invalid.As(err); ok {
			return invalid.New("new", "%s", ie.Message)
		}
		return err
	}
	checked, err := s.checkPassword(ctx, "change-password", remote, u.Name, req.Old)
	switch {
	case errors.Is(err, store.ErrBadCredentials), err == nil && checked.ID != u.ID:
		return refuse(http.StatusForbidden, "the current password is wrong")
	case err != nil:
		return err
	}
	if err := s.db.SetPassword(ctx, checked.Name, req.New); err != nil {
		return err
	}
	n := s.closeUserSockets(u.ID, self, "password changed")
	s.log.Info("password changed: sessions ended", "user", u.Name, "remote", remote, "websockets", n)
	return nil
}

func (s *Server) restChangePassword(w http.ResponseWriter, r *http.Request) {
	var req changePasswordRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	if err := s.changePassword(r.Context(), userFrom(r.Context()), r.RemoteAddr, nil, req); err != nil {
		s.fail(w, r, err)
		return
	}
	s.clearSessionCookie(w, r) // the session ended: sign in with the new password
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) wsChangePassword(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	var req changePasswordRequest
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	return nil, s.changePassword(ctx, u, c.remote, c, req)
}

// account loads the account an admin's request names.
func (s *Server) account(ctx context.Context, name string) (store.User, error) {
	if strings.TrimSpace(name) == "" {
		return store.User{}, invalid.New("name", "must not be empty")
	}
	u, err := s.db.User(ctx, name)
	if err != nil {
		return store.User{}, notFoundAs(err, "no such user")
	}
	return u, nil
}

// resetPassword gives account name a new password and ends its sessions.
func (s *Server) resetPassword(ctx context.Context, admin store.User, self *wsClient, name, password string) error {
	if err := store.CheckNewPassword(password); err != nil {
		return err
	}
	u, err := s.managedAccount(ctx, admin, name)
	if err != nil {
		return err
	}
	if err := s.db.SetPassword(ctx, u.Name, password); err != nil {
		return notFoundAs(err, "no such user")
	}
	n := s.closeUserSockets(u.ID, self, "password reset")
	s.log.Info("password reset: sessions ended", "user", admin.Name, "account", u.Name, "websockets", n)
	return nil
}

// setUserDisabled disables (ending its sessions) or enables account name.
// Administrators cannot disable themselves.
func (s *Server) setUserDisabled(ctx context.Context, admin store.User, self *wsClient, name string, disabled bool) (userReply, error) {
	u, err := s.managedAccount(ctx, admin, name)
	if err != nil {
		return userReply{}, err
	}
	if disabled && u.ID == admin.ID {
		return userReply{}, refuse(http.StatusConflict, "you cannot disable your own account")
	}
	if err := s.db.SetUserDisabled(ctx, u.Name, disabled); err != nil {
		return userReply{}, notFoundAs(err, "no such user")
	}
	if disabled {
		n := s.closeUserSockets(u.ID, self, "account disabled")
		s.log.Info("account disabled: sessions ended", "user", admin.Name, "account", u.Name, "websockets", n)
	} else {
		s.log.Info("account enabled", "user", admin.Name, "account", u.Name)
	}
	s.rightsChanged()
	nu, err := s.db.UserByID(ctx, u.ID)
	if err != nil {
		return userReply{}, err
	}
	return userReply{userView(nu)}, nil
}

// deleteUser deletes account name with its sessions. Its recordings stay,
// owned by the name (reassignRecordings gives them to another account).
// Administrators cannot delete themselves.
func (s *Server) deleteUser(ctx context.Context, admin store.User, self *wsClient, name string) error {
	u, err := s.managedAccount(ctx, admin, name)
	if err != nil {
		return err
	}
	if u.ID == admin.ID {
		return refuse(http.StatusConflict, "you cannot delete your own account")
	}
	if u.PBXGUID != "" && !u.PBXDeleted {
		// The replication would bring it back at its next update.
		return refuse(http.StatusConflict, "%s is a user of the PBX: delete it on the PBX", u.Name)
	}
	if err := s.db.DeleteUser(ctx, u.Name); err != nil {
		return notFoundAs(err, "no such user")
	}
	n := s.closeUserSockets(u.ID, self, "account deleted")
	s.log.Info("account deleted: sessions ended, recordings kept under the name", "user", admin.Name,
		"account", u.Name, "websockets", n)
	return nil
}

type reassignResult struct {
	Moved int `json:"moved"`
	// Warning tells what the move may lead to (an unlicensed new owner).
	Warning string `json:"warning,omitempty"`
}

// reassignRecordings gives every recording owned by from (compared in its
// normalised form; the account may be deleted) to the existing account to.
// The reassignment stands against later call data (store.OwnerByAdmin).
func (s *Server) reassignRecordings(ctx context.Context, admin store.User, from, to string) (reassignResult, error) {
	from = strings.TrimSpace(from)
	if from == "" {
		return reassignResult{}, invalid.New("from", "must not be empty")
	}
	target, err := s.db.User(ctx, strings.TrimSpace(to))
	if errors.Is(err, store.ErrNotFound) {
		return reassignResult{}, invalid.New("to", "no such user")
	}
	if err != nil {
		return reassignResult{}, err
	}
	if err := s.manages(admin, target); err != nil {
		return reassignResult{}, err
	}
	if fromAcc, err := s.db.User(ctx, from); err == nil {
		if err := s.manages(admin, fromAcc); err != nil {
			return reassignResult{}, err
		}
	}
	if store.SameName(from, target.Name) {
		return reassignResult{}, invalid.New("to", "the recordings are %s's already", target.Name)
	}
	var res reassignResult
	for {
		ids, err := s.db.ReassignRecordingsIn(ctx, s.managedDomain(admin), from, target.Name)
		if err != nil {
			return res, err
		}
		if len(ids) == 0 {
			break
		}
		res.Moved += len(ids)
		for _, id := range ids {
			s.bus.Publish(events.Recording{Kind: events.Updated, ID: id, By: events.ByUser})
		}
	}
	if lic, err := s.db.Licences(ctx); err == nil && lic.Configured && !target.Licensed && res.Moved > 0 {
		res.Warning = target.Name + " holds no licence: with licences enforced, the next start deletes these recordings"
	}
	s.log.Info("recordings reassigned", "user", admin.Name, "from", from, "to", target.Name, "count", res.Moved)
	return res, nil
}

func (s *Server) restResetPassword(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Password string `json:"password"`
	}
	if !decodeJSON(w, r, &req) {
		return
	}
	if err := s.resetPassword(r.Context(), userFrom(r.Context()), nil, r.PathValue("name"), req.Password); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) restSetUserDisabled(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Disabled *bool `json:"disabled"`
	}
	if !decodeJSON(w, r, &req) {
		return
	}
	if req.Disabled == nil {
		httpError(w, http.StatusBadRequest, `body must be {"disabled": true|false}`)
		return
	}
	res, err := s.setUserDisabled(r.Context(), userFrom(r.Context()), nil, r.PathValue("name"), *req.Disabled)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res.User)
}

func (s *Server) restDeleteUser(w http.ResponseWriter, r *http.Request) {
	if err := s.deleteUser(r.Context(), userFrom(r.Context()), nil, r.PathValue("name")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) restReassign(w http.ResponseWriter, r *http.Request) {
	var req struct {
		To string `json:"to"`
	}
	if !decodeJSON(w, r, &req) {
		return
	}
	res, err := s.reassignRecordings(r.Context(), userFrom(r.Context()), r.PathValue("name"), req.To)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) wsResetPassword(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	var req struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	return nil, s.resetPassword(ctx, u, c, req.Name, req.Password)
}

func (s *Server) wsSetUserDisabled(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	var req struct {
		Name     string `json:"name"`
		Disabled *bool  `json:"disabled"`
	}
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	if req.Disabled == nil {
		return nil, invalid.New("disabled", "true or false")
	}
	return s.setUserDisabled(ctx, u, c, req.Name, *req.Disabled)
}

func (s *Server) wsDeleteUser(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	var req struct {
		Name string `json:"name"`
	}
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	// The answer says what the deletion touched, as PreviewDeleteUser
	// said it would.
	pv, err := s.previewDeleteUser(ctx, u, req.Name)
	if err != nil {
		return nil, err
	}
	if err := s.deleteUser(ctx, u, c, req.Name); err != nil {
		return nil, err
	}
	return pv, nil
}

func (s *Server) wsReassignRecordings(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	var req struct {
		From string `json:"from"`
		To   string `json:"to"`
	}
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	return s.reassignRecordings(ctx, u, req.From, req.To)
}
