package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

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
// HTTP Basic credentials of a local account.
func (s *Server) authed(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := s.identify(r)
		if err != nil {
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

var errNoCredentials = errors.New("no credentials")

func (s *Server) identify(r *http.Request) (store.User, error) {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		return s.db.SessionUser(r.Context(), c.Value)
	}
	if name, pw, ok := r.BasicAuth(); ok {
		return s.db.Authenticate(r.Context(), name, pw)
	}
	return store.User{}, errNoCredentials
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
	u, err := s.db.Authenticate(r.Context(), req.Name, req.Password)
	if err != nil {
		if errors.Is(err, store.ErrBadCredentials) || errors.Is(err, store.ErrNotFound) {
			s.log.Warn("sign-in refused", "user", req.Name, "remote", r.RemoteAddr)
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
	s.log.Info("signed in", "user", u.Name)
	writeJSON(w, http.StatusOK, userView(u))
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := s.db.DeleteSession(r.Context(), c.Value); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.internalError(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: s.secureRequest(r), MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
}
