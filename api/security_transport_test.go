package api_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"recordings/internal/app"
	"recordings/internal/apptest"
	"recordings/internal/callgen"
	"recordings/internal/tlscert"
	"recordings/settings"
	"recordings/store"
)

// The transport and browser side of the trust boundary: each test is an
// attack, then what is refused and that nothing stored changed.

const (
	secPhone, secPhonePW = "phone", "phone-password"
	evilOrigin           = "https://evil.example"
)

// secEnv is the service with users admin and alice (password name+"-pw")
// and explicit upload credentials.
type secEnv struct {
	t   *testing.T
	app *apptest.App
}

func newSecEnv(t *testing.T, opts ...apptest.Option) *secEnv {
	t.Helper()
	opts = append([]apptest.Option{func(c *app.Config) { c.UploadUser, c.UploadPassword = secPhone, secPhonePW }}, opts...)
	a := apptest.New(t, opts...)
	a.User("admin", store.RoleAdmin, "admin-pw")
	a.User("alice", store.RoleUser, "alice-pw")
	return &secEnv{t: t, app: a}
}

// send makes a request to base+path with the headers (name, value pairs)
// and returns the status, the body and the response.
func (e *secEnv) send(c *http.Client, method, url, body string, hdr ...string) (int, string, *http.Response) {
	e.t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Basic" {
			user, pw, _ := strings.Cut(hdr[i+1], ":")
			req.SetBasicAuth(user, pw)
			continue
		}
		req.Header.Add(hdr[i], hdr[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return res.StatusCode, string(b), res
}

func (e *secEnv) do(method, path, body string, hdr ...string) (int, string, *http.Response) {
	e.t.Helper()
	return e.send(e.app.Client, method, e.app.URL+path, body, hdr...)
}

// upload stores a capture of alice's and returns its id.
func (e *secEnv) upload() int64 {
	e.t.Helper()
	name := fmt.Sprintf("%032x-0090334455aa-1-alice.pcap", 42)
	code, body, _ := e.do(http.MethodPut, "/example.com/recordings/Files/"+name, string(callgen.Default(50).Bytes()),
		"Basic", secPhone+":"+secPhonePW)
	if code != http.StatusCreated {
		e.t.Fatalf("upload: %d %s", code, body)
	}
	rec, err := e.app.DB.RecordingByName(e.app.Ctx, "example.com", name)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.app.WaitAnalysed(rec.ID).ID
}

// sessions ends every session of name and says how many there were.
func (e *secEnv) sessions(name string) int64 {
	e.t.Helper()
	u, err := e.app.DB.User(e.app.Ctx, name)
	if err != nil {
		e.t.Fatal(err)
	}
	n, err := e.app.DB.DeleteUserSessions(e.app.Ctx, u.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestLoginCSRF: a page on another site signs the visitor's browser in to
// the attacker's account (login CSRF). The sign-in is refused with 403 and
// no session is created; the service's own page, and scripts without
// browser headers, still sign in.
func TestLoginCSRF(t *testing.T) {
	t.Parallel()
	e := newSecEnv(t)
	creds := `{"name":"alice","password":"alice-pw"}`
	for _, tc := range []struct {
		name string
		hdr  []string
	}{
		{"cross-site Origin", []string{"Origin", evilOrigin}},
		{"cross-site fetch metadata", []string{"Sec-Fetch-Site", "cross-site", "Origin", evilOrigin}},
		{"same-site other port", []string{"Sec-Fetch-Site", "same-site", "Origin", "http://127.0.0.1:1"}},
		{"opaque origin (sandboxed frame)", []string{"Origin", "null"}},
		{"fetch metadata alone", []string{"Sec-Fetch-Site", "cross-site"}},
		{"cross-site with a form's content type", []string{"Origin", evilOrigin, "Content-Type", "text/plain"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, res := e.do(http.MethodPost, "/api/login", creds, tc.hdr...)
			if code != http.StatusForbidden {
				t.Errorf("answered %d %s, want 403", code, body)
			}
			if len(res.Cookies()) != 0 {
				t.Errorf("set cookies %v", res.Cookies())
			}
		})
	}
	if n := e.sessions("alice"); n != 0 {
		t.Fatalf("the refused sign-ins created %d sessions", n)
	}
	// The service's own page, and a script, may sign in.
	for _, hdr := range [][]string{
		{"Origin", e.app.URL, "Sec-Fetch-Site", "same-origin"},
		{"Origin", e.app.URL},
		nil,
	} {
		if code, body, _ := e.do(http.MethodPost, "/api/login", creds, hdr...); code != http.StatusOK {
			t.Errorf("sign-in with %q: %d %s", hdr, code, body)
		}
	}
	if n := e.sessions("alice"); n != 3 {
		t.Errorf("%d sessions after three sign-ins", n)
	}
}

// TestCrossSiteStateChange: a page on another site makes the browser of a
// signed-in user or admin change something with their session cookie
// (protect, delete, the PBX settings, sign-out), or sends the request with
// the cookie but without Origin. Each is refused with 403 and nothing
// changes; the app's own requests (same Origin or Sec-Fetch-Site:
// same-origin) and scripts with Basic credentials go through.
func TestCrossSiteStateChange(t *testing.T) {
	t.Parallel()
	e := newSecEnv(t)
	id := e.upload()
	alice := e.app.SessionCookie("alice", "alice-pw")
	admin := e.app.SessionCookie("admin", "admin-pw")
	cookie := func(c *http.Cookie) string { return c.Name + "=" + c.Value }
	if err := e.app.Settings.Set(e.app.Ctx, "test", map[string]string{settings.KeyNoCDRGrace: "600"}); err != nil {
		t.Fatal(err)
	}
	rec := fmt.Sprintf("/api/recordings/%d", id)
	type attempt struct {
		method, path, body string
		cookie             *http.Cookie
	}
	changes := []attempt{
		{http.MethodPut, rec + "/protected", `{"protected":true}`, alice},
		{http.MethodDelete, rec, "", alice},
		{http.MethodPut, "/api/admin/pbx", `{"nocdr_grace_seconds":60}`, admin},
		{http.MethodPost, "/api/logout", "", alice},
	}
	attacks := []struct {
		name string
		hdr  []string
	}{
		{"cross-site Origin", []string{"Origin", evilOrigin}},
		{"cross-site fetch metadata", []string{"Sec-Fetch-Site", "cross-site", "Origin", evilOrigin}},
		{"same-site fetch metadata", []string{"Sec-Fetch-Site", "same-site", "Origin", "http://127.0.0.1:1"}},
		{"opaque origin", []string{"Origin", "null"}},
		{"cookie without Origin", nil},
		{"look-alike origin", []string{"Origin", e.app.URL + ".evil.example"}},
	}
	for _, a := range attacks {
		for _, c := range changes {
			t.Run(a.name+"/"+c.method+" "+c.path, func(t *testing.T) {
				code, body, _ := e.do(c.method, c.path, c.body, append([]string{"Cookie", cookie(c.cookie)}, a.hdr...)...)
				if code != http.StatusForbidden {
					t.Errorf("answered %d %s, want 403", code, body)
				}
			})
		}
	}
	// Nothing changed: the recording is there and unprotected, the setting
	// as it was, both sessions valid.
	r, err := e.app.DB.Recording(e.app.Ctx, id)
	if err != nil || r.Protected {
		t.Fatalf("recording after the attacks: %+v %v", r, err)
	}
	if v := e.app.Settings.Values().NoCDRGrace; v != 10*time.Minute {
		t.Fatalf("NoCDR grace after the attacks: %v", v)
	}
	for _, c := range []*http.Cookie{alice, admin} {
		if _, err := e.app.DB.SessionUser(e.app.Ctx, c.Value); err != nil {
			t.Fatalf("a session ended by a cross-site sign-out: %v", err)
		}
	}

	// The app's own requests change things.
	own := []string{"Cookie", cookie(alice), "Origin", e.app.URL}
	if code, body, _ := e.do(http.MethodPut, rec+"/protected", `{"protected":true}`, own...); code != http.StatusOK {
		t.Fatalf("same-origin protect: %d %s", code, body)
	}
	if code, body, _ := e.do(http.MethodPut, rec+"/protected", `{"protected":false}`,
		"Cookie", cookie(alice), "Sec-Fetch-Site", "same-origin"); code != http.StatusOK {
		t.Fatalf("same-origin (fetch metadata) unprotect: %d %s", code, body)
	}
	if code, body, _ := e.do(http.MethodPut, "/api/admin/pbx", `{"nocdr_grace_seconds":900}`, "Basic", "admin:admin-pw"); code != http.StatusOK {
		t.Fatalf("script with Basic credentials: %d %s", code, body)
	}
	if code, body, _ := e.do(http.MethodDelete, rec, "", own...); code != http.StatusNoContent && code != http.StatusOK {
		t.Fatalf("same-origin delete: %d %s", code, body)
	}
}

// TestIngressRefusesBrowsers: a web page makes a LAN user's browser post a
// CDR or upload a capture (the PBX's and phones' endpoints). Both are
// refused with 403 and nothing is stored.
func TestIngressRefusesBrowsers(t *testing.T) {
	t.Parallel()
	e := newSecEnv(t)
	xml, err := os.ReadFile(filepath.Join("..", "pbx", "testdata", "cdr", "internal.xml"))
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("%032x-0090334455aa-1-alice.pcap", 7)
	capture := string(callgen.Default(50).Bytes())
	browser := []string{"Origin", evilOrigin, "Sec-Fetch-Site", "cross-site", "Basic", secPhone + ":" + secPhonePW}
	if code, body, _ := e.do(http.MethodPost, "/example.com/recordings/cdr", string(xml), browser...); code != http.StatusForbidden {
		t.Errorf("cross-site CDR: %d %s, want 403", code, body)
	}
	if code, body, _ := e.do(http.MethodPut, "/example.com/recordings/Files/"+name, capture, browser...); code != http.StatusForbidden {
		t.Errorf("cross-site upload: %d %s, want 403", code, body)
	}
	if cdrs, err := e.app.DB.CDRs(e.app.Ctx, 0, 10); err != nil || len(cdrs) != 0 {
		t.Errorf("CDRs stored: %d %v", len(cdrs), err)
	}
	if _, err := e.app.DB.RecordingByName(e.app.Ctx, "example.com", name); err == nil {
		t.Error("a capture was stored")
	}
}

// TestSecurityHeaders: every HTML answer — the sign-in page, both app
// pages, the pages under their file names, redirects and errors of the UI
// routes — carries the Content-Security-Policy (with frame-ancestors),
// nosniff and a Referrer-Policy, and so do the scripts; frame-ancestors
// takes the configured myApps origin.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	noRedirect := func(c *http.Client) *http.Client {
		c2 := *c
		c2.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return &c2
	}
	for _, cfg := range []struct {
		name, frameAncestors, want string
	}{
		{"default", "", "frame-ancestors 'self'"},
		{"myApps origin", "https://pbx.example.com, 'self'", "frame-ancestors https://pbx.example.com 'self'"},
	} {
		t.Run(cfg.name, func(t *testing.T) {
			t.Parallel()
			e := newSecEnv(t, func(c *app.Config) { c.FrameAncestors = cfg.frameAncestors })
			client := noRedirect(e.app.Client)
			for _, tc := range []struct {
				path   string
				status int
				html   bool
			}{
				{"/", 200, true},
				{"/example.com/recordings/innovaphone-recordings.htm", 200, true},
				{"/example.com/recordings/innovaphone-recordingsadmin.htm", 200, true},
				{"/app.html", 200, true},
				{"/index.html", http.StatusMovedPermanently, false},
				{"/js/signin.js", 200, false},
				{"/css/app.css", 200, false},
				{"/example.com/recordings/other.htm", 404, false},
				{"/no-such-file.html", 404, false},
			} {
				code, body, res := e.send(client, http.MethodGet, e.app.URL+tc.path, "")
				if code != tc.status {
					t.Errorf("GET %s: %d, want %d", tc.path, code, tc.status)
				}
				if tc.html && !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
					t.Errorf("GET %s: Content-Type %q (%.40q)", tc.path, res.Header.Get("Content-Type"), body)
				}
				csp := res.Header.Get("Content-Security-Policy")
				for _, want := range []string{"default-src 'none'", "script-src 'self'", "base-uri 'none'", cfg.want} {
					if !strings.Contains(csp, want) {
						t.Errorf("GET %s: CSP %q lacks %q", tc.path, csp, want)
					}
				}
				if !strings.HasSuffix(csp, cfg.want) {
					t.Errorf("GET %s: CSP %q does not end with %q", tc.path, csp, cfg.want)
				}
				if v := res.Header.Get("X-Content-Type-Options"); v != "nosniff" {
					t.Errorf("GET %s: X-Content-Type-Options %q", tc.path, v)
				}
				if v := res.Header.Get("Referrer-Policy"); v != "same-origin" {
					t.Errorf("GET %s: Referrer-Policy %q", tc.path, v)
				}
			}
			// Every other answer is nosniff too.
			for _, p := range []string{"/healthz", "/api/session", "/api/me"} {
				if _, _, res := e.send(client, http.MethodGet, e.app.URL+p, ""); res.Header.Get("X-Content-Type-Options") != "nosniff" {
					t.Errorf("GET %s: no nosniff", p)
				}
			}
		})
	}
}

