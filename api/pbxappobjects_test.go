package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"recordings/internal/apptest"
	"recordings/internal/pbxsim"
	"recordings/pbxlink"
	"recordings/store"
)

// adminJSON sends an admin request with a JSON body (nil: none) and
// decodes the answer into out (nil: discarded); it returns the status.
func adminJSON(t *testing.T, a *apptest.App, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("admin", "admin-pw")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := a.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	if res.StatusCode >= 300 {
		t.Logf("%s %s: %d %s", method, path, res.StatusCode, bytes.TrimSpace(b))
	}
	return res.StatusCode
}

// waitAppObjects waits until the App-object client's state satisfies ok.
func waitAppObjects(t *testing.T, a *apptest.App, ok func(pbxlink.AppObjectsState) bool) {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		ch := a.AppObjects.Changed()
		if ok(a.AppObjects.State()) {
			return
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("app objects not as wanted within a minute: %+v", a.AppObjects.State())
		}
	}
}

type appObjectsList struct {
	AppObjects []struct {
		Name   string   `json:"name"`
		Type   string   `json:"type"`
		Access []string `json:"access"`
		PBX    struct {
			State string `json:"state"`
			GUID  string `json:"guid"`
			URL   string `json:"url"`
		} `json:"pbx"`
	} `json:"app_objects"`
	PBX struct {
		Connected bool   `json:"connected"`
		Objects   int    `json:"objects"`
		SyncedAt  string `json:"synced_at"`
	} `json:"pbx"`
}

func (l appObjectsList) states() map[string]string {
	m := map[string]string{}
	for _, o := range l.AppObjects {
		m[o.Name] = o.PBX.State
	}
	return m
}

