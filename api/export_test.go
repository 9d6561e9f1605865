package api

import (
	"context"
	"slices"
	"time"

	"recordings/store"
)

// Hooks for the external tests (package api_test), which run the whole
// service through internal/apptest and reach into the HTTP layer only here.

// SetChallenge makes AppChallenge hand out challenges from f (the
// protocol's published vectors).
func (s *Server) SetChallenge(f func() (string, error)) { s.pbx.challenge = f }

// SetLoginClock sets the clock of the sign-in throttle.
func (s *Server) SetLoginClock(now func() time.Time) {
	s.thr.mu.Lock()
	defer s.thr.mu.Unlock()
	s.thr.now = now
}

// ForgetLoginFailures clears the failures counted against host.
func (s *Server) ForgetLoginFailures(host string) { s.thr.forget(host) }

// ForgetAllLoginFailures clears everything the sign-in throttle counted,
// for tests that sign in wrongly on purpose many times (the authorization
// matrix) and test something else than the throttle.
func (s *Server) ForgetAllLoginFailures() {
	s.thr.mu.Lock()
	defer s.thr.mu.Unlock()
	clear(s.thr.sources)
	clear(s.thr.accounts)
	clear(s.thr.trusted)
}

// FlushAudit writes the queued audit entries (listening, downloading) now.
func (s *Server) FlushAudit(ctx context.Context) error { return s.audits.flush(ctx) }

// Subscribers is how many websocket clients receive pushes.
func (s *Server) Subscribers() int { return len(s.ws.subscribers()) }

// BeforeBackupWrite runs f before each write of a backup's body with the
// bytes sent so far.
func (s *Server) BeforeBackupWrite(f func(ctx context.Context, sent int64)) {
	s.backups.progress.mu.Lock()
	defer s.backups.progress.mu.Unlock()
	s.backups.progress.beforeWrite = f
}

// AppLoginWith runs the AppLogin check of msg against challenge, issued
// now, from remote: the signed-in user and session token, or the refusal.
func (s *Server) AppLoginWith(ctx context.Context, challenge, remote string, msg []byte) (store.User, string, error) {
	st := &appLoginConn{challenge: challenge, issued: s.opt.Now()}
	return s.appLogin(ctx, st, remote, msg)
}

// AppLoginConn is the AppLogin state of one connection.
type AppLoginConn struct {
	s  *Server
	st appLoginConn
}

// NewAppLoginConn starts the AppLogin state of a new connection.
func (s *Server) NewAppLoginConn() *AppLoginConn { return &AppLoginConn{s: s} }

// Challenge answers AppChallenge.
func (c *AppLoginConn) Challenge() (string, error) {
	ch, err := c.s.appChallenge(&c.st)
	return ch.Challenge, err
}

// Login answers AppLogin from remote.
func (c *AppLoginConn) Login(ctx context.Context, remote string, msg []byte) (store.User, string, error) {
	return c.s.appLogin(ctx, &c.st, remote, msg)
}

// HandleWSMessage answers one websocket message of a connection signed in
// as u, as the read loop would.
func (s *Server) HandleWSMessage(ctx context.Context, u store.User, msg []byte) []byte {
	c := &wsClient{send: make(chan []byte, 1), drain: make(chan struct{}), cancel: func(error) {}, user: u,
		basicPW: u.PasswordAt, checked: s.opt.Now(), gen: s.ws.rights.Load()}
	reply, _ := s.wsHandle(ctx, c, msg)
	return reply
}

// FlushRejects writes the aggregated lines of the refusals counted so far.
func (s *Server) FlushRejects() {
	s.rejects.uploads.FlushAll()
	s.rejects.cdrs.FlushAll()
}

// Constants of the protocol that the external tests check against.
const (
	SessionCookie = sessionCookie
	WSReadLimit   = wsReadLimit
	WSCloseSignIn = wsCloseSignIn
	AppUser       = appUser
	AppAdmin      = appAdmin
)

// BackupStatus is the answer of GET /api/admin/backup/status.
type BackupStatus = backupStatusJSON

// PushRecording pushes rec to the subscribed clients as a change of it.
func (s *Server) PushRecording(rec store.Recording) { s.pushRecording(s.ws.subscribers(), rec) }

// The sign-in throttle's bounds: failures before the first delay, and the
// longest delay.
const (
	LoginMaxFails = throttleFree
	LoginWindow   = throttleMaxDelay
)

// AdminWSMessages lists the websocket requests only administrators may
// make, sorted (the domain-administrator matrix must decide each).
func AdminWSMessages() []string {
	var out []string
	for mt, h := range wsHandlers {
		if h.admin {
			out = append(out, mt)
		}
	}
	slices.Sort(out)
	return out
}
