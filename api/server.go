// Package api serves HTTP: the phones' capture uploads, the JSON API and the
// embedded UI. It checks who may do what and leaves storage to store and
// audio to ingest.
package api

import (
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"recordings/calls"
	"recordings/ingest"
	"recordings/store"
)

// Options configure the HTTP layer.
type Options struct {
	// UploadUser and UploadPassword, when set, protect capture uploads with
	// HTTP Basic credentials (the phones' WebDAV account).
	UploadUser, UploadPassword string
	SessionTTL                 time.Duration // default 12 h
	UI                         fs.FS
	Now                        func() time.Time
	Ops                        Ops // health, metrics, admin status and backup (ops.go)
	// Calls attaches CDRs to recordings (the CDR endpoint); nil answers
	// the CDR endpoint with 503.
	Calls *calls.Matcher
	// UploadIdle cuts off an upload that sends nothing for this long;
	// default DefaultUploadIdle.
	UploadIdle time.Duration
}

// Server is the HTTP front of the appliance.
type Server struct {
	db  *store.DB
	ing *ingest.Service
	log *slog.Logger
	opt Options
	ws  wsHub     // websocket clients (ws.go)
	pbx *pbxState // CDR endpoint and AppLogin (pbx.go)
}

// New returns a server over db and ing.
func New(db *store.DB, ing *ingest.Service, log *slog.Logger, opt Options) *Server {
	if opt.SessionTTL <= 0 {
		opt.SessionTTL = 12 * time.Hour
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.UploadIdle <= 0 {
		opt.UploadIdle = DefaultUploadIdle
	}
	return &Server{db: db, ing: ing, log: log, opt: opt, pbx: newPBXState(opt.Now)}
}

// Handler returns the routes. Paths under /api/ go to the JSON API; all
// others to the per-domain paths the PBX and phones use (captures, CDRs, the
// apps) and the UI, so that a domain may be any name but "api".
func (s *Server) Handler() http.Handler {
	apiMux := http.NewServeMux()
	apiMux.HandleFunc("POST /api/login", s.login)
	apiMux.HandleFunc("POST /api/logout", s.logout)
	apiMux.Handle("GET /api/me", s.authed(s.me))
	apiMux.Handle("GET /api/recordings", s.authed(s.listRecordings))
	apiMux.Handle("GET /api/recordings/{id}", s.authed(s.getRecording))
	apiMux.Handle("GET /api/recordings/{id}/audio.wav", s.authed(s.audio))
	apiMux.Handle("PUT /api/recordings/{id}/protected", s.authed(s.protect))
	apiMux.Handle("DELETE /api/recordings/{id}", s.authed(s.deleteRecording))

	mux := http.NewServeMux()
	mux.HandleFunc("PUT /{domain}/recordings/Files/{name}", s.putCapture)
	mux.Handle("GET /{domain}/recordings/Files/{name}", s.authed(s.getCapture))
	s.opsRoutes(apiMux, mux) // health, metrics, admin status and backup (ops.go)
	s.routeUI(apiMux, mux)   // websocket API and the apps' pages (ws.go)
	s.routePBX(apiMux, mux)  // CDRs, app objects, licences, PBX settings (pbx.go)
	if s.opt.UI != nil {
		mux.Handle("GET /", http.FileServerFS(s.opt.UI))
	}
	return s.guardPaths(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			apiMux.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}))
}

// guardPaths refuses capture paths with escapes or dot segments before the
// router cleans them into something else.
func (s *Server) guardPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := r.URL.EscapedPath()
		if strings.Contains(raw, "/recordings/Files/") {
			name := raw[strings.LastIndex(raw, "/recordings/Files/")+len("/recordings/Files/"):]
			switch {
			case strings.Contains(name, "%"):
				httpError(w, http.StatusBadRequest, "bad file name: escaped characters are not allowed")
				return
			case strings.Contains(raw, "/../") || strings.HasSuffix(raw, "/..") || strings.Contains(name, ".."):
				httpError(w, http.StatusBadRequest, "bad file name: '..' is not allowed")
				return
			case strings.Contains(name, "/"):
				httpError(w, http.StatusBadRequest, "bad file name: '/' is not allowed")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// apiError is the JSON body of every error answer.
type apiError struct {
	Error string `json:"error"`
}

func httpError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{Error: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// internalError logs err and answers 500 without leaking details.
func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	httpError(w, http.StatusInternalServerError, "internal error")
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
