package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"recordings/convert"
	"recordings/ingest"
	"recordings/internal/httprange"
	"recordings/media"
	"recordings/store"
)

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
	CDRState    string          `json:"cdr_state"`
	OwnerSource string          `json:"owner_source,omitempty"`
	ConnectedAt *time.Time      `json:"connected_at,omitempty"` // from the CDR: when the call was connected
	CallMS      int64           `json:"call_ms,omitempty"`      // from the CDR: connected time of the call
	Stats       json.RawMessage `json:"stats,omitempty"`
	Envelope    []byte          `json:"envelope,omitempty"`
}

func recordingView(r store.Recording, detail bool) recordingJSON {
	v := recordingJSON{ID: r.ID, Domain: r.Domain, Name: r.Name, ConfID: r.ConfID, MAC: r.MAC, Owner: r.Owner,
		State: string(r.State), Reason: r.Reason, Size: r.Size, SHA256: r.SHA256, Created: r.CreatedAt.UTC(),
		Codec: r.Codec, DurationMS: r.DurationMS, Protected: r.Protected, Direction: r.Direction,
		PeerName: r.PeerName, PeerNumber: r.PeerNumber, CDR: r.CDR, OwnerSource: r.OwnerSource, CallMS: r.CallMS}
	if !r.ConnectedAt.IsZero() {
		t := r.ConnectedAt.UTC()
		v.ConnectedAt = &t
	}
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

// canSee reports whether the signed-in user may see rec: admins see all,
// users their own plus their app object's access list (canView).
func (s *Server) canSee(r *http.Request, rec store.Recording) bool {
	return canView(userFrom(r.Context()), rec.Owner)
}

// visibleOwners is the owner filter for list queries: nil for all; the
// same owners canView lets through.
func visibleOwners(u store.User) []string {
	if u.Role == store.RoleAdmin {
		return nil
	}
	if u.Name == "" {
		return []string{}
	}
	return append([]string{u.Name}, u.Sees...)
}

func (s *Server) listRecordings(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 0
	if l := q.Get("limit"); l != "" {
		var err error
		if limit, err = strconv.Atoi(l); err != nil || limit == 0 {
			limit = -1 // refused by listFilter like any other bad limit
		}
	}
	f, err := listFilter(userFrom(r.Context()), q.Get("q"), q.Get("from"), q.Get("to"), q.Get("cursor"), limit)
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	recs, next, err := s.db.ListRecordings(r.Context(), f)
	if err != nil {
		if errors.Is(err, store.ErrInvalid) {
			httpError(w, http.StatusBadRequest, "cursor: "+err.Error())
			return
		}
		s.internalError(w, r, err)
		return
	}
	out := struct {
		Recordings []recordingJSON `json:"recordings"`
		Next       string          `json:"next,omitempty"`
	}{Recordings: make([]recordingJSON, 0, len(recs)), Next: next}
	for _, rec := range recs {
		out.Recordings = append(out.Recordings, recordingView(rec, false))
	}
	writeJSON(w, http.StatusOK, out)
}

// listFilter builds the list query shared by the HTTP and websocket APIs:
// what u may see, filtered by the request; limit 0 means the default.
func listFilter(u store.User, q, from, to, cursor string, limit int) (store.ListFilter, error) {
	f := store.ListFilter{Owners: visibleOwners(u), Query: q, Cursor: cursor, Limit: limit}
	var err error
	if f.From, err = parseTime(from); err != nil {
		return f, fmt.Errorf("from: %w", err)
	}
	if f.To, err = parseTime(to); err != nil {
		return f, fmt.Errorf("to: %w", err)
	}
	if limit == 0 {
		f.Limit = store.DefaultListLimit
	} else if limit < 1 || limit > store.MaxListLimit {
		return f, fmt.Errorf("limit: a number from 1 to %d", store.MaxListLimit)
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

// recording loads the recording named by the {id} path value, answering 404
// for ids that do not exist or that the user may not see.
func (s *Server) recording(w http.ResponseWriter, r *http.Request) (store.Recording, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		httpError(w, http.StatusBadRequest, "recording id must be a positive number")
		return store.Recording{}, false
	}
	rec, err := s.db.Recording(r.Context(), id)
	if err != nil {
		if isNotFound(err) {
			httpError(w, http.StatusNotFound, "no such recording")
			return store.Recording{}, false
		}
		s.internalError(w, r, err)
		return store.Recording{}, false
	}
	if !s.canSee(r, rec) {
		httpError(w, http.StatusNotFound, "no such recording")
		return store.Recording{}, false
	}
	return rec, true
}

func (s *Server) getRecording(w http.ResponseWriter, r *http.Request) {
	if rec, ok := s.recording(w, r); ok {
		writeJSON(w, http.StatusOK, recordingView(rec, true))
	}
}

func (s *Server) protect(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.recording(w, r)
	if !ok {
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
	if err := s.db.SetProtected(r.Context(), rec.ID, *body.Protected); err != nil {
		s.internalError(w, r, err)
		return
	}
	s.log.Info("protection changed", "category", "UI", "user", userFrom(r.Context()).Name, "id", rec.ID, "protected", *body.Protected)
	rec.Protected = *body.Protected
	s.Publish(ingest.Event{Kind: "updated", ID: rec.ID}) // other open apps see it live
	writeJSON(w, http.StatusOK, recordingView(rec, false))
}

func (s *Server) deleteRecording(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.recording(w, r)
	if !ok {
		return
	}
	if err := s.db.DeleteRecording(r.Context(), rec.ID); err != nil {
		if errors.Is(err, store.ErrProtected) {
			httpError(w, http.StatusConflict, "recording is protected: unprotect it before deleting")
			return
		}
		s.internalError(w, r, err)
		return
	}
	s.ing.Forget(rec.ID)
	s.Publish(ingest.Event{Kind: "deleted", ID: rec.ID})
	s.log.Info("recording deleted", "category", "UI", "user", userFrom(r.Context()).Name, "id", rec.ID, "name", rec.Name)
	w.WriteHeader(http.StatusNoContent)
}

// audio serves the recording as a stereo WAV rendered from the stored
// capture, with single-range support so that players can seek.
func (s *Server) audio(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.recording(w, r)
	if !ok {
		return
	}
	if rec.State == "receiving" && rec.Size == 0 {
		httpError(w, http.StatusConflict, "recording has no audio yet")
		return
	}
	p, err := s.ing.Prepare(r.Context(), rec)
	if err != nil {
		if errors.Is(err, media.ErrUnsupportedCodec) || errors.Is(err, media.ErrNoRTP) {
			httpError(w, http.StatusUnprocessableEntity, "cannot render audio: "+err.Error())
			return
		}
		s.internalError(w, r, err)
		return
	}
	size := p.Size()
	h := w.Header()
	h.Set("Content-Type", "audio/wav")
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename=%q`, wavName(rec)))
	if rec.SHA256 != "" {
		h.Set("ETag", `"`+rec.SHA256+`-wav"`)
	}
	off, length, status := int64(0), size, http.StatusOK
	if rg := r.Header.Get("Range"); rg != "" {
		var ok bool
		off, length, ok = httprange.Parse(rg, size)
		if !ok {
			h.Set("Content-Range", fmt.Sprintf("bytes */%d", size))
			httpError(w, http.StatusRequestedRangeNotSatisfiable, "range not satisfiable")
			return
		}
		status = http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+length-1, size))
	}
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	if err := convert.WriteWAVRange(p.Analysis, p.Open, w, off, length); err != nil {
		s.log.Warn("wav stream broke off", "category", "Converting", "user", rec.Owner, "id", rec.ID, "err", err)
	}
}

// wavName is a download name people can read: date, time and parties.
func wavName(r store.Recording) string {
	parts := []string{r.CreatedAt.UTC().Format("2006-01-02_150405")}
	for _, p := range []string{r.Owner, r.PeerName, r.PeerNumber} {
		if p = safeName(p); p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "_") + ".wav"
}

func safeName(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '+', c == '.':
			b.WriteRune(c)
		case c == ' ' || c == '_':
			b.WriteByte('-')
		}
		if b.Len() >= 40 {
			break
		}
	}
	return strings.Trim(b.String(), ".-")
}
