package api_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"recordings/internal/app"
	"recordings/internal/apptest"
	"recordings/internal/pbxsim"
	"recordings/pbxlink"
)

// pbxSettingsView is GET /api/admin/pbx as far as the instance password
// goes.
type pbxSettingsView struct {
	Password string            `json:"instance_password"`
	Token    string            `json:"instance_password_token"`
	Set      bool              `json:"instance_password_set"`
	Fixed    map[string]string `json:"fixed"`
}

// The instance password is shown to the administrators once: from when it
// is generated (at the first start, or on request) or set until an
// administrator confirms it with its token; then the API says only that it
// is set, and the password keeps working — for the PBX's App-object login
// and for the App objects the service creates on the PBX (the PBX Manager
// path).
func TestInstancePasswordShownOnce(t *testing.T) {
	t.Parallel()
	a, logs := pbxApp(t, apptest.StoredCredentials, func(c *app.Config) { c.InstancePassword = "" })
	view := func() (pbxSettingsView, string) {
		t.Helper()
		var v pbxSettingsView
		if st := adminJSON(t, a, "GET", "/api/admin/pbx", nil, &v); st != 200 {
			t.Fatalf("GET /api/admin/pbx: %d", st)
		}
		return v, rawGET(t, a, "/api/admin/pbx")
	}
	ack := func(token string) (int, pbxSettingsView) {
		t.Helper()
		var v pbxSettingsView
		st := adminJSON(t, a, "POST", "/api/admin/pbx/instance-password/seen", map[string]any{"token": token}, &v)
		return st, v
	}

	// Generated at the first start: shown, with its token.
	first, _ := view()
	if len(first.Password) < 16 || first.Token == "" || !first.Set || first.Password != a.Settings.Values().AppPassword {
		t.Fatalf("the generated password is not shown: %+v", first)
	}
	if n := strings.Count(logs.String(), first.Password); n != 1 {
		t.Errorf("the generated password is %d times in the process log, want once (at start-up)", n)
	}
	// A wrong or missing token hides nothing.
	if st, v := ack("WRONGTOKEN"); st != 200 || v.Password != first.Password {
		t.Errorf("confirmation with a wrong token: %d %+v", st, v)
	}
	if st, _ := ack(""); st != 400 {
		t.Errorf("confirmation without a token: %d, want 400", st)
	}
	if st := adminJSON(t, a, "POST", "/api/admin/pbx/instance-password/seen", map[string]any{"token": 7}, nil); st != 400 {
		t.Errorf("confirmation with a token of the wrong type: %d, want 400", st)
	}
	// Confirmed: from then on only "set".
	if st, v := ack(first.Token); st != 200 || v.Password != "" || v.Token != "" || !v.Set {
		t.Fatalf("after the confirmation: %d %+v", st, v)
	}
	if v, raw := view(); v.Password != "" || strings.Contains(raw, first.Password) || !v.Set {
		t.Fatalf("shown again after the confirmation: %s", raw)
	}
	if st, v := ack(first.Token); st != 200 || v.Password != "" {
		t.Errorf("a second confirmation: %d %+v", st, v)
	}

	// Generating a new one shows it once; the old token does not hide it.
	var gen pbxSettingsView
	if st := adminJSON(t, a, "POST", "/api/admin/pbx/instance-password", nil, &gen); st != 200 ||
		len(gen.Password) < 16 || gen.Password == first.Password || gen.Token == "" || gen.Token == first.Token ||
		a.Settings.Values().AppPassword != gen.Password {
		t.Fatalf("generate: %d %+v", st, gen)
	}
	if strings.Contains(logs.String(), gen.Password) {
		t.Error("a password generated in the admin app is in the process log")
	}
	if _, v := ack(first.Token); v.Password != gen.Password {
		t.Errorf("an older token hid the new password: %+v", v)
	}
	// Set by hand while the generated one is still shown: the new one is
	// shown, and the generated one's token no longer hides anything.
	var set pbxSettingsView
	if st := adminJSON(t, a, "PUT", "/api/admin/pbx", map[string]any{"instance_password": "typed-instance-pw"}, &set); st != 200 ||
		set.Password != "typed-instance-pw" || set.Token == "" || set.Token == gen.Token {
		t.Fatalf("set: %d %+v", st, set)
	}
	if _, v := ack(gen.Token); v.Password != "typed-instance-pw" {
		t.Errorf("the generated password's token hid the one set after it: %+v", v)
	}
	// Refused input changes nothing and shows nothing new.
	if st := adminJSON(t, a, "PUT", "/api/admin/pbx", map[string]any{"instance_password": ""}, nil); st != 400 {
		t.Errorf("an empty password: %d", st)
	}
	if v, _ := view(); v.Token != set.Token || v.Password != "typed-instance-pw" {
		t.Errorf("after a refused change: %+v", v)
	}
	if st, v := ack(set.Token); st != 200 || v.Password != "" {
		t.Fatalf("confirming the password set: %d %+v", st, v)
	}
	// Only administrators.
	a.User("ursula", "user", "ursula-pw")
	for _, path := range []string{"/api/admin/pbx/instance-password", "/api/admin/pbx/instance-password/seen"} {
		if st := basicStatus(t, a, "POST", path, "ursula", "ursula-pw", `{"token":"x"}`); st != 403 {
			t.Errorf("POST %s as a user: %d, want 403", path, st)
		}
	}

	// The confirmed (hidden) password is in force: the PBX logs in with it,
	// and an App object the service creates on the PBX gets it.
	admin := pbxsim.NewAdminAPI(pbxlink.Licence, 5)
	sim := newSim(a, "typed-instance-pw", admin)
	if err := sim.Connect(ctxMinute(t)); err != nil {
		t.Fatalf("the PBX's login with the hidden password: %v", err)
	}
	waitAppObjects(t, a, func(s pbxlink.AppObjectsState) bool { return s.Connected && !s.SyncedAt.IsZero() })
	if st := adminJSON(t, a, "POST", "/api/admin/pbx/appobjects", map[string]any{"name": "recordings",
		"display_name": "Recordings", "type": "user", "base_url": "https://rec.example.com/example.com/recordings"}, nil); st != 200 {
		t.Fatalf("create an App object: %d", st)
	}
	if o, ok := admin.ObjectByCN("Recordings"); !ok || o.Pwd != "typed-instance-pw" {
		t.Errorf("the App object on the PBX: %+v", o)
	}
}