// The admin creates both App objects on the (simulated) PBX, edits an
// access list, assigns an object to a template, deletes one; the
// app-object table follows the PBX's list; with the PBX disconnected every
// change is refused and nothing is sent.
func TestPBXAppObjects(t *testing.T) {
	t.Parallel()
	a, _ := pbxApp(t)
	if _, err := a.DB.CreateAppObject(a.Ctx, store.AppObject{Name: "typed", Access: []string{"300"}}); err != nil {
		t.Fatal(err)
	}
	admin := pbxsim.NewAdminAPI(pbxlink.Licence, 5)
	admin.AddObject("Std", "", true)
	sim := newSim(a, testInstancePassword, admin)
	if err := sim.Connect(ctxMinute(t)); err != nil {
		t.Fatal(err)
	}
	waitAppObjects(t, a, func(s pbxlink.AppObjectsState) bool { return s.Connected && !s.SyncedAt.IsZero() })

	var l appObjectsList
	if st := adminJSON(t, a, "GET", "/api/admin/appobjects", nil, &l); st != 200 || !l.PBX.Connected {
		t.Fatalf("list: %d %+v", st, l)
	}
	if got := l.states()["typed"]; got != store.PBXStateMissing {
		t.Errorf("typed in, not on the PBX: state %q", got)
	}

	base := "https://rec.example.com/example.com/recordings"
	for _, c := range []struct {
		body map[string]any
		want int
	}{
		{map[string]any{"name": "recordings", "display_name": "Recordings", "type": "user", "base_url": base}, 200},
		{map[string]any{"name": "recordings-admin", "display_name": "Recordings Admin", "type": "admin", "base_url": base}, 200},
		{map[string]any{"name": "recordings", "type": "user", "base_url": base}, 409},
		{map[string]any{"name": "bad name", "type": "user", "base_url": base}, 400},
		{map[string]any{"name": "x", "type": "other", "base_url": base}, 400},
		{map[string]any{"name": "x", "type": "user"}, 400}, // no domain configured, no base_url
	} {
		if st := adminJSON(t, a, "POST", "/api/admin/pbx/appobjects", c.body, nil); st != c.want {
			t.Errorf("create %v: %d, want %d", c.body, st, c.want)
		}
	}
	u, ok := admin.ObjectByCN("Recordings")
	if !ok || u.AppURL() != base+"/innovaphone-recordings" || !u.AppFlag("websocket") || !u.AppFlag("admin") ||
		u.Pwd != testInstancePassword {
		t.Errorf("the recordings object on the PBX: %+v", u)
	}
	if ad, _ := admin.ObjectByCN("Recordings Admin"); ad.CopiedFrom != "recordings" {
		t.Errorf("the admin object's password is not copied: %+v", ad)
	}
	l = appObjectsList{}
	adminJSON(t, a, "GET", "/api/admin/appobjects", nil, &l)
	want := map[string]string{"recordings": store.PBXStatePresent, "recordings-admin": store.PBXStatePresent, "typed": store.PBXStateMissing}
	for n, s := range want {
		if l.states()[n] != s {
			t.Errorf("after creating: %s is %q, want %q (%+v)", n, l.states()[n], s, l)
		}
	}

	// The access list is the service's; a refresh from the PBX keeps it.
	if st := adminJSON(t, a, "PUT", "/api/admin/appobjects/recordings", map[string]any{"type": "user", "display_name": "Recordings",
		"access": []string{"201", "bob"}}, nil); st != 200 {
		t.Fatalf("access list: %d", st)
	}
	if st := adminJSON(t, a, "POST", "/api/admin/pbx/appobjects/refresh", nil, nil); st != 200 {
		t.Fatalf("refresh: %d", st)
	}
	if o, err := a.DB.AppObjectByName(a.Ctx, "recordings"); err != nil || len(o.Access) != 2 {
		t.Errorf("access list after a refresh: %+v %v", o, err)
	}

	// Assignment to a config template.
	if st := adminJSON(t, a, "PUT", "/api/admin/pbx/assignments", map[string]any{"object": "Std", "app_object": "recordings", "on": true}, nil); st != 204 {
		t.Errorf("assign: %d", st)
	}
	if tm, _ := admin.ObjectByCN("Std"); tm.Apps != "recordings" {
		t.Errorf("template apps: %q", tm.Apps)
	}
	var tps struct {
		Templates []struct {
			CN   string   `json:"cn"`
			Apps []string `json:"apps"`
		} `json:"templates"`
	}
	if st := adminJSON(t, a, "GET", "/api/admin/pbx/templates", nil, &tps); st != 200 || len(tps.Templates) != 1 || len(tps.Templates[0].Apps) != 1 {
		t.Errorf("templates: %d %+v", st, tps)
	}

	// Rename on the PBX.
	if st := adminJSON(t, a, "PUT", "/api/admin/pbx/appobjects/recordings", map[string]any{"display_name": "Call recordings"}, nil); st != 200 {
		t.Errorf("rename: %d", st)
	}
	if o, _ := a.DB.AppObjectByName(a.Ctx, "recordings"); o.DisplayName != "Call recordings" {
		t.Errorf("renamed: %+v", o)
	}

	// Delete the admin object: gone on the PBX and here; the typed-in one
	// the PBX lacks cannot be deleted on the PBX.
	if st := adminJSON(t, a, "DELETE", "/api/admin/pbx/appobjects/recordings-admin", nil, nil); st != 204 {
		t.Errorf("delete: %d", st)
	}
	if _, ok := admin.ObjectByCN("Recordings Admin"); ok {
		t.Error("still on the PBX")
	}
	if _, err := a.DB.AppObjectByName(a.Ctx, "recordings-admin"); err == nil {
		t.Error("still in the table")
	}
	if st := adminJSON(t, a, "DELETE", "/api/admin/pbx/appobjects/typed", nil, nil); st != 409 {
		t.Errorf("delete of an object the PBX lacks: %d, want 409", st)
	}

	// Disconnected: refused, nothing sent, the cache stays.
	sim.Drop()
	waitAppObjects(t, a, func(s pbxlink.AppObjectsState) bool { return !s.Connected })
	n := admin.Requests("UpdateObject")
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/admin/pbx/appobjects", map[string]any{"name": "y", "type": "user", "base_url": base}},
		{"PUT", "/api/admin/pbx/appobjects/recordings", map[string]any{"display_name": "z"}},
		{"DELETE", "/api/admin/pbx/appobjects/recordings", nil},
		{"PUT", "/api/admin/pbx/assignments", map[string]any{"object": "Std", "app_object": "recordings"}},
		{"GET", "/api/admin/pbx/templates", nil},
		{"POST", "/api/admin/pbx/appobjects/refresh", nil},
	} {
		if st := adminJSON(t, a, c.method, c.path, c.body, nil); st != 503 {
			t.Errorf("%s %s while disconnected: %d, want 503", c.method, c.path, st)
		}
	}
	if admin.Requests("UpdateObject") != n {
		t.Error("something was sent while disconnected")
	}
	l = appObjectsList{}
	adminJSON(t, a, "GET", "/api/admin/appobjects", nil, &l)
	if l.PBX.Connected || l.states()["recordings"] != store.PBXStatePresent {
		t.Errorf("disconnected: the list %+v", l)
	}
}
