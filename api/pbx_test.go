package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"recordings/calls"
	"recordings/internal/app"
	"recordings/internal/apptest"
	"recordings/internal/callgen"
	"recordings/internal/testutil"
	"recordings/pbx"
	"recordings/settings"
	"recordings/store"
)

// pbxEnv is a running service with the CDR matcher wired in as in serve.
type pbxEnv struct {
	*env
	clk  *testutil.Clock
	m    *calls.Matcher
	logs *testutil.LogBuffer
	path string
}

func newPBXEnv(t *testing.T, users ...store.User) *pbxEnv {
	t.Helper()
	return newPBXEnvOpts(t, nil, users...)
}

// newPBXEnvOpts is newPBXEnv with further options for the service.
func newPBXEnvOpts(t *testing.T, opts []apptest.Option, users ...store.User) *pbxEnv {
	t.Helper()
	clk := testutil.NewClock(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	logs := &testutil.LogBuffer{}
	a := apptest.New(t, append([]apptest.Option{func(c *app.Config) {
		c.LogOutput, c.LogLevel, c.Tuning.Now = logs, slog.LevelDebug, clk.Now
	}}, opts...)...)
	a.User("admin", store.RoleAdmin, "admin-pw")
	for _, u := range users {
		if _, err := a.DB.CreateUser(a.Ctx, u, u.Name+"-pw"); err != nil {
			t.Fatal(err)
		}
	}
	return &pbxEnv{env: &env{t: t, db: a.DB, app: a}, clk: clk, m: a.Calls, logs: logs, path: a.DB.Path()}
}

func readTestdata(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func cdrXML(t *testing.T, name string) []byte {
	return readTestdata(t, filepath.Join("..", "pbx", "testdata", "cdr", name))
}

// gatewaySamples holds the innovaphone gateway CDR samples (BSD 3-Clause,
// see its LICENSE), copied from the shared test data so a clone runs alone.
const gatewaySamples = "../pbx/testdata/gateway"

// gatewayQueries returns the query of every CDR GET captured in a gateway
// sample (the request lines sit whole in one TCP segment each).
func gatewayQueries(t *testing.T, sample string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(gatewaySamples, sample+".pcap"))
	if err != nil {
		t.Fatalf("gateway sample: %v", err)
	}
	var out []string
	const prefix = "GET /cdr/cdrwrite.asp?"
	for {
		i := bytes.Index(b, []byte(prefix))
		if i < 0 {
			return out
		}
		b = b[i+len(prefix):]
		j := bytes.Index(b, []byte(" HTTP/1."))
		if j < 0 {
			t.Fatalf("%s: request line without version", sample)
		}
		out = append(out, string(b[:j]))
		b = b[j:]
	}
}

func (e *pbxEnv) storedCDRs(conf string) []store.StoredCDR {
	e.t.Helper()
	c, err := e.db.CDRsByConf(context.Background(), conf)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func TestCDREndpointForms(t *testing.T) {
	t.Parallel()
	internal := cdrXML(t, "internal.xml")
	first, second, _ := bytes.Cut(bytes.TrimSpace(internal), []byte("\n"))
	const conf = "e89277f0e909d31192e80090331032dd"
	path := "/example.com/recordings/cdr"
	for _, tc := range []struct {
		name        string
		method, url string
		body        string
		ctype       string
		want, n     int
	}{
		{"GET msg", "GET", path + "?msg=" + url.QueryEscape(string(first)), "", "", 200, 1},
		{"POST urlencoded msg", "POST", path, "msg=" + url.QueryEscape(string(first)), "application/x-www-form-urlencoded", 200, 1},
		{"POST two msg values", "POST", path, "msg=" + url.QueryEscape(string(first)) + "&msg=" + url.QueryEscape(string(second)),
			"application/x-www-form-urlencoded", 200, 2},
		{"raw XML body, two records", "POST", path, string(internal), "text/xml", 200, 2},
		{"raw XML, wrapped list", "POST", path, "<cdrs>" + string(internal) + "</cdrs>", "application/xml", 200, 2},
		{"malformed XML in msg", "GET", path + "?msg=" + url.QueryEscape("<cdr guid='x'><event"), "", "", 400, 0},
		{"XML without cdr", "POST", path, "<nothing/>", "text/xml", 400, 0},
		{"bad conf id", "POST", path, `<cdr guid="g" h323="a" dir="from" utc="1"><user/><event msg="setup-from" time="0" conf="zz"/></cdr>`, "text/xml", 400, 0},
		{"empty GET", "GET", path, "", "", 400, 0},
		{"form without msg or event", "POST", path, "foo=bar", "application/x-www-form-urlencoded", 400, 0},
		{"wrong method", "PUT", path, string(internal), "text/xml", 405, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newPBXEnv(t)
			resp := e.do(tc.method, tc.url, asPBX, strings.NewReader(tc.body), "Content-Type", tc.ctype)
			b := readAll(t, resp)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, b, tc.want)
			}
			if tc.want == 200 && len(b) != 0 {
				t.Fatalf("200 with body %q", b)
			}
			got := e.storedCDRs(conf)
			if len(got) != tc.n {
				t.Fatalf("%d records stored, want %d", len(got), tc.n)
			}
			for _, c := range got {
				if !strings.HasPrefix(c.Raw, "<cdr ") || !json.Valid(c.Parsed) || c.Kind != store.CDRKindPBX || c.Domain != "example.com" {
					t.Fatalf("stored %+v", c)
				}
			}
			e.app.API.FlushRejects()
			if tc.want == 400 && !strings.Contains(e.logs.String(), `msg="CDR requests refused" category="Call Information"`) {
				t.Fatalf("refusal not logged under Call Information:\n%s", e.logs)
			}
		})
	}
}

