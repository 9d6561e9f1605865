package api

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones by name (tz=Europe/Berlin) also where the system has none

	"recordings/convert"
	"recordings/store"
)

// Bulk actions on a selection: delete, protect, and one ZIP of WAVs of a
// selection or of the list's filter.

// maxBulk bounds the recordings of one bulk action or ZIP.
const maxBulk = 500

func (s *Server) routeBulk(apiMux *http.ServeMux) {
	apiMux.Handle("GET /api/recordings.zip", s.authed(s.restZip))
}

type bulkIDsRequest struct {
	IDs       []int64 `json:"ids"`
	Protected *bool   `json:"protected"`
}

func checkBulkIDs(ids []int64) error {
	switch {
	case len(ids) == 0:
		return badRequest("ids: at least one recording id")
	case len(ids) > maxBulk:
		return badRequest("ids: at most %d recordings at once, not %d", maxBulk, len(ids))
	}
	for _, id := range ids {
		if id <= 0 {
			return badRequest("ids: %d is not a recording id", id)
		}
	}
	return nil
}

// Reasons a bulk action leaves a recording alone (codes the apps translate).
const (
	refusedProtected = "protected" // unprotect it first
	refusedNotFound  = "not_found" // gone, or not the user's to see
)

type refusal struct {
	ID     int64  `json:"id"`
	Reason string `json:"reason"`
}

type deleteManyResult struct {
	Deleted    int       `json:"deleted"`
	DeletedIDs []int64   `json:"deleted_ids"`
	Refused    []refusal `json:"refused"`
}

// deleteRecordings deletes those of ids u may see that are not protected,
// one by one (each as DeleteRecording: logged, audited, pushed), and says
// why it left the others.
func (s *Server) deleteRecordings(ctx context.Context, u store.User, ids []int64) (deleteManyResult, error) {
	out := deleteManyResult{DeletedIDs: []int64{}, Refused: []refusal{}}
	if err := checkBulkIDs(ids); err != nil {
		return out, err
	}
	seen := map[int64]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		err := s.deleteRecording(ctx, u, id)
		var ce *clientError
		switch {
		case err == nil:
			out.DeletedIDs = append(out.DeletedIDs, id)
		case errors.Is(err, errNoSuchRecording):
			out.Refused = append(out.Refused, refusal{id, refusedNotFound})
		case errors.As(err, &ce) && ce.status == http.StatusConflict:
			out.Refused = append(out.Refused, refusal{id, refusedProtected})
		default:
			return out, err
		}
	}
	out.Deleted = len(out.DeletedIDs)
	return out, nil
}

type protectManyResult struct {
	Changed    int       `json:"changed"`
	ChangedIDs []int64   `json:"changed_ids"`
	Refused    []refusal `json:"refused"`
}

// setProtectedMany protects or unprotects those of ids u may see; Changed
// counts the ones whose protection changed.
func (s *Server) setProtectedMany(ctx context.Context, u store.User, ids []int64, protected bool) (protectManyResult, error) {
	out := protectManyResult{ChangedIDs: []int64{}, Refused: []refusal{}}
	if err := checkBulkIDs(ids); err != nil {
		return out, err
	}
	seen := map[int64]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		rec, err := s.recordingFor(ctx, u, id)
		if err == nil && rec.Protected == protected {
			continue // nothing to change
		}
		if err == nil {
			_, err = s.setProtected(ctx, u, id, protected)
		}
		switch {
		case err == nil:
			out.ChangedIDs = append(out.ChangedIDs, id)
		case errors.Is(err, errNoSuchRecording):
			out.Refused = append(out.Refused, refusal{id, refusedNotFound})
		default:
			return out, err
		}
	}
	out.Changed = len(out.ChangedIDs)
	return out, nil
}

func (s *Server) wsDeleteRecordings(ctx context.Context, _ *wsClient, u store.User, body []byte) (any, error) {
	var req bulkIDsRequest
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	return s.deleteRecordings(ctx, u, req.IDs)
}

func (s *Server) wsSetProtectedMany(ctx context.Context, _ *wsClient, u store.User, body []byte) (any, error) {
	var req bulkIDsRequest
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	if req.Protected == nil {
		return nil, badRequest(`"protected" (true or false) is required`)
	}
	return s.setProtectedMany(ctx, u, req.IDs, *req.Protected)
}

