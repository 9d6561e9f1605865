package e2e

import (
	"testing"

	"recordings/internal/app"
	"recordings/store"
)

// With several domains, the admin of no domain edits each domain's own
// PBX name and retention period on the settings page, and goes back to
// the instance-wide ones with one button (docs/pbx.md, Domains).
func TestAdminDomainSettings(t *testing.T) {
	b := newBrowser(t)
	e := startEnv(t, func(c *app.Config) { c.Domain = "a.example,b.example" })
	e.createUser("boss", "Bea Boss", store.RoleAdmin)
	b.ready(t.TempDir())
	b.setViewport(deskW, deskH)
	// Signed in with ?next= (without it the start page would go to the
	// host's domain, which this instance does not serve).
	b.navigate(e.url + "/?next=%2Fa.example%2Frecordings%2Finnovaphone-recordingsadmin.htm")
	b.waitFor("the sign-in form", `!document.getElementById('signin').hidden`)
	b.typeText("#name", "boss")
	b.typeText("#password", password)
	b.click("#signin button[type=submit]")
	b.waitFor("the admin app", `document.querySelector('#admin-menu-btn') !== null`)
	openAdminPage(b, "settings")
	const form = `#panel-settings form.domain-setting[data-domain="`
	b.waitFor("a form per domain", `document.querySelectorAll('#panel-settings form.domain-setting').length === 2`)
	checkAxe(b, "domain settings")

	b.typeText(form+`b.example"] input[maxlength]`, "pbx-b")
	b.typeText(form+`a.example"] input[type=number]`, "5")
	b.click(form + `a.example"] button[type=submit]`)
	b.waitFor("a.example saved", `document.querySelector('`+form+`a.example"] .saved')?.textContent === 'Saved.'`)
	b.click(form + `b.example"] button[type=submit]`)
	b.waitFor("b.example saved", `document.querySelector('`+form+`b.example"] .saved')?.textContent === 'Saved.'`)
	m, err := e.db.Settings(e.ctx)
	if err != nil || m["retention_days@a.example"] != "5" || m["pbx_name@b.example"] != "pbx-b" || m["pbx_name"] != "" ||
		m["retention_days"] != "" || m["pbx_name@a.example"] != "" {
		t.Fatalf("settings after saving per domain: %v %v", m, err)
	}
	b.click(form + `a.example"] button.reset-domain`)
	b.waitFor("a.example reset", `document.querySelector('`+form+`a.example"] input[type=number]')?.value === '' && document.querySelector('`+form+`a.example"] button.reset-domain')?.disabled === true`)
	if m, err := e.db.Settings(e.ctx); err != nil || m["retention_days@a.example"] != "" || m["pbx_name@b.example"] != "pbx-b" {
		t.Fatalf("settings after the reset: %v %v", m, err)
	}
}
