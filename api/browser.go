package api

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// What protects the browser side: no state change from another site's
// page (sameOrigin), security headers on every page and static file
// (pageHeaders), Secure session cookies under TLS (secureRequest).

// sameOrigin refuses, with 403 and before any handler runs, a
// state-changing request (any method but GET, HEAD and OPTIONS) that a
// browser sent from another origin: one whose Sec-Fetch-Site is neither
// same-origin nor none, or, without that header, whose Origin does not name
// the host the request went to (http.CrossOriginProtection). This covers
// the sign-in (no login CSRF) and the phones' and PBX's endpoints (which
// take no cookies; a web page must not post CDRs or captures through a
// browser either). A request with the session cookie must moreover prove
// that it is same-origin — by Sec-Fetch-Site or Origin, which browsers send
// with every such request —, so a cookie without either is refused too.
// Requests without cookie and without those headers (scripts, phones, the
// PBX) pass; they are authenticated by their own credentials.
func (s *Server) sameOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		err := cop.Check(r)
		if err == nil && r.Header.Get("Sec-Fetch-Site") == "" && r.Header.Get("Origin") == "" && hasSessionCookie(r) {
			err = errCookieWithoutOrigin
		}
		if err != nil {
			s.log.Warn("cross-origin request refused", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr,
				"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"), "reason", err)
			httpError(w, http.StatusForbidden, "cross-origin request refused: open the app from this service's own address")
			return
		}
		next.ServeHTTP(w, r)
	})
}

var errCookieWithoutOrigin = errors.New("session cookie without Origin or Sec-Fetch-Site")

func hasSessionCookie(r *http.Request) bool {
	c, err := r.Cookie(sessionCookie)
	return err == nil && c.Value != ""
}

// secureRequest tells whether the browser reached the service over TLS:
// directly, or through the TLS-terminating proxy the administrator
// declared (Options.BehindTLSProxy), which marks such requests with
// X-Forwarded-Proto: https. Session cookies of such requests are Secure.
func (s *Server) secureRequest(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if !s.opt.BehindTLSProxy {
		return false
	}
	// A chain of proxies lists the first hop first.
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

// DefaultFrameAncestors lets only the service's own pages frame the apps.
const DefaultFrameAncestors = "'self'"

// frameSource is one CSP source expression fit for frame-ancestors: a
// scheme ("https:"), or a host with optional scheme, "*." wildcard and
// port.
var frameSource = regexp.MustCompile(`^(?i:[a-z][a-z0-9+.-]*:|([a-z][a-z0-9+.-]*://)?(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:(\d{1,5}|\*))?)$`)

// ParseFrameAncestors checks a frame-ancestors source list — 'self',
// 'none', origins such as https://pbx.example.com, *.example.com or
// https: — separated by spaces or commas, and returns it as it goes into
// the Content-Security-Policy. Empty means DefaultFrameAncestors.
func ParseFrameAncestors(s string) (string, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' })
	if len(fields) == 0 {
		return DefaultFrameAncestors, nil
	}
	for i, f := range fields {
		switch lf := strings.ToLower(f); {
		case lf == "'self'" || lf == "self":
			fields[i] = "'self'"
		case lf == "'none'" || lf == "none":
			if len(fields) > 1 {
				return "", fmt.Errorf("frame ancestors: 'none' cannot be combined with other sources")
			}
			fields[i] = "'none'"
		case lf == "*" || lf == "http:" || lf == "https:" || lf == "*.":
			return "", fmt.Errorf("frame ancestors: %q would let any site frame the apps", f)
		case frameSource.MatchString(f):
		default:
			return "", fmt.Errorf("frame ancestors: %q is not an origin such as https://pbx.example.com, *.example.com or 'self'", f)
		}
	}
	return strings.Join(fields, " "), nil
}

// pageCSP keeps the pages and files to the service's own scripts, styles,
// media and connections, and lets only frameAncestors frame them.
func pageCSP(frameAncestors string) string {
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"media-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors " + frameAncestors
}

// pageHeaders sets the security headers of everything the UI routes send:
// the pages, the static files and their error answers.
func (s *Server) pageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", s.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
}

// withPageHeaders serves next with pageHeaders.
func (s *Server) withPageHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.pageHeaders(w.Header())
		next.ServeHTTP(w, r)
	})
}
