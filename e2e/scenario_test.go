package e2e

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

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

// appsRun is one browser's run of the app scenario: the service with
// appsFixture's recordings, and the folders for screenshots and downloads
// (where the browser saves them).
type appsRun struct {
	e              *env
	shots          string
	downloads      string
	a1, a2, a3, b1 int64
}

// run drives the user and the admin app in one browser with real key
// presses and mouse clicks: sign-in, list, filter, play, seek, download,
// protect, refused and done delete, live arrival, literal names, logs,
// the admin app refused to users, then as the admin: paging, log filters,
// settings, backup, users, a phone-sized screen and the end of the session.
// TestApps (Chromium) and TestFirefox (Firefox) call it.
func (r appsRun) run(t *testing.T, b driver) {
	e := r.e
	logs := []store.LogEntry{
		{Time: time.Now().Add(-3 * time.Minute), Level: "INFO", Category: "UI", User: "alice", Message: "alice listened to a call"},
		{Time: time.Now().Add(-2 * time.Minute), Level: "INFO", Category: "UI", User: "bob", Message: "bob's private entry"},
		{Time: time.Now().Add(-time.Minute), Level: "ERROR", Category: "Converting", Message: "capture could not be converted"},
	}
	if err := e.db.AddLogs(e.ctx, logs); err != nil {
		t.Fatalf("add logs: %v", err)
	}

	// ---- sign-in ----
	b.navigate(e.url + "/")
	b.waitFor("the sign-in form", `!document.getElementById('signin').hidden`)
	b.typeText("#name", "alice")
	b.typeText("#password", "not the password")
	b.press(keyEnter)
	b.waitFor("the refusal", `document.getElementById('signin-msg').textContent === 'wrong user name or password'`)
	if p := evalAs[string](b, `location.pathname`); p != "/" {
		t.Errorf("a wrong password led to %s", p)
	}
	b.screenshot(r.shots, "signin-refused")

	r.userApp(t, b)

	b.click(`#signout`)
	b.waitFor("the sign-in page", `document.getElementById('name') !== null && !document.getElementById('signin').hidden`)

	r.adminApp(t, b)

	b.checkClean()
}

