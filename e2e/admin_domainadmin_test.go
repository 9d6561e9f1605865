package e2e

import (
	"strings"
	"testing"

	"recordings/internal/app"
	"recordings/store"
)

// TestDomainAdminApp signs in as an administrator of one of two domains:
// the admin app shows that domain's settings and PBX connection, and
// leaves out what is the whole instance's (integration and credentials,
// backup, replication, trace levels, the licence count), so that loading
// it asks the service nothing it refuses and shows no error.
func TestDomainAdminApp(t *testing.T) {
	shots := artifacts(t)
	b := newBrowser(t)
	e := startEnv(t, func(c *app.Config) { c.Domain = "a.example,b.example" })
	e.createUser("ada", "Ada Admin", store.RoleAdmin)
	if _, err := e.db.SetUserDomain(e.ctx, "ada", "a.example"); err != nil {
		t.Fatal(err)
	}
	b.ready("")
	b.setViewport(deskW, deskH)
	b.navigate(e.url + "/?next=%2Fa.example%2Frecordings%2Finnovaphone-recordingsadmin.htm")
	b.waitFor("the sign-in form", `!document.getElementById('signin').hidden`)
	b.typeText("#name", "ada")
	b.typeText("#password", password)
	b.click("#signin button[type=submit]")
	b.waitFor("the admin app", `document.querySelector('#admin-menu-btn') !== null`)

	b.click(`#tab-users`)
	b.waitFor("the user list", `document.querySelector('#panel-users tr[data-name="ada"]') !== null`)
	if eval[bool](b, `!document.querySelector('#panel-users form.licences').hidden`) {
		t.Error("an administrator of a domain is offered the instance's licence count")
	}

	b.click(`#admin-menu-btn`)
	b.waitFor("the admin menu", `document.getElementById('admin-menu')?.hidden === false`)
	if eval[bool](b, `document.querySelector('#admin-menu .menu-trace') !== null`) {
		t.Error("an administrator of a domain is offered the trace levels")
	}
	b.click(`#admin-menu .menu-settings`)
	b.waitFor("the settings page", `document.getElementById('panel-settings')?.hidden === false`)
	b.waitFor("the domain's settings", `document.querySelector('#panel-settings .settings-scope')?.textContent.includes('a.example') && `+
		`!document.querySelector('#panel-settings .settings-scope').hidden`)
	b.waitFor("the domain's PBX connection", `document.querySelector('#panel-settings .pbx-connection')?.textContent.includes('a.example')`)
	for _, sel := range []string{".pbx-section", ".backup", ".replica"} {
		if eval[bool](b, `document.querySelector('#panel-settings `+sel+`') !== null`) {
			t.Errorf("an administrator of a domain is shown %s", sel)
		}
	}
	if got := eval[string](b, `document.querySelector('#panel-settings').textContent + document.getElementById('banner').textContent`); strings.Contains(got, "b.example") {
		t.Errorf("the settings page or the banner shows another domain: %.300s", got)
	}
	// Every tab once, then nothing the service refused and no error shown.
	for _, tab := range []string{"recordings", "audit", "log", "appobjects"} {
		b.click(`#tab-` + tab)
		b.waitFor("the tab "+tab, `document.getElementById('panel-`+tab+`')?.hidden === false`)
	}
	b.click(`#tab-users`)
	b.waitFor("the users tab", `document.getElementById('panel-users')?.hidden === false`)
	b.screenshot(shots, "admin-domain-admin-users")
	openAdminPage(b, "settings")
	b.screenshot(shots, "admin-domain-admin-settings")
	if got := eval[string](b, `performance.getEntriesByType('resource').filter((r) => r.responseStatus >= 400)`+
		`.map((r) => r.responseStatus + ' ' + r.name).join(', ')`); got != "" {
		t.Errorf("requests the service refused: %s", got)
	}
	if got := eval[string](b, `[...document.querySelectorAll('.status.error, .field-error, [role=alert]:not(#banner)')]`+
		`.filter((el) => !el.hidden && el.offsetParent !== null && el.textContent.trim() !== '').map((el) => el.textContent).join(' | ')`); got != "" {
		t.Errorf("errors shown: %s", got)
	}
	b.checkClean()
}