// A password given at start-up is never shown (the administrator gave it)
// and cannot be generated anew in the admin app.
func TestInstancePasswordFixedNotShown(t *testing.T) {
	t.Parallel()
	a, _ := pbxApp(t)
	raw := rawGET(t, a, "/api/admin/pbx")
	if strings.Contains(raw, testInstancePassword) || !strings.Contains(raw, `"instance_password_set":true`) ||
		!strings.Contains(raw, `"instance_password":"RECORDINGS_INSTANCE_PASSWORD"`) {
		t.Errorf("GET /api/admin/pbx with a fixed password: %s", raw)
	}
	var v pbxSettingsView
	if st := adminJSON(t, a, "POST", "/api/admin/pbx/instance-password", nil, &v); st != 400 {
		t.Errorf("generating a fixed password: %d", st)
	}
	if a.Settings.Values().AppPassword != testInstancePassword {
		t.Error("the fixed password changed")
	}
}

// rawGET is the body of GET path as the admin.
func rawGET(t *testing.T, a *apptest.App, path string) string {
	t.Helper()
	req, err := http.NewRequest("GET", a.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("admin", "admin-pw")
	res, err := a.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", path, res.StatusCode, err)
	}
	return string(b)
}

// basicStatus sends body to path as user and returns the status.
func basicStatus(t *testing.T, a *apptest.App, method, path, user, pw, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, a.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(user, pw)
	res, err := a.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}
