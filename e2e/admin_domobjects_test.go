package e2e

import (
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"recordings/internal/app"
	"recordings/store"
)

// TestAdminAppObjectsDomains: with two domains configured, the admin app's
// App objects view shows the domain of each object (the same name in two
// domains, and one of every domain), saves an access list into the row's
// own domain only, and creates an object in the domain chosen; photographed
// and checked with axe-core.
func TestAdminAppObjectsDomains(t *testing.T) {
	shots := artifacts(t)
	b := newBrowser(t)
	e := startEnv(t, func(c *app.Config) { c.Domain = "a.example, b.example" })
	e.createUser("root", "Administrator", store.RoleAdmin)
	for _, o := range []store.AppObject{
		{Domain: "a.example", Name: "recordings", DisplayName: "Recordings A", Access: []string{"201"}},
		{Domain: "b.example", Name: "recordings", DisplayName: "Recordings B", Access: []string{"301"}},
		{Name: "legacy", Access: []string{"9"}},
	} {
		if _, err := e.db.CreateAppObject(e.ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	b.ready("")
	// The sign-in page, sent on to the admin app of a served domain.
	b.navigate(e.url + "/?next=/a.example/recordings/innovaphone-recordingsadmin.htm")
	b.waitFor("the sign-in form", `!document.getElementById('signin').hidden`)
	b.typeText("#name", "root")
	b.typeText("#password", password)
	b.click("#signin button[type=submit]")
	b.waitFor("the admin app", `document.querySelector('table.recordings') !== null && location.pathname.includes('/a.example/recordings/innovaphone-recordingsadmin')`)
	b.do("app objects tab", chromedp.Click(`#tab-appobjects`))
	b.waitFor("three rows", `document.querySelectorAll('#panel-appobjects tbody tr').length === 3`)
	if got := eval[[]string](b, `[...document.querySelectorAll('#panel-appobjects td.ao-domain')].map(td => td.textContent)`); !slices.Equal(got, []string{"every domain", "a.example", "b.example"}) {
		t.Errorf("domain column %q", got)
	}
	adminRun{e: e, shots: shots}.state(b, "appobjects-domains", nil)

	rowB := `#panel-appobjects tr[data-name="recordings"][data-domain="b.example"]`
	b.set(rowB+` textarea.access-input`, "302, bob")
	b.do("save B's list", chromedp.Click(rowB+` .save-access-btn`))
	b.waitFor("saved", `document.querySelector('#panel-appobjects .status').textContent.includes('saved')`)
	for _, c := range []struct {
		domain string
		want   []string
	}{{"a.example", []string{"201"}}, {"b.example", []string{"302", "bob"}}} {
		if o, err := e.db.AppObjectIn(e.ctx, c.domain, "recordings"); err != nil || o.Domain != c.domain || !slices.Equal(o.Access, c.want) {
			t.Errorf("recordings of %s: %+v %v, want access %v", c.domain, o, err, c.want)
		}
	}

	b.set(`#panel-appobjects select[name=domain]`, "b.example")
	b.set(`#panel-appobjects input[name=name]`, "team")
	b.set(`#panel-appobjects textarea[name=access]`, "303")
	b.do("add", chromedp.Click(`#panel-appobjects form.create-appobject button[type=submit]`))
	b.waitFor("team in the list", `document.querySelector('#panel-appobjects tr[data-name="team"][data-domain="b.example"]') !== null`)
	if o, err := e.db.AppObjectIn(e.ctx, "b.example", "team"); err != nil || o.Domain != "b.example" || !slices.Equal(o.Access, []string{"303"}) {
		t.Errorf("team: %+v %v", o, err)
	}
	if _, err := e.db.AppObjectIn(e.ctx, "a.example", "team"); err == nil {
		t.Error("B's new object is A's too")
	}
}
