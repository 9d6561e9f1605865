package api_test

// The attacks on the ingress (phones' uploads, the PBX's CDRs) of issue 14,
// each as "the attack, then what is refused and that nothing stored
// changed".

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"recordings/events"
	"recordings/internal/app"
	"recordings/internal/apptest"
	"recordings/internal/callgen"
	"recordings/internal/testutil"
	"recordings/store"
)

// stored is what the attacks must not change: every recording with its
// capture, every account, and the stored CDRs.
func stored(t *testing.T, db *store.DB) string {
	t.Helper()
	cdrs, err := db.CDRs(context.Background(), 0, store.MaxListLimit)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(digest(t, db))
	for _, c := range cdrs {
		fmt.Fprintf(&b, "|%d %s %v", c.ID, c.Raw, c.ConfIDs)
	}
	return b.String()
}

// send makes a request with the credentials given by auth (nil: none) and
// returns the status and body.
func send(t *testing.T, a *apptest.App, method, path string, body []byte, auth func(*http.Request)) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, a.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, "/cdr") {
		req.Header.Set("Content-Type", "text/xml")
	}
	if auth != nil {
		auth(req)
	}
	resp, err := a.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("%s %s: 401 without a Basic challenge", method, path)
	}
	return resp.StatusCode, string(b)
}

func basicAs(user, pw string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(user, pw) }
}

const (
	secTrunkConf = "c2c2c2c2e909d31192e80090331032dd" // the call of trunk-in.xml
	secTrunkName = secTrunkConf + "-009033060014-1--TRUNK.pcap"
	secFiles     = "/example.com/recordings/Files/"
	secCDR       = "/example.com/recordings/cdr"
)

// ingressEnv is a service with the accounts and calls the attacks aim at:
// alice's ready recording, a failed one, the trunk recording of the call of
// trunk-in.xml (before its CDRs), and carla and ben with their numbers.
func ingressEnv(t *testing.T, opts ...apptest.Option) (*apptest.App, *testutil.LogBuffer, map[string]store.Recording) {
	t.Helper()
	logs := &testutil.LogBuffer{}
	a := apptest.New(t, append([]apptest.Option{func(c *app.Config) { c.LogOutput = logs }}, opts...)...)
	for _, u := range []store.User{{Name: "carla", DisplayName: "Carla", E164: "202"}, {Name: "ben", E164: "201"}} {
		if _, err := a.DB.CreateUser(a.Ctx, u, "x-password"); err != nil {
			t.Fatal(err)
		}
	}
	recs := map[string]store.Recording{}
	for key, name := range map[string]string{
		"ready":  fmt.Sprintf("%032x-009033302ab1-1--alice.pcap", 1),
		"failed": fmt.Sprintf("%032x-009033302ab1-2--alice.pcap", 2),
		"trunk":  secTrunkName,
	} {
		body := callgen.Default(20).Bytes()
		if key == "failed" {
			body = body[:24] // a pcap header without packets: analysed as failed
		}
		if code, b := send(t, a, "PUT", secFiles+name, body, apptest.UploadAuth); code != http.StatusCreated {
			t.Fatalf("seed %s: %d %s", key, code, b)
		}
		rec, err := a.DB.RecordingByName(a.Ctx, "example.com", name)
		if err != nil {
			t.Fatal(err)
		}
		recs[key] = a.WaitAnalysed(rec.ID)
	}
	if recs["ready"].State != store.StateReady || recs["failed"].State != store.StateFailed {
		t.Fatalf("seeds: %+v", recs)
	}
	return a, logs, recs
}

