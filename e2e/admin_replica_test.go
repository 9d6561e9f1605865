package e2e

import (
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"recordings/store"
)

// TestAdminReplica drives the admin app's "Continuous replication" in
// Chromium: a refused URL shows the server's reason, a folder URL starts
// replication and the state line says so, an empty URL stops it.
func TestAdminReplica(t *testing.T) {
	b := newBrowser(t)
	e := startEnv(t)
	e.createUser("root", "Administrator", store.RoleAdmin)
	b.ready("")
	b.signIn(e.url, "root")
	b.do("settings from the menu", chromedp.Click(`#admin-menu-btn`), chromedp.Click(`#admin-menu .menu-settings`))
	const sec = `#panel-settings .replica`
	field, save, state := sec+` input[name=replica_url]`, sec+` button[type=submit]`, sec+` .replica-state`
	b.waitFor("the replication state", `document.querySelector('`+state+`')?.textContent === 'Replication is off.'`)

	b.typeText(field, "ftp://example.com/x")
	b.click(save)
	b.waitFor("the refusal", `document.querySelector('`+sec+` .status')?.textContent.startsWith('Not saved: ')`)

	url := "file://" + filepath.Join(t.TempDir(), "replica")
	b.typeText(field, url)
	b.click(save)
	b.waitFor("replicating", `document.querySelector('`+state+`')?.dataset.state === 'replicating' && `+
		`document.querySelector('`+state+`').textContent.startsWith('Replicating, lag ')`)
	if got := e.app.Settings.Values().ReplicaURL; got != url {
		t.Errorf("stored replica URL %q, want %q", got, url)
	}

	b.typeText(field, "")
	b.click(save)
	b.waitFor("off again", `document.querySelector('`+state+`')?.textContent === 'Replication is off.'`)
	b.checkClean()
}