// TestFrameAncestorsRefused: a frame-ancestors value that would let any
// site frame the apps, or smuggle other directives, stops the start.
func TestFrameAncestorsRefused(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"*", "https:", "'none' https://pbx.example.com", "https://pbx.example.com; script-src *",
		"https://pbx.example.com/path", "'unsafe-inline'"} {
		_, err := app.New(context.Background(), app.Config{DB: filepath.Join(t.TempDir(), "r.db"), AdminPassword: "admin-password",
			FrameAncestors: v})
		if err == nil || !strings.Contains(err.Error(), "frame ancestors") {
			t.Errorf("frame ancestors %q: %v", v, err)
		}
	}
}

// trustingClient is an HTTP client that trusts exactly the certificate in
// the file certFile.
func trustingClient(t *testing.T, certFile string) *http.Client {
	t.Helper()
	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatalf("%s holds no certificate", certFile)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// TestTLS: the service serves HTTPS with the self-signed certificate it
// generated on first start, kept next to the database and private; a
// client that trusts that certificate connects, and one that trusts
// nothing is refused. Session cookies are Secure under TLS and not over
// plain HTTP.
func TestTLS(t *testing.T) {
	t.Parallel()
	e := newSecEnv(t, func(c *app.Config) { c.TLS = app.TLSConfig{On: true, Hosts: []string{"127.0.0.1"}} })
	if e.app.TLSURL == "" {
		t.Fatal("no HTTPS listener")
	}
	dir := filepath.Dir(e.app.DB.Path())
	for _, f := range []string{tlscert.SelfSignedCert, tlscert.SelfSignedKey} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %#o, want 0600", f, st.Mode().Perm())
		}
	}
	client := trustingClient(t, filepath.Join(dir, tlscert.SelfSignedCert))
	code, body, res := e.send(client, http.MethodGet, e.app.TLSURL+"/healthz", "")
	if code != http.StatusOK || res.TLS == nil {
		t.Fatalf("GET /healthz over HTTPS: %d %s", code, body)
	}
	if got := res.TLS.PeerCertificates[0]; tlscert.Fingerprint(got) != tlscert.Fingerprint(e.app.Certificate.Certificate().Leaf) {
		t.Error("served a certificate other than the kept one")
	}
	if _, err := e.app.Client.Get(e.app.TLSURL + "/healthz"); err == nil {
		t.Error("a client that does not trust the certificate connected")
	}
	// A phone with an https:// Record-to URL.
	name := fmt.Sprintf("%032x-0090334455aa-1-alice.pcap", 11)
	code, body, _ = e.send(client, http.MethodPut, e.app.TLSURL+"/example.com/recordings/Files/"+name,
		string(callgen.Default(50).Bytes()), "Basic", secPhone+":"+secPhonePW)
	if code != http.StatusCreated {
		t.Fatalf("upload over HTTPS: %d %s", code, body)
	}
	if _, err := e.app.DB.RecordingByName(e.app.Ctx, "example.com", name); err != nil {
		t.Fatalf("the upload over HTTPS: %v", err)
	}

	creds := `{"name":"alice","password":"alice-pw"}`
	for _, tc := range []struct {
		name   string
		client *http.Client
		url    string
		secure bool
	}{
		{"HTTPS", client, e.app.TLSURL, true},
		{"plain HTTP", e.app.Client, e.app.URL, false},
	} {
		_, _, res := e.send(tc.client, http.MethodPost, tc.url+"/api/login", creds, "Origin", tc.url)
		cookies := res.Cookies()
		if res.StatusCode != http.StatusOK || len(cookies) != 1 {
			t.Fatalf("%s sign-in: %d %v", tc.name, res.StatusCode, cookies)
		}
		if cookies[0].Secure != tc.secure || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode {
			t.Errorf("%s session cookie: Secure %v HttpOnly %v SameSite %v; want Secure %v, HttpOnly, Strict",
				tc.name, cookies[0].Secure, cookies[0].HttpOnly, cookies[0].SameSite, tc.secure)
		}
		_, _, res = e.send(tc.client, http.MethodPost, tc.url+"/api/logout", "", "Origin", tc.url,
			"Cookie", cookies[0].Name+"="+cookies[0].Value)
		if c := res.Cookies(); res.StatusCode != http.StatusNoContent || len(c) != 1 || c[0].Secure != tc.secure {
			t.Errorf("%s sign-out: %d %v", tc.name, res.StatusCode, c)
		}
	}
}

