package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"recordings/applog"
	"recordings/settings"
	"recordings/store"
)

// Settings: the admin's general settings (websocket GetSettings and
// SetSettings) and the PBX integration settings (REST /api/admin/pbx). Every
// read and write goes through the settings service, which validates, stores,
// logs and applies.

// settingsJSON is the admin's view of the settings.
type settingsJSON struct {
	RetentionDays *int              `json:"retention_days"` // null: not set (keep all)
	PBXName       string            `json:"pbx_name"`
	Trace         map[string]string `json:"trace"`
	Categories    []string          `json:"categories"`
	Levels        []string          `json:"levels"`
	Problems      []string          `json:"problems"` // e.g. "PBX Name missing"
}

func (s *Server) settingsView() settingsJSON {
	vals := s.set.Values()
	v := settingsJSON{PBXName: vals.PBXName, Trace: vals.Trace, Categories: applog.Categories(),
		Levels: settings.TraceLevels(), Problems: append([]string{}, s.set.Problems()...)}
	if vals.RetentionSet {
		v.RetentionDays = &vals.RetentionDays
	}
	return v
}

type settingsReply struct {
	Settings settingsJSON `json:"settings"`
}

func (s *Server) wsGetSettings(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	return settingsReply{s.settingsView()}, nil
}

// wsSetSettings changes the settings given and leaves the others. The
// settings service checks every value before it stores any.
func (s *Server) wsSetSettings(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	var req struct {
		RetentionDays json.RawMessage   `json:"retention_days"`
		PBXName       *string           `json:"pbx_name"`
		Trace         map[string]string `json:"trace"`
	}
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	changes := map[string]string{}
	if len(req.RetentionDays) > 0 && string(req.RetentionDays) != "null" {
		var days string // a JSON number, or a string holding one
		if err := json.Unmarshal(req.RetentionDays, &days); err != nil {
			days = string(req.RetentionDays)
		}
		changes[settings.KeyRetentionDays] = days
	}
	if req.PBXName != nil {
		changes[settings.KeyPBXName] = *req.PBXName
	}
	for cat, lv := range req.Trace {
		changes[settings.TraceKey(cat)] = lv
	}
	if err := s.set.Set(ctx, u.Name, changes); err != nil {
		return nil, err // a refused value is an invalid.Error
	}
	return settingsReply{s.settingsView()}, nil
}

func (s *Server) routeSettings(apiMux *http.ServeMux) {
	apiMux.Handle("GET /api/admin/pbx", s.admin(s.getPBXSettings))
	apiMux.Handle("PUT /api/admin/pbx", s.admin(s.setPBXSettings))
}

// pbxSettingsJSON is the PBX integration's settings as the admin API shows
// them; passwords are never shown, only whether they are set.
type pbxSettingsJSON struct {
	CDRUser            string `json:"cdr_user"`
	CDRPasswordSet     bool   `json:"cdr_password_set"`
	AppPasswordSet     bool   `json:"instance_password_set"`
	NoCDRGraceSeconds  int    `json:"nocdr_grace_seconds"`
	NoCDRGraceFromConf bool   `json:"nocdr_grace_configured"`
}

func (s *Server) getPBXSettings(w http.ResponseWriter, r *http.Request) {
	v := s.set.Values()
	writeJSON(w, http.StatusOK, pbxSettingsJSON{CDRUser: v.CDRUser, CDRPasswordSet: v.CDRPassword != "",
		AppPasswordSet: v.AppPassword != "", NoCDRGraceSeconds: int(v.NoCDRGrace.Seconds()), NoCDRGraceFromConf: v.NoCDRGraceSet})
}

// setPBXSettings changes the settings given: cdr_user, cdr_password,
// instance_password (strings; "" clears) and nocdr_grace_seconds.
func (s *Server) setPBXSettings(w http.ResponseWriter, r *http.Request) {
	var req struct {
		CDRUser     *string `json:"cdr_user"`
		CDRPassword *string `json:"cdr_password"`
		AppPassword *string `json:"instance_password"`
		Grace       *int    `json:"nocdr_grace_seconds"`
	}
	if !decodeJSON(w, r, &req) {
		return
	}
	changes := map[string]string{}
	for key, v := range map[string]*string{settings.KeyCDRUser: req.CDRUser, settings.KeyCDRPassword: req.CDRPassword,
		settings.KeyAppPassword: req.AppPassword} {
		if v != nil {
			changes[key] = *v
		}
	}
	if req.Grace != nil {
		changes[settings.KeyNoCDRGrace] = strconv.Itoa(*req.Grace)
	}
	if err := s.set.Set(r.Context(), userFrom(r.Context()).Name, changes); err != nil {
		s.fail(w, r, err)
		return
	}
	s.getPBXSettings(w, r)
}