// A malformed request loses nothing that came before or after it.
func TestCDRMalformedLosesNothing(t *testing.T) {
	t.Parallel()
	e := newPBXEnv(t)
	path := "/example.com/recordings/cdr"
	trunkOut, trunkIn := cdrXML(t, "trunk-out.xml"), cdrXML(t, "trunk-in.xml")
	for i, body := range [][]byte{trunkOut, []byte("<cdr <<<"), trunkIn} {
		resp := e.do("POST", path, asPBX, bytes.NewReader(body), "Content-Type", "text/xml")
		want := 200
		if i == 1 {
			want = 400
		}
		if resp.StatusCode != want {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
	if n := len(e.storedCDRs("c1c1c1c1e909d31192e80090331032dd")); n != 2 {
		t.Fatalf("trunk-out: %d records", n)
	}
	if n := len(e.storedCDRs("c2c2c2c2e909d31192e80090331032dd")); n != 4 {
		t.Fatalf("trunk-in: %d records", n)
	}
}

func TestCDRGatewaySamples(t *testing.T) {
	t.Parallel()
	e := newPBXEnv(t)
	for _, s := range []string{"s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12"} {
		queries := gatewayQueries(t, s)
		text, err := pbx.ParseGatewayCDR(readTestdata(t, filepath.Join(gatewaySamples, s+".txt")))
		if err != nil {
			t.Fatal(err)
		}
		if len(queries) == 0 || len(queries) != len(text) {
			t.Fatalf("%s: %d GETs, %d text records", s, len(queries), len(text))
		}
		refs := map[string]int{}
		for _, q := range queries {
			resp := e.do("GET", "/gw.example/recordings/cdr?"+q, asPBX, nil)
			if b := readAll(t, resp); resp.StatusCode != 200 || len(b) != 0 {
				t.Fatalf("%s: GET ?%s: %d %q", s, q, resp.StatusCode, b)
			}
		}
		for _, r := range text {
			refs[r.Ref]++
		}
		for ref, n := range refs {
			got := e.storedCDRs(ref)
			if len(got) < n { // refs may repeat across samples
				t.Fatalf("%s: ref %s: %d stored, want at least %d", s, ref, len(got), n)
			}
			for _, c := range got {
				if c.Kind != store.CDRKindGateway || !strings.Contains(c.Raw, "ref="+ref) {
					t.Fatalf("%s: stored %+v", s, c)
				}
			}
		}
	}
	// The text form is accepted as a POST body too.
	resp := e.do("POST", "/gw.example/recordings/cdr", asPBX, bytes.NewReader(readTestdata(t, filepath.Join(gatewaySamples, "s1.txt"))),
		"Content-Type", "text/plain")
	if resp.StatusCode != 200 {
		t.Fatalf("text form: %d %s", resp.StatusCode, readAll(t, resp))
	}
	if resp := e.do("GET", "/gw.example/recordings/cdr?event=&ref=x", asPBX, nil); resp.StatusCode != 400 {
		t.Fatalf("gateway record without event: %d", resp.StatusCode)
	}
}

func TestCDRCredentialsAndSizeCap(t *testing.T) {
	t.Parallel()
	e := newPBXEnv(t)
	body := cdrXML(t, "internal.xml")
	post := func(user, pw string, b []byte) int {
		req, _ := http.NewRequest("POST", e.app.URL+"/example.com/recordings/cdr", bytes.NewReader(b))
		req.Header.Set("Content-Type", "text/xml")
		if user != "" {
			req.SetBasicAuth(user, pw)
		}
		resp, err := e.app.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		user, pw string
		want     int
	}{{"", "", 401}, {apptest.CDRUser, "wrong", 401}, {"other", apptest.CDRPassword, 401},
		{apptest.UploadUser, apptest.UploadPassword, 401}, {apptest.CDRUser, apptest.CDRPassword, 200}} {
		if got := post(tc.user, tc.pw, body); got != tc.want {
			t.Errorf("credentials %q/%q: %d, want %d", tc.user, tc.pw, got, tc.want)
		}
	}
	if n := len(e.storedCDRs("e89277f0e909d31192e80090331032dd")); n != 2 {
		t.Fatalf("%d stored, want only the authorised request's 2", n)
	}
	big := append([]byte("<cdrs>"), bytes.Repeat([]byte(" "), 2<<20)...)
	if got := post(apptest.CDRUser, apptest.CDRPassword, big); got != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d", got)
	}
}

// fullRec is the API view of a recording with the PBX fields.
type fullRec struct {
	ID          int64     `json:"id"`
	State       string    `json:"state"`
	Owner       string    `json:"owner"`
	OwnerSource string    `json:"owner_source"`
	Direction   string    `json:"direction"`
	PeerName    string    `json:"peer_name"`
	PeerNumber  string    `json:"peer_number"`
	CDR         bool      `json:"cdr"`
	CDRState    string    `json:"cdr_state"`
	ConnectedAt time.Time `json:"connected_at"`
	CallMS      int64     `json:"call_ms"`
}

func (e *pbxEnv) get(id int64, user string) (fullRec, int) {
	e.t.Helper()
	resp := e.do("GET", fmt.Sprintf("/api/recordings/%d", id), user, nil)
	b := readAll(e.t, resp)
	var r fullRec
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(b, &r); err != nil {
			e.t.Fatal(err)
		}
	}
	return r, resp.StatusCode
}

