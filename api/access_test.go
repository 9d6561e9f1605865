package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"recordings/calls"
	"recordings/store"
)

// Every API that shows, serves or changes a recording lets a user reach
// their own recordings and those of their app object's access list, and
// nothing else.
func TestAuthorizationWithAccessLists(t *testing.T) {
	t.Parallel()
	e := newPBXEnv(t,
		store.User{Name: "alice", E164: "200"}, store.User{Name: "bob", E164: "201"},
		store.User{Name: "carol", E164: "202"}, store.User{Name: "dave", E164: "203"})
	ctx := context.Background()
	ids := map[string]int64{}
	names := map[string]string{}
	for i, owner := range []string{"alice", "bob", "carol", "dave", ""} {
		name := fmt.Sprintf("0123456789abcdef0123456789abcde%d-0090330000f%d-1", i, i)
		if owner != "" {
			name += "--" + owner
		}
		name += ".pcap"
		ids[owner] = e.upload(name)
		names[owner] = name
	}
	// Admin API: app objects, one by number, one by name.
	for _, body := range []string{
		`{"name":"team","display_name":"Team","type":"user","access":["201"]}`,
		`{"name":"sup","type":"user","access":["carol","alice"]}`,
	} {
		if resp := e.do("POST", "/api/admin/appobjects", "admin", strings.NewReader(body)); resp.StatusCode != 201 {
			t.Fatalf("create app object: %d %s", resp.StatusCode, readAll(t, resp))
		}
	}
	if resp := e.do("PUT", "/api/admin/users/alice/appobject", "admin", strings.NewReader(`{"app_object":"team"}`)); resp.StatusCode != 204 {
		t.Fatalf("default app object: %d %s", resp.StatusCode, readAll(t, resp))
	}
	// dave signs in through "sup" (a session as AppLogin makes it).
	dave, _ := e.db.User(ctx, "dave")
	tok, err := e.db.CreateAppSession(ctx, dave.ID, time.Hour, "sup", "")
	if err != nil {
		t.Fatal(err)
	}
	type who struct {
		name string
		hdr  []string // request headers; nil means Basic as name
	}
	cases := []struct {
		who  who
		sees []string
	}{
		{who{"alice", nil}, []string{"alice", "bob"}}, // own + team (bob by number)
		{who{"bob", nil}, []string{"bob"}},            // no app object
		{who{"carol", nil}, []string{"carol"}},        // not on anyone's list herself
		{who{"dave-session", []string{"Cookie", "recordings_session=" + tok, "Origin", e.app.URL}}, []string{"alice", "carol", "dave"}}, // through sup
		{who{"admin", nil}, []string{"", "alice", "bob", "carol", "dave"}},
	}
	for _, tc := range cases {
		t.Run(tc.who.name, func(t *testing.T) {
			user := tc.who.name
			if tc.who.hdr != nil {
				user = ""
			}
			do := func(method, path, body string) *http.Response {
				return e.do(method, path, user, strings.NewReader(body), tc.who.hdr...)
			}
			// The list.
			var list struct{ Recordings []fullRec }
			if err := json.Unmarshal(readAll(t, do("GET", "/api/recordings", "")), &list); err != nil {
				t.Fatal(err)
			}
			var listed []int64
			for _, r := range list.Recordings {
				listed = append(listed, r.ID)
			}
			var want []int64
			for _, o := range tc.sees {
				want = append(want, ids[o])
			}
			slices.Sort(listed)
			slices.Sort(want)
			if !slices.Equal(listed, want) {
				t.Fatalf("lists %v, want %v", listed, want)
			}
			// Each single-recording API.
			for owner, id := range ids {
				visible := slices.Contains(tc.sees, owner)
				ok := func(code int) bool { return (code != http.StatusNotFound) == visible }
				p := fmt.Sprintf("/api/recordings/%d", id)
				for _, c := range []struct {
					method, path, body string
				}{
					{"GET", p, ""},
					{"GET", p + "/audio.wav", ""},
					{"GET", "/example.com/recordings/Files/" + names[owner], ""},
					{"PUT", p + "/protected", `{"protected":true}`},
					{"PUT", p + "/protected", `{"protected":false}`},
				} {
					resp := do(c.method, c.path, c.body)
					readAll(t, resp)
					if !ok(resp.StatusCode) || resp.StatusCode >= 500 || resp.StatusCode == 401 {
						t.Errorf("%s %s (owner %q): %d, visible=%v", c.method, c.path, owner, resp.StatusCode, visible)
					}
				}
				if !visible {
					if resp := do("DELETE", p, ""); resp.StatusCode != http.StatusNotFound {
						t.Errorf("DELETE %s (owner %q): %d", p, owner, resp.StatusCode)
					}
				}
			}
		})
	}
	// The recordings still exist (no refused delete went through) ...
	for owner, id := range ids {
		if _, err := e.db.Recording(ctx, id); err != nil {
			t.Fatalf("recording of %q: %v", owner, err)
		}
	}
	// ... and a permitted delete works through the access list.
	if resp := e.do("DELETE", fmt.Sprintf("/api/recordings/%d", ids["bob"]), "alice", nil); resp.StatusCode != 204 {
		t.Fatalf("alice deleting bob's (team): %d", resp.StatusCode)
	}
	// Changing the list takes effect on the next request.
	if resp := e.do("PUT", "/api/admin/appobjects/team", "admin", strings.NewReader(`{"type":"user","access":[]}`)); resp.StatusCode != 200 {
		t.Fatalf("update: %d %s", resp.StatusCode, readAll(t, resp))
	}
	if _, code := e.get(ids["carol"], "alice"); code != 404 {
		t.Fatalf("alice sees carol after list change: %d", code)
	}
	// Only admins use the admin API.
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/admin/appobjects", ""}, {"POST", "/api/admin/appobjects", `{"name":"x"}`},
		{"DELETE", "/api/admin/appobjects/team", ""}, {"GET", "/api/admin/licences", ""},
		{"PUT", "/api/admin/users/alice/licence", `{"licensed":true}`}, {"GET", "/api/admin/cdrs", ""},
	} {
		if resp := e.do(c.method, c.path, "alice", strings.NewReader(c.body)); resp.StatusCode != 403 {
			t.Errorf("alice %s %s: %d", c.method, c.path, resp.StatusCode)
		}
	}
}

