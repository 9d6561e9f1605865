package e2e

import (
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"recordings/internal/app"
	"recordings/pbx"
	"recordings/store"
)

// The admin app as an office's administrator meets it (issue 16): the
// call list with owners, settings and trace levels in the menu in the
// upper right corner, each setting saved on its own, every setting that
// deletes recordings saying how many and asking first, user management
// (edit, password only for local users, delete with the count), the audit
// trail with its filters and errors beside the field, the technical log,
// German and the dark scheme; every page state photographed at desktop and
// phone width and checked with axe-core. TestAdminApp runs it in Chromium,
// TestAdminAppFirefox in Firefox.

// adminRun is one browser's run of the admin app.
type adminRun struct {
	e     *env
	shots string
	c     userCalls
	name  string
}

// openAdminPage opens a page of the admin menu (settings, trace).
func openAdminPage(d driver, page string) {
	d.test().Helper()
	if evalAs[bool](d, `document.getElementById('admin-menu')?.hidden !== false`) {
		d.click(`#admin-menu-btn`)
	}
	d.waitFor("the admin menu", `document.getElementById('admin-menu')?.hidden === false`)
	d.click(`#admin-menu .menu-` + page)
	d.waitFor("the page "+page, `document.getElementById('panel-`+page+`')?.hidden === false`)
}

// state saves screenshots of the page at desktop and phone width and runs
// axe-core at both; again (may be nil) restores what a resize undid.
func (r adminRun) state(d driver, name string, again func()) {
	t := d.test()
	t.Helper()
	for _, size := range []struct {
		w, h int
		tag  string
	}{{deskW, deskH, "desktop"}, {phoneW, phoneH, "phone"}} {
		d.setViewport(size.w, size.h)
		if again != nil {
			again()
		}
		d.viewShot(r.shots, "adminapp-"+name+"-"+size.tag)
		checkAxe(d, name+" "+size.tag)
		if w := evalAs[float64](d, `document.documentElement.scrollWidth`); w > float64(size.w)+2 {
			t.Errorf("%s %s: page is %.0f px wide on a %d px screen", name, size.tag, w, size.w)
		}
	}
	d.setViewport(deskW, deskH)
	if again != nil {
		again()
	}
}

// dialogText is the open dialog's text in a panel.
func dialogText(d driver, panel string) string {
	return evalAs[string](d, `document.querySelector('#panel-`+panel+` dialog[open]')?.textContent ?? ''`)
}

var countRE = regexp.MustCompile(`(\d+) recordings?`)