func (e *pbxEnv) upload(name string) int64 {
	e.t.Helper()
	resp := e.do("PUT", "/example.com/recordings/Files/"+name, asPhone, bytes.NewReader(callgen.Default(10).Bytes()))
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("PUT %s: %d %s", name, resp.StatusCode, readAll(e.t, resp))
	}
	id := e.idOf(name)
	e.waitState(id)
	return id
}

func (e *pbxEnv) postCDRs(xml []byte) {
	e.t.Helper()
	resp := e.do("POST", "/example.com/recordings/cdr", asPBX, bytes.NewReader(xml), "Content-Type", "text/xml")
	if resp.StatusCode != 200 {
		e.t.Fatalf("POST CDRs: %d %s", resp.StatusCode, readAll(e.t, resp))
	}
}

// The test PBX's accounts (as in pbx's resolver tests).
func pbxUsers() []store.User {
	return []store.User{
		{Name: "a", E164: "100", MACs: []string{"009033000a0a"}}, {Name: "b", E164: "101", MACs: []string{"009033000b0b"}},
		{Name: "anna", E164: "100", MACs: []string{"009033000001"}}, {Name: "Ben", E164: "101"},
		{Name: "carla", E164: "102", MACs: []string{"009033000003"}}, {Name: "dave", E164: "104"}, {Name: "erik", E164: "105"},
	}
}

