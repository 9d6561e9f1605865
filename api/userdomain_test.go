package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"recordings/internal/app"
	"recordings/pbx"
	"recordings/store"
)

// accountJSON is the part of an account the domain tests look at.
type accountJSON struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Domain      string `json:"domain"`
}

// jsonDo sends body (marshalled) as user with method to path and returns
// the status and the answer.
func (e *wsEnv) jsonDo(method, path, user string, body any) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.app.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.SetBasicAuth(user, wsPassword)
	res, err := e.app.Client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	return res.StatusCode, readAll(e.t, res)
}

// TestLocalAccountDomain: an administrator of no domain gives a local
// account one of the served domains or none, over REST and the websocket;
// a domain the instance does not serve, a replicated user's domain and the
// admin's own domain are refused with nothing stored; an administrator of
// a domain creates accounts only in it and changes no account's domain.
func TestLocalAccountDomain(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t, func(c *app.Config) { c.Domain = "a.example, b.example" })
	account := func(name string) store.User {
		t.Helper()
		u, err := e.db.User(e.ctx, name)
		if err != nil {
			t.Fatalf("account %s: %v", name, err)
		}
		return u
	}
	absent := func(name string) {
		t.Helper()
		if _, err := e.db.User(e.ctx, name); err == nil {
			t.Fatalf("account %s stored", name)
		}
	}
	newUser := func(name string, domain any, role string) map[string]any {
		m := map[string]any{"name": name, "password": wsPassword, "role": role}
		if domain != nil {
			m["domain"] = domain
		}
		return m
	}

	// The list says which domains may be given.
	code, b := e.jsonDo("GET", "/api/admin/users", "root", nil)
	var list struct {
		Domains []string `json:"domains"`
	}
	if err := json.Unmarshal(b, &list); code != 200 || err != nil || !slices.Equal(list.Domains, []string{"a.example", "b.example"}) {
		t.Fatalf("GET /api/admin/users: %d %s", code, b)
	}

	for _, c := range []struct {
		name     string
		body     map[string]any
		want     int
		domain   string // stored, when created
		contains string // in the refusal
	}{
		{"served, as configured", newUser("carla", "A.Example", "user"), 201, "a.example", ""},
		{"none", newUser("dan", "", "user"), 201, "", ""},
		{"not given", newUser("erin", nil, "user"), 201, "", ""},
		{"domain admin", newUser("anne", "a.example", "admin"), 201, "a.example", ""},
		{"not served", newUser("fay", "c.example", "user"), 400, "", `is not a domain this instance serves (a.example, b.example)`},
		{"not a string", newUser("gus", 7, "user"), 400, "", "body"},
	} {
		code, b := e.jsonDo("POST", "/api/admin/users", "root", c.body)
		if code != c.want || !strings.Contains(string(b), c.contains) {
			t.Errorf("%s: %d %s, want %d with %q", c.name, code, b, c.want, c.contains)
			continue
		}
		name := c.body["name"].(string)
		if c.want != 201 {
			absent(name)
			continue
		}
		var got accountJSON
		if err := json.Unmarshal(b, &got); err != nil || got.Domain != c.domain || account(name).Domain != c.domain {
			t.Errorf("%s: answer %s, stored %q; want domain %q", c.name, b, account(name).Domain, c.domain)
		}
	}

	// Changing a domain.
	for _, c := range []struct {
		name, account string
		body          map[string]any
		want          int
		domain        string // stored afterwards
		contains      string
	}{
		{"to another served one", "carla", map[string]any{"domain": "b.example"}, 200, "b.example", ""},
		{"to none", "carla", map[string]any{"domain": ""}, 200, "", ""},
		{"back", "carla", map[string]any{"domain": "a.example"}, 200, "a.example", ""},
		{"unchanged, in another case", "carla", map[string]any{"domain": "A.EXAMPLE", "display_name": "Carla"}, 200, "a.example", ""},
		{"not served: nothing else stored either", "carla", map[string]any{"domain": "c.example", "display_name": "Other"},
			400, "a.example", "not a domain this instance serves"},
		{"one's own", "root", map[string]any{"domain": "a.example"}, 409, "", "your own account"},
	} {
		code, b := e.jsonDo("PUT", "/api/admin/users/"+c.account, "root", c.body)
		if code != c.want || !strings.Contains(string(b), c.contains) {
			t.Errorf("%s: %d %s, want %d with %q", c.name, code, b, c.want, c.contains)
		}
		if got := account(c.account).Domain; got != c.domain {
			t.Errorf("%s: domain %q, want %q", c.name, got, c.domain)
		}
	}
	if got := account("carla").DisplayName; got != "Carla" {
		t.Errorf("display name %q after the refused change, want Carla", got)
	}

	// A user of a PBX keeps its PBX's domain.
	if _, err := e.db.PutPBXUsersIn(e.ctx, "b.example", 1, []pbx.PbxUser{{GUID: "g-pat", H323: "pat"}}); err != nil {
		t.Fatal(err)
	}
	if code, b := e.jsonDo("PUT", "/api/admin/users/pat", "root", map[string]any{"domain": "a.example"}); code != 400 ||
		!strings.Contains(string(b), "the PBX manages this user") || account("pat").Domain != "b.example" {
		t.Errorf("domain of a PBX user: %d %s, stored %q", code, b, account("pat").Domain)
	}

	// The administrator of a domain.
	code, b = e.jsonDo("GET", "/api/admin/users", "anne", nil)
	if err := json.Unmarshal(b, &list); code != 200 || err != nil || !slices.Equal(list.Domains, []string{"a.example"}) {
		t.Fatalf("GET /api/admin/users as anne: %d %s", code, b)
	}
	for _, c := range []struct {
		name   string
		body   map[string]any
		want   int
		domain string
	}{
		{"not given: hers", newUser("hal", nil, "user"), 201, "a.example"},
		{"hers", newUser("ida", "A.example", "user"), 201, "a.example"},
		{"another", newUser("jon", "b.example", "user"), 403, ""},
		{"none", newUser("kim", "", "admin"), 403, ""},
	} {
		code, b := e.jsonDo("POST", "/api/admin/users", "anne", c.body)
		name := c.body["name"].(string)
		switch {
		case code != c.want:
			t.Errorf("anne, %s: %d %s, want %d", c.name, code, b, c.want)
		case code == 201 && account(name).Domain != c.domain:
			t.Errorf("anne, %s: domain %q, want %q", c.name, account(name).Domain, c.domain)
		case code != 201:
			absent(name)
		}
	}
	for _, body := range []map[string]any{{"domain": "b.example"}, {"domain": "a.example"}} {
		if code, b := e.jsonDo("PUT", "/api/admin/users/dan", "anne", body); code != 403 || account("dan").Domain != "" {
			t.Errorf("anne moves dan to %v: %d %s", body, code, b)
		}
	}

	// The websocket: CreateUser and UpdateUser take the domain too, with
	// the same rules.
	root := e.mustDial("root")
	r := root.call("CreateUser", newUser("lou", "b.example", "user"))
	if errOf(r) != "" || r["user"].(map[string]any)["domain"] != "b.example" {
		t.Errorf("CreateUser with a domain: %v", r)
	}
	if r := root.call("CreateUser", newUser("max", "nowhere.example", "user")); !strings.Contains(errOf(r), "not a domain this instance serves") {
		t.Errorf("CreateUser with a domain not served: %v", r)
	}
	absent("max")
	r = root.call("UpdateUser", map[string]any{"name": "lou", "domain": "a.example"})
	if errOf(r) != "" || r["user"].(map[string]any)["domain"] != "a.example" || account("lou").Domain != "a.example" {
		t.Errorf("UpdateUser of the domain: %v", r)
	}
	r = root.call("ListUsers", nil)
	if fmt.Sprint(r["domains"]) != "[a.example b.example]" {
		t.Errorf("ListUsers domains: %v", r["domains"])
	}
	anne := e.mustDial("anne")
	if r := anne.call("UpdateUser", map[string]any{"name": "lou", "domain": "b.example"}); !strings.Contains(errOf(r), "you administer domain") {
		t.Errorf("UpdateUser of the domain by anne: %v", r)
	}
}

