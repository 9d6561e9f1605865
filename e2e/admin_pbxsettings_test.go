package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"recordings/internal/apptest"
	"recordings/internal/callgen"
	"recordings/store"
)

// The PBX integration settings the test sets.
const (
	cdrUser     = "pbx-cdr-new"
	cdrPassword = "cdr-Secret-7q!x"
	appPassword = "app-Secret-4k#z"
)

// cdrConf is the conference of the first record of internal.xml.
const cdrConf = "e89277f0e909d31192e80090331032dd"

// TestAdminPBXSettings drives the admin app's "PBX integration" settings in
// Chromium: the Record-to URL and the CDR address of the domain with the
// credentials generated at the first start (hidden until shown, to copy to
// the phones and the PBX), changing and generating them, the networks
// allowed without credentials, the AppLogin instance password and the
// NoCDR grace time; invalid input refused in the page (a password cannot
// be cleared); a server refusal shown; and, through the upload and CDR
// endpoints, that the credentials shown are the ones the server asks for.
func TestAdminPBXSettings(t *testing.T) {
	shots := artifacts(t)
	b := newBrowser(t)
	e := startEnv(t, apptest.StoredCredentials)
	e.createUser("root", "Administrator", store.RoleAdmin)
	raw, err := os.ReadFile(filepath.Join("..", "pbx", "testdata", "cdr", "internal.xml"))
	if err != nil {
		t.Fatal(err)
	}
	cdr, _, _ := bytes.Cut(bytes.TrimSpace(raw), []byte("\n")) // one <cdr> of conference cdrConf
	generated := e.app.Settings.Values()
	if len(generated.UploadPassword) < 16 || len(generated.CDRPassword) < 16 || len(generated.AppPassword) < 16 {
		t.Fatalf("credentials generated at the first start: %+v", generated)
	}

	b.ready("")
	b.signIn(e.url, "root")
	b.do("settings from the menu", chromedp.Click(`#admin-menu-btn`), chromedp.Click(`#admin-menu .menu-settings`))
	const sec = `#panel-settings form.pbx-settings`
	field := func(name string) string { return sec + ` input[name=` + name + `]` }
	b.waitFor("the PBX settings", `document.querySelector('`+field("upload_password")+`')?.value !== ''`)
	const appPWBannerEl = `document.querySelector('#panel-settings .instance-password-banner')`
	const appPWBanner = `!!` + appPWBannerEl

	var url string
	t.Run("addresses and generated credentials of this domain", func(t *testing.T) {
		b := b.on(t)
		domain := eval[string](b, `location.pathname.split('/')[1]`)
		url = eval[string](b, `document.querySelector('`+sec+` input.cdr-url').value`)
		if want := e.url + "/" + domain + "/recordings/cdr"; url != want || domain == "" {
			t.Fatalf("CDR address %q, want %q", url, want)
		}
		if got, want := eval[string](b, `document.querySelector('`+sec+` input.record-to-url').value`),
			e.url+"/"+domain+"/recordings/Files/"; got != want {
			t.Errorf("Record-to URL %q, want %q", got, want)
		}
		// The Record-to URL with the credentials shows the password once
		// the password field shows it.
		withAuth := strings.Replace(e.url, "http://", "http://"+generated.UploadUser+":"+generated.UploadPassword+"@", 1) +
			"/" + domain + "/recordings/Files/"
		authURL := `document.querySelector('` + sec + ` input.record-to-url-auth').value`
		if got := eval[string](b, authURL); strings.Contains(got, generated.UploadPassword) || !strings.Contains(got, "•") {
			t.Errorf("Record-to URL with credentials shows the hidden password: %q", got)
		}
		b.do("show the upload password", chromedp.Click(sec+` .secret-upload_password .show-btn`))
		if got := eval[string](b, authURL); got != withAuth {
			t.Errorf("Record-to URL with credentials %q, want %q", got, withAuth)
		}
		for name, want := range map[string]string{"upload_user": generated.UploadUser, "upload_password": generated.UploadPassword,
			"cdr_user": generated.CDRUser, "cdr_password": generated.CDRPassword, "instance_password": ""} {
			if got := eval[string](b, `document.querySelector('`+field(name)+`').value`); got != want {
				t.Errorf("%s shows %q, want %q", name, got, want)
			}
		}
		// The generated instance password is shown once, in the banner
		// above the form, not in its field.
		if got := eval[string](b, appPWBanner+` && !`+appPWBannerEl+`.hidden ? `+appPWBannerEl+`.querySelector('.instance-password-value').textContent : ''`); got != generated.AppPassword {
			t.Errorf("the banner shows %q, want the generated instance password", got)
		}
		// Hidden until asked for.
		if typ := eval[string](b, `document.querySelector('`+field("cdr_password")+`').type`); typ != "password" {
			t.Errorf("CDR password field of type %q", typ)
		}
		b.do("show", chromedp.Click(sec+` .secret-cdr_password .show-btn`))
		b.waitFor("shown", `document.querySelector('`+field("cdr_password")+`').type === 'text' && `+
			`document.querySelector('`+sec+` .secret-cdr_password .show-btn').getAttribute('aria-pressed') === 'true'`)
		// The generated credentials are the ones the endpoints ask for.
		if code := e.postCDR(url, "", "", cdr); code != http.StatusUnauthorized {
			t.Errorf("CDR without credentials: %d, want 401", code)
		}
		if code := e.postCDR(url, generated.CDRUser, generated.CDRPassword, cdr); code != http.StatusOK {
			t.Errorf("CDR with the generated credentials: %d, want 200", code)
		}
		e.upload("alice", callgen.Default(10).Bytes())
	})

	fillForm := func(b *tab, grace string) {
		b.set(field("cdr_user"), cdrUser)
		b.set(field("cdr_password"), cdrPassword)
		b.set(field("instance_password"), appPassword)
		b.set(field("anonymous_networks"), "192.0.2.0/24, 198.51.100.7")
		b.set(field("nocdr_grace_minutes"), grace)
		b.do("save", chromedp.Click(sec+` button.save-pbx-btn`))
	}
	pbxStatus := `document.querySelector('#panel-settings .pbx-section .status')`
	unchanged := func(t *testing.T) {
		t.Helper()
		m, err := e.db.Settings(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for k, want := range map[string]string{"cdr_user": generated.CDRUser, "cdr_password": generated.CDRPassword,
			"instance_password": generated.AppPassword, "upload_password": generated.UploadPassword, "nocdr_grace_seconds": "",
			"anonymous_networks": ""} {
			if m[k] != want {
				t.Errorf("the refused form stored %s = %q", k, m[k])
			}
		}
	}

	t.Run("invalid input refused in the page", func(t *testing.T) {
		b := b.on(t)
		fillForm(b, "20000")
		b.waitFor("the field error", `document.querySelector('`+field("nocdr_grace_minutes")+`').getAttribute('aria-invalid') === 'true'`)
		if msg := eval[string](b, `document.querySelector('`+field("nocdr_grace_minutes")+`').parentElement.querySelector('.field-error').textContent`); !strings.Contains(msg, "10080") {
			t.Errorf("grace error %q, want the 10080-minute limit", msg)
		}
		if msg := eval[string](b, pbxStatus+`.textContent`); !strings.HasPrefix(msg, "Not saved") {
			t.Errorf("status %q, want a refusal", msg)
		}
		if name := eval[string](b, `document.activeElement?.name ?? ''`); name != "nocdr_grace_minutes" {
			t.Errorf("focus on %q, want the invalid grace field", name)
		}
		unchanged(t)
		b.set(field("nocdr_grace_minutes"), "30")
		b.set(field("upload_password"), "")
		b.set(field("anonymous_networks"), "nowhere")
		b.do("save", chromedp.Click(sec+` button.save-pbx-btn`))
		b.waitFor("the password error", `document.querySelector('`+field("upload_password")+`').getAttribute('aria-invalid') === 'true'`)
		if msg := eval[string](b, `document.querySelector('`+sec+` .secret-upload_password .field-error').textContent`); !strings.Contains(msg, "required") {
			t.Errorf("empty password error %q", msg)
		}
		if !eval[bool](b, `document.querySelector('`+field("anonymous_networks")+`').getAttribute('aria-invalid') === 'true'`) {
			t.Error("the bad network is not marked")
		}
		unchanged(t)
		b.screenshot(shots, "admin-pbx-settings-invalid")
	})

	var newUploadPW string
	t.Run("save", func(t *testing.T) {
		b := b.on(t)
		b.do("generate an upload password", chromedp.Click(sec+` .secret-upload_password .generate-btn`))
		newUploadPW = eval[string](b, `document.querySelector('`+field("upload_password")+`').value`)
		if len(newUploadPW) < 16 || newUploadPW == generated.UploadPassword {
			t.Fatalf("generated upload password %q", newUploadPW)
		}
		if got := eval[string](b, `document.querySelector('`+sec+` input.record-to-url-auth').value`); !strings.Contains(got, ":"+newUploadPW+"@") {
			t.Errorf("Record-to URL with credentials %q does not follow the new password", got)
		}
		fillForm(b, "30")
		b.waitFor("saved", pbxStatus+`.textContent === 'PBX settings saved.'`)
		m, err := e.db.Settings(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for k, want := range map[string]string{"cdr_user": cdrUser, "cdr_password": cdrPassword, "upload_password": newUploadPW,
			"instance_password": appPassword, "nocdr_grace_seconds": "1800", "anonymous_networks": "192.0.2.0/24, 198.51.100.7"} {
			if m[k] != want {
				t.Errorf("stored %s = %q, want %q", k, m[k], want)
			}
		}
		got, _ := e.adminPBX()
		want := adminPBX{CDRUser: cdrUser, CDRPassword: cdrPassword, UploadPassword: newUploadPW, InstancePassword: appPassword,
			GraceSeconds: 1800, GraceConfigured: true}
		if got != want {
			t.Errorf("GET /api/admin/pbx = %+v, want %+v", got, want)
		}
		if msg := eval[string](b, `document.querySelector('`+sec+` .cdr-auth').textContent`); !strings.Contains(msg, "192.0.2.0/24") {
			t.Errorf("CDR authentication text %q does not name the networks", msg)
		}
		e.upload("alice", callgen.Default(10).Bytes()) // with the new password, now in force
	})

	t.Run("reload: the saved values", func(t *testing.T) {
		b := b.on(t)
		b.do("reload", chromedp.Reload())
		// The instance password set is shown until confirmed, reload or not.
		b.waitFor("the PBX settings", appPWBanner+` && !`+appPWBannerEl+`.hidden && `+appPWBannerEl+
			`.querySelector('.instance-password-value').textContent === '`+appPassword+`'`)
		b.screenshot(shots, "admin-pbx-settings-instance-password")
		b.do("confirm the instance password", chromedp.Click(`#panel-settings .ack-instance-password-btn`))
		b.waitFor("hidden", appPWBannerEl+`.hidden && `+appPWBannerEl+`.querySelector('.instance-password-value').textContent === ''`)
		if got, raw := e.adminPBX(); got.InstancePassword != "" || strings.Contains(raw, appPassword) {
			t.Errorf("GET /api/admin/pbx after the confirmation: %s", raw)
		}
		if got := eval[string](b, `document.querySelector('`+field("instance_password")+`').value`); got != "" {
			t.Errorf("the instance password field shows %q", got)
		}
		for name, want := range map[string]string{"cdr_user": cdrUser, "cdr_password": cdrPassword, "upload_password": newUploadPW,
			"anonymous_networks": "192.0.2.0/24, 198.51.100.7", "nocdr_grace_minutes": "30"} {
			if v := eval[string](b, `document.querySelector('`+field(name)+`').value`); v != want {
				t.Errorf("%s field %q, want %q", name, v, want)
			}
		}
		b.screenshot(shots, "admin-pbx-settings")
	})

	t.Run("CDR endpoint takes the saved credentials", func(t *testing.T) {
		for _, tc := range []struct {
			name, user, pw string
			want           int
		}{
			{"no credentials", "", "", http.StatusUnauthorized},
			{"the generated ones", generated.CDRUser, generated.CDRPassword, http.StatusUnauthorized},
			{"wrong password", cdrUser, "not-the-password", http.StatusUnauthorized},
			{"wrong user", "someone", cdrPassword, http.StatusUnauthorized},
			{"instance password", cdrUser, appPassword, http.StatusUnauthorized},
			{"configured", cdrUser, cdrPassword, http.StatusOK},
		} {
			before := e.cdrCount()
			// The record is stored already (sent with the generated
			// credentials): mark it, so that a stored one counts as new.
			rec := bytes.Replace(cdr, []byte("<cdr "), []byte(fmt.Sprintf("<cdr test=%q ", tc.name)), 1)
			if code := e.postCDR(url, tc.user, tc.pw, rec); code != tc.want {
				t.Errorf("%s: %d, want %d", tc.name, code, tc.want)
			}
			added := e.cdrCount() - before
			if (tc.want == http.StatusOK) != (added == 1) {
				t.Errorf("%s: %d CDRs stored", tc.name, added)
			}
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
		b.set(field("nocdr_grace_minutes"), "45")
		b.do("save", chromedp.Click(sec+` button.save-pbx-btn`))
		b.waitFor("the refusal", pbxStatus+`.textContent === 'Not saved: sign-in required' && `+pbxStatus+`.getAttribute('role') === 'alert'`)
		if m, _ := e.db.Settings(e.ctx); m["nocdr_grace_seconds"] != "1800" {
			t.Errorf("grace %q after the refusal, want 1800", m["nocdr_grace_seconds"])
		}
	})

	b.checkClean()
}

// TestAdminPBXSettingsFixed: credentials given when the service started
// are shown read-only, with where to change them.
func TestAdminPBXSettingsFixed(t *testing.T) {
	b := newBrowser(t)
	e := startEnv(t)
	e.createUser("root", "Administrator", store.RoleAdmin)
	b.ready("")
	b.signIn(e.url, "root")
	b.do("settings from the menu", chromedp.Click(`#admin-menu-btn`), chromedp.Click(`#admin-menu .menu-settings`))
	const sec = `#panel-settings form.pbx-settings`
	b.waitFor("the PBX settings", `document.querySelector('`+sec+` input[name=upload_password]')?.value === '`+apptest.UploadPassword+`'`)
	for _, name := range []string{"upload_user", "upload_password", "cdr_user", "cdr_password"} {
		if !eval[bool](b, `document.querySelector('`+sec+` input[name=`+name+`]').readOnly`) {
			t.Errorf("%s is editable", name)
		}
	}
	if eval[bool](b, `document.querySelector('`+sec+` input[name=instance_password]').readOnly`) {
		t.Error("the instance password, not given at start, is read-only")
	}
	note := eval[string](b, `document.querySelector('`+sec+` .secret-upload_password .fixed-note').textContent`)
	if !strings.Contains(note, "RECORDINGS_UPLOAD_PASSWORD") {
		t.Errorf("fixed note %q", note)
	}
	if !eval[bool](b, `document.querySelector('`+sec+` .secret-upload_password .generate-btn').hidden`) {
		t.Error("a fixed password offers Generate")
	}
	b.checkClean()
}

// adminPBX is GET /api/admin/pbx.
type adminPBX struct {
	CDRUser          string `json:"cdr_user"`
	CDRPassword      string `json:"cdr_password"`
	UploadPassword   string `json:"upload_password"`
	InstancePassword string `json:"instance_password"`
	GraceSeconds     int    `json:"nocdr_grace_seconds"`
	GraceConfigured  bool   `json:"nocdr_grace_configured"`
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