func TestOwnershipEndToEnd(t *testing.T) {
	t.Parallel()
	const gw = "009033060014"
	type want struct {
		owner, source, dir, peerName, peerNumber string
		connected                                time.Time
		callMS                                   int64
	}
	for _, tc := range []struct {
		name string
		file string // conf-mac-serial[--reg]
		xml  []byte
		want want
	}{
		{"phone by registration name", "e89277f0e909d31192e80090331032dd-009033000a0a-1--a", cdrXML(t, "internal.xml"),
			want{"a", "reg-name", "out", "b", "101", time.Unix(1272551264, 0), 2000}},
		{"phone by device MAC", "e89277f0e909d31192e80090331032dd-009033000b0b-1", cdrXML(t, "internal.xml"),
			want{"b", "mac", "in", "a", "100", time.Unix(1272551264, 0), 2000}},
		{"trunk, outgoing: initiating user", "c1c1c1c1e909d31192e80090331032dd-" + gw + "-1--TRUNK", cdrXML(t, "trunk-out.xml"),
			want{"anna", "trunk-out", "out", "Kunde GmbH", "007031123456", time.Unix(1700000009, 0), 60000}},
		{"trunk, incoming: first user who answered (transferred later)", "c2c2c2c2e909d31192e80090331032dd-" + gw + "-1--TRUNK",
			cdrXML(t, "trunk-in.xml"), want{"carla", "trunk-in", "in", "Caller", "07031999888", time.Unix(1700001005, 0), 25000}},
		{"waiting queue: agent who answered", "c3c3c3c3e909d31192e80090331032dd-" + gw + "-1--sales", cdrXML(t, "waiting.xml"),
			want{"erik", "waiting", "in", "Interessent", "07031555666", time.Unix(1700002020, 0), 60000}},
		{"transfer: conf id change, new conference", "bbbb0000e909d31192e80090331032dd-009033000001-1--anna", cdrXML(t, "transfer.xml"),
			want{"anna", "reg-name", "out", "Carla Cruz", "102", time.Unix(1700003020, 0), 30000}},
		{"transfer: first conference", "aaaa0000e909d31192e80090331032dd-009033000001-2--anna", cdrXML(t, "transfer.xml"),
			want{"anna", "reg-name", "out", "Ben Berg", "101", time.Unix(1700003003, 0), 17000}},
		{"transfer target by MAC", "bbbb0000e909d31192e80090331032dd-009033000003-1", cdrXML(t, "transfer.xml"),
			want{"carla", "mac", "in", "Ben Berg", "101", time.Unix(1700003014, 0), 36000}},
	} {
		for _, cdrFirst := range []bool{true, false} {
			order := "upload first"
			if cdrFirst {
				order = "CDR first"
			}
			t.Run(tc.name+"/"+order, func(t *testing.T) {
				e := newPBXEnv(t, pbxUsers()...)
				if cdrFirst {
					e.postCDRs(tc.xml)
				}
				id := e.upload(tc.file + ".pcap")
				if !cdrFirst {
					if r, _ := e.get(id, "admin"); r.CDRState != "pending" || r.CDR {
						t.Fatalf("before the CDR: %+v", r)
					}
					e.postCDRs(tc.xml)
				}
				r, _ := e.get(id, "admin")
				got := want{r.Owner, r.OwnerSource, r.Direction, r.PeerName, r.PeerNumber, r.ConnectedAt, r.CallMS}
				w := tc.want
				w.connected = w.connected.UTC()
				if got != w || !r.CDR || r.CDRState != "cdr" || r.State != "ready" {
					t.Fatalf("\n got %+v\nwant %+v (%+v)", got, w, r)
				}
				// The owner sees it, someone else does not.
				if _, code := e.get(id, w.owner); code != 200 {
					t.Fatalf("owner %s: %d", w.owner, code)
				}
				other := "dave"
				if w.owner == "dave" {
					other = "erik"
				}
				if _, code := e.get(id, other); code != 404 {
					t.Fatalf("%s: %d", other, code)
				}
			})
		}
	}
}

