package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"recordings/store"
)

// The audit trail: who listened to, downloaded, protected, unprotected or
// deleted which recording (store.AuditEntry). Protection changes and
// deletions are written with the operation; listening and downloading go
// through auditQueue, which writes in batches and notes one listen per
// person and recording within auditDedupe, so that a player's Range
// requests cost no write each.

const (
	auditDedupe     = 10 * time.Minute
	auditFlushEvery = time.Second
	auditMaxPending = 500 // a full queue is written at once
	auditMaxRecent  = 1e5 // remembered (person, recording, action) keys
)

type auditKey struct {
	by     string
	id     int64
	action string
}

// auditQueue batches the audit entries of listening and downloading.
type auditQueue struct {
	db  *store.DB
	log *slog.Logger
	now func() time.Time

	mu      sync.Mutex
	pending []store.AuditEntry
	recent  map[auditKey]time.Time
	full    chan struct{} // signalled when pending reaches auditMaxPending
}

func newAuditQueue(db *store.DB, log *slog.Logger, now func() time.Time) *auditQueue {
	return &auditQueue{db: db, log: log, now: now, recent: map[auditKey]time.Time{}, full: make(chan struct{}, 1)}
}

// note queues e unless the same person did the same to the same recording
// within auditDedupe.
func (q *auditQueue) note(e store.AuditEntry) {
	now := q.now()
	e.At = now
	k := auditKey{store.NameKey(e.By), e.RecordingID, e.Action}
	q.mu.Lock()
	defer q.mu.Unlock()
	if at, ok := q.recent[k]; ok && now.Sub(at) < auditDedupe && !now.Before(at) {
		return
	}
	if len(q.recent) >= auditMaxRecent {
		clear(q.recent)
	}
	q.recent[k] = now
	q.pending = append(q.pending, e)
	if len(q.pending) >= auditMaxPending {
		select {
		case q.full <- struct{}{}:
		default:
		}
	}
}

// flush writes what is queued.
func (q *auditQueue) flush(ctx context.Context) error {
	q.mu.Lock()
	batch := q.pending
	q.pending = nil
	now := q.now()
	for k, at := range q.recent {
		if now.Sub(at) >= auditDedupe {
			delete(q.recent, k)
		}
	}
	q.mu.Unlock()
	for len(batch) > 0 {
		n := min(len(batch), 1000)
		if err := q.db.AddAudit(ctx, batch[:n]...); err != nil {
			return err
		}
		batch = batch[n:]
	}
	return nil
}

// run flushes every auditFlushEvery (and when the queue is full) until ctx
// ends, then once more.
func (q *auditQueue) run(ctx context.Context) error {
	t := time.NewTicker(auditFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := q.flush(fctx); err != nil {
				q.log.Error("audit trail: last entries not written", "err", err)
			}
			return nil
		case <-t.C:
		case <-q.full:
		}
		if err := q.flush(ctx); err != nil && ctx.Err() == nil {
			q.log.Error("audit trail: entries not written", "err", err)
		}
	}
}

// auditOf is the entry of u doing action to rec.
func auditOf(u store.User, rec store.Recording, action string) store.AuditEntry {
	return store.AuditEntry{Action: action, RecordingID: rec.ID, Owner: rec.Owner, PeerName: rec.PeerName,
		PeerNumber: rec.PeerNumber, By: u.Name, ByName: u.DisplayName, Domain: rec.Domain}
}

// auditNow writes an entry at once (protection, deletion); a failure is
// logged, the operation stands.
func (s *Server) auditNow(ctx context.Context, entries ...store.AuditEntry) {
	if err := s.db.AddAudit(ctx, entries...); err != nil {
		s.log.Error("audit trail: entry not written", "err", err)
	}
}

// auditEntryJSON is how the API shows an audit entry.
type auditEntryJSON struct {
	At          time.Time `json:"at"`
	Action      string    `json:"action"`
	RecordingID int64     `json:"recording_id"`
	PeerName    string    `json:"peer_name"`
	PeerNumber  string    `json:"peer_number"`
	By          string    `json:"by"`
	ByName      string    `json:"by_name"`
}

type auditResult struct {
	Entries []auditEntryJSON `json:"entries"`
	Next    string           `json:"next,omitempty"`
}

type activityRequest struct {
	Cursor string `json:"cursor"`
	Limit  int    `json:"limit"`
}

