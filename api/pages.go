package api

import (
	"errors"
	"net/http"

	"recordings/store"
)

// routeUI registers the websocket endpoint and the session probe on the
// /api/ mux, and the two apps' pages and the sign-in page on the other.
func (s *Server) routeUI(apiMux, mux *http.ServeMux) {
	apiMux.HandleFunc("GET /api/ws", s.serveWS)
	apiMux.HandleFunc("GET /api/session", s.session)
	// The app URLs: the AppWebsocket upgrade (the PBX's App object, or an
	// app built on the SDK's library, which dials the instance path) and
	// the pages. One wildcard route for both pages (literal names could
	// clash with other three-segment patterns).
	mux.HandleFunc("GET /{domain}/recordings/{page}", s.appURL)
	mux.HandleFunc("GET /{domain}/recordings/{$}", s.appURL)
	mux.HandleFunc("GET /{domain}/recordings", s.appURL)
	if s.opt.UI != nil {
		mux.HandleFunc("GET /{$}", s.signInPage)
		mux.Handle("GET /", s.withPageHeaders(http.HandlerFunc(s.serveUIFile))) // scripts, styles, images (assets.go)
	}
}

// session tells the pages who is signed in: always 200, so that a browser
// never sees a 401 with a Basic challenge (it would pop up a password
// dialog, or, headless, hang the request).
func (s *Server) session(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	u, err := s.identify(r)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, struct {
			SignedIn bool     `json:"signed_in"`
			User     userJSON `json:"user"`
		}{true, s.signInView(u, r)})
	case s.refuseSignIn(w, err):
		// Basic credentials held back by the throttle, or a disabled account.
	case errors.Is(err, errNoCredentials), errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrBadCredentials):
		writeJSON(w, http.StatusOK, struct {
			SignedIn bool `json:"signed_in"`
		}{false})
	default:
		s.internalError(w, r, err)
	}
}

func (s *Server) servePage(w http.ResponseWriter, r *http.Request, name string) {
	h := w.Header()
	s.pageHeaders(h) // browser.go
	s.assets.serve(w, r, name, true)
}

// appPage serves the user and the admin app: one page that reads its mode
// from the path.
func (s *Server) appPage(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("page") {
	case "innovaphone-recordings.htm", "innovaphone-recordingsadmin.htm":
		s.servePage(w, r, "app.html")
	case "plugins.json", "innovaphone.recordingsmanager.js", "innovaphone.recordingsmanagertexts.js",
		"innovaphone.recordingsmanager.css", "innovaphone-recordings.png":
		// The PBX Manager plugin (docs/pbx.md): its files under the
		// instance URL, where the PBX Manager loads them from.
		s.servePage(w, r, "plugin/"+r.PathValue("page"))
	default:
		s.pageHeaders(w.Header())
		httpError(w, http.StatusNotFound, "no such page")
	}
}

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) { s.servePage(w, r, "index.html") }
