package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"recordings/health"
	"recordings/replica"
	"recordings/store"
)

// backups admits one admin backup at a time (a snapshot is a full copy)
// and tracks the current or last one (backupstatus.go).
type backups struct {
	sem      chan struct{}
	progress *backupProgress
}

func newBackups(now func() time.Time) backups {
	return backups{sem: make(chan struct{}, 1), progress: newBackupProgress(now)}
}

// routeOps adds /healthz, /metrics and the admin routes.
func (s *Server) routeOps(apiMux, mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /metrics", s.opsOnly(s.m.Handler()))
	apiMux.Handle("GET /api/admin/status", s.admin(s.adminStatus))
	apiMux.Handle("GET /api/admin/backup", s.instanceAdmin(s.backup))
	apiMux.Handle("GET /api/admin/backup/status", s.instanceAdmin(s.backupStatus))
}

func (s *Server) healthReport(ctx context.Context) health.Report {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return s.hc.Check(ctx)
}

// healthz answers 200 when the service can work (database reachable, disk
// space left) and 503 otherwise. Anonymous callers learn only that,
// {"status":"ok"} or {"status":"fail"}; an admin or the scrape token gets
// the details (sizes, free disk, configuration problems).
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	rep := s.healthReport(r.Context())
	w.Header().Set("Cache-Control", "no-store")
	code := http.StatusOK
	if !rep.OK() {
		code = http.StatusServiceUnavailable
	}
	ok, _, err := s.opsAccess(r)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if !ok {
		writeJSON(w, code, struct {
			Status string `json:"status"`
		}{rep.Status})
		return
	}
	writeJSON(w, code, rep)
}

// opsAccess tells whether r may read the service's internals (/metrics,
// the details of /healthz): it carries the configured scrape token as
// "Authorization: Bearer <token>", or the session or Basic credentials of
// an administrator of every domain (the figures are the whole instance's:
// instanceWide). Wrong or missing credentials are no error, just no
// access; refused says why a valid account may not ("" when ok, or when r
// carried no valid credentials).
func (s *Server) opsAccess(r *http.Request) (ok bool, refused string, err error) {
	if tok, isBearer := bearerToken(r); isBearer {
		return s.opt.MetricsToken != "" && equalSecret(tok, s.opt.MetricsToken), "", nil
	}
	u, err := s.identify(r)
	switch {
	case err == nil && u.Role != store.RoleAdmin:
		return false, "administrators only", nil
	case err == nil && s.instanceWide(u) != nil:
		return false, "administrators of every domain only: the figures are the whole instance's", nil
	case err == nil:
		return true, "", nil
	case errors.Is(err, errNoCredentials), errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrBadCredentials):
		return false, "", nil
	default:
		return false, "", err
	}
}

func bearerToken(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// opsOnly serves h to the scrape token and admins: 401 to others, 403 to
// a signed-in user who is no admin.
func (s *Server) opsOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, refused, err := s.opsAccess(r)
		switch {
		case err != nil:
			s.internalError(w, r, err)
		case ok:
			h.ServeHTTP(w, r)
		case refused != "":
			httpError(w, http.StatusForbidden, refused)
		default:
			if s.opt.MetricsToken != "" {
				w.Header().Add("WWW-Authenticate", `Bearer realm="recordings"`)
			}
			if r.Header.Get("Sec-Fetch-Mode") == "" {
				w.Header().Add("WWW-Authenticate", `Basic realm="recordings", charset="UTF-8"`)
			}
			httpError(w, http.StatusUnauthorized, "an admin sign-in or the metrics token is required")
		}
	})
}

// statusJSON is the admin overview. An administrator of a domain is not
// given the instance's figures, as /healthz does not give them its details:
// health is then {"status","problems"} (healthSummary), and
// uploads_in_progress and database_free_bytes are left out.
type statusJSON struct {
	Version          string   `json:"version,omitempty"`
	PBXName          string   `json:"pbx_name"`
	Problems         []string `json:"problems"` // e.g. "PBX Name missing"
	RetentionDays    int      `json:"retention_days"`
	LogRetentionDays int      `json:"log_retention_days"`
	UploadsNow       *int64   `json:"uploads_in_progress,omitempty"`
	DatabaseFree     *int64   `json:"database_free_bytes,omitempty"`
	Health           any      `json:"health"` // health.Report, or healthSummary
	// Replica is the continuous replication's state (replica.go).
	Replica replica.Status `json:"replica"`
	PBX     pbxStatusJSON  `json:"pbx"` // the PBX's App-object connection
}

