package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"recordings/events"
	"recordings/store"
)

// Recordings: list, get, protect and delete, each one operation that the
// REST routes and the websocket messages (ListRecordings, GetRecording,
// SetProtected, DeleteRecording) share. Audio is REST only (audio.go).

func (s *Server) routeRecordings(apiMux *http.ServeMux) {
	apiMux.Handle("GET /api/recordings", s.authed(s.restListRecordings))
	apiMux.Handle("GET /api/recordings/{id}", s.authed(s.restGetRecording))
	apiMux.Handle("GET /api/recordings/{id}/audio.wav", s.authed(s.audio))
	apiMux.Handle("PUT /api/recordings/{id}/protected", s.authed(s.restSetProtected))
	apiMux.Handle("DELETE /api/recordings/{id}", s.authed(s.restDeleteRecording))
}

// recordingJSON is how the API shows a recording.
type recordingJSON struct {
	ID         int64     `json:"id"`
	Domain     string    `json:"domain"`
	Name       string    `json:"name"`
	ConfID     string    `json:"conf_id"`
	MAC        string    `json:"mac"`
	Owner      string    `json:"owner"`
	State      string    `json:"state"`
	Reason     string    `json:"reason,omitempty"`
	Size       int64     `json:"size"`
	SHA256     string    `json:"sha256,omitempty"`
	Created    time.Time `json:"created"`
	Codec      string    `json:"codec,omitempty"`
	DurationMS int64     `json:"duration_ms"`
	Protected  bool      `json:"protected"`
	Direction  string    `json:"direction,omitempty"`
	PeerName   string    `json:"peer_name,omitempty"`
	PeerNumber string    `json:"peer_number,omitempty"`
	CDR        bool      `json:"cdr"`
	// CDRState: "cdr" (call details attached), "pending" (within the
	// grace period) or "NoCDR" (none arrived in time; Owner then shows
	// "NoCDR" unless a known account owns it).
	CDRState    string `json:"cdr_state"`
	OwnerSource string `json:"owner_source,omitempty"`
	// OwnerDeleted: the owner is a user the PBX deleted (the recording
	// stays theirs).
	OwnerDeleted bool       `json:"owner_deleted,omitempty"`
	ConnectedAt  *time.Time `json:"connected_at,omitempty"` // from the CDR: when the call was connected
	CallMS       int64      `json:"call_ms,omitempty"`      // from the CDR: connected time of the call
	// Encrypted: the capture is encrypted at rest; Unreadable: and the
	// configured key cannot read it (key file missing or another one):
	// it is kept, and plays again once the right key is back.
	Encrypted  bool            `json:"encrypted,omitempty"`
	Unreadable bool            `json:"unreadable,omitempty"`
	Stats      json.RawMessage `json:"stats,omitempty"`
	Envelope   []byte          `json:"envelope,omitempty"`
}

func (s *Server) recordingView(r store.Recording, detail bool) recordingJSON {
	v := recordingJSON{ID: r.ID, Domain: r.Domain, Name: r.Name, ConfID: r.ConfID, MAC: r.MAC, Owner: r.Owner,
		State: string(r.State), Reason: r.Reason, Size: r.Size, SHA256: r.SHA256, Created: r.CreatedAt.UTC(),
		Codec: r.Codec, DurationMS: r.DurationMS, Protected: r.Protected, Direction: r.Direction,
		PeerName: r.PeerName, PeerNumber: r.PeerNumber, CDR: r.CDR, OwnerSource: r.OwnerSource, CallMS: r.CallMS,
		OwnerDeleted: r.OwnerDeleted}
	if !r.ConnectedAt.IsZero() {
		t := r.ConnectedAt.UTC()
		v.ConnectedAt = &t
	}
	v.Encrypted, v.Unreadable = r.KeyID != "", !s.db.Readable(r)
	switch {
	case r.CDR:
		v.CDRState = "cdr"
	case r.NoCDR:
		// Only a known account (found by registration name or MAC) is
		// shown as the owner of a recording without CDR; a bare name from
		// the file (a trunk, an unknown registration) shows NoCDR.
		v.CDRState = "NoCDR"
		if r.OwnerSource == "" {
			v.Owner = "NoCDR"
		}
	default:
		v.CDRState = "pending"
	}
	if detail {
		if len(r.Stats) > 0 && json.Valid(r.Stats) {
			v.Stats = r.Stats
		}
		v.Envelope = r.Envelope
	}
	return v
}

