package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"recordings/internal/app"
	"recordings/internal/apptest"
	"recordings/store"
)

// TestDomainAdminManagesOwnAccounts: with several domains, an
// administrator of a domain lists and manages that domain's accounts only:
// another domain's account is not found, one of every domain (the
// instance's administrators) is refused, and a reassignment moves only
// the domain's recordings.
func TestDomainAdminManagesOwnAccounts(t *testing.T) {
	t.Parallel()
	a := apptest.New(t, func(c *app.Config) { c.Domain = "a.example, b.example" })
	const pw = "password-for-tests-1"
	for _, u := range []struct {
		name, domain string
		role         store.Role
	}{
		{"ada", "a.example", store.RoleAdmin}, {"amy", "a.example", store.RoleUser}, {"ann", "a.example", store.RoleUser},
		{"bea", "b.example", store.RoleUser}, {"root", "", store.RoleAdmin},
	} {
		a.User(u.name, u.role, pw)
		if u.domain != "" {
			if _, err := a.DB.SetUserDomain(a.Ctx, u.name, u.domain); err != nil {
				t.Fatal(err)
			}
		}
	}
	// amy has a recording in each domain (her phone uploaded to both URLs).
	recA := uploadIn(t, a, "a.example", "0123456789abcdef0123456789abcdef-009033aa0001-1-amy.pcap")
	recB := uploadIn(t, a, "b.example", "fedcba9876543210fedcba9876543210-009033aa0001-1-amy.pcap")
	ada := a.SessionCookie("ada", pw)
	do := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, a.URL+path, strings.NewReader(body))
		req.AddCookie(ada)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		res, err := a.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}
	code, out := do("GET", "/api/admin/users", "")
	var names []string
	for _, u := range out["users"].([]any) {
		names = append(names, u.(map[string]any)["name"].(string))
	}
	slices.Sort(names)
	if code != http.StatusOK || !slices.Equal(names, []string{"ada", "amy", "ann"}) {
		t.Errorf("ada's user list: %d %v, want ada, amy, ann", code, names)
	}
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"PUT", "/api/admin/users/bea/password", `{"password":"new-password-for-bea"}`, http.StatusNotFound},
		{"PUT", "/api/admin/users/bea/disabled", `{"disabled":true}`, http.StatusNotFound},
		{"DELETE", "/api/admin/users/bea", "", http.StatusNotFound},
		{"PUT", "/api/admin/users/bea", `{"display_name":"Bea"}`, http.StatusNotFound},
		{"PUT", "/api/admin/users/root/password", `{"password":"new-password-for-root"}`, http.StatusForbidden},
		{"PUT", "/api/admin/users/root/disabled", `{"disabled":true}`, http.StatusForbidden},
		{"POST", "/api/admin/users/amy/reassign", `{"to":"bea"}`, http.StatusNotFound},
		{"PUT", "/api/admin/users/amy", `{"display_name":"Amy A"}`, http.StatusOK},
	} {
		if code, out := do(c.method, c.path, c.body); code != c.want {
			t.Errorf("%s %s: %d %v, want %d", c.method, c.path, code, out, c.want)
		}
	}
	// Nothing of bea's or root's changed.
	if u, err := a.DB.User(a.Ctx, "bea"); err != nil || u.Disabled || u.DisplayName == "Bea" {
		t.Errorf("bea after ada's refused changes: %+v, %v", u, err)
	}
	if _, err := a.DB.Authenticate(a.Ctx, "root", pw); err != nil {
		t.Errorf("root's password changed by a domain admin: %v", err)
	}
	// The preview of deleting amy counts her a.example recording only.
	e := &wsEnv{t: t, ctx: a.Ctx, db: a.DB, app: a, s: a.API}
	ws, _, err := e.dial(ada, a.URL)
	if err != nil {
		t.Fatal(err)
	}
	if r := ws.call("PreviewDeleteUser", map[string]any{"name": "amy"}); errOf(r) != "" || r["recordings"] != 1.0 {
		t.Errorf("ada's preview of deleting amy: %v, want 1 recording", r)
	}
	// amy's recordings move to ann in a.example only.
	if code, out := do("POST", "/api/admin/users/amy/reassign", `{"to":"ann"}`); code != http.StatusOK || out["moved"] != 1.0 {
		t.Errorf("reassign amy → ann: %d %v, want 1 moved", code, out)
	}
	for id, want := range map[int64]string{recA: "ann", recB: "amy"} {
		if r, err := a.DB.Recording(a.Ctx, id); err != nil || r.Owner != want {
			t.Errorf("recording %d owned by %q (%v), want %q", id, r.Owner, err, want)
		}
	}
}