type auditRequest struct {
	User        string `json:"user"`
	Action      string `json:"action"`
	RecordingID int64  `json:"recording_id"`
	From        string `json:"from"`
	To          string `json:"to"`
	Cursor      string `json:"cursor"`
	Limit       int    `json:"limit"`
}

func auditPage(entries []store.AuditEntry, next string) auditResult {
	out := auditResult{Entries: make([]auditEntryJSON, 0, len(entries)), Next: next}
	for _, e := range entries {
		out.Entries = append(out.Entries, auditEntryJSON{At: e.At.UTC(), Action: e.Action, RecordingID: e.RecordingID,
			PeerName: e.PeerName, PeerNumber: e.PeerNumber, By: e.By, ByName: e.ByName})
	}
	return out
}

func checkAuditLimit(l int) error {
	if l < 0 || l > store.MaxListLimit {
		return badRequest("limit: a number from 1 to %d", store.MaxListLimit)
	}
	return nil
}

// activity is u's history: what u did, and what others did to u's
// recordings, newest first.
func (s *Server) activity(ctx context.Context, u store.User, req activityRequest) (auditResult, error) {
	if err := checkAuditLimit(req.Limit); err != nil {
		return auditResult{}, err
	}
	entries, next, err := s.db.Audit(ctx, store.AuditFilter{Involving: u.Name, Cursor: req.Cursor, Limit: req.Limit})
	if err != nil {
		return auditResult{}, err
	}
	return auditPage(entries, next), nil
}

// audit is the whole trail for an administrator, filtered.
func (s *Server) audit(ctx context.Context, admin store.User, req auditRequest) (auditResult, error) {
	if err := checkAuditLimit(req.Limit); err != nil {
		return auditResult{}, err
	}
	if req.RecordingID < 0 {
		return auditResult{}, badRequest("recording_id must be a positive number")
	}
	// An administrator of a domain sees the entries about that domain's
	// recordings only (docs/pbx.md, Domains).
	f := store.AuditFilter{By: req.User, Action: req.Action, Recording: req.RecordingID, Cursor: req.Cursor, Limit: req.Limit,
		Domain: s.managedDomain(admin)}
	var err error
	if f.From, err = parseTime(req.From); err != nil {
		return auditResult{}, badRequest("from: %v", err)
	}
	if f.To, err = parseTime(req.To); err != nil {
		return auditResult{}, badRequest("to: %v", err)
	}
	entries, next, err := s.db.Audit(ctx, f)
	if err != nil {
		return auditResult{}, err
	}
	return auditPage(entries, next), nil
}

func (s *Server) routeActivity(apiMux *http.ServeMux) {
	apiMux.Handle("GET /api/activity", s.authed(s.restActivity))
	apiMux.Handle("GET /api/admin/audit", s.admin(s.restAudit))
}

func queryLimit(v string) int {
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n == 0 {
		return -1 // refused like any other bad limit
	}
	return n
}

func (s *Server) restActivity(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	out, err := s.activity(r.Context(), userFrom(r.Context()), activityRequest{Cursor: q.Get("cursor"), Limit: queryLimit(q.Get("limit"))})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) restAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := auditRequest{User: q.Get("user"), Action: q.Get("action"), From: q.Get("from"), To: q.Get("to"),
		Cursor: q.Get("cursor"), Limit: queryLimit(q.Get("limit"))}
	if v := q.Get("recording_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			s.fail(w, r, badRequest("recording_id must be a positive number"))
			return
		}
		req.RecordingID = id
	}
	out, err := s.audit(r.Context(), userFrom(r.Context()), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) wsGetActivity(ctx context.Context, _ *wsClient, u store.User, body []byte) (any, error) {
	var req activityRequest
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	return s.activity(ctx, u, req)
}

func (s *Server) wsGetAudit(ctx context.Context, _ *wsClient, u store.User, body []byte) (any, error) {
	var req auditRequest
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	return s.audit(ctx, u, req)
}

// wsPlayed notes that u started playing a recording (the player may have
// the audio already, so the fetch alone does not tell).
func (s *Server) wsPlayed(ctx context.Context, _ *wsClient, u store.User, body []byte) (any, error) {
	var req wsIDRequest
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	rec, err := s.recordingFor(ctx, u, req.ID)
	if err != nil {
		return nil, err
	}
	s.audits.note(auditOf(u, rec, store.AuditListened))
	return struct{}{}, nil
}