// zipRecordings are the recordings a ZIP request names: ids=1,2,3, or the
// list filter (q, from, to, order) when there are no ids. More than
// maxBulk is refused.
func (s *Server) zipRecordings(ctx context.Context, u store.User, r *http.Request) ([]store.Recording, error) {
	q := r.URL.Query()
	if v := q.Get("ids"); v != "" {
		parts := strings.Split(v, ",")
		if len(parts) > maxBulk {
			return nil, badRequest("ids: at most %d recordings in one ZIP, not %d", maxBulk, len(parts))
		}
		var recs []store.Recording
		seen := map[int64]bool{}
		for _, p := range parts {
			id, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
			if err != nil || id <= 0 {
				return nil, badRequest("ids: %.32q is not a recording id", p)
			}
			if seen[id] {
				continue
			}
			seen[id] = true
			rec, err := s.recordingFor(ctx, u, id)
			if errors.Is(err, errNoSuchRecording) {
				return nil, refuse(http.StatusNotFound, "recording %d not found", id)
			}
			if err != nil {
				return nil, err
			}
			recs = append(recs, rec)
		}
		return recs, nil
	}
	f, err := s.listFilter(u, listRequest{Q: q.Get("q"), From: q.Get("from"), To: q.Get("to"), Order: q.Get("order")})
	if err != nil {
		return nil, err
	}
	f.Limit = maxBulk
	recs, next, err := s.db.ListRecordings(ctx, f)
	if err != nil {
		return nil, err
	}
	if next != "" {
		return nil, badRequest("more than %d recordings match: narrow the search or the dates, or download in parts", maxBulk)
	}
	return recs, nil
}

// restZip streams a ZIP of WAVs (stored, not compressed: audio hardly
// compresses), each named "YYYY-MM-DD HH-MM <party>.wav" in the time zone
// tz, rendered one after the other through the render pool. A recording
// that cannot be rendered is left out and named in "not included.txt" at
// the end (the status line has gone out by then).
func (s *Server) restZip(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := userFrom(ctx)
	loc, err := parseZone(r.URL.Query().Get("tz"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	recs, err := s.zipRecordings(ctx, u, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(recs) == 0 {
		s.fail(w, r, badRequest("no recordings to download"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", contentDisposition("attachment",
		"recordings "+s.opt.Now().In(loc).Format("2006-01-02 15-04")+".zip"))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	zw := zip.NewWriter(w)
	used := map[string]int{}
	var missing []string
	for _, rec := range recs {
		name := downloadName(rec, loc)
		if n := used[strings.ToLower(name)]; n > 0 {
			used[strings.ToLower(name)] = n + 1
			name = fmt.Sprintf("%s (%d)", name, n+1)
		} else {
			used[strings.ToLower(name)] = 1
		}
		if err := s.zipEntry(ctx, zw, rec, name+".wav", loc); err != nil {
			if ctx.Err() != nil {
				return // the client went away
			}
			s.cnvLog.Warn("zip: recording left out", "user", u.Name, "id", rec.ID, "err", err)
			missing = append(missing, fmt.Sprintf("%s.wav (recording %d): %v", name, rec.ID, err))
			continue
		}
		s.audits.note(auditOf(u, rec, store.AuditDownloaded))
	}
	if len(missing) > 0 {
		if f, err := zw.Create("not included.txt"); err == nil {
			_, _ = fmt.Fprintf(f, "%d of %d recordings could not be included:\r\n%s\r\n",
				len(missing), len(recs), strings.Join(missing, "\r\n"))
		}
	}
	if err := zw.Close(); err != nil && ctx.Err() == nil {
		s.cnvLog.Warn("zip: not finished", "user", u.Name, "err", err)
	}
}

// zipEntry renders rec as WAV into a new entry of zw. A render refused
// because the pool is full is tried again after a second, for up to a
// minute: a long ZIP waits its turn rather than failing.
func (s *Server) zipEntry(ctx context.Context, zw *zip.Writer, rec store.Recording, name string, loc *time.Location) error {
	if rec.State == store.StateReceiving && rec.Size == 0 {
		return errors.New("no audio yet")
	}
	p, err := s.ing.Prepare(ctx, rec)
	if err != nil {
		return fmt.Errorf("cannot render audio: %w", err)
	}
	var (
		rctx    context.Context
		release func()
	)
	for try := 0; ; try++ {
		rctx, release, err = p.Acquire(ctx)
		if !errors.Is(err, convert.ErrBusy) || try == 60 {
			break
		}
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	if err != nil {
		return err
	}
	defer release()
	at := rec.ConnectedAt
	if at.IsZero() {
		at = rec.CreatedAt
	}
	f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store, Modified: at.In(loc)})
	if err != nil {
		return err
	}
	return convert.WriteWAVRangeContext(rctx, p.Analysis, p.Open, f, 0, p.Size())
}
