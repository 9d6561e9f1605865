package api

import (
	"net/http"
	"strings"

	"recordings/store"
)

// adminUserJSON is an account as the admin API shows it, with what the PBX
// integration adds: devices, default app object, licence.
type adminUserJSON struct {
	Name        string   `json:"name"`
	DisplayName string   `json:"display_name"`
	E164        string   `json:"e164"`
	Role        string   `json:"role"`
	MACs        []string `json:"macs"`
	AppObject   string   `json:"app_object"`
	Licensed    bool     `json:"licensed"`
	HasPassword bool     `json:"has_password"`
}

func adminUserView(u store.User) adminUserJSON {
	macs := u.MACs
	if macs == nil {
		macs = []string{}
	}
	return adminUserJSON{Name: u.Name, DisplayName: u.DisplayName, E164: u.E164, Role: string(u.Role), MACs: macs,
		AppObject: u.AppObject, Licensed: u.Licensed, HasPassword: u.HasPassword}
}

func (s *Server) listAdminUsers(w http.ResponseWriter, r *http.Request) {
	users, err := s.db.Users(r.Context())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := struct {
		Users []adminUserJSON `json:"users"`
	}{Users: make([]adminUserJSON, 0, len(users))}
	for _, u := range users {
		out.Users = append(out.Users, adminUserView(u))
	}
	writeJSON(w, http.StatusOK, out)
}

// updateAdminUser changes an account's display name, number, role and
// device MACs (the fields given), then re-resolves the recordings made
// under its name or on its old and new devices, so that ownership follows.
func (s *Server) updateAdminUser(w http.ResponseWriter, r *http.Request) {
	var req struct {
		DisplayName *string   `json:"display_name"`
		E164        *string   `json:"e164"`
		Role        *string   `json:"role"`
		MACs        *[]string `json:"macs"`
	}
	if !decodeJSON(w, r, &req) {
		return
	}
	u, err := s.db.User(r.Context(), r.PathValue("name"))
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	oldMACs := u.MACs
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
	if err := s.db.UpdateUser(r.Context(), u); err != nil {
		s.storeError(w, r, err)
		return
	}
	s.log.Info("user changed", "category", "UI", "user", userFrom(r.Context()).Name, "account", u.Name)
	if s.opt.Calls != nil {
		macs := append(append([]string{}, oldMACs...), u.MACs...)
		if _, err := s.opt.Calls.RefreshDevices(r.Context(), u.Name, macs); err != nil {
			s.log.Warn("re-resolve recordings after user change", "category", "Call Information", "account", u.Name, "err", err)
		}
	}
	nu, err := s.db.User(r.Context(), u.Name)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, adminUserView(nu))
}