// userApp is alice's part of the scenario.
func (r appsRun) userApp(t *testing.T, b driver) {
	e, a1, a2, a3 := r.e, r.a1, r.a2, r.a3
	signIn(b, e.url, "alice")
	if p := evalAs[string](b, `location.pathname`); !strings.HasSuffix(p, "/recordings/innovaphone-recordings.htm") {
		t.Fatalf("user landed on %s", p)
	}
	if got, want := rowIDs(b), ids(a3, a2, a1); !slices.Equal(got, want) {
		t.Fatalf("user's list: rows %v, want %v (own recordings, newest first)", got, want)
	}
	b.screenshot(r.shots, "user-list")

	t.Run("names are text", func(t *testing.T) {
		b := b.sub(t)
		got := evalAs[string](b, `document.querySelector('`+rowSel(a1)+` .peer-name').textContent`)
		if got != xssName {
			t.Errorf("peer name shows %q, want %q", got, xssName)
		}
		if n := evalAs[int](b, `document.querySelectorAll('main img').length`); n != 0 {
			t.Errorf("%d img elements in the page: data was rendered as markup", n)
		}
	})

	t.Run("filter", func(t *testing.T) {
		b := b.sub(t)
		const (
			field  = `#panel-recordings form.filters input[name=q]`
			clear  = `#panel-recordings form.filters button.clear-filter`
			preset = `#panel-recordings form.filters select[name=preset]`
			empty  = `!document.querySelector('#panel-recordings .empty').hidden`
		)
		// The list follows the typing; Enter applies at once.
		b.typeText(field, "BUILDER")
		waitRows(b, "name filter", ids(a3, a2))
		b.typeText(field, "+4970311")
		b.press(keyEnter)
		waitRows(b, "number filter", ids(a1))
		b.typeText(field, "nobody")
		waitRows(b, "no match", nil)
		b.waitFor("the empty-list note", empty)
		b.click(clear)
		waitRows(b, "cleared", ids(a3, a2, a1))

		// Dates are set by script: in headless Firefox, WebDriver key
		// actions fill only the month part of a date field (focus never
		// moves on to day and year; mozilla/geckodriver#1070 reports the
		// like for send_keys). Typing there is not testable.
		const from, to = `#panel-recordings form.filters input[name=from]`, `#panel-recordings form.filters input[name=to]`
		today := evalAs[string](b, `new Date().toLocaleDateString('en-CA')`)
		tomorrow := evalAs[string](b, `new Date(Date.now() + 864e5).toLocaleDateString('en-CA')`)
		b.set(preset, "range")
		b.set(from, tomorrow)
		waitRows(b, "from tomorrow", nil)
		b.waitFor("the empty-list note", empty)
		b.set(from, today)
		b.set(to, today)
		waitRows(b, "today", ids(a3, a2, a1))
		b.click(clear)
		waitRows(b, "cleared", ids(a3, a2, a1))
		if v := evalAs[string](b, `document.querySelector('`+from+`').value`); v != "" {
			t.Errorf("Clear left the From date %q", v)
		}
	})

	t.Run("play and seek", func(t *testing.T) {
		b := b.sub(t)
		const (
			audio = `document.querySelector('.player audio')`
			wave  = `.player canvas.wave`
		)
		b.click(rowSel(a1) + ` .play-btn`)
		b.waitFor("playback", `!`+audio+`.paused && `+audio+`.currentTime > 0.2`)
		t1 := evalAs[float64](b, audio+`.currentTime`)
		b.waitFor("time to advance", fmt.Sprintf(`%s.currentTime > %f`, audio, t1+0.2))
		if d := evalAs[float64](b, audio+`.duration`); d < 7.9 || d > 8.1 {
			t.Errorf("audio duration %.2f s, want 8", d)
		}
		b.screenshot(r.shots, "user-playing")

		// A click at three quarters of the waveform while playing: 6 s of 8.
		b.clickIn(wave, 0.75, 0.5)
		b.waitFor("the seek", audio+`.currentTime >= 5.8`)
		if ct := evalAs[float64](b, audio+`.currentTime`); ct > 7.5 {
			t.Errorf("after seeking to 6 s, currentTime is %.2f", ct)
		}
		if text := evalAs[string](b, `document.querySelector('.player .time').textContent`); !strings.HasSuffix(text, "/ 0:08") || !strings.HasPrefix(text, "0:0") {
			t.Errorf("time display %q, want 0:0x / 0:08", text)
		}

		// Pause with the player's button, then seek exactly.
		b.click(`.player button.play`)
		b.waitFor("the pause", audio+`.paused`)
		// The button's label follows the pause event, which comes after
		// paused holds.
		b.waitFor("the paused player's button to be labelled Play", `document.querySelector('.player button.play').getAttribute('aria-label') === 'Play'`)
		b.clickIn(wave, 0.25, 0.5)
		near := func(what string, want float64) {
			t.Helper()
			b.waitFor(what, fmt.Sprintf(`Math.abs(%s.currentTime - %f) < 0.1`, audio, want))
		}
		near("the click at a quarter", 2)
		ct := evalAs[float64](b, audio+`.currentTime`)
		text := evalAs[string](b, `document.querySelector('.player .time').textContent`)
		if want := fmt.Sprintf("0:%02d / 0:08", int(ct)); text != want {
			t.Errorf("time display %q at %.2f s, want %q", text, ct, want)
		}
		// The click focused the waveform (a slider): the arrow keys move by
		// 5 s, Home goes to the start.
		if f := evalAs[bool](b, `document.activeElement === document.querySelector('`+wave+`')`); !f {
			t.Fatalf("the waveform has no focus after a click; focus is on %s",
				evalAs[string](b, `document.activeElement ? document.activeElement.outerHTML.slice(0, 80) : 'nothing'`))
		}
		b.press(keyArrowRight)
		near("ArrowRight", 7)
		if v := evalAs[string](b, `document.querySelector('`+wave+`').getAttribute('aria-valuenow')`); v != "7" {
			t.Errorf("slider's aria-valuenow %q at 7 s", v)
		}
		b.press(keyArrowLeft)
		near("ArrowLeft", 2)
		b.press(keyHome)
		near("Home", 0)
		if !evalAs[bool](b, audio+`.paused`) {
			t.Error("seeking while paused started playback")
		}
		b.screenshot(r.shots, "user-seeked")
	})

	t.Run("download", func(t *testing.T) {
		b := b.sub(t)
		want := e.wav("alice", a1)
		// The browser saves the download into r.downloads: the test watches
		// the folder for the complete file.
		openMenu(b, a1)
		b.click(`.popup-menu .mi-download`)
		got := r.waitFile(t, "*.wav", func(got []byte) bool { return len(got) == len(want) })
		if !bytes.Equal(got.data, want) {
			t.Fatalf("downloaded %s differs from the server's WAV", got.path)
		}
		// The page is still the app (the download did not navigate away).
		b.waitFor("the list", `document.querySelector('`+rowSel(a1)+`') !== null`)
	})

	t.Run("protect and delete", func(t *testing.T) {
		b := b.sub(t)
		const confirmOpen = `document.querySelector('#panel-recordings dialog.confirm').open`
		protected := func(id int64) string { return `document.querySelector('` + rowSel(id) + ` .prot-mark') !== null` }
		openMenu(b, a2)
		b.click(`.popup-menu .mi-protect`)
		b.waitFor("protected row", protected(a2))
		if rec, err := e.db.Recording(e.ctx, a2); err != nil || !rec.Protected {
			t.Fatalf("after Protect the store says protected=%v (%v)", rec.Protected, err)
		}
		// Delete is not offered for a protected recording.
		openMenu(b, a2)
		if n := evalAs[int](b, `document.querySelectorAll('.popup-menu .mi-delete').length`); n != 0 {
			t.Error("the menu of a protected recording offers Delete")
		}
		b.screenshot(r.shots, "user-protected-menu")
		b.press(keyEscape)
		b.waitFor("the menu to close", `document.querySelector('.popup-menu').hidden`)
		// Cancel keeps it; unprotect and confirm deletes it.
		openMenu(b, a3)
		b.click(`.popup-menu .mi-delete`)
		b.waitFor("the confirmation", confirmOpen)
		b.click(`#panel-recordings dialog.confirm button[value=cancel]`)
		b.waitFor("the dialog to close", `!`+confirmOpen)
		openMenu(b, a2)
		b.click(`.popup-menu .mi-protect`)
		b.waitFor("unprotected row", `!`+protected(a2))
		openMenu(b, a2)
		b.click(`.popup-menu .mi-delete`)
		b.waitFor("the confirmation", confirmOpen)
		b.click(`#panel-recordings dialog.confirm button[value=delete]`)
		b.waitFor("row to go", `document.querySelector('`+rowSel(a2)+`') === null`)
		if !e.gone(a2) {
			t.Error("deleted recording is still in the store")
		}
		if e.gone(a3) {
			t.Error("cancelled delete removed the recording")
		}
	})

	t.Run("live arrival", func(t *testing.T) {
		b := b.sub(t)
		// A marker on the page: a reload would lose it.
		evalAs[bool](b, `(window.__noReload = true)`)
		other := e.upload("bob", callCapture(fixtureStart(), time.Second, 300, 600))
		fresh := e.upload("alice", callCapture(fixtureStart(), 2*time.Second, 450, 550))
		b.waitFor("the new recording", `document.querySelector('`+rowSel(fresh)+`') !== null`)
		b.waitFor("its analysis", `(() => { const r = document.querySelector('`+rowSel(fresh)+`'); return !r.classList.contains('no-audio') && r.querySelector('.state-receiving') === null; })()`)
		if got := rowIDs(b); len(got) == 0 || got[0] != strconv.FormatInt(fresh, 10) {
			t.Errorf("new recording not on top: rows %v", got)
		}
		if slices.Contains(rowIDs(b), strconv.FormatInt(other, 10)) {
			t.Error("another user's recording arrived in alice's list")
		}
		if !evalAs[bool](b, `window.__noReload === true`) {
			t.Error("the page was reloaded to show the new recording")
		}
	})

	t.Run("user activity", func(t *testing.T) {
		b := b.sub(t)
		b.click(`#tab-activity`)
		b.waitFor("the activity", `document.querySelector('ol.activity') !== null && !document.querySelector('ol.activity').hasAttribute('aria-busy')`)
		// Users see sentences, not the developers' log.
		text := evalAs[string](b, `document.querySelector('#panel-activity').textContent`)
		if strings.Contains(text, "alice listened to a call") || strings.Contains(text, "could not be converted") {
			t.Errorf("alice's activity shows log entries: %q", text)
		}
		b.screenshot(r.shots, "user-activity")
	})

	t.Run("admin app refused to users", func(t *testing.T) {
		b := b.sub(t)
		b.navigate(e.url + "/" + e.domain + "/recordings/innovaphone-recordingsadmin.htm")
		b.waitFor("refusal", `document.querySelector('main h2')?.textContent === 'Administrators only'`)
		if n := evalAs[int](b, `document.querySelectorAll('#tab-settings').length`); n != 0 {
			t.Error("a user sees the admin tabs")
		}
	})
}