// TestTLSCertificateFiles: with a certificate and key given, the service
// serves that certificate, and no self-signed one is made.
func TestTLSCertificateFiles(t *testing.T) {
	t.Parallel()
	certDir := t.TempDir()
	// A certificate made elsewhere: here by the self-signed generator in a
	// folder of its own.
	if _, err := tlscert.SelfSigned(certDir, []string{"127.0.0.1"}, tlscert.Options{}); err != nil {
		t.Fatal(err)
	}
	cert, key := filepath.Join(certDir, tlscert.SelfSignedCert), filepath.Join(certDir, tlscert.SelfSignedKey)
	e := newSecEnv(t, func(c *app.Config) { c.TLS = app.TLSConfig{On: true, CertFile: cert, KeyFile: key} })
	code, body, _ := e.send(trustingClient(t, cert), http.MethodGet, e.app.TLSURL+"/healthz", "")
	if code != http.StatusOK {
		t.Fatalf("GET /healthz over HTTPS: %d %s", code, body)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(e.app.DB.Path()), tlscert.SelfSignedCert)); err == nil {
		t.Error("a self-signed certificate was generated although one was given")
	}
}

// TestBehindTLSProxy: only when the administrator declares a TLS proxy
// does X-Forwarded-Proto: https make the session cookie Secure; without
// the declaration a client cannot claim TLS with the header.
func TestBehindTLSProxy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		declared bool
		proto    string
		secure   bool
	}{
		{false, "https", false},
		{true, "https", true},
		{true, "https, http", true},
		{true, "http", false},
		{true, "", false},
	} {
		t.Run(fmt.Sprintf("declared=%v/proto=%q", tc.declared, tc.proto), func(t *testing.T) {
			t.Parallel()
			e := newSecEnv(t, func(c *app.Config) { c.BehindTLSProxy = tc.declared })
			hdr := []string{}
			if tc.proto != "" {
				hdr = append(hdr, "X-Forwarded-Proto", tc.proto)
			}
			code, _, res := e.do(http.MethodPost, "/api/login", `{"name":"alice","password":"alice-pw"}`, hdr...)
			if code != http.StatusOK || len(res.Cookies()) != 1 {
				t.Fatalf("sign-in: %d", code)
			}
			if got := res.Cookies()[0].Secure; got != tc.secure {
				t.Errorf("Secure %v, want %v", got, tc.secure)
			}
		})
	}
}

