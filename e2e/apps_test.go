package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"recordings/store"
)

// listLoaded holds when the recordings list is not loading.
const listLoaded = `document.querySelector('table.recordings').getAttribute('aria-busy') === null`

// xssName is a CDR name that must show as the characters it is.
const xssName = `<img src=x onerror=alert(1)>`

func ids(v ...int64) []string {
	out := make([]string, len(v))
	for i, n := range v {
		out[i] = strconv.FormatInt(n, 10)
	}
	return out
}

// TestApps drives the user and the admin app in Chromium against the real
// service: sign-in, list, filter, play, seek, download, protect, refused and
// done delete, live arrival, logs, settings, users.
func TestApps(t *testing.T) {
	shots := artifacts(t)
	downloads := t.TempDir()
	b := newBrowser(t)
	e := startEnv(t)
	a1, a2, a3, b1 := e.appsFixture()
	logs := []store.LogEntry{
		{Time: time.Now().Add(-3 * time.Minute), Level: "INFO", Category: "UI", User: "alice", Message: "alice listened to a call"},
		{Time: time.Now().Add(-2 * time.Minute), Level: "INFO", Category: "UI", User: "bob", Message: "bob's private entry"},
		{Time: time.Now().Add(-time.Minute), Level: "ERROR", Category: "Converting", Message: "capture could not be converted"},
	}
	if err := e.db.AddLogs(e.ctx, logs); err != nil {
		t.Fatalf("add logs: %v", err)
	}

	b.ready(downloads)

	// ---- sign-in ----
	b.do("wrong password",
		chromedp.Navigate(e.srv.URL+"/"),
		chromedp.WaitVisible("#name"),
		chromedp.SendKeys("#name", "alice"),
		chromedp.SendKeys("#password", "not the password"),
		chromedp.KeyEvent(kb.Enter))
	b.waitFor("the refusal", `document.getElementById('signin-msg').textContent === 'wrong user name or password'`)
	if p := eval[string](b, `location.pathname`); p != "/" {
		t.Errorf("a wrong password led to %s", p)
	}
	b.screenshot(shots, "signin-refused")

	// ---- the user app ----
	b.signIn(e.srv.URL, "alice")
	if p := eval[string](b, `location.pathname`); p != "/"+e.domain+"/recordings/innovaphone-recordings.htm" &&
		!strings.HasSuffix(p, "/recordings/innovaphone-recordings.htm") {
		t.Fatalf("user landed on %s", p)
	}
	if got, want := b.rowIDs(), ids(a3, a2, a1); !slices.Equal(got, want) {
		t.Fatalf("user's list: rows %v, want %v (own recordings, newest first)", got, want)
	}
	b.screenshot(shots, "user-list")

	t.Run("names are text", func(t *testing.T) {
		b := b.on(t)
		got := eval[string](b, `document.querySelector('`+rowSel(a1)+` .peer-name').textContent`)
		if got != xssName {
			t.Errorf("peer name shows %q, want %q", got, xssName)
		}
		if n := eval[int](b, `document.querySelectorAll('main img').length`); n != 0 {
			t.Errorf("%d img elements in the page: data was rendered as markup", n)
		}
	})

	t.Run("filter", func(t *testing.T) {
		b := b.on(t)
		filter := func(q, from, to string) {
			b.do("filter",
				chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
					const f = document.querySelector('#panel-recordings form.filters');
					f.elements.q.value = %q; f.elements.from.value = %q; f.elements.to.value = %q;
				})()`, q, from, to)),
				chromedp.Click(`#panel-recordings form.filters button[type=submit]`),
			)
			b.waitFor("the list to load", listLoaded)
		}
		waitRows := func(what string, want []string) {
			t.Helper()
			deadline := time.Now().Add(10 * time.Second)
			for {
				got := b.rowIDs()
				if slices.Equal(got, want) {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: rows %v, want %v", what, got, want)
				}
				time.Sleep(25 * time.Millisecond)
			}
		}
		filter("BUILDER", "", "")
		waitRows("name filter", ids(a3, a2))
		today := eval[string](b, `new Date().toLocaleDateString('en-CA')`)
		tomorrow := eval[string](b, `new Date(Date.now() + 864e5).toLocaleDateString('en-CA')`)
		filter("", tomorrow, "")
		waitRows("from tomorrow", nil)
		b.waitFor("the empty-list note", `!document.querySelector('#panel-recordings .empty').hidden`)
		filter("", today, today)
		waitRows("today", ids(a3, a2, a1))
		b.do("clear", chromedp.Click(`#panel-recordings form.filters button[type=button]`))
		b.waitFor("the list to load", listLoaded)
		waitRows("cleared", ids(a3, a2, a1))
	})

	t.Run("play and seek", func(t *testing.T) {
		b := b.on(t)
		b.do("play", chromedp.Click(rowSel(a1)+` .play-btn`))
		b.waitFor("playback", `(() => { const a = document.querySelector('audio'); return !a.paused && a.currentTime > 0.2; })()`)
		t1 := eval[float64](b, `document.querySelector('audio').currentTime`)
		b.waitFor("time to advance", fmt.Sprintf(`document.querySelector('audio').currentTime > %f`, t1+0.2))
		if d := eval[float64](b, `document.querySelector('audio').duration`); d < 7.9 || d > 8.1 {
			t.Errorf("audio duration %.2f s, want 8", d)
		}
		b.screenshot(shots, "user-playing")
		// Click at three quarters of the waveform: 6 s of 8.
		x := eval[float64](b, `(() => { const r = document.querySelector('canvas.wave').getBoundingClientRect(); return r.left + r.width * 0.75; })()`)
		y := eval[float64](b, `(() => { const r = document.querySelector('canvas.wave').getBoundingClientRect(); return r.top + r.height / 2; })()`)
		b.do("seek", chromedp.MouseClickXY(x, y))
		b.waitFor("the seek", `document.querySelector('audio').currentTime >= 5.8`)
		if ct := eval[float64](b, `document.querySelector('audio').currentTime`); ct > 7.5 {
			t.Errorf("after seeking to 6 s, currentTime is %.2f", ct)
		}
		text := eval[string](b, `document.querySelector('.player .time').textContent`)
		if !strings.HasSuffix(text, "/ 0:08") || !strings.HasPrefix(text, "0:0") {
			t.Errorf("time display %q, want 0:0x / 0:08", text)
		}
		// Keyboard: Home goes back to the start.
		b.do("seek with the keyboard", chromedp.Focus(`canvas.wave`), chromedp.KeyEvent(kb.Home))
		b.waitFor("seek to start", `document.querySelector('audio').currentTime < 2`)
	})

	t.Run("download", func(t *testing.T) {
		b := b.on(t)
		want := e.wav("alice", a1)
		b.do("download", chromedp.Click(rowSel(a1)+` a[download]`))
		deadline := time.Now().Add(15 * time.Second)
		for {
			files, _ := filepath.Glob(filepath.Join(downloads, "*.wav"))
			if len(files) == 1 {
				got, err := os.ReadFile(files[0])
				if err == nil && len(got) == len(want) {
					if !bytes.Equal(got, want) {
						t.Fatalf("downloaded %s differs from the server's WAV", files[0])
					}
					if !strings.Contains(filepath.Base(files[0]), "alice") {
						t.Errorf("download name %q does not name the owner", filepath.Base(files[0]))
					}
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("no complete download in %s (have %v)", downloads, files)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	t.Run("protect and delete", func(t *testing.T) {
		b := b.on(t)
		btn := func(id int64, cls string) string { return rowSel(id) + " ." + cls }
		b.do("protect", chromedp.Click(btn(a2, "protect-btn")))
		b.waitFor("protected row", `document.querySelector('`+btn(a2, "protect-btn")+`').textContent === 'Unprotect'`)
		if rec, err := e.db.Recording(e.ctx, a2); err != nil || !rec.Protected {
			t.Fatalf("after Protect the store says protected=%v (%v)", rec.Protected, err)
		}
		// Deleting a protected recording is refused with a clear message.
		b.do("delete protected", chromedp.Click(btn(a2, "delete-btn")), chromedp.WaitVisible(`#panel-recordings dialog[open]`),
			chromedp.Click(`#panel-recordings dialog button[value=delete]`))
		b.waitFor("refusal", `document.querySelector('#panel-recordings .status').textContent.startsWith('Not deleted: recording is protected')`)
		if role := eval[string](b, `document.querySelector('#panel-recordings .status').getAttribute('role')`); role != "alert" {
			t.Errorf("refusal shown with role %q, want alert", role)
		}
		if e.gone(a2) || !slices.Contains(b.rowIDs(), strconv.FormatInt(a2, 10)) {
			t.Fatal("protected recording was deleted")
		}
		b.screenshot(shots, "user-refused-delete")
		// Cancel keeps it; unprotect and confirm deletes it.
		b.do("cancel delete", chromedp.Click(btn(a3, "delete-btn")), chromedp.WaitVisible(`#panel-recordings dialog[open]`),
			chromedp.Click(`#panel-recordings dialog button[value=cancel]`))
		b.do("unprotect", chromedp.Click(btn(a2, "protect-btn")))
		b.waitFor("unprotected row", `document.querySelector('`+btn(a2, "protect-btn")+`').textContent === 'Protect'`)
		b.do("delete", chromedp.Click(btn(a2, "delete-btn")), chromedp.WaitVisible(`#panel-recordings dialog[open]`),
			chromedp.Click(`#panel-recordings dialog button[value=delete]`))
		b.waitFor("row to go", `document.querySelector('`+rowSel(a2)+`') === null`)
		if !e.gone(a2) {
			t.Error("deleted recording is still in the store")
		}
		if e.gone(a3) {
			t.Error("cancelled delete removed the recording")
		}
	})

	t.Run("live arrival", func(t *testing.T) {
		b := b.on(t)
		other := e.upload("bob", callCapture(fixtureStart(), time.Second, 300, 600))
		fresh := e.upload("alice", callCapture(fixtureStart(), 2*time.Second, 450, 550))
		b.waitFor("the new recording", `document.querySelector('`+rowSel(fresh)+`') !== null`)
		b.waitFor("its analysis", `document.querySelector('`+rowSel(fresh)+` .state').textContent === 'ready'`)
		if got := b.rowIDs(); len(got) == 0 || got[0] != strconv.FormatInt(fresh, 10) {
			t.Errorf("new recording not on top: rows %v", got)
		}
		if slices.Contains(b.rowIDs(), strconv.FormatInt(other, 10)) {
			t.Error("another user's recording arrived in alice's list")
		}
	})

	t.Run("user log", func(t *testing.T) {
		b := b.on(t)
		b.do("log tab", chromedp.Click(`#tab-log`))
		b.waitFor("log rows", `document.querySelectorAll('table.log tbody tr').length > 0`)
		text := eval[string](b, `document.querySelector('table.log tbody').textContent`)
		if !strings.Contains(text, "alice listened to a call") {
			t.Errorf("alice's log lacks her entry: %q", text)
		}
		if strings.Contains(text, "bob's private entry") || strings.Contains(text, "could not be converted") {
			t.Errorf("alice's log shows others' entries: %q", text)
		}
		b.screenshot(shots, "user-log")
	})

	t.Run("admin app refused to users", func(t *testing.T) {
		b := b.on(t)
		b.do("open admin app", chromedp.Navigate(e.srv.URL+"/"+e.domain+"/recordings/innovaphone-recordingsadmin.htm"))
		b.waitFor("refusal", `document.querySelector('main h2')?.textContent === 'Administrators only'`)
		if n := eval[int](b, `document.querySelectorAll('#tab-settings').length`); n != 0 {
			t.Error("a user sees the admin tabs")
		}
	})

	b.do("sign out", chromedp.Click(`#signout`), chromedp.WaitVisible(`#name`))

	// Enough of bob's recordings for the admin's list to need two pages.
	const extra = 50
	for range extra {
		e.upload("bob", callCapture(fixtureStart(), 100*time.Millisecond, 300, 600))
	}
	total, _, err := e.db.ListRecordings(e.ctx, store.ListFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}

	// ---- the admin app ----
	b.signIn(e.srv.URL, "root")
	if p := eval[string](b, `location.pathname`); !strings.HasSuffix(p, "/recordings/innovaphone-recordingsadmin.htm") {
		t.Fatalf("admin landed on %s", p)
	}
	b.waitFor("the PBX name banner", `!document.getElementById('banner').hidden && document.getElementById('banner').textContent.includes('PBX Name missing')`)
	t.Run("load more", func(t *testing.T) {
		b := b.on(t)
		if n := len(b.rowIDs()); n != 50 {
			t.Fatalf("first page has %d rows, want 50", n)
		}
		b.do("load more", chromedp.Click(`#panel-recordings button.more`))
		b.waitFor("the second page", fmt.Sprintf(`document.querySelectorAll('table.recordings tbody tr').length === %d`, len(total)))
		b.waitFor("no more to load", `document.querySelector('#panel-recordings button.more').hidden`)
		got := b.rowIDs()
		if !slices.Contains(got, strconv.FormatInt(b1, 10)) || !slices.Contains(got, strconv.FormatInt(a1, 10)) {
			t.Errorf("admin's list %v lacks other users' recordings", got)
		}
		for i, rec := range total {
			if got[i] != strconv.FormatInt(rec.ID, 10) {
				t.Fatalf("row %d is %s, want %d (newest first, as the store lists)", i, got[i], rec.ID)
			}
		}
	})
	b.screenshot(shots, "admin-list")

	t.Run("admin log filters", func(t *testing.T) {
		b := b.on(t)
		b.do("log tab", chromedp.Click(`#tab-log`))
		b.waitFor("log rows", `document.querySelectorAll('table.log tbody tr').length >= 3`)
		b.set(`#panel-log select[name=category]`, "Converting")
		b.do("filter by category", chromedp.Click(`#panel-log form.filters button[type=submit]`))
		b.waitFor("filtered log", `[...document.querySelectorAll('table.log tbody tr')].every(r => r.textContent.includes('Converting'))`)
		b.set(`#panel-log select[name=category]`, "")
		b.set(`#panel-log input[name=user]`, "bob")
		b.do("filter by user", chromedp.Click(`#panel-log form.filters button[type=submit]`))
		b.waitFor("bob's entries", `(() => { const t = document.querySelector('table.log tbody').textContent; return t.includes("bob's private entry") && !t.includes('alice listened'); })()`)
		b.set(`#panel-log input[name=user]`, "")
		b.set(`#panel-log select[name=level]`, "error")
		b.do("filter by level", chromedp.Click(`#panel-log form.filters button[type=submit]`))
		b.waitFor("errors only", `(() => { const rows = [...document.querySelectorAll('table.log tbody tr')]; return rows.length >= 1 && rows.every(r => r.querySelector('.level').textContent === 'error'); })()`)
		b.screenshot(shots, "admin-log")
	})

	t.Run("settings", func(t *testing.T) {
		b := b.on(t)
		b.do("settings tab", chromedp.Click(`#tab-settings`), chromedp.WaitVisible(`#panel-settings input[name=retention_days]`))
		set := func(retention, pbx string) {
			b.set(`#panel-settings input[name=retention_days]`, retention)
			b.set(`#panel-settings input[name=pbx_name]`, pbx)
			b.set(`#panel-settings select[name="trace-Converting"]`, "debug")
			b.do("save settings", chromedp.Click(`#panel-settings form button[type=submit]`))
		}
		set("20000", "pbx-1")
		b.waitFor("the field error", `document.querySelector('#panel-settings .field-error').textContent.includes('11000')`)
		if m, err := e.db.Settings(e.ctx); err != nil || m["retention_days"] != "" || m["pbx_name"] != "" {
			t.Fatalf("an invalid form was stored: %v %v", m, err)
		}
		b.screenshot(shots, "admin-settings-invalid")
		set("30", "pbx-1")
		b.waitFor("saved", `document.querySelector('#panel-settings .status').textContent === 'Settings saved.'`)
		b.waitFor("the banner to go", `document.getElementById('banner').hidden`)
		m, err := e.db.Settings(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for k, want := range map[string]string{"retention_days": "30", "pbx_name": "pbx-1", "trace.Converting": "debug", "trace.UI": "info"} {
			if m[k] != want {
				t.Errorf("setting %s = %q, want %q", k, m[k], want)
			}
		}
		b.screenshot(shots, "admin-settings")
	})

	t.Run("users", func(t *testing.T) {
		b := b.on(t)
		b.do("users tab", chromedp.Click(`#tab-users`))
		b.waitFor("user rows", `document.querySelectorAll('table.users tbody tr').length === 3`)
		b.set(`#panel-users input[name=name]`, "carol")
		b.set(`#panel-users input[name=display_name]`, "Carol <b>C</b>")
		b.set(`#panel-users input[name=e164]`, "+4970311999")
		b.set(`#panel-users input[name=password]`, "secret-pass-1")
		b.do("add a user", chromedp.Click(`#panel-users form button[type=submit]`))
		b.waitFor("carol in the list", `document.querySelector('table.users tbody').textContent.includes('Carol <b>C</b>')`)
		if _, err := e.db.Authenticate(e.ctx, "carol", "secret-pass-1"); err != nil {
			t.Errorf("the new user cannot sign in: %v", err)
		}
		b.screenshot(shots, "admin-users")
	})

	t.Run("phone screen", func(t *testing.T) {
		b := b.on(t)
		b.do("phone viewport", chromedp.EmulateViewport(390, 844), chromedp.Click(`#tab-recordings`))
		b.waitFor("rows", `document.querySelectorAll('table.recordings tbody tr').length > 0`)
		if w := eval[float64](b, `document.documentElement.scrollWidth`); w > 400 {
			t.Errorf("page is %.0f px wide on a 390 px screen", w)
		}
		b.screenshot(shots, "admin-phone")
	})

	t.Run("session end", func(t *testing.T) {
		b := b.on(t)
		b.do("desktop viewport", chromedp.EmulateViewport(1280, 900))
		root, err := e.db.User(e.ctx, "root")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.db.DeleteUserSessions(e.ctx, root.ID); err != nil {
			t.Fatal(err)
		}
		b.do("a request after the session ended", chromedp.Click(`#panel-recordings form.filters button[type=submit]`))
		b.waitFor("the sign-in page", `location.pathname === '/' && document.getElementById('name') !== null && !document.getElementById('signin').hidden`)
		if next := eval[string](b, `new URLSearchParams(location.search).get('next')`); !strings.HasSuffix(next, "innovaphone-recordingsadmin.htm") {
			t.Errorf("sign-in page would return to %q", next)
		}
	})

	b.checkClean()
}
