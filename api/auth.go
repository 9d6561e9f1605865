package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"recordings/store"
)

const sessionCookie = "recordings_session"

type userKey struct{}

// userFrom returns the signed-in user of a request that passed authed.
func userFrom(ctx context.Context) store.User {
	u, _ := ctx.Value(userKey{}).(store.User)
	return u
}

// authed lets a request through when it carries a valid session cookie or
// HTTP Basic credentials of a local account. Basic credentials go through
// the sign-in throttle: a held-back source gets 429 with Retry-After.
func (s *Server) authed(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := s.identify(r)
		if err != nil {
			if s.refuseSignIn(w, err) {
				return
			}
			if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrBadCredentials) || errors.Is(err, errNoCredentials) {
				// Challenge scripts and players, but not the web apps' own
				// requests (browsers mark them with Sec-Fetch-Mode): a Basic
				// challenge there would pop up a password dialog instead of
				// letting the app send the person to its sign-in page.
				if r.Header.Get("Sec-Fetch-Mode") == "" {
					w.Header().Set("WWW-Authenticate", `Basic realm="recordings", charset="UTF-8"`)
				}
				httpError(w, http.StatusUnauthorized, "sign-in required")
				return
			}
			s.internalError(w, r, err)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
	})
}

// refuseSignIn answers the refusals that are not "who are you?": a
// throttled sign-in (429 with Retry-After) and a disabled account (403).
// It reports whether it answered.
func (s *Server) refuseSignIn(w http.ResponseWriter, err error) bool {
	var th *errThrottled
	switch {
	case errors.As(err, &th):
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(th.retry)))
		httpError(w, http.StatusTooManyRequests, th.Error())
		return true
	case errors.Is(err, store.ErrDisabled):
		httpError(w, http.StatusForbidden, "this account is disabled")
		return true
	}
	return false
}

var errNoCredentials = errors.New("no credentials")

func (s *Server) identify(r *http.Request) (store.User, error) {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		return s.db.SessionUser(r.Context(), c.Value)
	}
	if name, pw, ok := r.BasicAuth(); ok {
		return s.checkPassword(r.Context(), "basic", r.RemoteAddr, name, pw)
	}
	return store.User{}, errNoCredentials
}

// checkPassword is store.Authenticate behind the sign-in throttle: a
// throttled attempt fails with *errThrottled before any password check.
func (s *Server) checkPassword(ctx context.Context, path, remote, name, pw string) (store.User, error) {
	att, err := s.thr.begin(path, remote, name)
	if err != nil {
		return store.User{}, err
	}
	u, err := s.db.Authenticate(ctx, name, pw)
	switch {
	case err == nil:
		att.succeeded()
	case errors.Is(err, store.ErrBadCredentials):
		att.failed()
	default: // disabled (the password was right) or internal
		att.abandoned()
	}
	return u, err
}

func (s *Server) routeAuth(apiMux *http.ServeMux) {
	apiMux.HandleFunc("POST /api/login", s.login)
	apiMux.HandleFunc("POST /api/logout", s.logout)
}

type loginRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		httpError(w, http.StatusBadRequest, "login: body must be JSON {\"name\",\"password\"}")
		return
	}
	u, err := s.checkPassword(r.Context(), "login", r.RemoteAddr, req.Name, req.Password)
	if err != nil {
		if s.refuseSignIn(w, err) {
			return
		}
		if errors.Is(err, store.ErrBadCredentials) || errors.Is(err, store.ErrNotFound) {
			// The throttle logged the failure with its source.
			httpError(w, http.StatusUnauthorized, "wrong user name or password")
			return
		}
		s.internalError(w, r, err)
		return
	}
	tok, err := s.db.CreateSession(r.Context(), u.ID, s.opt.SessionTTL)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.secureRequest(r), MaxAge: int(s.opt.SessionTTL.Seconds())})
	s.log.Info("signed in", "user", u.Name, "remote", r.RemoteAddr)
	s.pruneSessions(r.Context())
	writeJSON(w, http.StatusOK, s.signInView(u, r))
}

// pruneSessions deletes expired and idle sessions, at most once an hour, at
// a sign-in (which adds one): the table stays as small as the sessions in
// use.
func (s *Server) pruneSessions(ctx context.Context) {
	now := s.opt.Now().Unix()
	last := s.sessionsPruned.Load()
	if now-last < 3600 || !s.sessionsPruned.CompareAndSwap(last, now) {
		return
	}
	if n, err := s.db.DeleteExpiredSessions(ctx); err != nil {
		s.log.Warn("delete expired sessions", "err", err)
	} else if n > 0 {
		s.log.Debug("expired sessions deleted", "count", n)
	}
}

// logout ends the session of the cookie and closes the websockets signed
// in with it (the account's other sessions stay).
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := s.db.DeleteSession(r.Context(), c.Value); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.internalError(w, r, err)
			return
		}
		s.closeSessionSockets(c.Value, nil)
	}
	s.clearSessionCookie(w, r)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: s.secureRequest(r), MaxAge: -1})
}