// Without configured domains the instance serves every domain: an account
// cannot be given one.
func TestLocalAccountDomainNoneConfigured(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t)
	code, b := e.jsonDo("POST", "/api/admin/users", "root", map[string]any{"name": "carla", "password": wsPassword, "domain": "a.example"})
	if code != 400 || !strings.Contains(string(b), "serves every domain") {
		t.Errorf("create with a domain: %d %s", code, b)
	}
	if code, b := e.jsonDo("PUT", "/api/admin/users/alice", "root", map[string]any{"domain": "a.example"}); code != 400 {
		t.Errorf("update with a domain: %d %s", code, b)
	}
	code, b = e.jsonDo("GET", "/api/admin/users", "root", nil)
	if code != 200 || !strings.Contains(string(b), `"domains":[]`) {
		t.Errorf("GET /api/admin/users: %d %s", code, b)
	}
}

// An administrator of a domain the instance no longer serves creates no
// accounts (they would belong to a domain nobody serves).
func TestLocalAccountDomainNoLongerServed(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t)
	if code, b := e.jsonDo("PUT", "/api/admin/pbx", "root", map[string]any{"domain": "a.example"}); code != 200 {
		t.Fatalf("set the domain: %d %s", code, b)
	}
	if code, b := e.jsonDo("POST", "/api/admin/users", "root", map[string]any{"name": "anne", "password": wsPassword,
		"role": "admin", "domain": "a.example"}); code != 201 {
		t.Fatalf("create anne: %d %s", code, b)
	}
	if code, b := e.jsonDo("POST", "/api/admin/users", "anne", map[string]any{"name": "ben", "password": wsPassword}); code != 201 {
		t.Fatalf("anne creates ben: %d %s", code, b)
	}
	if code, b := e.jsonDo("PUT", "/api/admin/pbx", "root", map[string]any{"domain": "b.example"}); code != 200 {
		t.Fatalf("change the domain: %d %s", code, b)
	}
	code, b := e.jsonDo("POST", "/api/admin/users", "anne", map[string]any{"name": "cid", "password": wsPassword})
	if code != 409 || !strings.Contains(string(b), "no longer one this instance serves") {
		t.Errorf("anne creates cid: %d %s", code, b)
	}
	if _, err := e.db.User(e.ctx, "cid"); err == nil {
		t.Error("cid stored")
	}
}