func TestAppObjectAdminAPI(t *testing.T) {
	t.Parallel()
	e := newPBXEnv(t)
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/api/admin/appobjects", `{"name":"team","type":"user","access":["101","bob"]}`, 201},
		{"POST", "/api/admin/appobjects", `{"name":"TEAM"}`, 409},
		{"POST", "/api/admin/appobjects", `{"name":"x","type":"root"}`, 400},
		{"POST", "/api/admin/appobjects", `{"name":""}`, 400},
		{"POST", "/api/admin/appobjects", `{"name":"y","bogus":1}`, 400},
		{"GET", "/api/admin/appobjects/team", "", 200},
		{"GET", "/api/admin/appobjects/none", "", 404},
		{"PUT", "/api/admin/appobjects/team", `{"name":"other"}`, 400},
		{"PUT", "/api/admin/appobjects/team", `{"display_name":"Sales","type":"admin","access":["102"]}`, 200},
		{"PUT", "/api/admin/users/nobody/appobject", `{"app_object":"team"}`, 404},
		{"PUT", "/api/admin/users/admin/appobject", `{"app_object":"missing"}`, 404},
		{"DELETE", "/api/admin/appobjects/team", "", 204},
		{"DELETE", "/api/admin/appobjects/team", "", 404},
	} {
		resp := e.do(c.method, c.path, "admin", strings.NewReader(c.body))
		if b := readAll(t, resp); resp.StatusCode != c.want {
			t.Fatalf("%s %s %s: %d %s, want %d", c.method, c.path, c.body, resp.StatusCode, b, c.want)
		}
	}
	if resp := e.do("POST", "/api/admin/appobjects", "admin", strings.NewReader(`{"name":"t2","access":["1"]}`)); resp.StatusCode != 201 {
		t.Fatal(resp.StatusCode)
	}
	var out struct {
		AppObjects []struct {
			Name, Type string
			Access     []string
		} `json:"app_objects"`
	}
	if err := json.Unmarshal(readAll(t, e.do("GET", "/api/admin/appobjects", "admin", nil)), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.AppObjects) != 1 || out.AppObjects[0].Name != "t2" || out.AppObjects[0].Type != "user" ||
		!slices.Equal(out.AppObjects[0].Access, []string{"1"}) {
		t.Fatalf("list: %+v", out)
	}
}

