// Package api serves HTTP: the phones' capture uploads, the PBX's CDRs, the
// JSON and websocket APIs and the embedded UI. It checks who may do what and
// leaves storage to store, audio to ingest and settings to settings.
//
// Each operation on a resource is one method taking the signed-in user and
// a typed request (recordings.go, users.go, logs.go, settings.go); the REST
// handler and the websocket handler of the operation only decode and encode
// around it. Errors say what the client sees through clientError and
// invalid.Error (errors.go). The access rule is canView (access.go).
package api

import (
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"recordings/applog"
	"recordings/calls"
	"recordings/events"
	"recordings/health"
	"recordings/ingest"
	"recordings/metrics"
	"recordings/pbxlink"
	"recordings/replica"
	"recordings/settings"
	"recordings/store"
)

// Deps are the services the HTTP layer fronts. The composition root
// (internal/app) builds them; every field is required.
type Deps struct {
	DB       *store.DB
	Ingest   *ingest.Service
	Calls    *calls.Matcher
	Settings *settings.Service
	Events   *events.Broker
	Health   *health.Checker
	Metrics  *metrics.Metrics
	Log      *slog.Logger
	// Replica reports the continuous replication (optional: nil shows
	// replication as off).
	Replica ReplicaStatus
	// PBX keeps the PBX's App-object connections (pbxconn.go).
	PBX *pbxlink.Hub
	// Licences is the PBX licence client, shown in the PBX status; nil:
	// none.
	Licences *pbxlink.LicenceSet
	// AppObjects is the PBX's App-object client (pbxappobjects.go); nil:
	// no PBX side.
	AppObjects *pbxlink.AppObjects
}

// ReplicaStatus is the replication state source (replica.Service).
type ReplicaStatus interface{ Status() replica.Status }

func (d Deps) check() error {
	switch {
	case d.DB == nil, d.Ingest == nil, d.Calls == nil, d.Settings == nil, d.Events == nil, d.Health == nil,
		d.Metrics == nil, d.Log == nil, d.PBX == nil:
		return errors.New("api: every dependency is required")
	}
	return nil
}

// Options configure the HTTP layer; zero values take the defaults.
type Options struct {
	SessionTTL time.Duration // default 12 h
	UI         fs.FS         // the web apps; nil serves none
	Now        func() time.Time
	// UploadIdle cuts off an upload that sends nothing for this long;
	// default DefaultUploadIdle.
	UploadIdle time.Duration
	Version    string // shown in the admin status
	// BehindTLSProxy: requests marked X-Forwarded-Proto: https came over
	// TLS to the administrator's proxy (session cookies are Secure then).
	BehindTLSProxy bool
	// FrameAncestors is the pages' CSP frame-ancestors source list (see
	// ParseFrameAncestors); "" means DefaultFrameAncestors.
	FrameAncestors string
	// MetricsToken, when set, is the bearer token that reads /metrics and
	// the details of /healthz (ops.go).
	MetricsToken string
}

// Server is the HTTP front of the appliance.
type Server struct {
	db   *store.DB
	ing  *ingest.Service
	cdrs *calls.Matcher
	set  *settings.Service
	bus  *events.Broker
	hc   *health.Checker
	m    *metrics.Metrics
	rep  ReplicaStatus // nil: no replication
	opt  Options

	// One logger per log category the HTTP layer writes under.
	log    *slog.Logger // UI: sign-ins, the apps' actions, websocket
	recLog *slog.Logger // Recording: uploads and capture downloads
	cdrLog *slog.Logger // Call Information: CDRs
	cnvLog *slog.Logger // Converting: WAV rendering
	licLog *slog.Logger // License

	csp     string    // the pages' Content-Security-Policy (browser.go)
	ws      wsHub     // websocket clients (wsconn.go)
	pbx     *pbxState // AppLogin (applogin.go)
	pbxHub  *pbxlink.Hub
	lics    *pbxlink.LicenceSet
	appObjs *pbxlink.AppObjects
	thr     *throttle   // sign-in throttle (throttle.go)
	backups backups     // admin backups (ops.go)
	rejects rejects     // refused uploads and CDRs, logged per source and minute (ingress.go)
	audits  *auditQueue // listening and downloading, written in batches (activity.go)
	pbxPush pbxPushes   // the PBX status last pushed per domain (pbxconn.go)
	assets  *uiAssets   // the embedded UI, hashed and compressed once (assets.go)

	// sessionsPruned is when (unix seconds) expired and idle sessions were
	// last deleted (pruneSessions in auth.go).
	sessionsPruned atomic.Int64
}