// TestHealthzDetails: anonymous callers (and users, and wrong tokens)
// learn only up or down from /healthz; an admin or the scrape token gets
// the details (sizes, free disk, configuration problems).
func TestHealthzDetails(t *testing.T) {
	t.Parallel()
	const token = "scrape-token-0123456789"
	for _, disk := range []struct {
		name   string
		free   uint64
		status int
		word   string
	}{
		{"disk ok", 10 << 30, http.StatusOK, "ok"},
		{"disk low", 1 << 20, http.StatusServiceUnavailable, "fail"},
	} {
		t.Run(disk.name, func(t *testing.T) {
			t.Parallel()
			e := newSecEnv(t, func(c *app.Config) {
				c.MetricsToken = token
				c.Tuning.Disk = func(string) (uint64, uint64, error) { return disk.free, 20 << 30, nil }
			})
			alice := e.app.SessionCookie("alice", "alice-pw")
			admin := e.app.SessionCookie("admin", "admin-pw")
			for _, tc := range []struct {
				who     string
				hdr     []string
				details bool
			}{
				{"anonymous", nil, false},
				{"user", []string{"Basic", "alice:alice-pw"}, false},
				{"user session", []string{"Cookie", alice.Name + "=" + alice.Value}, false},
				{"wrong password", []string{"Basic", "admin:wrong"}, false},
				{"wrong token", []string{"Authorization", "Bearer wrong-token-0123456789"}, false},
				{"admin", []string{"Basic", "admin:admin-pw"}, true},
				{"admin session", []string{"Cookie", admin.Name + "=" + admin.Value}, true},
				{"token", []string{"Authorization", "Bearer " + token}, true},
			} {
				code, body, _ := e.do(http.MethodGet, "/healthz", "", tc.hdr...)
				if code != disk.status {
					t.Errorf("%s: %d, want %d", tc.who, code, disk.status)
				}
				var got map[string]any
				if err := json.Unmarshal([]byte(body), &got); err != nil {
					t.Fatalf("%s: %v: %s", tc.who, err, body)
				}
				if got["status"] != disk.word {
					t.Errorf("%s: status %v, want %s", tc.who, got["status"], disk.word)
				}
				if details := len(got) > 1; details != tc.details {
					t.Errorf("%s: details shown %v, want %v: %s", tc.who, details, tc.details, body)
				}
				if tc.details && (got["problems"] == nil || got["disk_total_bytes"] == nil) {
					t.Errorf("%s: details lack problems or disk: %s", tc.who, body)
				}
			}
		})
	}
}

