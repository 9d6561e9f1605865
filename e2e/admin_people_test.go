package e2e

import (
	"errors"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"recordings/store"
)

// TestAdminPeople drives the account actions in Chromium: the admin sets
// bob a new password (a short one is refused in the dialog), disables and
// enables him, deletes him and gives his recording to alice; alice then
// changes her own password and lands on the sign-in page. The store shows
// each change.
func TestAdminPeople(t *testing.T) {
	shots := artifacts(t)
	b := newBrowser(t)
	e := startEnv(t)
	e.createUser("alice", "Alice Anders", store.RoleUser)
	e.createUser("bob", "Bob Berg", store.RoleUser)
	e.createUser("root", "Administrator", store.RoleAdmin)
	rec := e.upload("bob", callCapture(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), time.Second, 440, 660))
	e.waitReady(rec)

	b.ready("")
	b.signIn(e.url, "root")
	b.do("users tab", chromedp.Click(`#tab-users`))
	bob := `#panel-users tr[data-name="bob"]`
	b.waitFor("bob's row", `document.querySelector('#panel-users tr[data-name="bob"] .reset-pw-btn') !== null`)
	if eval[int](b, `document.querySelectorAll('#panel-users tr[data-name="root"] .delete-btn, #panel-users tr[data-name="root"] .disable-btn').length`) != 0 {
		t.Error("the admin's own row offers disable or delete")
	}

	t.Run("set password", func(t *testing.T) {
		b := b.on(t)
		dlg := `#panel-users dialog.password-dialog`
		b.do("open", chromedp.Click(bob+` .reset-pw-btn`), chromedp.WaitVisible(dlg))
		b.set(dlg+` input[name=new]`, "short")
		b.set(dlg+` input[name=repeat]`, "short")
		b.do("submit short", chromedp.Click(dlg+` button[type=submit]`))
		b.waitFor("the refusal", `document.querySelector('`+dlg+` .field-error').textContent.includes('at least 10')`)
		b.set(dlg+` input[name=new]`, "bobs-new-password")
		b.set(dlg+` input[name=repeat]`, "bobs-new-password")
		b.do("submit", chromedp.Click(dlg+` button[type=submit]`))
		b.waitFor("done", `!document.querySelector('`+dlg+`').open && document.querySelector('#panel-users .status').textContent.includes('new password')`)
		if _, err := e.db.Authenticate(e.ctx, "bob", "bobs-new-password"); err != nil {
			t.Errorf("bob's new password: %v", err)
		}
	})

	t.Run("disable and enable", func(t *testing.T) {
		b := b.on(t)
		b.waitFor("bob's row", `document.querySelector('`+bob+` .disable-btn') !== null`)
		b.do("disable", chromedp.Click(bob+` .disable-btn`),
			chromedp.WaitVisible(`#panel-users dialog[open]`),
			chromedp.Click(`#panel-users dialog[open] button[value=disable]`))
		b.waitFor("disabled", `document.querySelector('`+bob+` .user-status')?.textContent === 'disabled'`)
		if u, err := e.db.User(e.ctx, "bob"); err != nil || !u.Disabled {
			t.Errorf("bob after disabling: %+v, %v", u, err)
		}
		b.screenshot(shots, "admin-users-disabled")
		b.do("enable", chromedp.Click(bob+` .disable-btn`))
		b.waitFor("enabled", `document.querySelector('`+bob+` .user-status')?.textContent === 'active'`)
		if u, err := e.db.User(e.ctx, "bob"); err != nil || u.Disabled {
			t.Errorf("bob after enabling: %+v, %v", u, err)
		}
	})

	t.Run("delete and reassign", func(t *testing.T) {
		b := b.on(t)
		b.do("delete", chromedp.Click(bob+` .delete-btn`),
			chromedp.WaitVisible(`#panel-users dialog[open]`),
			chromedp.Click(`#panel-users dialog[open] button[value=delete]`))
		b.waitFor("bob gone", `document.querySelector('`+bob+`') === null`)
		if _, err := e.db.User(e.ctx, "bob"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("bob after the delete: %v", err)
		}
		if r, err := e.db.Recording(e.ctx, rec); err != nil || r.Owner != "bob" {
			t.Fatalf("bob's recording after the delete: %+v, %v", r, err)
		}
		if from := eval[string](b, `document.querySelector('#panel-users form.reassign input[name=from]').value`); from != "bob" {
			t.Errorf("reassign form from %q, want bob", from)
		}
		b.set(`#panel-users form.reassign select[name=to]`, "alice")
		b.do("reassign", chromedp.Click(`#panel-users form.reassign button[type=submit]`),
			chromedp.WaitVisible(`#panel-users dialog[open]`),
			chromedp.Click(`#panel-users dialog[open] button[value=reassign]`))
		b.waitFor("moved", `document.querySelector('#panel-users .status').textContent.includes('1 recording of bob now belongs to alice')`)
		if r, err := e.db.Recording(e.ctx, rec); err != nil || r.Owner != "alice" {
			t.Errorf("the recording after the reassignment: %+v, %v", r, err)
		}
	})
	b.checkClean()

	t.Run("alice changes her password", func(t *testing.T) {
		b := b.on(t)
		b.do("sign out", chromedp.Click(`#signout`))
		b.waitFor("the sign-in page", `location.pathname === '/' && !document.getElementById('signin')?.hidden`)
		b.signIn(e.url, "alice")
		dlg := `dialog.password-dialog`
		b.do("open", chromedp.Click(`#change-password`), chromedp.WaitVisible(dlg))
		b.set(dlg+` input[name=old]`, password)
		b.set(dlg+` input[name=new]`, "alices-new-password")
		b.set(dlg+` input[name=repeat]`, "alices-new-password")
		b.do("submit", chromedp.Click(dlg+` button[type=submit]`))
		b.waitFor("the sign-in page", `location.pathname === '/' && !document.getElementById('signin').hidden`)
		if _, err := e.db.Authenticate(e.ctx, "alice", "alices-new-password"); err != nil {
			t.Errorf("alice's new password: %v", err)
		}
		if n, err := e.db.SessionCount(e.ctx); err != nil || n != 0 { // root signed out
			t.Errorf("%d sessions left, want none (%v)", n, err)
		}
	})
	b.checkClean()
}
