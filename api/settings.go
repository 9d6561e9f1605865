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

// settingsJSON is the admin's view of the settings. For an admin of a
// domain, pbx_name and retention_days are that domain's (its own or the
// instance-wide ones it uses); for the admin of no domain, the
// instance-wide ones.
type settingsJSON struct {
	RetentionDays *int              `json:"retention_days"` // null: not set (keep all)
	PBXName       string            `json:"pbx_name"`
	Trace         map[string]string `json:"trace"`
	Categories    []string          `json:"categories"`
	Levels        []string          `json:"levels"`
	Problems      []string          `json:"problems"` // e.g. "PBX Name missing"
	// Domain is the caller's domain ("": none, every domain's settings).
	Domain string `json:"domain"`
	// Domains are the per-domain settings of the configured domains the
	// caller may change (docs/pbx.md, Domains); empty with no domain
	// configured.
	Domains []domainSettingsJSON `json:"domains"`
}

// domainSettingsJSON is one domain's PBX name and retention period in
// force, and whether they are its own.
type domainSettingsJSON struct {
	Domain        string `json:"domain"`
	PBXName       string `json:"pbx_name"`
	PBXNameOwn    bool   `json:"pbx_name_own"`
	RetentionDays *int   `json:"retention_days"` // null: not set (keep all)
	RetentionOwn  bool   `json:"retention_own"`
}

func domainSettingsView(dv settings.DomainValues) domainSettingsJSON {
	out := domainSettingsJSON{Domain: dv.Domain, PBXName: dv.PBXName, PBXNameOwn: dv.PBXNameOwn, RetentionOwn: dv.RetentionOwn}
	if dv.RetentionSet {
		days := dv.RetentionDays
		out.RetentionDays = &days
	}
	return out
}

// adminDomain is the domain whose settings u administers: with several
// domains configured, an account's own domain; else "" (with one domain
// or none, an admin of any domain is the instance's admin, as before
// domains).
func adminDomain(v settings.Values, u store.User) string {
	if len(v.Domains) < 2 {
		return ""
	}
	return u.Domain
}

func (s *Server) settingsView(u store.User) settingsJSON {
	vals := s.set.Values()
	own := adminDomain(vals, u)
	mine := vals.ForDomain("")
	if d, ok := vals.ServedDomain(own); ok && own != "" {
		mine = vals.ForDomain(d)
	}
	v := settingsJSON{PBXName: mine.PBXName, Trace: vals.Trace, Categories: applog.Categories(),
		Levels: settings.TraceLevels(), Problems: s.problems(own), Domain: own, Domains: []domainSettingsJSON{}}
	if mine.RetentionSet {
		days := mine.RetentionDays
		v.RetentionDays = &days
	}
	for _, d := range vals.Domains {
		if store.InDomain(own, d) {
			v.Domains = append(v.Domains, domainSettingsView(vals.ForDomain(d)))
		}
	}
	return v
}

// settingsDomain is the domain whose own PBX name and retention period a
// change by u sets ("": the instance-wide ones): the domain asked for, or
// the domain of an admin of one (who sets only that domain's), checked
// against the configured domains.
func (s *Server) settingsDomain(u store.User, asked *string) (string, error) {
	v := s.set.Values()
	own := adminDomain(v, u)
	d := own
	if asked != nil && strings.TrimSpace(*asked) != "" {
		d = strings.TrimSpace(*asked)
	}
	if own != "" && !strings.EqualFold(d, own) {
		return "", refuse(http.StatusForbidden, "an administrator of %s changes the settings of %s only", own, own)
	}
	if d == "" {
		return "", nil
	}
	if len(v.Domains) == 0 {
		return "", badRequest("domain: no domain is configured, so the settings are the instance's (leave domain out)")
	}
	served, ok := v.ServedDomain(d)
	if !ok {
		return "", badRequest("domain: this instance does not serve %.64q", d)
	}
	return served, nil
}

// instanceWideOnly refuses a change of instance-wide settings by an admin
// of a domain (adminDomain): they apply to every domain.
func (s *Server) instanceWideOnly(u store.User, what string) error {
	if adminDomain(s.set.Values(), u) == "" {
		return nil
	}
	return refuse(http.StatusForbidden, "%s apply to every domain: only an administrator of no domain changes them", what)
}

type settingsReply struct {
	Settings settingsJSON `json:"settings"`
}

func (s *Server) wsGetSettings(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	return settingsReply{s.settingsView(u)}, nil
}

// wsSetSettings changes the settings given and leaves the others. The
// settings service checks every value before it stores any. With domain
// (or by an admin of a domain), pbx_name and retention_days are that
// domain's own, and reset lists which of them go back to the
// instance-wide value.
func (s *Server) wsSetSettings(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	var req struct {
		RetentionDays json.RawMessage   `json:"retention_days"`
		PBXName       *string           `json:"pbx_name"`
		Trace         map[string]string `json:"trace"`
		Domain        *string           `json:"domain"`
		Reset         []string          `json:"reset"`
	}
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	domain, err := s.settingsDomain(u, req.Domain)
	if err != nil {
		return nil, err
	}
	key := func(k string) string {
		if domain == "" {
			return k
		}
		return settings.DomainKey(k, domain)
	}
	changes := map[string]string{}
	if len(req.RetentionDays) > 0 && string(req.RetentionDays) != "null" {
		var days string // a JSON number, or a string holding one
		if err := json.Unmarshal(req.RetentionDays, &days); err != nil {
			days = string(req.RetentionDays)
		}
		if strings.TrimSpace(days) == "" {
			return nil, invalid.New(settings.KeyRetentionDays, "a whole number of days (to use the instance-wide period, reset it)")
		}
		changes[key(settings.KeyRetentionDays)] = days
	}
	if req.PBXName != nil {
		changes[key(settings.KeyPBXName)] = *req.PBXName
	}
	for _, r := range req.Reset {
		if domain == "" {
			return nil, badRequest("reset: only a domain's own values go back to the instance-wide ones (name the domain)")
		}
		if r != settings.KeyRetentionDays && r != settings.KeyPBXName {
			return nil, badRequest("reset: %.64q is not %s or %s", r, settings.KeyPBXName, settings.KeyRetentionDays)
		}
		if _, both := changes[key(r)]; both {
			return nil, badRequest("reset: %s is both set and reset", r)
		}
		changes[key(r)] = ""
	}
	if len(req.Trace) > 0 {
		if err := s.instanceWideOnly(u, "trace levels"); err != nil {
			return nil, err
		}
	}
	for cat, lv := range req.Trace {
		changes[settings.TraceKey(cat)] = lv
	}
	if err := s.set.Set(ctx, u.Name, changes); err != nil {
		return nil, err // a refused value is an invalid.Error
	}
	return settingsReply{s.settingsView(u)}, nil
}

func (s *Server) routeSettings(apiMux *http.ServeMux) {
	// The credentials and the instance password are the instance's: an
	// administrator of a domain sets their domain's PBX name and retention
	// period through GetSettings/SetSettings only.
	apiMux.Handle("GET /api/admin/pbx", s.instanceAdmin(s.getPBXSettings))
	apiMux.Handle("PUT /api/admin/pbx", s.instanceAdmin(s.setPBXSettings))
	apiMux.Handle("POST /api/admin/pbx/instance-password", s.instanceAdmin(s.generateAppPassword))
	apiMux.Handle("POST /api/admin/pbx/instance-password/seen", s.instanceAdmin(s.ackAppPassword))
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
