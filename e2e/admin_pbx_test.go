package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"recordings/pbx"
	"recordings/store"
)

// TestAdminPBX drives the admin app's PBX screens in Chromium: app objects
// (create, edit the access list, delete), per-user app object, device MACs
// and licence, the licence count and the purge warning; and checks through
// the store and the REST API that every change took effect.
func TestAdminPBX(t *testing.T) {
	shots := artifacts(t)
	b := newBrowser(t)
	e := startEnv(t)
	e.createUser("alice", "Alice Anders", store.RoleUser)
	e.createUser("bob", "Bob Berg", store.RoleUser)
	e.createUser("root", "Administrator", store.RoleAdmin)
	// One recording of bob: unlicensed once a licence count is set.
	e.waitReady(e.upload("bob", callCapture(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), time.Second, 440, 660)))

	b.ready("")
	b.signIn(e.url, "root")
	// No CDR yet, within the grace period: the list says so.
	b.waitFor("the CDR state", `document.querySelector('table.recordings tbody tr .state.cdr-pending')?.textContent === 'waiting for call data'`)
	b.do("app objects tab", chromedp.Click(`#tab-appobjects`))
	b.waitFor("the app objects list", `document.querySelector('#panel-appobjects .empty') && !document.querySelector('#panel-appobjects .empty').hidden`)

	t.Run("create app object", func(t *testing.T) {
		b := b.on(t)
		b.set(`#panel-appobjects input[name=name]`, "team")
		b.set(`#panel-appobjects input[name=display_name]`, "Team A")
		b.set(`#panel-appobjects textarea[name=access]`, "bob\n 201, ,\n")
		b.do("add", chromedp.Click(`#panel-appobjects form.create-appobject button[type=submit]`))
		b.waitFor("team in the list", `document.querySelector('#panel-appobjects tr[data-name="team"]') !== null`)
		o, err := e.db.AppObjectByName(e.ctx, "team")
		if err != nil {
			t.Fatalf("app object not stored: %v", err)
		}
		if !slices.Equal(o.Access, []string{"bob", "201"}) || o.DisplayName != "Team A" || o.Type != store.AppObjectUser {
			t.Errorf("stored %+v, want access [bob 201], display name Team A, type user", o)
		}
	})

	t.Run("edit access list", func(t *testing.T) {
		b := b.on(t)
		row := `#panel-appobjects tr[data-name="team"]`
		b.set(row+` textarea`, "bob, 300")
		b.do("save", chromedp.Click(row+` .save-access-btn`))
		b.waitFor("saved", `document.querySelector('#panel-appobjects .status').textContent.includes('saved')`)
		o, err := e.db.AppObjectByName(e.ctx, "team")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(o.Access, []string{"bob", "300"}) {
			t.Errorf("access list %q, want [bob 300]", o.Access)
		}
	})

	t.Run("hostile name shows literally", func(t *testing.T) {
		b := b.on(t)
		b.set(`#panel-appobjects input[name=name]`, xssName)
		b.do("add", chromedp.Click(`#panel-appobjects form.create-appobject button[type=submit]`))
		b.waitFor("the hostile row", `document.querySelectorAll('#panel-appobjects tbody tr').length === 2`)
		names := eval[[]string](b, `[...document.querySelectorAll('#panel-appobjects td.ao-name')].map(td => td.textContent)`)
		if !slices.Contains(names, xssName) {
			t.Errorf("names shown %q, want %q among them", names, xssName)
		}
		if n := eval[int](b, `document.querySelectorAll('#panel-appobjects img').length`); n != 0 {
			t.Errorf("the name became %d img elements", n)
		}
		b.screenshot(shots, "admin-appobjects")
		b.do("delete", chromedp.Click(`#panel-appobjects tbody tr:not([data-name="team"]) .delete-btn`),
			chromedp.WaitVisible(`#panel-appobjects dialog[open]`),
			chromedp.Click(`#panel-appobjects dialog button[value=delete]`))
		b.waitFor("the row gone", `document.querySelectorAll('#panel-appobjects tbody tr').length === 1`)
		if _, err := e.db.AppObjectByName(e.ctx, xssName); err == nil {
			t.Error("the deleted app object is still stored")
		}
	})

	t.Run("users: app object, devices, licences", func(t *testing.T) {
		b := b.on(t)
		b.do("users tab", chromedp.Click(`#tab-users`))
		alice := `#panel-users tr[data-name="alice"]`
		b.waitFor("the PBX fields", `document.querySelector('#panel-users tr[data-name="alice"] select.appobject-select option[value="team"]') !== null`)
		b.set(alice+` select.appobject-select`, "team")
		b.waitFor("app object set", `document.querySelector('#panel-users .status').textContent.includes('now uses app object team')`)
		b.set(alice+` input.macs-input`, "00:90:33:AA:BB:01, 009033aabb02")
		b.do("save devices", chromedp.Click(alice+` .save-macs-btn`))
		b.waitFor("devices saved", `document.querySelector('#panel-users .status').textContent.includes('Devices of alice saved')`)
		u, err := e.db.User(e.ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if u.AppObject != "team" {
			t.Errorf("alice's app object %q, want team", u.AppObject)
		}
		if !slices.Equal(u.MACs, []string{"009033aabb01", "009033aabb02"}) {
			t.Errorf("alice's MACs %q", u.MACs)
		}

		b.waitFor("licences not enforced", `document.querySelector('#panel-users .licence-summary').textContent.includes('not enforced')`)
		b.set(`#panel-users input[name=licence_count]`, "1")
		// bob's recording would go at the next start: the question says so.
		b.do("save count", chromedp.Click(`#panel-users form.licences button[type=submit]`),
			chromedp.WaitVisible(`#panel-users dialog[open]`))
		if q := eval[string](b, `document.querySelector('#panel-users dialog[open]').textContent`); !strings.Contains(q, "1 recording") {
			t.Errorf("the licence question %q does not name the count", q)
		}
		b.do("confirm", chromedp.Click(`#panel-users dialog[open] button[value=save]`))
		b.waitFor("count shown", `document.querySelector('#panel-users .licence-summary').textContent === '1 licence: 0 used, 1 free.'`)
		b.do("licence alice", chromedp.Click(alice+` input.licence-check`))
		b.waitFor("licence used", `document.querySelector('#panel-users .licence-summary').textContent === '1 licence: 1 used, 0 free.'`)
		b.waitFor("purge warning", `!document.querySelector('#panel-users .purge-warning').hidden && document.querySelector('#panel-users .purge-warning').textContent === '1 recording of unlicensed users will be deleted at the next restart.'`)
		// All licences used: bob's box is refused and stays unticked.
		b.do("licence bob", chromedp.Click(`#panel-users tr[data-name="bob"] input.licence-check`))
		b.waitFor("refusal", `document.querySelector('#panel-users .status').textContent.startsWith('Licence not changed')`)
		if eval[bool](b, `document.querySelector('#panel-users tr[data-name="bob"] input.licence-check').checked`) {
			t.Error("bob's licence box stays ticked after the refusal")
		}
		st, err := e.db.Licences(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Configured || st.Count != 1 || st.Assigned != 1 || st.ToPurge != 1 {
			t.Errorf("licences %+v, want configured, count 1, assigned 1, to purge 1", st)
		}
		if u, err := e.db.User(e.ctx, "alice"); err != nil || !u.Licensed {
			t.Errorf("alice licensed %v (%v)", u.Licensed, err)
		}
		b.screenshot(shots, "admin-users-pbx")
	})

	t.Run("alice's sign-in sees through the app object", func(t *testing.T) {
		req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, e.url+"/api/me", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth("alice", password)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var me struct {
			AppObject string   `json:"app_object"`
			Sees      []string `json:"sees"`
		}
		if err := json.NewDecoder(res.Body).Decode(&me); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("GET /api/me: %s %v", res.Status, err)
		}
		if me.AppObject != "team" || !slices.Contains(me.Sees, "bob") {
			t.Errorf("alice's sign-in: app object %q, sees %q; want team and bob", me.AppObject, me.Sees)
		}
	})

	t.Run("users replicated from the PBX", func(t *testing.T) {
		b := b.on(t)
		if _, err := e.db.PutPBXUsers(e.ctx, 1, []pbx.PbxUser{{GUID: "g-carl", H323: "carl", DN: "Carl Clausen",
			MACs: []string{"009033aabb09"}, HasDevices: true}}); err != nil {
			t.Fatal(err)
		}
		b.do("users tab", chromedp.Click(`#tab-users`))
		b.do("reload", chromedp.Reload())
		carl := `#panel-users tr[data-name="carl"]`
		b.waitFor("carl marked as a PBX user", `document.querySelector('`+carl+` .pbx-badge') !== null`)
		if !eval[bool](b, `document.querySelector('`+carl+` input.macs-input').readOnly && document.querySelector('`+carl+` .save-macs-btn').hidden`) {
			t.Error("the devices of a PBX user are editable")
		}
		if _, _, err := e.db.DeletePBXUser(e.ctx, "g-carl"); err != nil {
			t.Fatal(err)
		}
		b.do("reload", chromedp.Reload())
		b.waitFor("carl marked deleted on the PBX", `document.querySelector('`+carl+` .pbx-deleted') !== null`)
		b.screenshot(shots, "admin-users-pbx-replicated")
	})

	t.Run("phone screen", func(t *testing.T) {
		b := b.on(t)
		b.do("phone viewport", chromedp.EmulateViewport(390, 844))
		for _, tab := range []string{"users", "appobjects"} {
			b.do("tab "+tab, chromedp.Click(`#tab-`+tab))
			if w := eval[float64](b, `document.documentElement.scrollWidth`); w > 400 {
				t.Errorf("%s: page is %.0f px wide on a 390 px screen", tab, w)
			}
			b.screenshot(shots, fmt.Sprintf("admin-phone-%s", tab))
		}
	})

	b.checkClean()
}
