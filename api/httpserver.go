package api

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"recordings/applog"
	"recordings/metrics"
)

// Timeouts bound how long a client may hold a connection without making
// progress; zero fields take the defaults. A whole request is never
// time-limited, since a phone streams a call for as long as it lasts.
type Timeouts struct {
	ReadHeader     time.Duration // to receive the request line and headers; default 10 s
	Idle           time.Duration // between requests on a kept-alive connection; default 2 min
	MaxHeaderBytes int           // request line and headers; default 64 KiB
}

// Defaults for Timeouts and Options.UploadIdle.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultUploadIdle        = time.Minute
)

// NewHTTPServer returns the http.Server for h with the timeouts applied and
// its own errors logged to log at warning level. Every connection is
// counted in m, and so is every one that closes without having carried a
// request: net/http closes those silently (a client that sends no header
// within ReadHeader, or half of one), and to the client that looks like an
// upload dropped without an answer, so the count tells the two sides apart.
func NewHTTPServer(h http.Handler, log *slog.Logger, t Timeouts, m *metrics.Metrics) *http.Server {
	if t.ReadHeader <= 0 {
		t.ReadHeader = DefaultReadHeaderTimeout
	}
	if t.Idle <= 0 {
		t.Idle = DefaultIdleTimeout
	}
	if t.MaxHeaderBytes <= 0 {
		t.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	cw := &connWatch{log: log.With("category", applog.Recording), m: m}
	return &http.Server{Handler: cw.handler(h), ReadHeaderTimeout: t.ReadHeader, IdleTimeout: t.Idle,
		MaxHeaderBytes: t.MaxHeaderBytes, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ConnContext: cw.connContext, ConnState: cw.state}
}

// connWatch follows each connection from accept to close and notes those
// on which no request reached the handler. (net/http's StateActive is no
// help here: it comes with the first byte, not with a whole header.)
type connWatch struct {
	log   *slog.Logger
	m     *metrics.Metrics
	conns sync.Map // net.Conn → *connInfo
}

type connInfo struct {
	opened time.Time
	used   atomic.Bool
}

type connInfoKey struct{}

// connContext runs for each accepted connection before its first state
// change.
func (cw *connWatch) connContext(ctx context.Context, c net.Conn) context.Context {
	ci := &connInfo{opened: time.Now()}
	cw.conns.Store(c, ci)
	return context.WithValue(ctx, connInfoKey{}, ci)
}

func (cw *connWatch) handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ci, ok := r.Context().Value(connInfoKey{}).(*connInfo); ok {
			ci.used.Store(true)
		}
		h.ServeHTTP(w, r)
	})
}

func (cw *connWatch) state(c net.Conn, s http.ConnState) {
	switch s {
	case http.StateNew:
		cw.m.ConnOpened()
	case http.StateClosed, http.StateHijacked:
		v, ok := cw.conns.LoadAndDelete(c)
		if !ok || v.(*connInfo).used.Load() {
			return
		}
		cw.m.ConnUnused()
		cw.log.Debug("connection closed without a request",
			"remote", c.RemoteAddr().String(), "open_for", time.Since(v.(*connInfo).opened).Round(time.Millisecond))
	}
}

// idleBody cuts a request body off when no byte arrives for d: a phone
// streams a call at 8 kB/s or more, so a long silence is a dead or hostile
// client holding a connection and an upload open.
type idleBody struct {
	body io.ReadCloser
	rc   *http.ResponseController
	d    time.Duration
}

func newIdleBody(w http.ResponseWriter, r *http.Request, d time.Duration) io.ReadCloser {
	return &idleBody{body: r.Body, rc: http.NewResponseController(w), d: d}
}

func (b *idleBody) Read(p []byte) (int, error) {
	// Not every ResponseWriter supports deadlines (httptest recorders do
	// not); the body is then read without one.
	_ = b.rc.SetReadDeadline(time.Now().Add(b.d))
	return b.body.Read(p)
}

func (b *idleBody) Close() error { return b.body.Close() }
