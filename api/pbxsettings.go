package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"recordings/settings"
)

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
	m, err := s.db.Settings(r.Context())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := pbxSettingsJSON{CDRUser: m[settingCDRUser], CDRPasswordSet: m[settingCDRPassword] != "",
		AppPasswordSet: m[settingAppPassword] != "", NoCDRGraceSeconds: int((15 * time.Minute).Seconds())}
	if v, ok := m[settingNoCDRSeconds]; ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			out.NoCDRGraceSeconds, out.NoCDRGraceFromConf = n, true
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// setPBXSettings changes the settings given: cdr_user, cdr_password,
// instance_password (strings; "" clears) and nocdr_grace_seconds (0 to
// 7 days).
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
	set := map[string]string{}
	for _, f := range []struct {
		key string
		v   *string
	}{{settingCDRUser, req.CDRUser}, {settingCDRPassword, req.CDRPassword}, {settingAppPassword, req.AppPassword}} {
		if f.v == nil {
			continue
		}
		v := *f.v
		if v != "" && f.key != settingAppPassword {
			var err error
			if v, err = settings.Validate(f.key, v); err != nil { // the same rules as every writer of these keys
				httpError(w, http.StatusBadRequest, err.Error())
				return
			}
		}
		if f.key == settingAppPassword && (len(v) > 256 || strings.ContainsAny(v, "\r\n\x00")) {
			httpError(w, http.StatusBadRequest, f.key+": at most 256 bytes, no line breaks")
			return
		}
		set[f.key] = v
	}
	if req.Grace != nil {
		if *req.Grace < 0 || *req.Grace > 7*24*3600 {
			httpError(w, http.StatusBadRequest, "nocdr_grace_seconds: 0 to 604800")
			return
		}
		set[settingNoCDRSeconds] = strconv.Itoa(*req.Grace)
	}
	for k, v := range set {
		var err error
		if v == "" {
			err = s.db.DeleteSetting(r.Context(), k)
		} else {
			err = s.db.SetSetting(r.Context(), k, v)
		}
		if err != nil {
			s.storeError(w, r, err)
			return
		}
		shown := v
		if k == settingCDRPassword || k == settingAppPassword {
			shown = "(hidden)"
		}
		s.log.Info("PBX setting changed", "category", "UI", "user", userFrom(r.Context()).Name, "key", k, "value", shown)
	}
	s.getPBXSettings(w, r)
}

// listCDRs shows stored CDRs, newest first (?before=<id>&limit=<n>).
func (s *Server) listCDRs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var before int64
	var limit int
	var err error
	if v := q.Get("before"); v != "" {
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before < 0 {
			httpError(w, http.StatusBadRequest, "before: a CDR id")
			return
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 500 {
			httpError(w, http.StatusBadRequest, "limit: a number from 1 to 500")
			return
		}
	}
	recs, err := s.db.CDRs(r.Context(), before, limit)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	type cdrJSON struct {
		ID       int64         `json:"id"`
		Kind     string        `json:"kind"`
		Received time.Time     `json:"received"`
		Domain   string        `json:"domain,omitempty"`
		ConfIDs  []string      `json:"conf_ids"`
		Raw      string        `json:"raw"`
		Parsed   rawJSONOrNull `json:"parsed"`
	}
	out := struct {
		CDRs []cdrJSON `json:"cdrs"`
	}{CDRs: make([]cdrJSON, 0, len(recs))}
	for _, c := range recs {
		confs := c.ConfIDs
		if confs == nil {
			confs = []string{}
		}
		out.CDRs = append(out.CDRs, cdrJSON{ID: c.ID, Kind: c.Kind, Received: c.ReceivedAt, Domain: c.Domain,
			ConfIDs: confs, Raw: c.Raw, Parsed: rawJSONOrNull(c.Parsed)})
	}
	writeJSON(w, http.StatusOK, out)
}

// rawJSONOrNull marshals stored JSON as is, or null when empty.
type rawJSONOrNull []byte

func (b rawJSONOrNull) MarshalJSON() ([]byte, error) {
	if len(b) == 0 {
		return []byte("null"), nil
	}
	return b, nil
}