func (r adminRun) run(t *testing.T, b driver, advance func(time.Duration)) {
	e, c := r.e, r.c
	e.createUser("boss", "Bea Boss", store.RoleAdmin)
	if _, err := e.db.PutPBXUsers(e.ctx, 1, []pbx.PbxUser{{GUID: "g-pia", H323: "pia", DN: "Pia PBX",
		MACs: []string{"009033aabb10"}, HasDevices: true}}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.AddAudit(e.ctx,
		store.AuditEntry{Action: store.AuditListened, RecordingID: c.garcia, Owner: "ute", PeerName: "José García", By: "ute", ByName: "Ute Uhl"},
		store.AuditEntry{Action: store.AuditDownloaded, RecordingID: c.zoe, Owner: "ute", PeerName: "Zoë Müller", By: "vera", ByName: "Vera Vogt"},
		store.AuditEntry{Action: store.AuditProtected, RecordingID: c.zoe, Owner: "ute", PeerName: "Zoë Müller", By: "ute", ByName: "Ute Uhl"},
	); err != nil {
		t.Fatal(err)
	}
	// The calls are ten days old from here on: a shorter retention would
	// delete them.
	advance(10 * 24 * time.Hour)
	adminURL := e.url + "/" + e.domain + "/recordings/innovaphone-recordingsadmin.htm"
	b.setViewport(deskW, deskH)
	signIn(b, e.url, "boss")
	b.navigate(adminURL + "?lang=en")
	b.waitFor("the admin list", `document.querySelectorAll('table.recordings tbody tr').length > 0 && document.querySelector('#admin-menu-btn') !== null`)

	t.Run("recordings with owners", func(t *testing.T) {
		b := b.sub(t)
		owners := evalAs[string](b, `[...document.querySelectorAll('table.recordings td.c-owner')].map((td) => td.textContent).join(' ')`)
		if !strings.Contains(owners, "ute") || !strings.Contains(owners, "vera") {
			t.Errorf("owner cells %q, want ute's and vera's calls", owners[:min(len(owners), 200)])
		}
		// Settings are not tabs: they are in the menu.
		if n := evalAs[int](b, `document.querySelectorAll('#tab-settings, #tab-trace').length`); n != 0 {
			t.Errorf("%d settings tabs, want them in the menu only", n)
		}
		r.state(b, "recordings", nil)
	})

	t.Run("menu", func(t *testing.T) {
		b := b.sub(t)
		open := func() {
			if evalAs[bool](b, `document.getElementById('admin-menu')?.hidden !== false`) {
				b.click(`#admin-menu-btn`)
			}
		}
		open()
		b.waitFor("the menu", `document.getElementById('admin-menu').hidden === false`)
		items := evalAs[[]string](b, `[...document.querySelectorAll('#admin-menu [role=menuitem]')].map((e) => e.textContent)`)
		if strings.Join(items, "|") != "Settings|Trace levels" {
			t.Errorf("menu items %q, want Settings and Trace levels", items)
		}
		if !evalAs[bool](b, `document.activeElement === document.querySelector('#admin-menu .menu-settings')`) {
			t.Error("the focus is not on the menu's first item")
		}
		// Upper right: the button's right edge near the window's.
		if x := evalAs[float64](b, `innerWidth - document.getElementById('admin-menu-btn').getBoundingClientRect().right`); x > 40 {
			t.Errorf("the menu button is %.0f px from the right edge", x)
		}
		r.state(b, "menu", func() { b.press(keyEscape); open() })
		b.press(keyEscape)
		b.waitFor("the focus back on the button", `document.getElementById('admin-menu').hidden && document.activeElement?.id === 'admin-menu-btn'`)
	})

	t.Run("settings save on their own; retention asks with the count", func(t *testing.T) {
		b := b.sub(t)
		openAdminPage(b, "settings")
		b.waitFor("the focus on the page's heading", `document.activeElement?.id === 'settings-title'`)
		const retention = `#panel-settings input[name=retention_days]`
		b.waitFor("the loaded settings", `document.querySelector('#panel-settings input[name=pbx_name]') !== null`)
		r.state(b, "settings", nil)
		b.typeText(`#panel-settings input[name=pbx_name]`, "pbx-a")
		b.click(`#panel-settings form.pbx-name-form button[type=submit]`)
		b.waitFor("the PBX name saved", `document.querySelector('#panel-settings .pbx-name-form .saved').textContent === 'Saved.'`)
		if m, err := e.db.Settings(e.ctx); err != nil || m["pbx_name"] != "pbx-a" || m["retention_days"] != "" {
			t.Fatalf("after saving the PBX name alone: %v %v", m, err)
		}
		// A bad value: the error beside the field, nothing stored.
		b.typeText(retention, "20000")
		b.click(`#panel-settings form.retention-form button[type=submit]`)
		b.waitFor("the field error", `document.querySelector('#panel-settings .retention-form .field-error').textContent.includes('11000') && document.activeElement === document.querySelector('`+retention+`')`)
		if got := evalAs[string](b, `document.querySelector('`+retention+`').getAttribute('aria-invalid')`); got != "true" {
			t.Errorf("the field's aria-invalid is %q", got)
		}
		r.state(b, "settings-invalid", nil)
		// Five days: the ten-day-old calls would go. The question names the count.
		b.typeText(retention, "5")
		b.click(`#panel-settings form.retention-form button[type=submit]`)
		b.waitFor("the question", `document.querySelector('#panel-settings dialog[open]') !== null`)
		text := dialogText(b, "settings")
		m := countRE.FindStringSubmatch(text)
		want := bulkCalls + 8 // every call of ute and vera; none is protected
		if m == nil || m[1] != strconv.Itoa(want) {
			t.Errorf("the question %q, want it to name %d recordings", text, want)
		}
		r.state(b, "retention-confirm", nil)
		b.click(`#panel-settings dialog[open] button[value=cancel]`)
		b.waitFor("the dialog closed", `document.querySelector('#panel-settings dialog[open]') === null`)
		if s, err := e.db.Settings(e.ctx); err != nil || s["retention_days"] != "" {
			t.Fatalf("retention stored although cancelled: %v %v", s, err)
		}
		if n := len(rowsOf(t, e, "ute")); n != bulkCalls+7 {
			t.Fatalf("ute has %d recordings after cancelling, want %d", n, bulkCalls+7)
		}
		// Keeping for 30 days deletes nothing: saved without a question.
		b.typeText(retention, "30")
		b.click(`#panel-settings form.retention-form button[type=submit]`)
		b.waitFor("retention saved", `document.querySelector('#panel-settings .retention-form .saved').textContent === 'Saved.'`)
		if s, err := e.db.Settings(e.ctx); err != nil || s["retention_days"] != "30" || s["pbx_name"] != "pbx-a" {
			t.Fatalf("settings after saving retention: %v %v", s, err)
		}
	})

	t.Run("trace levels", func(t *testing.T) {
		b := b.sub(t)
		openAdminPage(b, "trace")
		b.waitFor("the levels", `document.querySelector('#panel-trace select[name="trace-Converting"]') !== null`)
		labels := evalAs[string](b, `[...document.querySelectorAll('#panel-trace label')].map((l) => l.textContent).join('|')`)
		if labels != "Recording|Call information|Converting|Licences|User interface" {
			t.Errorf("trace categories %q, want plain words", labels)
		}
		b.set(`#panel-trace select[name="trace-Converting"]`, "debug")
		b.waitFor("saved", `document.querySelector('#panel-trace [data-category="Converting"] .saved').textContent === 'Saved.'`)
		if s, err := e.db.Settings(e.ctx); err != nil || s["trace.Converting"] != "debug" || s["retention_days"] != "30" {
			t.Fatalf("settings after a trace level: %v %v", s, err)
		}
		r.state(b, "trace", nil)
	})

	t.Run("users: edit, PBX users, licences, delete with the count", func(t *testing.T) {
		b := b.sub(t)
		b.click(`#tab-users`)
		ute := `#panel-users tr[data-name="ute"]`
		pia := `#panel-users tr[data-name="pia"]`
		b.waitFor("the rows", `document.querySelector('`+ute+` .edit-btn') !== null && document.querySelector('`+pia+`') !== null`)
		if n := evalAs[int](b, `document.querySelectorAll('`+pia+` .reset-pw-btn').length`); n != 0 {
			t.Error("a user from the PBX has a password button")
		}
		if n := evalAs[int](b, `document.querySelectorAll('`+ute+` .reset-pw-btn').length`); n != 1 {
			t.Error("a local user has no password button")
		}
		if !strings.Contains(evalAs[string](b, `document.querySelector('`+pia+` .user-name').textContent`), "PBX") {
			t.Error("the PBX user is not marked as such")
		}
		r.state(b, "users", nil)

		b.click(ute + ` .edit-btn`)
		b.waitFor("the edit dialog", `document.querySelector('#panel-users dialog.user-edit[open]') !== null`)
		b.typeText(`#panel-users dialog.user-edit input[name=edit_display_name]`, "Ute Ulmer")
		b.typeText(`#panel-users dialog.user-edit textarea[name=edit_macs]`, "00:90:33:11:22:33")
		r.state(b, "user-edit", nil)
		b.click(`#panel-users dialog.user-edit button[type=submit]`)
		b.waitFor("the new name", `document.querySelector('#panel-users dialog.user-edit[open]') === null && document.querySelector('`+ute+`')?.textContent.includes('Ute Ulmer')`)
		u, err := e.db.User(e.ctx, "ute")
		if err != nil || u.DisplayName != "Ute Ulmer" || strings.Join(u.MACs, ",") != "009033112233" {
			t.Errorf("ute after editing: %+v %v", u, err)
		}
		// The PBX's user: only the role is editable.
		b.click(pia + ` .edit-btn`)
		b.waitFor("the edit dialog", `document.querySelector('#panel-users dialog.user-edit[open]') !== null`)
		if !evalAs[bool](b, `document.querySelector('#panel-users dialog.user-edit input[name=edit_display_name]').readOnly`) {
			t.Error("a PBX user's display name is editable")
		}
		b.press(keyEscape)
		b.waitFor("closed, focus back", `document.querySelector('#panel-users dialog.user-edit[open]') === null && document.activeElement === document.querySelector('`+pia+` .edit-btn')`)

		// A licence count with nobody licensed: the next start deletes all
		// their recordings; the question says how many.
		b.typeText(`#panel-users input[name=licence_count]`, "1")
		b.click(`#panel-users form.licences button[type=submit]`)
		b.waitFor("the question", `document.querySelector('#panel-users dialog[open]') !== null`)
		if m := countRE.FindStringSubmatch(dialogText(b, "users")); m == nil || m[1] != strconv.Itoa(bulkCalls+8) {
			t.Errorf("the licence question %q, want %d recordings", dialogText(b, "users"), bulkCalls+8)
		}
		r.state(b, "licence-confirm", nil)
		b.click(`#panel-users dialog[open] button[value=save]`)
		b.waitFor("the count saved, the focus back in the field", `document.querySelector('#panel-users .licence-summary').textContent === '1 licence: 0 used, 1 free.' && document.activeElement?.name === 'licence_count'`)

		// Deleting vera: her one recording would go at the next start.
		b.click(`#panel-users tr[data-name="vera"] .delete-btn`)
		b.waitFor("the question", `document.querySelector('#panel-users dialog[open]') !== null`)
		text := dialogText(b, "users")
		if !strings.Contains(text, "1 of them will be deleted") || !strings.Contains(text, "Delete account and 1 recording") {
			t.Errorf("the delete question %q, want the count", text)
		}
		r.state(b, "user-delete-confirm", nil)
		b.click(`#panel-users dialog[open] button[value=delete]`)
		b.waitFor("vera gone", `document.querySelector('#panel-users tr[data-name="vera"]') === null && document.querySelector('#panel-users .status').textContent.includes('vera deleted')`)
		if !evalAs[bool](b, `document.activeElement === document.querySelector('#panel-users .status')`) {
			t.Error("the focus is not on the result after deleting")
		}
	})

	t.Run("audit trail", func(t *testing.T) {
		b := b.sub(t)
		b.click(`#tab-audit`)
		b.waitFor("the entries", `document.querySelectorAll('table.audit tbody tr').length === 3`)
		r.state(b, "audit", nil)
		b.typeText(`#panel-audit input[name=user]`, "vera")
		b.click(`#panel-audit form button[type=submit]`)
		b.waitFor("vera's", `document.querySelectorAll('table.audit tbody tr').length === 1 && document.querySelector('table.audit tbody').textContent.includes('downloaded')`)
		b.typeText(`#panel-audit input[name=user]`, "")
		b.set(`#panel-audit select[name=action]`, "protected")
		b.typeText(`#panel-audit input[name=recording]`, strconv.FormatInt(c.zoe, 10))
		b.click(`#panel-audit form button[type=submit]`)
		b.waitFor("the protection", `document.querySelectorAll('table.audit tbody tr').length === 1 && document.querySelector('table.audit tbody tr').dataset.action === 'protected'`)
		b.typeText(`#panel-audit input[name=recording]`, "abc")
		b.click(`#panel-audit form button[type=submit]`)
		b.waitFor("the error beside the field", `(() => { const f = document.querySelector('#panel-audit input[name=recording]'); const err = document.getElementById(f.getAttribute('aria-describedby')); return err && !err.hidden && err.textContent.includes('42') && document.activeElement === f; })()`)
		r.state(b, "audit-invalid", nil)
	})

	t.Run("technical log", func(t *testing.T) {
		b := b.sub(t)
		b.click(`#tab-log`)
		b.waitFor("the log", `document.querySelector('#panel-log table.log') !== null && document.querySelector('#panel-log table.log').getAttribute('aria-busy') === null`)
		r.state(b, "log", nil)
	})

	t.Run("German and dark", func(t *testing.T) {
		b := b.sub(t)
		b.navigate(adminURL + "?lang=de&scheme=dark")
		b.waitFor("the German app", `document.documentElement.lang === 'de' && document.querySelector('#tab-users')?.textContent === 'Benutzer'`)
		b.click(`#tab-users`)
		b.waitFor("the users", `document.querySelector('#panel-users tr[data-name="ute"] .edit-btn')?.textContent === 'Bearbeiten'`)
		r.state(b, "de-dark-users", nil)
		openAdminPage(b, "settings")
		b.waitFor("German settings", `document.querySelector('#settings-title').textContent === 'Einstellungen'`)
		r.state(b, "de-dark-settings", nil)
		b.click(`#tab-audit`)
		b.waitFor("German audit", `document.querySelector('table.audit tbody')?.textContent.includes('heruntergeladen')`)
		r.state(b, "de-dark-audit", nil)
	})
	b.checkClean()
}

// rowsOf lists owner's recordings as the store has them.
func rowsOf(t *testing.T, e *env, owner string) []store.Recording {
	t.Helper()
	res, _, err := e.db.ListRecordings(e.ctx, store.ListFilter{Owners: []string{owner}, Limit: store.MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// waitIngestStarted waits until the service's ingest has looked for
// uploads a stop left behind (ingest.Run): an upload begun in the store
// before then, still empty, would be removed as one. An analysed upload
// shows that the look is over (the analysers start after it); it is then
// deleted again.
func (e *env) waitIngestStarted() {
	e.t.Helper()
	id := e.upload("ingest-probe", callCapture(fixtureStart(), time.Second, 300, 500))
	e.waitReady(id)
	if err := e.db.DeleteRecording(e.ctx, id); err != nil {
		e.t.Fatalf("delete the probe upload: %v", err)
	}
}

// shiftedClock is the service's clock, moved forward by the test.
func shiftedClock() (option func(*app.Config), advance func(time.Duration)) {
	var offset atomic.Int64
	return func(c *app.Config) {
			c.Tuning.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		}, func(d time.Duration) {
			offset.Add(int64(d))
		}
}

// TestAdminApp runs the admin app in Chromium.
func TestAdminApp(t *testing.T) {
	shots := artifacts(t)
	t.Logf("screenshots in %s", shots)
	b := newBrowser(t)
	clock, advance := shiftedClock()
	e := startEnv(t, clock)
	c := e.userFixture()
	b.ready(t.TempDir())
	adminRun{e: e, shots: shots, c: c, name: "chromium"}.run(t, b, advance)
}

// TestAdminAppFirefox runs the admin app in Firefox.
func TestAdminAppFirefox(t *testing.T) {
	shots := artifacts(t)
	t.Logf("screenshots in %s", shots)
	b := newFirefox(t, t.TempDir())
	clock, advance := shiftedClock()
	e := startEnv(t, clock)
	c := e.userFixture()
	b.ready()
	adminRun{e: e, shots: shots, c: c, name: "firefox"}.run(t, b, advance)
}
