package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"recordings/store"
)

// TestBrowserAttacks runs the browser-side attacks in Chromium against the
// real service: a page of another origin signs the browser in to an
// account (login CSRF) or signs it out; a link's ?next= sends the person
// to another site after sign-in (open redirect). The browser must send what
// the service relies on (Origin, Sec-Fetch-Site), and the service refuse.
func TestBrowserAttacks(t *testing.T) {
	b := newBrowser(t)
	e := startEnv(t)
	e.createUser("alice", "Alice Anders", store.RoleUser)
	// The attacker's site: another origin (another port of the same host,
	// so even same-site).
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var form string
		switch r.URL.Path {
		case "/login":
			// A JSON body from a form: text/plain sends name=value.
			form = fmt.Sprintf(`<form method="POST" action="%s/api/login" enctype="text/plain">`+
				`<input name='{"name":"alice","password":"%s","x":"' value='"}'></form>`, e.url, password)
		case "/logout":
			form = fmt.Sprintf(`<form method="POST" action="%s/api/logout"></form>`, e.url)
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Win a prize</title>%s<script>document.forms[0].submit()</script>`, form)
	}))
	t.Cleanup(evil.Close)
	b.ready("")
	alice, err := e.db.User(e.ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	signedIn := func(b *tab) bool {
		b.navigate(e.url + "/api/session")
		return eval[bool](b, `JSON.parse(document.body.innerText).signed_in`)
	}

	t.Run("login CSRF", func(t *testing.T) {
		b := b.on(t)
		b.navigate(evil.URL + "/login")
		b.waitFor("the service's answer", `location.href === `+jsString(e.url+"/api/login")+` && document.body.innerText.includes('cross-origin request refused')`)
		if n, err := e.db.DeleteUserSessions(e.ctx, alice.ID); err != nil || n != 0 {
			t.Fatalf("the attack created %d sessions (%v)", n, err)
		}
		if signedIn(b) {
			t.Fatal("the browser is signed in")
		}
	})

	t.Run("open redirect after sign-in", func(t *testing.T) {
		b := b.on(t)
		want := "/127.0.0.1/recordings/innovaphone-recordings.htm"
		for i, next := range []string{
			"/%5Cevil.example/recordings/innovaphone-recordings.htm",
			"/%09/recordings/innovaphone-recordings.htm",
			"//evil.example/recordings/innovaphone-recordings.htm",
			"/%255Cevil.example/recordings/innovaphone-recordings.htm",
		} {
			b.navigate(e.url + "/?next=" + next)
			if i == 0 { // signed in from then on: the page goes on by itself
				b.waitFor("the sign-in form", `!document.getElementById('signin').hidden`)
				b.typeText("#name", "alice")
				b.typeText("#password", password)
				b.click("#signin button[type=submit]")
			}
			b.waitFor("the app on this site after ?next="+next,
				`location.origin === `+jsString(e.url)+` && location.pathname === `+jsString(want))
		}
		// A page of the service itself is honoured.
		b.navigate(e.url + "/?next=/example.com/recordings/innovaphone-recordings.htm")
		b.waitFor("the app of ?next=", `location.pathname === '/example.com/recordings/innovaphone-recordings.htm'`)
		b.checkClean()
	})

	t.Run("sign-out CSRF", func(t *testing.T) {
		b := b.on(t)
		if !signedIn(b) {
			t.Fatal("not signed in before the attack")
		}
		b.navigate(evil.URL + "/logout")
		b.waitFor("the service's answer", `location.href === `+jsString(e.url+"/api/logout")+` && document.body.innerText.includes('cross-origin request refused')`)
		if !signedIn(b) {
			t.Fatal("a page of another origin signed the browser out")
		}
	})
}

// jsString quotes s (ASCII) as a JavaScript string literal.
func jsString(s string) string { return strconv.Quote(s) }
