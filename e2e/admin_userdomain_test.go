package e2e

import (
	"net/url"
	"testing"

	"recordings/internal/app"
	"recordings/store"
)

// TestAdminUserDomain drives the admin app's user form and Edit dialog on
// an instance serving two domains: the administrator of no domain creates a
// local account in one of them (the list marks it), moves it to all
// domains in the Edit dialog, and cannot change the domain of their own
// account.
func TestAdminUserDomain(t *testing.T) {
	shots := artifacts(t)
	b := newBrowser(t)
	e := startEnv(t, func(c *app.Config) { c.Domain = "a.example,b.example" })
	e.createUser("root", "Administrator", store.RoleAdmin)
	b.ready("")
	b.navigate(e.url + "/?next=" + url.QueryEscape("/a.example/recordings/innovaphone-recordingsadmin.htm"))
	b.waitFor("the sign-in form", `!document.getElementById('signin').hidden`)
	b.typeText("#name", "root")
	b.typeText("#password", password)
	b.click("#signin button[type=submit]")
	b.waitFor("the admin app", `location.pathname === '/a.example/recordings/innovaphone-recordingsadmin.htm' && document.querySelector('#tab-users') !== null`)
	b.click(`#tab-users`)

	const form = `#panel-users form.create-user`
	b.waitFor("the domain field", `!document.querySelector('`+form+` .domain-field').hidden && `+
		`document.querySelectorAll('`+form+` select[name=domain] option').length === 3`)
	if got := eval[string](b, `[...document.querySelectorAll('`+form+` select[name=domain] option')].map((o) => o.value + '=' + o.textContent).join('|')`); got != "=All domains|a.example=a.example|b.example=b.example" {
		t.Errorf("domain options %q", got)
	}
	b.typeText(form+` input[name=name]`, "vera")
	b.typeText(form+` input[name=password]`, password)
	b.set(form+` select[name=domain]`, "b.example")
	b.click(form + ` button[type=submit]`)
	const vera = `#panel-users tr[data-name="vera"]`
	b.waitFor("the new row", `document.querySelector('`+vera+` .domain-badge')?.textContent === 'b.example'`)
	if u, err := e.db.User(e.ctx, "vera"); err != nil || u.Domain != "b.example" {
		t.Fatalf("vera: %+v %v", u, err)
	}
	b.screenshot(shots, "admin-users-domain")

	const dlg = `#panel-users dialog.user-edit`
	b.click(vera + ` .edit-btn`)
	b.waitFor("the edit dialog", `document.querySelector('`+dlg+`[open]') !== null`)
	if got := eval[string](b, `(() => { const s = document.querySelector('`+dlg+` select[name=edit_domain]'); return s.value + (s.disabled ? ' disabled' : ''); })()`); got != "b.example" {
		t.Errorf("vera's domain in the dialog %q", got)
	}
	b.screenshot(shots, "admin-user-edit-domain")
	b.set(dlg+` select[name=edit_domain]`, "")
	b.click(dlg + ` button[type=submit]`)
	b.waitFor("saved", `document.querySelector('`+dlg+`[open]') === null && document.querySelector('`+vera+`') !== null && document.querySelector('`+vera+` .domain-badge') === null`)
	if u, err := e.db.User(e.ctx, "vera"); err != nil || u.Domain != "" {
		t.Errorf("vera after the move to all domains: %+v %v", u, err)
	}

	// One's own account: the domain is not editable.
	b.click(`#panel-users tr[data-name="root"] .edit-btn`)
	b.waitFor("the edit dialog", `document.querySelector('`+dlg+`[open]') !== null`)
	if !eval[bool](b, `document.querySelector('`+dlg+` select[name=edit_domain]').disabled`) {
		t.Error("the domain of one's own account is editable")
	}
	b.press(keyEscape)
	b.waitFor("closed", `document.querySelector('`+dlg+`[open]') === null`)
	b.checkClean()
}
