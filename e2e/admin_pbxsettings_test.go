package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"recordings/store"
)

// The PBX integration settings the test sets: passwords that must never
// come back into the page.
const (
	cdrUser     = "pbx-cdr"
	cdrPassword = "cdr-Secret-7q!x"
	appPassword = "app-Secret-4k#z"
)

// cdrConf is the conference of the first record of internal.xml.
const cdrConf = "e89277f0e909d31192e80090331032dd"

// TestAdminPBXSettings drives the admin app's "PBX integration" settings in
// Chromium: the CDR address of the domain, the CDR user and password, the
// AppLogin instance password and the NoCDR grace time; an invalid grace
// refused in the page; passwords write-only across a reload; clearing;
// a server refusal shown; and, through the CDR endpoint, that the stored
// credentials are the ones the server asks the PBX for.
func TestAdminPBXSettings(t *testing.T) {
	shots := artifacts(t)
	b := newBrowser(t)
	e := startEnv(t)
	e.createUser("root", "Administrator", store.RoleAdmin)
	raw, err := os.ReadFile(filepath.Join("..", "pbx", "testdata", "cdr", "internal.xml"))
	if err != nil {
		t.Fatal(err)
	}
	cdr, _, _ := bytes.Cut(bytes.TrimSpace(raw), []byte("\n")) // one <cdr> of conference cdrConf

	b.ready("")
	b.signIn(e.url, "root")
	b.do("settings tab", chromedp.Click(`#tab-settings`))
	const sec = `#panel-settings form.pbx-settings`
	b.waitFor("the PBX settings", `document.querySelector('`+sec+` .secret-cdr_password .secret-state')?.textContent === 'not set'`)

	var url string
	t.Run("CDR address of this domain", func(t *testing.T) {
		b := b.on(t)
		url = eval[string](b, `document.querySelector('`+sec+` input.cdr-url').value`)
		domain := eval[string](b, `location.pathname.split('/')[1]`)
		if want := e.url + "/" + domain + "/recordings/cdr"; url != want || domain == "" {
			t.Fatalf("CDR address %q, want %q", url, want)
		}
		if msg := eval[string](b, `document.querySelector('`+sec+` .cdr-auth').textContent`); !strings.Contains(msg, "accepted from anyone") {
			t.Errorf("with no credentials the page says %q", msg)
		}
		// Nothing configured: the open endpoint takes a CDR.
		if code := e.postCDR(url, "", "", cdr); code != http.StatusOK {
			t.Errorf("CDR without credentials while none are set: %d, want 200", code)
		}
	})

	fillForm := func(b *tab, grace string) {
		b.set(sec+` input[name=cdr_user]`, cdrUser)
		b.set(sec+` input[name=cdr_password]`, cdrPassword)
		b.set(sec+` input[name=instance_password]`, appPassword)
		b.set(sec+` input[name=nocdr_grace_minutes]`, grace)
		b.do("save", chromedp.Click(sec+` button.save-pbx-btn`))
	}
	pbxStatus := `document.querySelector('#panel-settings .pbx-section .status')`

	t.Run("invalid grace refused in the page", func(t *testing.T) {
		b := b.on(t)
		fillForm(b, "20000")
		b.waitFor("the field error", `document.querySelector('`+sec+` input[name=nocdr_grace_minutes]').getAttribute('aria-invalid') === 'true'`)
		if msg := eval[string](b, `document.querySelector('`+sec+` input[name=nocdr_grace_minutes]').parentElement.querySelector('.field-error').textContent`); !strings.Contains(msg, "10080") {
			t.Errorf("grace error %q, want the 10080-minute limit", msg)
		}
		if msg := eval[string](b, pbxStatus+`.textContent`); !strings.HasPrefix(msg, "Not saved") {
			t.Errorf("status %q, want a refusal", msg)
		}
		if name := eval[string](b, `document.activeElement?.name ?? ''`); name != "nocdr_grace_minutes" {
			t.Errorf("focus on %q, want the invalid grace field", name)
		}
		m, err := e.db.Settings(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"cdr_user", "cdr_password", "instance_password", "nocdr_grace_seconds"} {
			if v, ok := m[k]; ok {
				t.Errorf("the refused form stored %s = %q", k, v)
			}
		}
		b.screenshot(shots, "admin-pbx-settings-invalid")
	})

	t.Run("save", func(t *testing.T) {
		b := b.on(t)
		fillForm(b, "30")
		b.waitFor("saved", pbxStatus+`.textContent === 'PBX settings saved.'`)
		m, err := e.db.Settings(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for k, want := range map[string]string{"cdr_user": cdrUser, "cdr_password": cdrPassword,
			"instance_password": appPassword, "nocdr_grace_seconds": "1800"} {
			if m[k] != want {
				t.Errorf("stored %s = %q, want %q", k, m[k], want)
			}
		}
		got, body := e.adminPBX()
		want := adminPBX{CDRUser: cdrUser, CDRPasswordSet: true, InstancePasswordSet: true, GraceSeconds: 1800, GraceConfigured: true}
		if got != want {
			t.Errorf("GET /api/admin/pbx = %+v, want %+v", got, want)
		}
		if strings.Contains(body, cdrPassword) || strings.Contains(body, appPassword) {
			t.Errorf("GET /api/admin/pbx shows a password: %s", body)
		}
		for _, f := range []string{"cdr_password", "instance_password"} {
			if v := eval[string](b, `document.querySelector('`+sec+` input[name=`+f+`]').value`); v != "" {
				t.Errorf("%s field keeps %q after saving", f, v)
			}
		}
	})

	t.Run("reload: passwords set, never shown", func(t *testing.T) {
		b := b.on(t)
		b.do("reload", chromedp.Reload())
		b.waitFor("the PBX settings", `document.querySelector('`+sec+` .secret-instance_password .secret-state')?.textContent === 'set'`)
		if s := eval[string](b, `document.querySelector('`+sec+` .secret-cdr_password .secret-state').textContent`); s != "set" {
			t.Errorf("CDR password state %q, want set", s)
		}
		if v := eval[string](b, `document.querySelector('`+sec+` input[name=cdr_user]').value`); v != cdrUser {
			t.Errorf("CDR user field %q, want %q", v, cdrUser)
		}
		if v := eval[string](b, `document.querySelector('`+sec+` input[name=nocdr_grace_minutes]').value`); v != "30" {
			t.Errorf("grace field %q, want 30", v)
		}
		// The password text nowhere: not in the markup, not in any field's
		// value (which the markup does not show), not in the page's text.
		page := eval[string](b, `document.documentElement.outerHTML + '\n' +
			[...document.querySelectorAll('input, textarea, select')].map(el => el.value).join('\n') + '\n' + document.body.innerText`)
		for _, pw := range []string{cdrPassword, appPassword} {
			if strings.Contains(page, pw) {
				t.Errorf("the page shows the password %q", pw)
			}
		}
		if msg := eval[string](b, `document.querySelector('`+sec+` .cdr-auth').textContent`); !strings.Contains(msg, "only with this user and password") {
			t.Errorf("CDR authentication text %q", msg)
		}
		b.screenshot(shots, "admin-pbx-settings")
	})

	t.Run("CDR endpoint takes the stored credentials", func(t *testing.T) {
		for _, tc := range []struct {
			name, user, pw string
			want           int
		}{
			{"no credentials", "", "", http.StatusUnauthorized},
			{"wrong password", cdrUser, "not-the-password", http.StatusUnauthorized},
			{"wrong user", "someone", cdrPassword, http.StatusUnauthorized},
			{"instance password", cdrUser, appPassword, http.StatusUnauthorized},
			{"configured", cdrUser, cdrPassword, http.StatusOK},
		} {
			before := e.cdrCount()
			if code := e.postCDR(url, tc.user, tc.pw, cdr); code != tc.want {
				t.Errorf("%s: %d, want %d", tc.name, code, tc.want)
			}
			added := e.cdrCount() - before
			if (tc.want == http.StatusOK) != (added == 1) {
				t.Errorf("%s: %d CDRs stored", tc.name, added)
			}
		}
	})

	t.Run("clear", func(t *testing.T) {
		b := b.on(t)
		clearBtn := sec + ` .secret-cdr_password .clear-btn`
		// By keyboard: Enter opens the confirmation, Escape cancels it, the
		// focus returns to the button and the password stays.
		b.do("clear, cancel", chromedp.Focus(clearBtn), chromedp.KeyEvent(kb.Enter),
			chromedp.WaitVisible(`#panel-settings dialog[open]`), chromedp.KeyEvent(kb.Escape))
		b.waitFor("the dialog closed", `document.querySelector('#panel-settings dialog[open]') === null`)
		b.waitFor("the focus back", `document.activeElement === document.querySelector('`+clearBtn+`')`)
		if m, _ := e.db.Settings(e.ctx); m["cdr_password"] != cdrPassword {
			t.Fatalf("cancel cleared the CDR password")
		}
		b.do("clear", chromedp.Click(clearBtn), chromedp.WaitVisible(`#panel-settings dialog[open]`),
			chromedp.Click(`#panel-settings dialog button[value=clear]`))
		b.waitFor("not set", `document.querySelector('`+sec+` .secret-cdr_password .secret-state').textContent === 'not set'`)
		if !eval[bool](b, `document.querySelector('`+clearBtn+`').hidden`) {
			t.Error("the clear button stays for a password that is not set")
		}
		got, _ := e.adminPBX()
		if got.CDRPasswordSet || !got.InstancePasswordSet || got.CDRUser != cdrUser {
			t.Errorf("after clearing the CDR password: %+v", got)
		}
		if code := e.postCDR(url, cdrUser, cdrPassword, cdr); code != http.StatusUnauthorized {
			t.Errorf("CDR with the cleared password: %d, want 401", code)
		}
		if code := e.postCDR(url, cdrUser, "", cdr); code != http.StatusOK {
			t.Errorf("CDR with the user and no password: %d, want 200", code)
		}

		// The user is cleared by emptying its field; the endpoint is open again.
		b.set(sec+` input[name=cdr_user]`, "")
		b.do("save", chromedp.Click(sec+` button.save-pbx-btn`))
		b.waitFor("saved", pbxStatus+`.textContent === 'PBX settings saved.'`)
		b.waitFor("the open warning", `document.querySelector('`+sec+` .cdr-auth').textContent.includes('accepted from anyone')`)
		if code := e.postCDR(url, "", "", cdr); code != http.StatusOK {
			t.Errorf("CDR without credentials after clearing both: %d, want 200", code)
		}

		b.do("clear the instance password", chromedp.Click(sec+` .secret-instance_password .clear-btn`),
			chromedp.WaitVisible(`#panel-settings dialog[open]`), chromedp.Click(`#panel-settings dialog button[value=clear]`))
		b.waitFor("not set", `document.querySelector('`+sec+` .secret-instance_password .secret-state').textContent === 'not set'`)
		m, err := e.db.Settings(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"cdr_user", "cdr_password", "instance_password"} {
			if v, ok := m[k]; ok {
				t.Errorf("%s still stored: %q", k, v)
			}
		}
		if m["nocdr_grace_seconds"] != "1800" {
			t.Errorf("clearing changed the grace to %q", m["nocdr_grace_seconds"])
		}
	})

	t.Run("phone screen", func(t *testing.T) {
		checkSettingsOnPhone(b.on(t), sec, shots, "admin-phone-pbx-settings")
	})

	t.Run("server refusal shown", func(t *testing.T) {
		b := b.on(t)
		// root stops being an admin while the page is open: that ends
		// root's sessions, so the server refuses the change and the page
		// says why.
		root, err := e.db.User(e.ctx, "root")
		if err != nil {
			t.Fatal(err)
		}
		root.Role = store.RoleUser
		if err := e.db.UpdateUser(e.ctx, root); err != nil {
			t.Fatal(err)
		}
		b.set(sec+` input[name=nocdr_grace_minutes]`, "45")
		b.do("save", chromedp.Click(sec+` button.save-pbx-btn`))
		b.waitFor("the refusal", pbxStatus+`.textContent === 'Not saved: sign-in required' && `+pbxStatus+`.getAttribute('role') === 'alert'`)
		if m, _ := e.db.Settings(e.ctx); m["nocdr_grace_seconds"] != "1800" {
			t.Errorf("grace %q after the refusal, want 1800", m["nocdr_grace_seconds"])
		}
	})

	b.checkClean()
}

// adminPBX is GET /api/admin/pbx.
type adminPBX struct {
	CDRUser             string `json:"cdr_user"`
	CDRPasswordSet      bool   `json:"cdr_password_set"`
	InstancePasswordSet bool   `json:"instance_password_set"`
	GraceSeconds        int    `json:"nocdr_grace_seconds"`
	GraceConfigured     bool   `json:"nocdr_grace_configured"`
}

// adminPBX asks the server for the PBX settings as the admin root and
// returns them with the raw answer.
func (e *env) adminPBX() (adminPBX, string) {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, e.url+"/api/admin/pbx", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.SetBasicAuth("root", password)
	res, err := e.app.Client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		e.t.Fatalf("GET /api/admin/pbx: %s %v %s", res.Status, err, body)
	}
	var out adminPBX
	if err := json.Unmarshal(body, &out); err != nil {
		e.t.Fatalf("GET /api/admin/pbx: %v: %s", err, body)
	}
	return out, string(body)
}

// postCDR posts a raw XML CDR as the PBX would, with HTTP Basic when user
// or pw is given, and returns the status code.
func (e *env) postCDR(url, user, pw string, xml []byte) int {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, http.MethodPost, url, bytes.NewReader(xml))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/xml")
	if user != "" || pw != "" {
		req.SetBasicAuth(user, pw)
	}
	res, err := e.app.Client.Do(req)
	if err != nil {
		e.t.Fatalf("POST %s: %v", url, err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// cdrCount is how many CDRs of conference cdrConf are stored.
func (e *env) cdrCount() int {
	e.t.Helper()
	c, err := e.db.CDRsByConf(e.ctx, cdrConf)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(c)
}