// Anonymous uploads and uploads with other credentials are refused (401
// with a challenge) before anything is read: a 24-byte pcap header sent
// over an existing name wipes nothing, and a new name is not stored.
func TestAttackAnonymousUploadOverExistingName(t *testing.T) {
	t.Parallel()
	a, _, recs := ingressEnv(t)
	before := stored(t, a.DB)
	header := callgen.Default(1).Bytes()[:24]
	for _, tc := range []struct {
		name string
		auth func(*http.Request)
	}{
		{"no credentials", nil},
		{"wrong password", basicAs(apptest.UploadUser, "guess")},
		{"the CDR credentials", apptest.CDRAuth},
		{"an admin's account", basicAs("admin", apptest.AdminPassword)},
	} {
		for _, name := range []string{recs["ready"].Name, fmt.Sprintf("%032x-009033302ab1-9--alice.pcap", 9)} {
			if code, b := send(t, a, "PUT", secFiles+name, header, tc.auth); code != http.StatusUnauthorized {
				t.Errorf("%s, PUT %s: %d %s", tc.name, name, code, b)
			}
		}
	}
	if after := stored(t, a.DB); after != before {
		t.Fatal("a refused upload changed what is stored")
	}
}

// A complete capture is written once: with the right credentials, a PUT
// over a ready or failed recording answers 409 and changes nothing.
func TestAttackUploadOverCompleteRecording(t *testing.T) {
	t.Parallel()
	a, _, recs := ingressEnv(t)
	before := stored(t, a.DB)
	header := callgen.Default(1).Bytes()[:24]
	for _, key := range []string{"ready", "failed"} {
		for _, body := range [][]byte{header, callgen.Default(30).Bytes()} {
			if code, b := send(t, a, "PUT", secFiles+recs[key].Name, body, apptest.UploadAuth); code != http.StatusConflict {
				t.Errorf("PUT over the %s recording: %d %s", key, code, b)
			}
		}
	}
	if after := stored(t, a.DB); after != before {
		t.Fatal("a refused upload changed what is stored")
	}
}

