package api_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"recordings/pbx"
	"recordings/store"
)

// TestPBXReplicatedUsers: users replicated from the PBX are in the admin's
// list (source pbx, no password), own the uploads of their phones through
// the running service, keep what the PBX manages out of the admin's
// edits, and when the PBX deletes one, its recordings stay, marked.
func TestPBXReplicatedUsers(t *testing.T) {
	t.Parallel()
	e := newPBXEnv(t, store.User{Name: "Local"})
	cs, err := e.app.DB.PutPBXUsers(e.app.Ctx, 1, []pbx.PbxUser{
		{GUID: "g-ann", H323: "ann", CN: "Ann Long", DN: "Ann", E164: "201", MACs: []string{"009033000201"}, HasDevices: true},
		{GUID: "g-local", H323: "local", DN: "Local from PBX", HasDevices: true},
	})
	if err != nil || cs[0].Refused != nil || !cs[1].Linked {
		t.Fatalf("PutPBXUsers = %+v, %v", cs, err)
	}
	type userRow struct {
		Name        string   `json:"name"`
		DisplayName string   `json:"display_name"`
		MACs        []string `json:"macs"`
		HasPassword bool     `json:"has_password"`
		Source      string   `json:"source"`
		PBXGUID     string   `json:"pbx_guid"`
		CN          string   `json:"cn"`
		PBXDeleted  bool     `json:"pbx_deleted"`
	}
	list := func() map[string]userRow {
		t.Helper()
		var l struct {
			Users []userRow `json:"users"`
		}
		if err := json.Unmarshal(readAll(t, e.do("GET", "/api/admin/users", "admin", nil)), &l); err != nil {
			t.Fatal(err)
		}
		m := map[string]userRow{}
		for _, u := range l.Users {
			m[u.Name] = u
		}
		return m
	}
	users := list()
	if len(users) != 3 {
		t.Fatalf("admin's list: %+v", users)
	}
	if u := users["ann"]; u.Source != "pbx" || u.PBXGUID != "g-ann" || u.HasPassword || u.CN != "Ann Long" ||
		u.DisplayName != "Ann" || len(u.MACs) != 1 || u.PBXDeleted {
		t.Errorf("replicated user: %+v", u)
	}
	// The local account of the same name is the PBX user: one account,
	// one owner, its password kept.
	if u := users["local"]; u.Source != "pbx" || !u.HasPassword || u.DisplayName != "Local from PBX" {
		t.Errorf("linked account: %+v", u)
	}
	if u := users["admin"]; u.Source != "local" || u.PBXGUID != "" {
		t.Errorf("admin: %+v", u)
	}

	id := e.upload("0123456789abcdef0123456789abcdef-009033000201-1.pcap")
	r, code := e.get(id, "admin")
	if code != 200 || r.Owner != "ann" || r.OwnerSource != "mac" {
		t.Fatalf("upload from ann's phone: %d %+v", code, r)
	}

	for _, c := range []struct{ method, path, body string }{
		{"PUT", "/api/admin/users/ann", `{"macs":["009033000299"]}`},
		{"PUT", "/api/admin/users/ann", `{"display_name":"Other"}`},
		{"PUT", "/api/admin/users/ann", `{"e164":"999"}`},
	} {
		if resp := e.do(c.method, c.path, "admin", strings.NewReader(c.body)); resp.StatusCode != 400 ||
			!strings.Contains(string(readAll(t, resp)), "PBX") {
			t.Errorf("%s %s %s: %d, want 400 naming the PBX", c.method, c.path, c.body, resp.StatusCode)
		}
	}
	if resp := e.do("PUT", "/api/admin/users/ann", "admin", strings.NewReader(`{"role":"admin"}`)); resp.StatusCode != 200 {
		t.Errorf("role of a replicated user: %d %s", resp.StatusCode, readAll(t, resp))
	}
	if resp := e.do("DELETE", "/api/admin/users/ann", "admin", nil); resp.StatusCode != 409 {
		t.Errorf("delete of a live PBX user: %d", resp.StatusCode)
	}

	if _, found, err := e.app.DB.DeletePBXUser(e.app.Ctx, "g-ann"); err != nil || !found {
		t.Fatalf("DeletePBXUser: %v %v", found, err)
	}
	if u := list()["ann"]; !u.PBXDeleted || len(u.MACs) != 0 {
		t.Errorf("deleted user in the list: %+v", u)
	}
	var rec struct {
		Owner        string `json:"owner"`
		OwnerDeleted bool   `json:"owner_deleted"`
	}
	if err := json.Unmarshal(readAll(t, e.do("GET", "/api/recordings/"+strconv.FormatInt(id, 10), "admin", nil)), &rec); err != nil ||
		rec.Owner != "ann" || !rec.OwnerDeleted {
		t.Errorf("recording of the deleted user: %+v %v", rec, err)
	}
	// A new recording from the phone of a deleted user is nobody's.
	id2 := e.upload("0123456789abcdef0123456789abcde0-009033000201-1.pcap")
	if r, _ := e.get(id2, "admin"); r.Owner != "" {
		t.Errorf("upload from a deleted user's phone owned by %q", r.Owner)
	}
	if resp := e.do("DELETE", "/api/admin/users/ann", "admin", nil); resp.StatusCode != 204 && resp.StatusCode != 200 {
		t.Errorf("delete of a user the PBX deleted: %d %s", resp.StatusCode, readAll(t, resp))
	}
}