// Gateway CDRs alone give the call facts of a gateway recording; nobody
// owns it.
func TestGatewayOnlyRecording(t *testing.T) {
	t.Parallel()
	e := newPBXEnv(t, pbxUsers()...)
	id := e.upload("453b6335e909d311b89e009033060014-009033060014-1.pcap")
	for _, q := range gatewayQueries(t, "s1") {
		if resp := e.do("GET", "/example.com/recordings/cdr?"+q, asPBX, nil); resp.StatusCode != 200 {
			t.Fatalf("GET: %d", resp.StatusCode)
		}
	}
	r, _ := e.get(id, "admin")
	if !r.CDR || r.Direction != "in" || r.PeerNumber != "070317300932" || r.Owner != "" || r.CDRState != "cdr" {
		t.Fatalf("%+v", r)
	}
}

func TestNoCDRGraceAndLateCDR(t *testing.T) {
	t.Parallel()
	e := newPBXEnv(t, pbxUsers()...)
	ctx := context.Background()
	// A trunk recording: nobody is known until the CDR tells.
	id := e.upload("c2c2c2c2e909d31192e80090331032dd-009033060014-1--TRUNK.pcap")
	phone := e.upload("0123456789abcdef0123456789abcdef-009033000001-1--anna.pcap")
	if r, _ := e.get(id, "admin"); r.CDRState != "pending" || r.Owner != "TRUNK" {
		t.Fatalf("fresh: %+v", r)
	}
	e.clk.Advance(14 * time.Minute)
	if ids, err := e.m.Sweep(ctx); err != nil || len(ids) != 0 {
		t.Fatalf("sweep within grace: %v %v", ids, err)
	}
	e.clk.Advance(2 * time.Minute)
	if ids, err := e.m.Sweep(ctx); err != nil || !slices.Equal(ids, []int64{id, phone}) {
		t.Fatalf("sweep after grace: %v %v", ids, err)
	}
	if r, _ := e.get(id, "admin"); r.CDRState != "NoCDR" || r.Owner != "NoCDR" || r.CDR {
		t.Fatalf("after grace: %+v", r)
	}
	// A known owner stays shown; the state says NoCDR.
	if r, _ := e.get(phone, "anna"); r.CDRState != "NoCDR" || r.Owner != "anna" {
		t.Fatalf("phone after grace: %+v", r)
	}
	// The list shows the same.
	var list struct{ Recordings []fullRec }
	if err := json.Unmarshal(readAll(t, e.do("GET", "/api/recordings", "admin", nil)), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Recordings) != 2 || list.Recordings[0].CDRState != "NoCDR" || list.Recordings[1].CDRState != "NoCDR" {
		t.Fatalf("list: %+v", list.Recordings)
	}
	// The late CDR still attaches.
	e.postCDRs(cdrXML(t, "trunk-in.xml"))
	if r, _ := e.get(id, "admin"); r.CDRState != "cdr" || r.Owner != "carla" || r.OwnerSource != "trunk-in" {
		t.Fatalf("after late CDR: %+v", r)
	}
	if !strings.Contains(e.logs.String(), "late CDR attached") {
		t.Fatal("late CDR not logged")
	}
	// The grace period is a setting (admin API).
	resp := e.do("PUT", "/api/admin/pbx", "admin", strings.NewReader(`{"nocdr_grace_seconds":60}`))
	if b := readAll(t, resp); resp.StatusCode != 200 || !strings.Contains(string(b), `"nocdr_grace_seconds":60`) {
		t.Fatalf("set grace: %d %s", resp.StatusCode, b)
	}
	other := e.upload("0123456789abcdef0123456789abcdee-009033000001-2--anna.pcap")
	e.clk.Advance(61 * time.Second)
	if ids, _ := e.m.Sweep(ctx); !slices.Equal(ids, []int64{other}) {
		t.Fatalf("sweep with 60 s grace: %v", ids)
	}
	if resp := e.do("PUT", "/api/admin/pbx", "anna", strings.NewReader(`{"nocdr_grace_seconds":1}`)); resp.StatusCode != 403 {
		t.Fatalf("user changing PBX settings: %d", resp.StatusCode)
	}
}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// pbxSettings reads GET /api/admin/pbx.
func (e *pbxEnv) pbxSettings() map[string]any {
	e.t.Helper()
	resp := e.do("GET", "/api/admin/pbx", "admin", nil)
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		e.t.Fatalf("PBX settings with credentials cached: Cache-Control %q", cc)
	}
	var got map[string]any
	if err := json.Unmarshal(readAll(e.t, resp), &got); err != nil {
		e.t.Fatal(err)
	}
	return got
}

