package api

import (
	"io"
	"log/slog"
	"net/http"
	"time"
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
// its own errors logged to log at warning level.
func NewHTTPServer(h http.Handler, log *slog.Logger, t Timeouts) *http.Server {
	if t.ReadHeader <= 0 {
		t.ReadHeader = DefaultReadHeaderTimeout
	}
	if t.Idle <= 0 {
		t.Idle = DefaultIdleTimeout
	}
	if t.MaxHeaderBytes <= 0 {
		t.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	return &http.Server{Handler: h, ReadHeaderTimeout: t.ReadHeader, IdleTimeout: t.Idle,
		MaxHeaderBytes: t.MaxHeaderBytes, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
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
