package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Phases of a backup as GET /api/admin/backup/status reports them.
const (
	backupIdle     = "idle"     // none since the service started
	backupSnapshot = "snapshot" // VACUUM INTO is copying the database
	backupSending  = "sending"  // the copy is being written to the response
	backupDone     = "done"     // the whole response was written
	backupFailed   = "failed"   // see Error
)

// backupStatusJSON is the answer of GET /api/admin/backup/status: the
// backup running now, or else the last one.
type backupStatusJSON struct {
	ID       int64      `json:"id"` // 1, 2, … per backup since start; 0 when idle
	Phase    string     `json:"phase"`
	User     string     `json:"user,omitempty"`
	Started  *time.Time `json:"started,omitempty"`
	Finished *time.Time `json:"finished,omitempty"`
	// Bytes of Total: in the snapshot phase the copy's size so far against
	// the expected size; while sending (and when done) the bytes written to
	// the response against its Content-Length.
	Bytes int64  `json:"bytes"`
	Total int64  `json:"total"`
	File  string `json:"file,omitempty"`  // the download's file name
	Error string `json:"error,omitempty"` // why it failed
}

// backupProgress tracks the current or last backup of one Server.
type backupProgress struct {
	now func() time.Time
	mu  sync.Mutex
	st  backupStatusJSON
	// beforeWrite, when set (tests), runs before each write of the body
	// with the bytes sent so far.
	beforeWrite func(ctx context.Context, sent int64)
	// lastStamp and sameStamp name backups taken within one second apart
	// (fileName).
	lastStamp string
	sameStamp int
}

// fileName is the name a backup taken at t is saved under:
// recordings-YYYYMMDD-HHMMSS.db, with -2, -3, … for more backups in the
// same second, so that a browser saving them into one folder never
// overwrites the one before.
func (p *backupProgress) fileName(t time.Time) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	stamp := t.UTC().Format("20060102-150405")
	if stamp != p.lastStamp {
		p.lastStamp, p.sameStamp = stamp, 1
		return "recordings-" + stamp + ".db"
	}
	p.sameStamp++
	return "recordings-" + stamp + "-" + strconv.Itoa(p.sameStamp) + ".db"
}

func newBackupProgress(now func() time.Time) *backupProgress {
	return &backupProgress{now: now, st: backupStatusJSON{Phase: backupIdle}}
}

// status returns a copy of the current state.
func (p *backupProgress) status() backupStatusJSON {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.st
}

// begin starts tracking a new backup by user.
func (p *backupProgress) begin(user string) {
	t := p.now().UTC()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st = backupStatusJSON{ID: p.st.ID + 1, Phase: backupSnapshot, User: user, Started: &t}
}

// snapshot records the copy's progress.
func (p *backupProgress) snapshot(written, estimate int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.st.Phase == backupSnapshot {
		p.st.Bytes, p.st.Total = written, estimate
	}
}

// sending switches to the sending phase of total bytes.
func (p *backupProgress) sending(file string, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st.Phase, p.st.File, p.st.Bytes, p.st.Total = backupSending, file, 0, total
}

func (p *backupProgress) sent(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st.Bytes += n
}

// setTotal replaces the total once the response's own length is known
// (a Range answer is shorter than the file).
func (p *backupProgress) setTotal(total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st.Total = total
}

// finish ends the backup: done when err is nil, failed otherwise.
func (p *backupProgress) finish(err error) {
	t := p.now().UTC()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st.Finished = &t
	if err == nil {
		p.st.Phase = backupDone
		return
	}
	p.st.Phase, p.st.Error = backupFailed, err.Error()
}

// backupStatus answers GET /api/admin/backup/status.
func (s *Server) backupStatus(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, s.backups.progress.status())
}

// errClientGone stops writing a backup to a client that went away.
var errClientGone = errors.New("the client went away")

// countingWriter passes a response through and counts its body's bytes
// into the backup's progress.
type countingWriter struct {
	http.ResponseWriter
	ctx     context.Context
	p       *backupProgress
	n       int64 // body bytes written
	code    int
	werr    error // first write error
	started bool
}

func (c *countingWriter) WriteHeader(code int) {
	if !c.started {
		c.started, c.code = true, code
		if n, err := strconv.ParseInt(c.Header().Get("Content-Length"), 10, 64); err == nil && n >= 0 {
			c.p.setTotal(n)
		}
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(b []byte) (int, error) {
	if !c.started {
		c.WriteHeader(http.StatusOK)
	}
	if c.p.beforeWrite != nil {
		c.p.beforeWrite(c.ctx, c.n)
	}
	if err := c.ctx.Err(); err != nil {
		if c.werr == nil {
			c.werr = errClientGone
		}
		return 0, errClientGone
	}
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	c.p.sent(int64(n))
	if err != nil && c.werr == nil {
		c.werr = err
	}
	return n, err
}

// Unwrap gives http.ResponseController the underlying writer.
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// outcome judges a finished response: nil when its whole body was written.
func (c *countingWriter) outcome(r *http.Request, total int64) error {
	switch {
	case c.werr != nil || r.Context().Err() != nil:
		return fmt.Errorf("download interrupted after %d of %d bytes: the browser closed the connection", c.n, total)
	case c.code >= 400:
		return fmt.Errorf("the download was refused (HTTP %d)", c.code)
	case r.Method == http.MethodHead || c.code == http.StatusNotModified:
		return nil
	case c.n < total:
		return fmt.Errorf("download ended after %d of %d bytes", c.n, total)
	}
	return nil
}