// listRequest is a list query as both transports take it; Limit 0 means
// the default.
type listRequest struct {
	Q      string `json:"q"`
	From   string `json:"from"`
	To     string `json:"to"`
	Order  string `json:"order"` // "newest" (default) or "oldest"
	Cursor string `json:"cursor"`
	Limit  int    `json:"limit"`
}

type listResult struct {
	Recordings []recordingJSON `json:"recordings"`
	Next       string          `json:"next,omitempty"`
	// Total counts the recordings of the filter (all pages); TotalExact is
	// false when counting stopped early to stay fast: there are at least
	// Total.
	Total      int  `json:"total"`
	TotalExact bool `json:"total_exact"`
}

// listRecordings is the page of recordings u may see that req asks for,
// ordered by call time (newest first unless req.Order is "oldest"), with
// the count of the whole filter; seen is told each recording shown (the
// websocket client's record for delete pushes), or nil.
func (s *Server) listRecordings(ctx context.Context, u store.User, req listRequest, seen func(int64)) (listResult, error) {
	f, err := s.listFilter(u, req)
	if err != nil {
		return listResult{}, err
	}
	switch {
	case req.Limit == 0:
		f.Limit = store.DefaultListLimit
	case req.Limit < 1 || req.Limit > store.MaxListLimit:
		return listResult{}, badRequest("limit: a number from 1 to %d", store.MaxListLimit)
	default:
		f.Limit = req.Limit
	}
	recs, next, err := s.db.ListRecordings(ctx, f) // a foreign cursor is an invalid.Error
	if err != nil {
		return listResult{}, err
	}
	out := listResult{Recordings: make([]recordingJSON, 0, len(recs)), Next: next}
	if f.Cursor == "" && next == "" {
		// The first page is all there is: that is the count.
		out.Total, out.TotalExact = len(recs), true
	} else if out.Total, out.TotalExact, err = s.db.CountRecordings(ctx, f); err != nil {
		return listResult{}, err
	} else if f.Cursor == "" && out.Total < len(recs) {
		out.Total = len(recs) // a lower bound at least as large as what is shown
	}
	for _, rec := range recs {
		if seen != nil {
			seen(rec.ID)
		}
		out.Recordings = append(out.Recordings, s.recordingView(rec, false))
	}
	return out, nil
}

// listFilter is the store filter of a list request of u (the list, its
// count, the ZIP of a filter), without limit.
func (s *Server) listFilter(u store.User, req listRequest) (store.ListFilter, error) {
	if len(req.Q) > 256 {
		return store.ListFilter{}, badRequest("q: at most 256 bytes")
	}
	f := visibleFilter(u)
	f.Query, f.Cursor, f.Order = req.Q, req.Cursor, req.Order
	switch req.Order {
	case "", store.OrderNewest, store.OrderOldest:
	default:
		return f, badRequest(`order: "newest" or "oldest"`)
	}
	var err error
	if f.From, err = parseTime(req.From); err != nil {
		return f, badRequest("from: %v", err)
	}
	if f.To, err = parseTime(req.To); err != nil {
		return f, badRequest("to: %v", err)
	}
	return f, nil
}

// parseTime accepts RFC 3339 or a plain date (YYYY-MM-DD, UTC).
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want RFC 3339 or YYYY-MM-DD, got %q", s)
	}
	return t, nil
}

// setProtected protects or unprotects a recording u may see.
func (s *Server) setProtected(ctx context.Context, u store.User, id int64, protected bool) (store.Recording, error) {
	rec, err := s.recordingFor(ctx, u, id)
	if err != nil {
		return rec, err
	}
	if err := s.db.SetProtected(ctx, rec.ID, protected); err != nil {
		if isNotFound(err) {
			return rec, errNoSuchRecording
		}
		return rec, err
	}
	rec.Protected = protected
	s.log.Info("protection changed", "user", u.Name, "id", rec.ID, "protected", protected)
	action := store.AuditProtected
	if !protected {
		action = store.AuditUnprotected
	}
	s.auditNow(ctx, auditOf(u, rec, action))
	s.bus.Publish(events.Recording{Kind: events.Updated, ID: rec.ID, By: events.ByUser})
	return rec, nil
}

