package api

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"recordings/store"
)

// Previews: what a settings change or an account deletion would delete,
// so that the admin app can say so and ask before saving.

const previewExamples = 5

type previewResult struct {
	WouldDelete int64           `json:"would_delete"`
	Examples    []recordingJSON `json:"examples"`
}

func (s *Server) previewView(p store.Preview) previewResult {
	out := previewResult{WouldDelete: p.WouldDelete, Examples: make([]recordingJSON, 0, len(p.Examples))}
	for _, r := range p.Examples {
		out.Examples = append(out.Examples, s.recordingView(r, false))
	}
	return out
}

// previewSettingsRequest holds the changes as SetSettings and PUT
// /api/admin/licences take them: retention_days (a number, 0 = keep),
// licence_count (a number, or null to stop enforcing licences).
type previewSettingsRequest struct {
	Changes map[string]json.RawMessage `json:"changes"`
	// Domain: retention_days is that domain's own period (as SetSettings
	// with domain); else the instance-wide one, which leaves the
	// domains with a period of their own alone.
	Domain string `json:"domain"`
}

// previewSettings answers how many recordings the changes would delete:
// a retention limit deletes at once (within a minute), a licence count
// makes the next start-up delete the recordings of owners without a
// licence. Other keys delete nothing.
func (s *Server) previewSettings(ctx context.Context, req previewSettingsRequest) (previewResult, error) {
	var total store.Preview
	add := func(p store.Preview) {
		total.WouldDelete += p.WouldDelete
		total.Examples = append(total.Examples, p.Examples...)
	}
	for key, raw := range req.Changes {
		v := strings.TrimSpace(string(raw))
		switch key {
		case "retention_days":
			if v == "null" {
				continue // unset: keep everything
			}
			days, err := strconv.Atoi(strings.Trim(v, `"`))
			if err != nil || days < 0 || days > 11000 {
				return previewResult{}, badRequest("retention_days: whole days, 0–11000")
			}
			p, err := s.db.PreviewExpired(ctx, s.retentionCutoff(req.Domain, days), previewExamples)
			if err != nil {
				return previewResult{}, err
			}
			add(p)
		case "licence_count":
			if v == "null" {
				continue // licences not enforced: nothing goes
			}
			if n, err := strconv.Atoi(v); err != nil || n < 0 {
				return previewResult{}, badRequest("licence_count: a whole number or null")
			}
			p, err := s.db.PreviewUnlicensed(ctx, previewExamples)
			if err != nil {
				return previewResult{}, err
			}
			add(p)
		}
	}
	if len(total.Examples) > previewExamples {
		total.Examples = total.Examples[:previewExamples]
	}
	return s.previewView(total), nil
}

// retentionCutoff is what a retention period of days would expire now:
// domain's recordings, or (domain "") those of every domain but the
// configured ones with a period of their own, which it does not change.
func (s *Server) retentionCutoff(domain string, days int) store.Cutoff {
	if days <= 0 {
		return store.Cutoff{}
	}
	at := s.opt.Now().AddDate(0, 0, -days)
	if domain != "" {
		return store.Cutoff{Domains: map[string]time.Time{domain: at}}
	}
	cut := store.Cutoff{Default: at, Domains: map[string]time.Time{}}
	v := s.set.Values()
	for _, d := range v.Domains {
		if v.ForDomain(d).RetentionOwn {
			cut.Domains[d] = time.Time{}
		}
	}
	return cut
}

func (s *Server) wsPreviewSettings(ctx context.Context, _ *wsClient, u store.User, body []byte) (any, error) {
	var req previewSettingsRequest
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	d, err := s.settingsDomain(u, &req.Domain)
	if err != nil {
		return nil, err
	}
	if _, ok := req.Changes["licence_count"]; ok {
		// The licence count is the instance's (PUT /api/admin/licences),
		// and its preview counts every domain's recordings.
		if err := s.instanceWide(u); err != nil {
			return nil, err
		}
	}
	req.Domain = d
	return s.previewSettings(ctx, req)
}

// deleteUserPreview is what deleting an account touches: its recordings
// (which stay, under its name), how many are protected, and how many the
// next start-up would delete because the account no longer holds a
// licence (only while licences are enforced).
type deleteUserPreview struct {
	Recordings  int64           `json:"recordings"`
	Protected   int64           `json:"protected"`
	WouldDelete int64           `json:"would_delete"`
	Examples    []recordingJSON `json:"examples"`
}

func (s *Server) previewDeleteUser(ctx context.Context, admin store.User, name string) (deleteUserPreview, error) {
	u, err := s.managedAccount(ctx, admin, name)
	if err != nil {
		return deleteUserPreview{}, err
	}
	var out deleteUserPreview
	if out.Recordings, out.Protected, err = s.db.OwnedRecordings(ctx, s.managedDomain(admin), u.Name); err != nil {
		return out, err
	}
	out.Examples = []recordingJSON{}
	st, err := s.db.Licences(ctx)
	if err != nil {
		return out, err
	}
	if st.Configured {
		p, err := s.db.PreviewOwner(ctx, s.managedDomain(admin), u.Name, previewExamples)
		if err != nil {
			return out, err
		}
		pv := s.previewView(p)
		out.WouldDelete, out.Examples = pv.WouldDelete, pv.Examples
	}
	return out, nil
}

func (s *Server) wsPreviewDeleteUser(ctx context.Context, _ *wsClient, u store.User, body []byte) (any, error) {
	var req struct {
		Name string `json:"name"`
	}
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	return s.previewDeleteUser(ctx, u, req.Name)
}