// TestMetricsAccess: /metrics shows the service's internals to an admin
// and the scrape token only.
func TestMetricsAccess(t *testing.T) {
	t.Parallel()
	const token = "scrape-token-0123456789"
	for _, configured := range []bool{false, true} {
		t.Run(fmt.Sprintf("token configured %v", configured), func(t *testing.T) {
			t.Parallel()
			e := newSecEnv(t, func(c *app.Config) {
				if configured {
					c.MetricsToken = token
				}
			})
			for _, tc := range []struct {
				who  string
				hdr  []string
				want int
			}{
				{"anonymous", nil, http.StatusUnauthorized},
				{"wrong password", []string{"Basic", "admin:wrong"}, http.StatusUnauthorized},
				{"wrong token", []string{"Authorization", "Bearer wrong-token-0123456789"}, http.StatusUnauthorized},
				{"empty token", []string{"Authorization", "Bearer "}, http.StatusUnauthorized},
				{"user", []string{"Basic", "alice:alice-pw"}, http.StatusForbidden},
				{"admin", []string{"Basic", "admin:admin-pw"}, http.StatusOK},
				{"token", []string{"Authorization", "Bearer " + token}, map[bool]int{true: http.StatusOK, false: http.StatusUnauthorized}[configured]},
			} {
				code, body, res := e.do(http.MethodGet, "/metrics", "", tc.hdr...)
				if code != tc.want {
					t.Errorf("%s: %d, want %d", tc.who, code, tc.want)
				}
				if shown := strings.Contains(body, "recordings_uploads_in_progress"); shown != (code == http.StatusOK) {
					t.Errorf("%s: answered %d, metrics shown %v", tc.who, code, shown)
				}
				if code == http.StatusUnauthorized && res.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s: 401 without a challenge", tc.who)
				}
			}
		})
	}
}

// TestUploadTakesNoCookie: the admin's session cookie does not stand
// in for the phones' upload credentials (also not from the app's own
// origin); the upload with the credentials works.
func TestUploadTakesNoCookie(t *testing.T) {
	t.Parallel()
	e := newSecEnv(t)
	admin := e.app.SessionCookie("admin", "admin-pw")
	name := fmt.Sprintf("%032x-0090334455aa-1-alice.pcap", 9)
	capture := callgen.Default(50).Bytes()
	code, _, _ := e.do(http.MethodPut, "/example.com/recordings/Files/"+name, string(capture),
		"Cookie", admin.Name+"="+admin.Value, "Sec-Fetch-Site", "same-origin")
	if code != http.StatusUnauthorized {
		t.Fatalf("upload with the admin's cookie: %d, want 401", code)
	}
	if _, err := e.app.DB.RecordingByName(e.app.Ctx, "example.com", name); err == nil {
		t.Fatal("the upload with a cookie was stored")
	}
	code, _, _ = e.do(http.MethodPut, "/example.com/recordings/Files/"+name, string(bytes.Clone(capture)),
		"Basic", secPhone+":"+secPhonePW)
	if code != http.StatusCreated {
		t.Fatalf("upload with the credentials: %d", code)
	}
}