// deleteRecording deletes a recording u may see, unless it is protected.
func (s *Server) deleteRecording(ctx context.Context, u store.User, id int64) error {
	rec, err := s.recordingFor(ctx, u, id)
	if err != nil {
		return err
	}
	if err := s.db.DeleteRecording(ctx, rec.ID); err != nil {
		switch {
		case isProtected(err):
			return refuse(http.StatusConflict, "recording is protected: unprotect it before deleting")
		case isNotFound(err):
			return errNoSuchRecording
		}
		return err
	}
	s.log.Info("recording deleted", "user", u.Name, "id", rec.ID, "name", rec.Name)
	s.auditNow(ctx, auditOf(u, rec, store.AuditDeleted))
	s.bus.Publish(events.Recording{Kind: events.Deleted, ID: rec.ID, By: events.ByUser})
	return nil
}

// REST transport.

func (s *Server) restListRecordings(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := listRequest{Q: q.Get("q"), From: q.Get("from"), To: q.Get("to"), Order: q.Get("order"), Cursor: q.Get("cursor")}
	if l := q.Get("limit"); l != "" {
		var err error
		if req.Limit, err = strconv.Atoi(l); err != nil || req.Limit == 0 {
			req.Limit = -1 // refused like any other bad limit
		}
	}
	out, err := s.listRecordings(r.Context(), userFrom(r.Context()), req, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// pathID reads the {id} path value.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, badRequest("id must be a positive number")
	}
	return id, nil
}

// restRecording loads the recording of the {id} path value for the
// signed-in user, answering the request itself when it cannot.
func (s *Server) restRecording(w http.ResponseWriter, r *http.Request) (store.Recording, bool) {
	id, err := pathID(r)
	if err == nil {
		var rec store.Recording
		if rec, err = s.recordingFor(r.Context(), userFrom(r.Context()), id); err == nil {
			return rec, true
		}
	}
	s.fail(w, r, err)
	return store.Recording{}, false
}

func (s *Server) restGetRecording(w http.ResponseWriter, r *http.Request) {
	if rec, ok := s.restRecording(w, r); ok {
		writeJSON(w, http.StatusOK, s.recordingView(rec, true))
	}
}

func (s *Server) restSetProtected(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var body struct {
		Protected *bool `json:"protected"`
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1024)
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Protected == nil {
		httpError(w, http.StatusBadRequest, `body must be {"protected": true|false}`)
		return
	}
	rec, err := s.setProtected(r.Context(), userFrom(r.Context()), id, *body.Protected)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.recordingView(rec, false))
}

func (s *Server) restDeleteRecording(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		err = s.deleteRecording(r.Context(), userFrom(r.Context()), id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Websocket transport.

func (s *Server) wsListRecordings(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	var req listRequest
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	return s.listRecordings(ctx, u, req, func(id int64) { c.saw(id) })
}

type wsIDRequest struct {
	ID int64 `json:"id"`
}

type recordingReply struct {
	Recording recordingJSON `json:"recording"`
}

func (s *Server) wsGetRecording(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	var req wsIDRequest
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	rec, err := s.recordingFor(ctx, u, req.ID)
	if err != nil {
		return nil, err
	}
	c.saw(rec.ID)
	return recordingReply{s.recordingView(rec, true)}, nil
}

func (s *Server) wsSetProtected(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	var req struct {
		ID        int64 `json:"id"`
		Protected *bool `json:"protected"`
	}
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	if req.Protected == nil {
		return nil, badRequest(`"protected" (true or false) is required`)
	}
	rec, err := s.setProtected(ctx, u, req.ID, *req.Protected)
	if err != nil {
		return nil, err
	}
	return recordingReply{s.recordingView(rec, false)}, nil
}

func (s *Server) wsDeleteRecording(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	var req wsIDRequest
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	if err := s.deleteRecording(ctx, u, req.ID); err != nil {
		return nil, err
	}
	return struct {
		ID int64 `json:"id"`
	}{req.ID}, nil
}