// A PUT of a name whose upload is still running answers 409 and does not
// disturb it: the running upload completes with its own bytes.
func TestAttackUploadWhileUploading(t *testing.T) {
	t.Parallel()
	a, _, _ := ingressEnv(t)
	name := fmt.Sprintf("%032x-009033302ab1-5--alice.pcap", 5)
	capture := callgen.Default(100).Bytes()
	added := make(chan int64, 1)
	unsubscribe := a.Events.Subscribe(func(ev events.Recording) {
		if ev.Kind == events.Added {
			select {
			case added <- ev.ID:
			default:
			}
		}
	})
	defer unsubscribe()
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("PUT", a.URL+secFiles+name, pr)
	apptest.UploadAuth(req)
	done := make(chan int, 1)
	go func() {
		resp, err := a.Client.Do(req)
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	if _, err := pw.Write(capture[:len(capture)/2]); err != nil {
		t.Fatal(err)
	}
	var id int64
	select {
	case id = <-added:
	case <-time.After(time.Minute):
		t.Fatal("the first upload did not begin")
	}
	// The second PUT, with the same credentials, over the running upload.
	for _, body := range [][]byte{capture[:24], capture} {
		if code, b := send(t, a, "PUT", secFiles+name, body, apptest.UploadAuth); code != http.StatusConflict {
			t.Fatalf("PUT while the same name uploads: %d %s", code, b)
		}
	}
	if _, err := pw.Write(capture[len(capture)/2:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if code := <-done; code != http.StatusCreated {
		t.Fatalf("the running upload: %d", code)
	}
	rec := a.WaitAnalysed(id)
	c, err := a.DB.OpenCapture(a.Ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, _ := io.ReadAll(c)
	if rec.State != store.StateReady || !bytes.Equal(got, capture) {
		t.Fatalf("the running upload after the attack: %s, %d of %d bytes", rec.State, len(got), len(capture))
	}
}

// An anonymous CDR is refused (401): no CDR is stored, no account changes
// its number, and the trunk recording does not move to anyone.
func TestAttackAnonymousCDR(t *testing.T) {
	t.Parallel()
	a, _, recs := ingressEnv(t)
	before := stored(t, a.DB)
	forged := []byte(`<cdr guid="f1" h323="carla" e164="999" cn="Mallory" dir="to" utc="1700001000"><user/>` +
		`<event msg="setup-to" time="0" conf="` + secTrunkConf + `"/><event msg="conn-from" time="1"/>` +
		`<event msg="rel-from" time="9"/></cdr>`)
	for _, tc := range []struct {
		name string
		auth func(*http.Request)
	}{
		{"no credentials", nil},
		{"wrong password", basicAs(apptest.CDRUser, "guess")},
		{"the upload credentials", apptest.UploadAuth},
	} {
		for _, method := range []string{"POST", "GET"} {
			path := secCDR
			var body []byte
			if method == "GET" {
				path += "?msg=" + url.QueryEscape(string(forged))
			} else {
				body = forged
			}
			if code, b := send(t, a, method, path, body, tc.auth); code != http.StatusUnauthorized {
				t.Errorf("%s, %s: %d %s", tc.name, method, code, b)
			}
		}
	}
	if after := stored(t, a.DB); after != before {
		t.Fatal("a refused CDR changed what is stored")
	}
	if r, _ := a.DB.Recording(a.Ctx, recs["trunk"].ID); r.Owner != "TRUNK" || r.CDR {
		t.Fatalf("trunk recording after the refused CDR: %+v", r)
	}
}

// A CDR with the right credentials is a fact about a call, not about an
// account: its numbers and names change no account (they would widen what
// another user's access list shows); it still attaches to its recording.
func TestAttackCDRChangesNoAccount(t *testing.T) {
	t.Parallel()
	a, _, recs := ingressEnv(t)
	users := func() string {
		us, err := a.DB.Users(a.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%+v", us)
	}
	before := users()
	if code, b := send(t, a, "POST", secCDR, cdrXML(t, "trunk-in.xml"), apptest.CDRAuth); code != http.StatusOK {
		t.Fatalf("CDR: %d %s", code, b)
	}
	if after := users(); after != before {
		t.Fatalf("accounts changed by a CDR:\nbefore %s\nafter  %s", before, after)
	}
	for name, e164 := range map[string]string{"carla": "202", "ben": "201"} {
		if u, err := a.DB.User(a.Ctx, name); err != nil || u.E164 != e164 {
			t.Fatalf("%s: %+v %v", name, u, err)
		}
	}
	for _, n := range []string{"TRUNK", "dave"} {
		if _, err := a.DB.User(a.Ctx, n); err == nil {
			t.Fatalf("account %s created from a CDR", n)
		}
	}
	if r, _ := a.DB.Recording(a.Ctx, recs["trunk"].ID); r.Owner != "carla" || !r.CDR {
		t.Fatalf("the CDR did not attach: %+v", r)
	}
}

// 1,000 junk records for a conference, then the PBX's real CDRs: the real
// ones decide the recording, and the conference never holds more than the
// cap (memory and storage bounded).
func TestAttackJunkCDRFlood(t *testing.T) {
	t.Parallel()
	a, _, recs := ingressEnv(t)
	for batch := range 10 {
		var b strings.Builder
		b.WriteString("<cdrs>")
		for i := range 100 {
			fmt.Fprintf(&b, `<cdr h323="junk%d"><event msg="junk" conf="%s"/></cdr>`, batch*100+i, secTrunkConf)
		}
		b.WriteString("</cdrs>")
		if code, body := send(t, a, "POST", secCDR, []byte(b.String()), apptest.CDRAuth); code != http.StatusOK {
			t.Fatalf("junk batch %d: %d %s", batch, code, body)
		}
	}
	all, err := a.DB.CDRs(a.Ctx, 0, store.MaxListLimit)
	if err != nil || len(all) > store.MaxCDRsPerConf {
		t.Fatalf("%d records stored after the flood, cap %d (%v)", len(all), store.MaxCDRsPerConf, err)
	}
	if code, b := send(t, a, "POST", secCDR, cdrXML(t, "trunk-in.xml"), apptest.CDRAuth); code != http.StatusOK {
		t.Fatalf("real CDR: %d %s", code, b)
	}
	r, err := a.DB.Recording(a.Ctx, recs["trunk"].ID)
	if err != nil || r.Owner != "carla" || r.OwnerSource != "trunk-in" || !r.CDR || r.Direction != "in" {
		t.Fatalf("the real CDR was not used: %+v %v", r, err)
	}
	if all, _ := a.DB.CDRs(a.Ctx, 0, store.MaxListLimit); len(all) > store.MaxCDRsPerConf {
		t.Fatalf("%d records stored, cap %d", len(all), store.MaxCDRsPerConf)
	}
}

// A flood of refused requests is logged in aggregated form: one line per
// source and minute for the uploads and one for the CDRs, with the count.
func TestAttackRefusalFloodIsAggregated(t *testing.T) {
	t.Parallel()
	a, logs, recs := ingressEnv(t)
	const n = 150
	for i := range n {
		send(t, a, "PUT", secFiles+recs["ready"].Name, nil, nil)
		send(t, a, "POST", secCDR, []byte(fmt.Sprintf("<cdr n='%d'/>", i)), nil)
		send(t, a, "POST", secCDR, []byte("<broken"), apptest.CDRAuth)
	}
	a.API.FlushRejects()
	out := logs.String()
	for _, msg := range []string{"uploads refused", "CDR requests refused"} {
		if c := strings.Count(out, `msg="`+msg+`"`); c != 1 {
			t.Errorf("%d lines %q, want 1:\n%s", c, msg, out)
		}
	}
	if !strings.Contains(out, fmt.Sprintf("count=%d", n)) || !strings.Contains(out, fmt.Sprintf("count=%d", 2*n)) {
		t.Errorf("counts missing:\n%s", out)
	}
	if lines := strings.Count(out, "\n"); lines > 100 {
		t.Errorf("%d log lines for %d refused requests", lines, 3*n)
	}
}

// Devices that cannot send credentials (13r2 phones) may upload and post
// CDRs without them from the networks the admin lists, and only from there.
func TestAnonymousNetworks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, nets string
		want       int
	}{
		{"loopback listed", "192.0.2.0/24, 127.0.0.0/8", http.StatusCreated},
		{"single address listed", "127.0.0.1", http.StatusCreated},
		{"other network", "192.0.2.0/24", http.StatusUnauthorized},
		{"none", "", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := apptest.New(t, func(c *app.Config) { c.AnonymousNetworks = tc.nets })
			if _, err := a.DB.CreateUser(a.Ctx, store.User{Name: "carla"}, "x-password"); err != nil {
				t.Fatal(err)
			}
			code, b := send(t, a, "PUT", secFiles+secTrunkName, callgen.Default(10).Bytes(), nil)
			if code != tc.want {
				t.Fatalf("anonymous upload: %d %s", code, b)
			}
			wantCDR := http.StatusOK
			if tc.want != http.StatusCreated {
				wantCDR = http.StatusUnauthorized
			}
			if code, b := send(t, a, "POST", secCDR, cdrXML(t, "trunk-in.xml"), nil); code != wantCDR {
				t.Fatalf("anonymous CDR: %d %s", code, b)
			}
			all, err := a.DB.CDRs(a.Ctx, 0, 0)
			if err != nil || (len(all) > 0) != (wantCDR == http.StatusOK) {
				t.Fatalf("%d CDRs stored (%v)", len(all), err)
			}
			// The credentials work from anywhere.
			if code, b := send(t, a, "POST", secCDR, cdrXML(t, "internal.xml"), apptest.CDRAuth); code != http.StatusOK {
				t.Fatalf("CDR with credentials: %d %s", code, b)
			}
		})
	}
}