// New returns a server over d. It subscribes to d.Events to push recording
// changes to the websocket clients.
func New(d Deps, opt Options) (*Server, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	if opt.SessionTTL <= 0 {
		opt.SessionTTL = 12 * time.Hour
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.UploadIdle <= 0 {
		opt.UploadIdle = DefaultUploadIdle
	}
	frames, err := ParseFrameAncestors(opt.FrameAncestors)
	if err != nil {
		return nil, err
	}
	s := &Server{db: d.DB, ing: d.Ingest, cdrs: d.Calls, set: d.Settings, bus: d.Events, hc: d.Health, m: d.Metrics, rep: d.Replica,
		opt: opt, pbx: newPBXState(), pbxHub: d.PBX, lics: d.Licences, appObjs: d.AppObjects, backups: newBackups(opt.Now), csp: pageCSP(frames),
		log:    d.Log.With("category", applog.UI),
		recLog: d.Log.With("category", applog.Recording),
		cdrLog: d.Log.With("category", applog.CallInformation),
		cnvLog: d.Log.With("category", applog.Converting),
		licLog: d.Log.With("category", applog.License),
	}
	s.rejects = s.newRejects()
	s.audits = newAuditQueue(d.DB, s.log, opt.Now)
	if opt.UI != nil {
		if s.assets, err = loadUIAssets(opt.UI); err != nil {
			return nil, err
		}
	}
	s.thr = newThrottle(opt.Now, s.log)
	s.ws.unsubscribe = d.Events.Subscribe(s.push)
	d.PBX.OnChange(s.pushPBXStatus)
	return s, nil
}

// Handler returns the routes. Paths under /api/ go to the JSON API; all
// others to the per-domain paths the PBX and phones use (captures, CDRs, the
// apps) and the UI, so that a domain may be any name but "api".
//
// A new route goes into the route function of its resource: routeRecordings
// (recordings.go), routeUsers (users.go), routeSettings (settings.go),
// routePBX (pbx.go), routeOps (ops.go), routeUI (pages.go).
func (s *Server) Handler() http.Handler {
	apiMux := http.NewServeMux()
	mux := http.NewServeMux()
	s.routeAuth(apiMux)       // sign-in, sign-out, who am I (auth.go)
	s.routeRecordings(apiMux) // list, get, audio, protect, delete (recordings.go)
	s.routeBulk(apiMux)       // ZIP of many recordings (bulk.go)
	s.routeActivity(apiMux)   // activity and audit trail (activity.go)
	s.routeFiles(mux)         // the phones' capture uploads (files.go)
	s.routeWebDAV(mux)        // WebDAV manners on the Files collection (webdav.go)
	s.routeUsers(apiMux)      // accounts (users.go)
	s.routeSettings(apiMux)   // PBX integration settings (settings.go)
	s.routePBX(mux, apiMux)   // CDRs, app objects, licences (pbx.go)
	s.routeOps(apiMux, mux)   // health, metrics, admin status and backup (ops.go)
	s.routeReplica(apiMux)    // continuous replication (replica.go)
	s.routeUI(apiMux, mux)    // websocket API, session probe and the apps' pages (pages.go)
	return s.sameOrigin(s.guardPaths(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			apiMux.ServeHTTP(w, r)
			return
		}
		if r, ok := s.servedDomain(w, r); ok {
			mux.ServeHTTP(w, r)
		}
	})))
}

// servedDomain answers 404 to a per-domain path (/{domain}/recordings…:
// uploads, CDRs, the apps and their websockets) under a domain the instance
// does not serve, once domains are configured (docs/pbx.md, Domains). A
// served domain spelt in another case is passed on in its configured
// spelling, so that one domain is stored under one name.
func (s *Server) servedDomain(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/")
	if !ok {
		return r, true
	}
	domain, tail, _ := strings.Cut(rest, "/")
	if tail != "recordings" && !strings.HasPrefix(tail, "recordings/") {
		return r, true
	}
	served, ok := s.set.Values().ServedDomain(domain)
	if !ok {
		httpError(w, http.StatusNotFound, "this instance does not serve the domain of this URL")
		return r, false
	}
	if served == domain {
		return r, true
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + served + "/" + tail
	r2.URL.RawPath = ""
	return r2, true
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

// decodeJSON reads a small JSON body into v, refusing unknown fields.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 256<<10)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		httpError(w, http.StatusBadRequest, "body: "+err.Error())
		return false
	}
	return true
}