// adminApp is root's part of the scenario.
func (r appsRun) adminApp(t *testing.T, b driver) {
	e, a1, b1 := r.e, r.a1, r.b1

	// Enough of bob's recordings for the admin's list to need two pages.
	const extra = 50
	for range extra {
		e.upload("bob", callCapture(fixtureStart(), 100*time.Millisecond, 300, 600))
	}
	total, _, err := e.db.ListRecordings(e.ctx, store.ListFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}

	signIn(b, e.url, "root")
	if p := evalAs[string](b, `location.pathname`); !strings.HasSuffix(p, "/recordings/innovaphone-recordingsadmin.htm") {
		t.Fatalf("admin landed on %s", p)
	}
	b.waitFor("the PBX name banner", `!document.getElementById('banner').hidden && document.getElementById('banner').textContent.includes('PBX Name missing')`)

	t.Run("load more", func(t *testing.T) {
		b := b.sub(t)
		if n := len(rowIDs(b)); n != 50 {
			t.Fatalf("first page has %d rows, want 50", n)
		}
		// Scrolling to the end of the list loads the next page by itself
		// (the "Show more calls" button under it is for keyboards and
		// for browsers without IntersectionObserver).
		evalAs[bool](b, `(() => { document.querySelector('#panel-recordings button.more').scrollIntoView({block: 'center'}); return true })()`)
		b.waitFor("the second page", fmt.Sprintf(`document.querySelectorAll('table.recordings tbody tr').length === %d`, len(total)))
		b.waitFor("no more to load", `document.querySelector('#panel-recordings button.more').hidden`)
		got := rowIDs(b)
		if !slices.Contains(got, strconv.FormatInt(b1, 10)) || !slices.Contains(got, strconv.FormatInt(a1, 10)) {
			t.Errorf("admin's list %v lacks other users' recordings", got)
		}
		for i, rec := range total {
			if got[i] != strconv.FormatInt(rec.ID, 10) {
				t.Fatalf("row %d is %s, want %d (newest first, as the store lists)", i, got[i], rec.ID)
			}
		}
	})
	b.screenshot(r.shots, "admin-list")

	t.Run("admin log filters", func(t *testing.T) {
		b := b.sub(t)
		const submit = `#panel-log form.filters button[type=submit]`
		b.click(`#tab-log`)
		b.waitFor("log rows", `document.querySelectorAll('table.log tbody tr').length >= 3`)
		b.set(`#panel-log select[name=category]`, "Converting")
		b.click(submit)
		b.waitFor("filtered log", `[...document.querySelectorAll('table.log tbody tr')].every(r => r.textContent.includes('Converting'))`)
		// bob's UI entries: his uploads' own entries (Recording, Converting)
		// are many more than a page.
		b.set(`#panel-log select[name=category]`, "UI")
		b.typeText(`#panel-log input[name=user]`, "bob")
		b.click(submit)
		b.waitFor("bob's entries", `(() => { const t = document.querySelector('table.log tbody').textContent; return t.includes("bob's private entry") && !t.includes('alice listened'); })()`)
		b.set(`#panel-log select[name=category]`, "")
		b.typeText(`#panel-log input[name=user]`, "")
		b.set(`#panel-log select[name=level]`, "error")
		b.click(submit)
		b.waitFor("errors only", `(() => { const rows = [...document.querySelectorAll('table.log tbody tr')]; return rows.length >= 1 && rows.every(r => r.querySelector('.level').dataset.level === 'error'); })()`)
		b.screenshot(r.shots, "admin-log")
	})

	t.Run("settings", func(t *testing.T) {
		b := b.sub(t)
		const retention = `#panel-settings input[name=retention_days]`
		openAdminPage(b, "settings")
		b.waitFor("the loaded settings", `document.querySelector('#panel-settings input[name=pbx_name]') !== null && document.getElementById('banner').textContent !== ''`)
		b.typeText(retention, "20000")
		b.click(`#panel-settings form.retention-form button[type=submit]`)
		b.waitFor("the field error", `document.querySelector('#panel-settings .retention-form .field-error').textContent.includes('11000')`)
		if m, err := e.db.Settings(e.ctx); err != nil || m["retention_days"] != "" {
			t.Fatalf("an invalid retention was stored: %v %v", m, err)
		}
		b.screenshot(r.shots, "admin-settings-invalid")
		// Each setting saves on its own: the PBX name without retention.
		b.typeText(`#panel-settings input[name=pbx_name]`, "pbx-1")
		b.click(`#panel-settings form.pbx-name-form button[type=submit]`)
		b.waitFor("the PBX name saved", `document.querySelector('#panel-settings .pbx-name-form .saved').textContent === 'Saved.'`)
		b.waitFor("the banner to go", `document.getElementById('banner').hidden`)
		if m, err := e.db.Settings(e.ctx); err != nil || m["pbx_name"] != "pbx-1" || m["retention_days"] != "" {
			t.Fatalf("after saving the PBX name alone: %v %v", m, err)
		}
		b.typeText(retention, "30")
		b.click(`#panel-settings form.retention-form button[type=submit]`)
		b.waitFor("saved or asked", `document.querySelector('#panel-settings .retention-form .saved').textContent === 'Saved.' || document.querySelector('#panel-settings dialog[open]') !== null`)
		if evalAs[bool](b, `document.querySelector('#panel-settings dialog[open]') !== null`) {
			b.click(`#panel-settings dialog[open] button[value=save]`)
		}
		b.waitFor("retention saved", `document.querySelector('#panel-settings .retention-form .saved').textContent === 'Saved.'`)
		openAdminPage(b, "trace")
		b.waitFor("the trace levels", `document.querySelector('#panel-trace select[name="trace-Converting"]') !== null`)
		b.set(`#panel-trace select[name="trace-Converting"]`, "debug")
		b.waitFor("the level saved", `document.querySelector('#panel-trace [data-category="Converting"] .saved').textContent === 'Saved.'`)
		m, err := e.db.Settings(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for k, want := range map[string]string{"retention_days": "30", "pbx_name": "pbx-1", "trace.Converting": "debug", "trace.UI": ""} {
			if m[k] != want {
				t.Errorf("setting %s = %q, want %q", k, m[k], want)
			}
		}
		openAdminPage(b, "settings")
		b.screenshot(r.shots, "admin-settings")
	})

	t.Run("backup", func(t *testing.T) {
		b := b.sub(t)
		// The page asks the backup status before it starts the download by
		// script; the browser must still save it (no user-activation block).
		b.click(`#panel-settings a.backup-link`)
		b.waitFor("the saved backup", `document.querySelector('#panel-settings .backup-text').textContent.startsWith('Backup saved')`)
		got := r.waitFile(t, "*.db", func(got []byte) bool { return len(got) > 0 && len(got)%512 == 0 })
		if !bytes.HasPrefix(got.data, []byte("SQLite format 3\x00")) {
			t.Fatalf("backup %s is not an SQLite database", got.path)
		}
		b.screenshot(r.shots, "admin-backup")
	})

	t.Run("users", func(t *testing.T) {
		b := b.sub(t)
		b.click(`#tab-users`)
		b.waitFor("user rows", `document.querySelectorAll('table.users tbody tr').length === 4`) // admin (every fresh installation has it), alice, bob, root
		b.typeText(`#panel-users input[name=name]`, "carol")
		b.typeText(`#panel-users input[name=display_name]`, "Carol <b>C</b>")
		b.typeText(`#panel-users input[name=e164]`, "+4970311999")
		b.typeText(`#panel-users input[name=password]`, "secret-pass-1")
		b.click(`#panel-users form.create-user button[type=submit]`)
		b.waitFor("carol in the list", `document.querySelector('table.users tbody').textContent.includes('Carol <b>C</b>')`)
		if _, err := e.db.Authenticate(e.ctx, "carol", "secret-pass-1"); err != nil {
			t.Errorf("the new user cannot sign in: %v", err)
		}
		b.screenshot(r.shots, "admin-users")
	})

	t.Run("phone screen", func(t *testing.T) {
		b := b.sub(t)
		b.setViewport(390, 844)
		if w := evalAs[float64](b, `window.innerWidth`); math.Abs(w-390) > 1 {
			t.Fatalf("viewport is %.0f px wide, want 390", w)
		}
		b.click(`#tab-recordings`)
		b.waitFor("rows", `document.querySelectorAll('table.recordings tbody tr').length > 0`)
		if w := evalAs[float64](b, `document.documentElement.scrollWidth`); w > 400 {
			t.Errorf("page is %.0f px wide on a 390 px screen", w)
		}
		// Still usable: filter by typing and play a recording by tapping.
		b.typeText(`#panel-recordings form.filters input[name=q]`, "Carla")
		waitRows(b, "phone filter", ids(b1))
		b.click(rowSel(b1) + ` .play-btn`)
		b.waitFor("playback", `(() => { const a = document.querySelector('.player audio'); return !a.paused && a.currentTime > 0.1; })()`)
		if w := evalAs[float64](b, `document.documentElement.scrollWidth`); w > 400 {
			t.Errorf("page with the player is %.0f px wide on a 390 px screen", w)
		}
		b.screenshot(r.shots, "admin-phone")
	})

	t.Run("session end", func(t *testing.T) {
		b := b.sub(t)
		b.setViewport(1280, 900)
		root, err := e.db.User(e.ctx, "root")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.db.DeleteUserSessions(e.ctx, root.ID); err != nil {
			t.Fatal(err)
		}
		// A request after the session ended leads to the sign-in page.
		b.set(`#panel-recordings form.filters input[name=q]`, "a")
		b.waitFor("the sign-in page", `location.pathname === '/' && document.getElementById('name') !== null && !document.getElementById('signin').hidden`)
		if next := evalAs[string](b, `new URLSearchParams(location.search).get('next')`); !strings.HasSuffix(next, "innovaphone-recordingsadmin.htm") {
			t.Errorf("sign-in page would return to %q", next)
		}
	})
}

// savedFile is a file a browser saved.
type savedFile struct {
	path string
	data []byte
}

// waitFile waits up to 15 s for the one file in r.downloads that matches
// pattern and whose content is complete.
func (r appsRun) waitFile(t *testing.T, pattern string, complete func([]byte) bool) savedFile {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		files, _ := filepath.Glob(filepath.Join(r.downloads, pattern))
		if len(files) == 1 {
			got, err := os.ReadFile(files[0])
			if err == nil && complete(got) {
				return savedFile{files[0], got}
			}
		}
		if time.Now().After(deadline) {
			all, _ := os.ReadDir(r.downloads)
			t.Fatalf("no complete %s in %s (have %v)", pattern, r.downloads, all)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// openMenu opens the row menu of recording id and waits for it.
func openMenu(d driver, id int64) {
	d.test().Helper()
	d.click(rowSel(id) + ` .menu-btn`)
	d.waitFor("the row menu", `!document.querySelector('.popup-menu').hidden && document.querySelector('`+rowSel(id)+` .menu-btn').getAttribute('aria-expanded') === 'true'`)
}
