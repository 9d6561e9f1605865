package api_test

import (
	"slices"
	"strings"
	"testing"
)

// The PBX Manager plugin's connection to the instance: signed in with the
// instance password and pbxObj "-", it reads and writes access lists and
// nothing else; without pbxObj "-" (or with a wrong digest) it is refused.
func TestManagerConnection(t *testing.T) {
	t.Parallel()
	e := appLoginEnv(t)

	refused := e.mustDial("")
	p := appLoginParams("innovaphone-recordingsmanager", "", "", challengeOf(t, refused), "pwd")
	if r := refused.call("AppLogin", p); r["ok"] != false || !strings.Contains(errOf(r), "unknown app") {
		t.Fatalf("without pbxObj: %v", r)
	}
	p = appLoginParams("innovaphone-recordingsmanager", "", "", challengeOf(t, refused), "wrong")
	p["pbxObj"] = "-"
	if r := refused.call("AppLogin", p); r["ok"] != false || !strings.Contains(errOf(r), "wrong digest") {
		t.Fatalf("wrong password: %v", r)
	}
	e.s.ForgetLoginFailures("127.0.0.1")

	c := e.mustDial("")
	p = appLoginParams("innovaphone-recordingsmanager", "", "", challengeOf(t, c), "pwd")
	p["pbxObj"] = "-"
	if r := c.call("AppLogin", p); r["ok"] != true {
		t.Fatalf("manager login: %v", r)
	}
	steps := []struct {
		mt      string
		params  map[string]any
		wantErr string
		access  []string
	}{
		{"GetAppObjectAccess", map[string]any{"name": "team"}, "", []string{"201"}},
		{"SetAppObjectAccess", map[string]any{"name": "TEAM", "access": []string{"300", " bob ", "300"}}, "", []string{"300", "bob"}},
		{"GetAppObjectAccess", map[string]any{"name": "team"}, "", []string{"300", "bob"}},
		{"GetAppObjectAccess", map[string]any{"name": "unknown"}, "", []string{}},
		{"SetAppObjectAccess", map[string]any{"name": "unknown", "access": []string{"1"}}, "not known here", nil},
		{"SetAppObjectAccess", map[string]any{"name": "team", "access": []string{strings.Repeat("x", 100)}}, "access", nil},
		{"RefreshAppObjects", nil, "not connected", nil},
		{"ListRecordings", nil, "unknown message type", nil},
		{"GetSettings", nil, "unknown message type", nil},
	}
	for _, s := range steps {
		r := c.call(s.mt, s.params)
		if s.wantErr != "" {
			if !strings.Contains(errOf(r), s.wantErr) {
				t.Errorf("%s %v: %v, want error %q", s.mt, s.params, r, s.wantErr)
			}
			continue
		}
		if errOf(r) != "" {
			t.Errorf("%s %v: %v", s.mt, s.params, r)
			continue
		}
		var got []string
		for _, a := range r["access"].([]any) {
			got = append(got, a.(string))
		}
		if !slices.Equal(got, s.access) && !(len(got) == 0 && len(s.access) == 0) {
			t.Errorf("%s %v: access %v, want %v", s.mt, s.params, got, s.access)
		}
	}
	o, err := e.db.AppObjectByName(e.ctx, "team")
	if err != nil || !slices.Equal(o.Access, []string{"300", "bob"}) {
		t.Errorf("stored: %+v %v", o, err)
	}
}