// The credentials generated at the first start are shown to the admin (to
// copy them to the phones and the PBX) and can be changed; passwords cannot
// be cleared.
func TestPBXSettingsAPI(t *testing.T) {
	t.Parallel()
	e := newPBXEnvOpts(t, []apptest.Option{apptest.StoredCredentials})
	got := e.pbxSettings()
	for _, k := range []string{"upload_password", "cdr_password", "instance_password"} {
		if pw, _ := got[k].(string); len(pw) < 16 {
			t.Fatalf("%s generated: %q", k, pw)
		}
		// Logged once, on the process log.
		if n := strings.Count(e.logs.String(), "password="+got[k].(string)); n != 1 {
			t.Fatalf("%s is %d times in the process log", k, n)
		}
	}
	if got["upload_user"] != settings.DefaultUploadUser || got["cdr_user"] != settings.DefaultCDRUser ||
		len(got["fixed"].(map[string]any)) != 0 || len(got["anonymous_networks"].([]any)) != 0 {
		t.Fatalf("generated settings: %v", got)
	}
	for _, c := range []struct {
		body string
		want int
	}{
		{`{"cdr_user":"a:b"}`, 400},
		{`{"upload_user":"a:b"}`, 400},
		{`{"cdr_password":"new\nline"}`, 400},
		{`{"cdr_password":""}`, 400},
		{`{"upload_password":""}`, 400},
		{`{"instance_password":""}`, 400},
		{`{"instance_password":"x\ny"}`, 400},
		{`{"anonymous_networks":["10.0.0.1/8"]}`, 400},
		{`{"anonymous_networks":"nope"}`, 400},
		{`{"anonymous_networks":7}`, 400},
		{`{"nocdr_grace_seconds":-1}`, 400},
		{`{"unknown":1}`, 400},
		{`{"cdr_user":"pbx","cdr_password":"hunter2-cdr","instance_password":"pwd","upload_user":"phone",
			"upload_password":"hunter2-upload","anonymous_networks":["192.0.2.0/24"," 2001:db8::1"],"nocdr_grace_seconds":120}`, 200},
	} {
		resp := e.do("PUT", "/api/admin/pbx", "admin", strings.NewReader(c.body))
		if b := readAll(t, resp); resp.StatusCode != c.want {
			t.Fatalf("%s: %d %s", c.body, resp.StatusCode, b)
		}
	}
	got = e.pbxSettings()
	if got["cdr_user"] != "pbx" || got["cdr_password"] != "hunter2-cdr" || got["upload_user"] != "phone" ||
		got["upload_password"] != "hunter2-upload" || got["instance_password"] != "pwd" ||
		got["nocdr_grace_seconds"] != float64(120) || fmt.Sprint(got["anonymous_networks"]) != "[192.0.2.0/24 2001:db8::1]" {
		t.Fatalf("settings: %v", got)
	}
	if strings.Contains(e.logs.String(), "hunter2") {
		t.Fatal("a password was logged")
	}
	// CDRs need the new credentials.
	post := func(user, pw string) int {
		req, _ := http.NewRequest("POST", e.app.URL+"/example.com/recordings/cdr", bytes.NewReader(cdrXML(t, "internal.xml")))
		if user != "" {
			req.SetBasicAuth(user, pw)
		}
		resp, err := e.app.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("", ""); code != 401 {
		t.Fatalf("CDR without credentials: %d", code)
	}
	if code := post(settings.DefaultCDRUser, got["cdr_password"].(string)+"x"); code != 401 {
		t.Fatalf("CDR with a wrong password: %d", code)
	}
	if code := post("pbx", "hunter2-cdr"); code != 200 {
		t.Fatalf("CDR with the new credentials: %d", code)
	}
}

// Credentials given at start-up are shown, marked as fixed, and cannot be
// changed through the API.
func TestPBXSettingsFixedAtStart(t *testing.T) {
	t.Parallel()
	e := newPBXEnvOpts(t, []apptest.Option{func(c *app.Config) { c.AnonymousNetworks = "198.51.100.0/24" }})
	got := e.pbxSettings()
	fixed := got["fixed"].(map[string]any)
	if got["upload_password"] != apptest.UploadPassword || got["cdr_user"] != apptest.CDRUser ||
		fixed["upload_password"] != "RECORDINGS_UPLOAD_PASSWORD" || fixed["cdr_user"] != "RECORDINGS_CDR_USER" ||
		fixed["anonymous_networks"] == nil || fixed["instance_password"] != nil {
		t.Fatalf("settings: %v", got)
	}
	resp := e.do("PUT", "/api/admin/pbx", "admin", strings.NewReader(`{"cdr_password":"other-password"}`))
	if b := readAll(t, resp); resp.StatusCode != 400 || !strings.Contains(string(b), "RECORDINGS_CDR_PASSWORD") {
		t.Fatalf("changing a fixed password: %d %s", resp.StatusCode, b)
	}
	if e.app.Settings.Values().CDRPassword != apptest.CDRPassword {
		t.Fatal("the fixed password changed")
	}
}

// Ownership follows an account's devices: adding a MAC gives its earlier
// recordings to the account, removing it takes them away again.
func TestAdminUserDevicesReassign(t *testing.T) {
	t.Parallel()
	e := newPBXEnv(t, store.User{Name: "zed"})
	id := e.upload("0123456789abcdef0123456789abcdef-009033000099-1.pcap")
	if r, _ := e.get(id, "admin"); r.Owner != "" {
		t.Fatalf("before: %+v", r)
	}
	resp := e.do("PUT", "/api/admin/users/zed", "admin", strings.NewReader(`{"macs":["00:90:33:00:00:99"],"e164":"777","display_name":"Zed"}`))
	b := readAll(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"macs":["009033000099"]`) || !strings.Contains(string(b), `"e164":"777"`) {
		t.Fatalf("update: %d %s", resp.StatusCode, b)
	}
	if r, code := e.get(id, "zed"); code != 200 || r.Owner != "zed" || r.OwnerSource != "mac" {
		t.Fatalf("after adding the MAC: %d %+v", code, r)
	}
	if resp := e.do("PUT", "/api/admin/users/zed", "admin", strings.NewReader(`{"macs":[]}`)); resp.StatusCode != 200 {
		t.Fatalf("remove MAC: %d", resp.StatusCode)
	}
	if _, code := e.get(id, "zed"); code != 404 {
		t.Fatalf("zed still sees the recording of a device no longer theirs: %d", code)
	}
	for _, c := range []struct {
		user, path, body string
		want             int
	}{
		{"admin", "/api/admin/users/zed", `{"macs":["nope"]}`, 400},
		{"admin", "/api/admin/users/zed", `{"role":"boss"}`, 400},
		{"admin", "/api/admin/users/ghost", `{}`, 404},
		{"zed", "/api/admin/users/zed", `{"role":"admin"}`, 403},
	} {
		if resp := e.do("PUT", c.path, c.user, strings.NewReader(c.body)); resp.StatusCode != c.want {
			t.Errorf("%s PUT %s %s: %d, want %d", c.user, c.path, c.body, resp.StatusCode, c.want)
		}
	}
	var list struct {
		Users []struct {
			Name     string   `json:"name"`
			MACs     []string `json:"macs"`
			Licensed bool     `json:"licensed"`
		} `json:"users"`
	}
	if err := json.Unmarshal(readAll(t, e.do("GET", "/api/admin/users", "admin", nil)), &list); err != nil || len(list.Users) != 2 {
		t.Fatalf("list users: %+v %v", list, err)
	}
}
