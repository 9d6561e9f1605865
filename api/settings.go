package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"recordings/applog"
	"recordings/internal/invalid"
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
		Levels: settings.TraceLevels(), Problems: s.problems()}
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
	apiMux.Handle("POST /api/admin/pbx/instance-password", s.admin(s.generateAppPassword))
	apiMux.Handle("POST /api/admin/pbx/instance-password/seen", s.admin(s.ackAppPassword))
}

// pbxSettingsJSON is the PBX integration's settings as the admin API shows
// them, credentials included: the administrator copies them into the
// phones' Record-to URL and the PBX's CDR interface. The instance password
// (the App objects' credential, with which anyone can sign in as any user
// through AppLogin) is shown only once: from when it is generated or set
// until an administrator confirms having copied it (POST
// /api/admin/pbx/instance-password/seen with its token); then only whether
// it is set. The answer is not cached.
type pbxSettingsJSON struct {
	UploadUser        string   `json:"upload_user"`
	UploadPassword    string   `json:"upload_password"`
	CDRUser           string   `json:"cdr_user"`
	CDRPassword       string   `json:"cdr_password"`
	CDRPasswordSet    bool     `json:"cdr_password_set"`
	AppPassword       string   `json:"instance_password,omitempty"`       // only until confirmed
	AppPasswordToken  string   `json:"instance_password_token,omitempty"` // names it for the confirmation
	AppPasswordSet    bool     `json:"instance_password_set"`
	AnonymousNetworks []string `json:"anonymous_networks"`
	Domain            string   `json:"domain"` // the domain this instance serves; "" any
	// Fixed names the settings given at start-up (key → the environment
	// variable or flag): they cannot be changed here.
	Fixed              map[string]string `json:"fixed"`
	NoCDRGraceSeconds  int               `json:"nocdr_grace_seconds"`
	NoCDRGraceFromConf bool              `json:"nocdr_grace_configured"`
}

func (s *Server) getPBXSettings(w http.ResponseWriter, r *http.Request) {
	v := s.set.Values()
	out := pbxSettingsJSON{UploadUser: v.UploadUser, UploadPassword: v.UploadPassword, CDRUser: v.CDRUser,
		CDRPassword: v.CDRPassword, CDRPasswordSet: v.CDRPassword != "",
		AppPasswordSet: v.AppPassword != "", AnonymousNetworks: []string{}, Fixed: map[string]string{},
		NoCDRGraceSeconds: int(v.NoCDRGrace.Seconds()), NoCDRGraceFromConf: v.NoCDRGraceSet, Domain: v.Domain}
	if pw, token, ok := s.set.AppPasswordShown(); ok {
		out.AppPassword, out.AppPasswordToken = pw, token
	}
	for _, n := range v.AnonymousNets {
		out.AnonymousNetworks = append(out.AnonymousNetworks, settings.FormatNetworks([]netip.Prefix{n}))
	}
	for _, k := range []string{settings.KeyUploadUser, settings.KeyUploadPassword, settings.KeyCDRUser,
		settings.KeyCDRPassword, settings.KeyAppPassword, settings.KeyAnonymousNets, settings.KeyDomain} {
		if by := s.set.FixedBy(k); by != "" {
			out.Fixed[k] = by
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

// setPBXSettings changes the settings given: upload_user, upload_password,
// cdr_user, cdr_password, instance_password (strings; a user name "" is
// cleared, a password cannot be), anonymous_networks (a list, or one
// string with commas; [] or "" clears) and nocdr_grace_seconds.
func (s *Server) setPBXSettings(w http.ResponseWriter, r *http.Request) {
	var req struct {
		UploadUser     *string         `json:"upload_user"`
		UploadPassword *string         `json:"upload_password"`
		CDRUser        *string         `json:"cdr_user"`
		CDRPassword    *string         `json:"cdr_password"`
		AppPassword    *string         `json:"instance_password"`
		Networks       json.RawMessage `json:"anonymous_networks"`
		Grace          *int            `json:"nocdr_grace_seconds"`
		Domain         *string         `json:"domain"`
	}
	if !decodeJSON(w, r, &req) {
		return
	}
	changes := map[string]string{}
	for key, v := range map[string]*string{settings.KeyUploadUser: req.UploadUser,
		settings.KeyUploadPassword: req.UploadPassword, settings.KeyCDRUser: req.CDRUser,
		settings.KeyCDRPassword: req.CDRPassword, settings.KeyAppPassword: req.AppPassword,
		settings.KeyDomain: req.Domain} {
		if v != nil {
			changes[key] = *v
		}
	}
	if len(req.Networks) > 0 && string(req.Networks) != "null" {
		var list []string
		var one string
		switch {
		case json.Unmarshal(req.Networks, &list) == nil:
			one = strings.Join(list, ",")
		case json.Unmarshal(req.Networks, &one) == nil:
		default:
			s.fail(w, r, invalid.New(settings.KeyAnonymousNets, "a list of networks, e.g. [\"192.0.2.0/24\"]"))
			return
		}
		changes[settings.KeyAnonymousNets] = one
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

// generateAppPassword is POST /api/admin/pbx/instance-password: the
// instance gets a new generated password, which the answer (the PBX
// settings) shows until an administrator confirms it. The App objects on
// the PBX need it from then on. A body is ignored.
func (s *Server) generateAppPassword(w http.ResponseWriter, r *http.Request) {
	by := userFrom(r.Context()).Name
	if _, err := s.set.GenerateAppPassword(r.Context(), by); err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("instance password generated: shown until an administrator confirms it", "user", by)
	s.getPBXSettings(w, r)
}

// ackAppPassword is POST /api/admin/pbx/instance-password/seen {"token"}:
// an administrator has copied the instance password the token names, which
// is not shown from then on. A token of an older password hides nothing
// (the answer shows the newer one).
func (s *Server) ackAppPassword(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Token string `json:"token"`
	}
	if !decodeJSON(w, r, &req) {
		return
	}
	by := userFrom(r.Context()).Name
	hidden, err := s.set.AckAppPassword(r.Context(), by, req.Token)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if hidden {
		s.log.Info("instance password confirmed as copied: no longer shown", "user", by)
	}
	s.getPBXSettings(w, r)
}