// Recordings of users without a licence stay until the service restarts,
// the admin sees beforehand how many will go, and start-up deletes them.
func TestLicencesRestartPurge(t *testing.T) {
	t.Parallel()
	e := newPBXEnv(t, store.User{Name: "anna"}, store.User{Name: "ben"}, store.User{Name: "carla"}, store.User{Name: "erik"})
	ctx := context.Background()
	// Without a licence count nothing is enforced.
	var st struct {
		Configured bool     `json:"configured"`
		Count      int      `json:"count"`
		Assigned   int      `json:"assigned"`
		ToPurge    int64    `json:"to_purge"`
		Protected  int64    `json:"kept_protected"`
		Licensed   []string `json:"licensed"`
	}
	getStatus := func() {
		t.Helper()
		resp := e.do("GET", "/api/admin/licences", "admin", nil)
		if err := json.Unmarshal(readAll(t, resp), &st); err != nil || resp.StatusCode != 200 {
			t.Fatalf("licences: %d %v", resp.StatusCode, err)
		}
	}
	anna := e.upload("0123456789abcdef0123456789abcde1-009033000001-1--anna.pcap")
	ben := e.upload("0123456789abcdef0123456789abcde2-009033000002-1--ben.pcap")
	benProt := e.upload("0123456789abcdef0123456789abcde3-009033000002-2--ben.pcap")
	// Trunk recordings need the owning user's licence: carla (not
	// licensed) owns the incoming trunk call, erik (licensed) the queued.
	trunk := e.upload("c2c2c2c2e909d31192e80090331032dd-009033060014-1--TRUNK.pcap")
	queue := e.upload("c3c3c3c3e909d31192e80090331032dd-009033060014-2--sales.pcap")
	e.postCDRs(cdrXML(t, "trunk-in.xml"))
	e.postCDRs(cdrXML(t, "waiting.xml"))
	nobody := e.upload("0123456789abcdef0123456789abcde4-0090330000ff-1.pcap")
	if resp := e.do("PUT", fmt.Sprintf("/api/recordings/%d/protected", benProt), "admin", strings.NewReader(`{"protected":true}`)); resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	getStatus()
	if st.Configured || st.ToPurge != 0 {
		t.Fatalf("unconfigured: %+v", st)
	}
	if n, err := calls.PurgeUnlicensed(ctx, e.db, slogTo(e.logs)); err != nil || n != 0 {
		t.Fatalf("purge without licence count: %d %v", n, err)
	}
	for _, c := range []struct{ method, path, body string }{
		{"PUT", "/api/admin/licences", `{"count":2}`},
		{"PUT", "/api/admin/users/anna/licence", `{"licensed":true}`},
		{"PUT", "/api/admin/users/erik/licence", `{"licensed":true}`},
	} {
		if resp := e.do(c.method, c.path, "admin", strings.NewReader(c.body)); resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", c.method, c.path, resp.StatusCode, readAll(t, resp))
		}
	}
	if resp := e.do("PUT", "/api/admin/users/ben/licence", "admin", strings.NewReader(`{"licensed":true}`)); resp.StatusCode != 400 {
		t.Fatalf("third licence of two: %d", resp.StatusCode)
	}
	if resp := e.do("PUT", "/api/admin/licences", "admin", strings.NewReader(`{"count":1}`)); resp.StatusCode != 400 {
		t.Fatalf("count below assigned: %d", resp.StatusCode)
	}
	getStatus()
	if !st.Configured || st.Count != 2 || st.Assigned != 2 || st.ToPurge != 2 || st.Protected != 1 ||
		!slices.Equal(st.Licensed, []string{"anna", "erik"}) {
		t.Fatalf("status: %+v", st)
	}
	// Still there until the restart.
	for _, id := range []int64{ben, trunk} {
		if _, code := e.get(id, "admin"); code != 200 {
			t.Fatalf("recording %d gone before restart", id)
		}
	}
	// "Restart": start-up purge on the same database, as serve runs it.
	n, err := calls.PurgeUnlicensed(ctx, e.db, slogTo(e.logs))
	if err != nil || n != 2 {
		t.Fatalf("purge: %d %v", n, err)
	}
	for id, kept := range map[int64]bool{anna: true, ben: false, benProt: true, trunk: false, queue: true, nobody: true} {
		if _, code := e.get(id, "admin"); (code == 200) != kept {
			t.Errorf("recording %d: status %d, kept want %v", id, code, kept)
		}
	}
	if logs := e.logs.String(); !strings.Contains(logs, `category=License`) || !strings.Contains(logs, "deleted=2") ||
		!strings.Contains(logs, "kept_protected=1") {
		t.Fatalf("purge not logged with counts:\n%s", logs)
	}
	getStatus()
	if st.ToPurge != 0 {
		t.Fatalf("after purge: %+v", st)
	}
}