// healthSummary is the health report as an administrator of a domain sees
// it: whether the service can work, and the problems of their domain.
type healthSummary struct {
	Status   string   `json:"status"`
	Problems []string `json:"problems,omitempty"`
}

func (s *Server) adminStatus(w http.ResponseWriter, r *http.Request) {
	v := s.set.Values()
	own := adminDomain(v, userFrom(r.Context()))
	rep := s.healthReport(r.Context())
	st := statusJSON{Version: s.opt.Version, PBXName: v.PBXName, Problems: s.problems(own),
		RetentionDays: v.RetentionDays, LogRetentionDays: v.LogRetentionDays, Replica: s.replicaStatus(), PBX: s.pbxStatus(own)}
	// An administrator of a domain sees their domain's PBX name, retention
	// period, PBX and problems (settings.go, adminDomain), and not the
	// instance's replication (GET /api/admin/replica is the instance
	// administrators'), database, disk or uploads (nor does /healthz show
	// them: opsAccess).
	if d, ok := v.ServedDomain(own); ok && d != "" {
		dv := v.ForDomain(d)
		st.PBXName, st.RetentionDays = dv.PBXName, dv.RetentionDays
	}
	if own != "" {
		st.Replica = replica.Status{State: "hidden"}
		st.Health = healthSummary{Status: rep.Status, Problems: s.problemsOf(rep.Problems, own)}
		writeJSON(w, http.StatusOK, st)
		return
	}
	uploads, free := s.ing.Uploads(), int64(0)
	if n, err := s.db.FreeSize(r.Context()); err == nil {
		free = n
	}
	st.UploadsNow, st.DatabaseFree, st.Health = &uploads, &free, rep
	writeJSON(w, http.StatusOK, st)
}

// backup streams a consistent snapshot of the database, made while uploads
// go on, with its size in Content-Length (and Range support, so a broken
// download can resume while the same snapshot is served). Its progress is
// at GET /api/admin/backup/status (backupstatus.go).
func (s *Server) backup(w http.ResponseWriter, r *http.Request) {
	select {
	case s.backups.sem <- struct{}{}:
		defer func() { <-s.backups.sem }()
	default:
		w.Header().Set("Retry-After", "60")
		httpError(w, http.StatusServiceUnavailable, "a backup is already running; try again later")
		return
	}
	u := userFrom(r.Context())
	p := s.backups.progress
	p.begin(u.Name)
	start := time.Now()
	snap, err := s.db.SnapshotWithProgress(r.Context(), 0, p.snapshot)
	if err != nil {
		if r.Context().Err() != nil {
			p.finish(errors.New("the browser closed the connection while the snapshot was being made"))
			return
		}
		p.finish(errors.New("the snapshot could not be made; see the log"))
		s.internalError(w, r, fmt.Errorf("backup: %w", err))
		return
	}
	// The snapshot file is removed before the status says finished, so that
	// a finished backup never still holds its disk space.
	closed := false
	closeSnap := func() {
		if closed {
			return
		}
		closed = true
		if err := snap.Close(); err != nil {
			s.log.Warn("backup: remove snapshot", "user", u.Name, "err", err)
		}
	}
	defer closeSnap()
	s.log.Info("backup started", "user", u.Name, "bytes", snap.Size, "snapshot_took", time.Since(start))
	name := p.fileName(time.Now())
	p.sending(name, snap.Size)
	w.Header().Set("Content-Type", "application/vnd.sqlite3")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	// ServeContent sets Content-Length from the file's size (or the
	// range's), which the counting writer takes as the total.
	cw := &countingWriter{ResponseWriter: w, ctx: r.Context(), p: p}
	http.ServeContent(cw, r, name, time.Time{}, snap.File)
	err = cw.outcome(r, p.status().Total)
	closeSnap()
	p.finish(err)
	if err != nil {
		s.log.Warn("backup failed", "user", u.Name, "err", err)
		return
	}
	s.log.Info("backup sent", "user", u.Name, "bytes", cw.n, "took", time.Since(start))
}
