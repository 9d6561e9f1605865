package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"recordings/internal/callgen"
	"recordings/store"
)

// caller is one way of presenting oneself to the service.
type caller struct {
	name string
	user string // whose recordings it may reach; "" none, "*" all
	auth func(*http.Request)
	sees []string // owners reachable through the user's access list
}

// reaches reports whether c may reach a recording of owner.
func (c caller) reaches(owner string) bool {
	return c.user == "*" || (c.user != "" && (c.user == owner || slices.Contains(c.sees, owner)))
}

func basicAuth(user, pw string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(user, pw) }
}

// TestAuthorizationMatrix tries every role on every recording with every
// verb of the API and the download URLs, and checks that the answer is
// allowed or denied as the rules say, and that a denial looks exactly like
// a recording that does not exist.
//
// carol reaches bob's recordings through her app object's access list
// (issue 4).
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	e := newHostileEnv(t)
	ctx := context.Background()
	client := &http.Client{Timeout: 10 * time.Second}
	base := e.app.URL
	capture := callgen.Default(50).Bytes()
	seq := 0
	upload := func(owner string) store.Recording {
		t.Helper()
		seq++
		name := fmt.Sprintf("%032x-009033302ab1-%d--%s.pcap", seq, seq, owner)
		req, _ := http.NewRequest(http.MethodPut, base+"/example.com/recordings/Files/"+name, bytes.NewReader(capture))
		req.SetBasicAuth("phone", "phone-pw")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload for %s: %d", owner, resp.StatusCode)
		}
		rec, err := e.db.RecordingByName(ctx, "example.com", name)
		if err != nil {
			t.Fatal(err)
		}
		return e.app.WaitRecording(rec.ID, func(r store.Recording) bool { return r.State == store.StateReady })
	}
	do := func(c caller, method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if c.auth != nil {
			c.auth(req)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		// The matrix signs in wrongly on purpose, hundreds of times: the
		// sign-in throttle (tested in security_people_test.go) would
		// answer 429 instead of what is checked here.
		e.app.API.ForgetAllLoginFailures()
		return resp.StatusCode, string(b)
	}

	// Sessions for the cookie variants.
	cookie := func(user string) func(*http.Request) {
		u, err := e.db.User(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := e.db.CreateSession(ctx, u.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return func(r *http.Request) {
			r.AddCookie(&http.Cookie{Name: "recordings_session", Value: tok})
			r.Header.Set("Origin", base) // as the app's page sends it
		}
	}
	// carol's default app object lists bob.
	if _, err := e.db.CreateUser(ctx, store.User{Name: "carol", Role: store.RoleUser}, "carol-pw"); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/api/admin/appobjects", `{"name":"team","type":"user","access":["bob"]}`},
		{"PUT", "/api/admin/users/carol/appobject", `{"app_object":"team"}`},
	} {
		if code, body := do(caller{auth: basicAuth("admin", "admin-pw")}, r.method, r.path, r.body); code/100 != 2 {
			t.Fatalf("%s %s: %d %s", r.method, r.path, code, body)
		}
	}
	callers := []caller{
		{"anonymous", "", nil, nil},
		{"wrong password", "", basicAuth("alice", "bob-pw"), nil},
		{"unknown user", "", basicAuth("mallory", "mallory-pw"), nil},
		{"phone upload account", "", basicAuth("phone", "phone-pw"), nil},
		{"alice (basic)", "alice", basicAuth("alice", "alice-pw"), nil},
		{"alice (session)", "alice", cookie("alice"), nil},
		{"bob (basic)", "bob", basicAuth("bob", "bob-pw"), nil},
		{"admin (basic)", "*", basicAuth("admin", "admin-pw"), nil},
		{"admin (session)", "*", cookie("admin"), nil},
		{"carol (access list: bob)", "carol", basicAuth("carol", "carol-pw"), []string{"bob"}},
	}
	aliceRec, bobRec := upload("alice"), upload("bob")
	// A recording whose owner matches no account, e.g. a phone not yet mapped.
	orphanRec := upload("nobody")
	missing := store.Recording{ID: orphanRec.ID + 1000, Domain: "example.com",
		Name: fmt.Sprintf("%032x-009033302ab1-1--alice.pcap", 999999), Owner: "alice"}

	type verb struct {
		name   string
		method string
		path   func(store.Recording) string
		body   string
		ok     int
		mutate bool // changes the recording: run on a fresh copy
	}
	id := func(tail string) func(store.Recording) string {
		return func(r store.Recording) string { return fmt.Sprintf("/api/recordings/%d%s", r.ID, tail) }
	}
	verbs := []verb{
		{"get", "GET", id(""), "", 200, false},
		{"audio", "GET", id("/audio.wav"), "", 200, false},
		{"audio head", "HEAD", id("/audio.wav"), "", 200, false},
		{"download capture", "GET", func(r store.Recording) string { return "/" + r.Domain + "/recordings/Files/" + r.Name }, "", 200, false},
		{"protect", "PUT", id("/protected"), `{"protected":true}`, 200, true},
		{"delete", "DELETE", id(""), "", 204, true},
	}
	owners := []string{"alice", "bob", "nobody", "missing"}
	recOf := map[string]store.Recording{"alice": aliceRec, "bob": bobRec, "nobody": orphanRec, "missing": missing}

	// What "no such recording" looks like, per verb, to a signed-in user.
	notFound := map[string]string{}
	admin := callers[7]
	for _, v := range verbs {
		code, body := do(admin, v.method, v.path(missing), v.body)
		if code != http.StatusNotFound {
			t.Fatalf("%s on a missing recording as admin: %d %s", v.name, code, body)
		}
		notFound[v.name] = body
	}

	before := digest(t, e.db)
	checks := 0
	for _, c := range callers {
		for _, owner := range owners {
			for _, v := range verbs {
				t.Run(c.name+"/"+owner+"/"+v.name, func(t *testing.T) {
					rec := recOf[owner]
					if v.mutate && owner != "missing" {
						rec = upload(owner)
						defer func() {
							if err := e.db.SetProtected(ctx, rec.ID, false); err != nil && !errors.Is(err, store.ErrNotFound) {
								t.Fatal(err)
							}
							if err := e.db.DeleteRecording(ctx, rec.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
								t.Fatal(err)
							}
						}()
					}
					want := v.ok
					switch {
					case c.user == "":
						want = http.StatusUnauthorized
					case owner == "missing" || !c.reaches(owner):
						want = http.StatusNotFound
					}
					snap := digest(t, e.db)
					code, body := do(c, v.method, v.path(rec), v.body)
					checks++
					if code != want {
						t.Fatalf("%s %s: %d %.200s, want %d", v.method, v.path(rec), code, body, want)
					}
					switch want {
					case http.StatusNotFound:
						// A denial is indistinguishable from a missing recording.
						if body != notFound[v.name] {
							t.Errorf("denial %q differs from not-found %q", body, notFound[v.name])
						}
					case http.StatusUnauthorized:
						if v.method != "HEAD" && !strings.Contains(body, "required") {
							t.Errorf("401 without a reason: %q", body)
						}
					}
					if want != v.ok || !v.mutate {
						if digest(t, e.db) != snap {
							t.Errorf("a %d answer changed what is stored", code)
						}
						return
					}
					after, err := e.db.Recording(ctx, rec.ID)
					switch v.name {
					case "protect":
						if err != nil || !after.Protected {
							t.Errorf("protect allowed but recording %+v, %v", after, err)
						}
					case "delete":
						if err == nil {
							t.Errorf("delete allowed but the recording is still there")
						}
					}
				})
			}
		}
	}
	if digest(t, e.db) != before {
		t.Errorf("the matrix changed the shared recordings")
	}

	// Lists show each user exactly their own, and no filter widens that.
	all := []int64{aliceRec.ID, bobRec.ID, orphanRec.ID}
	for _, c := range callers {
		for _, q := range []string{"", "?q=bob", "?q=%25", "?q=nobody", "?limit=500"} {
			code, body := do(c, "GET", "/api/recordings"+q, "")
			if c.user == "" {
				if code != http.StatusUnauthorized {
					t.Errorf("%s: list%s: %d, want 401", c.name, q, code)
				}
				continue
			}
			var out struct {
				Recordings []struct {
					ID    int64  `json:"id"`
					Owner string `json:"owner"`
				} `json:"recordings"`
			}
			if code != http.StatusOK || json.Unmarshal([]byte(body), &out) != nil {
				t.Fatalf("%s: list%s: %d %s", c.name, q, code, body)
			}
			for _, r := range out.Recordings {
				if !slices.Contains(all, r.ID) {
					t.Errorf("%s: list%s shows recording %d, which the matrix deleted", c.name, q, r.ID)
				}
				if !c.reaches(r.Owner) {
					t.Errorf("%s: list%s leaks recording %d of %s", c.name, q, r.ID, r.Owner)
				}
			}
			if c.user == "*" && q == "" && len(out.Recordings) != len(all) {
				t.Errorf("admin lists %d recordings, want %d", len(out.Recordings), len(all))
			}
			if c.user == "alice" && q == "" && (len(out.Recordings) != 1 || out.Recordings[0].ID != aliceRec.ID) {
				t.Errorf("%s lists %+v, want only recording %d", c.name, out.Recordings, aliceRec.ID)
			}
			checks++
		}
	}

	// Guessing: alice walks every id up to past the last one, and every
	// download URL under other domains; only her own answers.
	alice := callers[4]
	last := orphanRec.ID + 50
	for n := int64(1); n <= last; n++ {
		code, body := do(alice, "GET", fmt.Sprintf("/api/recordings/%d", n), "")
		checks++
		if n == aliceRec.ID {
			if code != http.StatusOK {
				t.Errorf("alice's own %d: %d", n, code)
			}
			continue
		}
		if code != http.StatusNotFound || body != notFound["get"] {
			t.Errorf("alice guessing id %d: %d %.200s", n, code, body)
		}
	}
	for _, path := range []string{
		"/other.example/recordings/Files/" + aliceRec.Name,
		"/EXAMPLE.COM/recordings/Files/" + bobRec.Name,
		"/example.com/recordings/Files/" + strings.ToUpper(bobRec.Name),
		"/example.com/recordings/Files/" + strings.Replace(bobRec.Name, "--bob", "--alice", 1),
	} {
		code, body := do(alice, "GET", path, "")
		checks++
		if code != http.StatusNotFound || body != notFound["download capture"] {
			t.Errorf("alice guessing %s: %d %.200s", path, code, body)
		}
	}
	t.Logf("%d authorization checks", checks)
}

// TestAuthorizationMatrixWebsocket does the same over the websocket API:
// every caller, every recording, every message that reaches a recording, and
// the administrators' messages.
func TestAuthorizationMatrixWebsocket(t *testing.T) {
	t.Parallel()
	e := newHostileEnv(t)
	ctx := context.Background()
	if _, err := e.db.CreateUser(ctx, store.User{Name: "carol", Role: store.RoleUser}, "carol-pw"); err != nil {
		t.Fatal(err)
	}
	admin := basicAuth("admin", "admin-pw")
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/api/admin/appobjects", `{"name":"team","type":"user","access":["bob"]}`},
		{"PUT", "/api/admin/users/carol/appobject", `{"app_object":"team"}`},
	} {
		req, _ := http.NewRequest(r.method, e.app.URL+r.path, strings.NewReader(r.body))
		admin(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode/100 != 2 {
			t.Fatalf("%s %s: %v %v", r.method, r.path, resp, err)
		}
		resp.Body.Close()
	}
	capture := callgen.Default(50).Bytes()
	seq := 0
	upload := func(owner string) int64 {
		t.Helper()
		seq++
		name := fmt.Sprintf("%032x-009033302ab1-%d--%s.pcap", seq, seq, owner)
		req, _ := http.NewRequest(http.MethodPut, e.app.URL+"/example.com/recordings/Files/"+name, bytes.NewReader(capture))
		req.SetBasicAuth("phone", "phone-pw")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload for %s: %v %v", owner, resp, err)
		}
		resp.Body.Close()
		rec, err := e.db.RecordingByName(ctx, "example.com", name)
		if err != nil {
			t.Fatal(err)
		}
		return e.app.WaitRecording(rec.ID, func(r store.Recording) bool { return r.State == store.StateReady }).ID
	}
	shared := map[string]int64{"alice": upload("alice"), "bob": upload("bob"), "nobody": upload("nobody")}
	shared["missing"] = shared["nobody"] + 1000

	callers := []caller{
		{"anonymous", "", nil, nil},
		{"wrong password", "", basicAuth("alice", "bob-pw"), nil},
		{"phone upload account", "", basicAuth("phone", "phone-pw"), nil},
		{"alice", "alice", basicAuth("alice", "alice-pw"), nil},
		{"bob", "bob", basicAuth("bob", "bob-pw"), nil},
		{"carol (access list: bob)", "carol", basicAuth("carol", "carol-pw"), []string{"bob"}},
		{"admin", "*", admin, nil},
	}
	checks := 0
	for _, c := range callers {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{"Origin": {e.app.URL}}
			if c.auth != nil {
				req, _ := http.NewRequest("GET", "/", nil)
				c.auth(req)
				h.Set("Authorization", req.Header.Get("Authorization"))
			}
			// Each step has its own generous deadline: the subtest as a
			// whole runs dozens of uploads and calls, which on a loaded
			// machine under -race take far longer than any fixed total.
			dctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			conn, _, err := websocket.Dial(dctx, "ws"+strings.TrimPrefix(e.app.URL, "http")+"/api/ws", &websocket.DialOptions{HTTPHeader: h})
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer conn.CloseNow()
			conn.SetReadLimit(4 << 20)
			n := 0
			call := func(mt string, params map[string]any) map[string]any {
				t.Helper()
				n++
				m := map[string]any{"mt": mt, "src": fmt.Sprint(n)}
				for k, v := range params {
					m[k] = v
				}
				b, _ := json.Marshal(m)
				cctx, ccancel := context.WithTimeout(ctx, time.Minute)
				defer ccancel()
				if err := conn.Write(cctx, websocket.MessageText, b); err != nil {
					t.Fatalf("write: %v", err)
				}
				for {
					_, data, err := conn.Read(cctx)
					if err != nil {
						t.Fatalf("%s: read: %v", mt, err)
					}
					var r map[string]any
					if err := json.Unmarshal(data, &r); err != nil {
						t.Fatal(err)
					}
					if r["src"] == fmt.Sprint(n) {
						checks++
						return r
					}
				}
			}
			wantErr := func(owner string) string {
				switch {
				case c.user == "":
					return "sign-in required"
				case owner == "missing" || !c.reaches(owner):
					return "no such recording"
				}
				return ""
			}
			for _, owner := range []string{"alice", "bob", "nobody", "missing"} {
				for _, mt := range []string{"GetRecording", "SetProtected", "DeleteRecording"} {
					id := shared[owner]
					if mt != "GetRecording" && owner != "missing" {
						id = upload(owner) // a fresh copy for the messages that change it
					}
					params := map[string]any{"id": id}
					if mt == "SetProtected" {
						params["protected"] = true
					}
					snap := digest(t, e.db)
					r := call(mt, params)
					got, _ := r["error"].(string)
					if want := wantErr(owner); got != want {
						t.Errorf("%s on %s's: error %q, want %q", mt, owner, got, want)
					}
					if got != "" && digest(t, e.db) != snap {
						t.Errorf("refused %s on %s's changed what is stored", mt, owner)
					}
					if id != shared[owner] && owner != "missing" {
						_ = e.db.SetProtected(ctx, id, false)
						_ = e.db.DeleteRecording(ctx, id)
					}
				}
			}
			r := call("ListRecordings", map[string]any{"limit": 500})
			if c.user == "" {
				if r["error"] != "sign-in required" {
					t.Errorf("ListRecordings: %v", r)
				}
			} else {
				recs, _ := r["recordings"].([]any)
				var owners []string
				for _, x := range recs {
					owners = append(owners, x.(map[string]any)["owner"].(string))
				}
				for _, o := range owners {
					if !c.reaches(o) {
						t.Errorf("ListRecordings leaks a recording of %s", o)
					}
				}
				for _, o := range []string{"alice", "bob", "nobody"} {
					if c.reaches(o) && !slices.Contains(owners, o) {
						t.Errorf("ListRecordings lacks %s's recording", o)
					}
				}
			}
			for _, mt := range []string{"ListUsers", "GetSettings", "SetSettings", "CreateUser"} {
				if c.user == "*" && (mt == "SetSettings" || mt == "CreateUser") {
					continue // changes settings and users: covered by the websocket tests
				}
				r := call(mt, nil)
				got, _ := r["error"].(string)
				want := ""
				switch {
				case c.user == "":
					want = "sign-in required"
				case c.user != "*":
					want = "administrators only"
				}
				if got != want {
					t.Errorf("%s: error %q, want %q", mt, got, want)
				}
			}
		})
	}
	t.Logf("%d websocket authorization checks", checks)
}
