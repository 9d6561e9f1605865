package api_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"recordings/codec"
	"recordings/internal/app"
	"recordings/internal/apptest"
	"recordings/internal/callgen"
	"recordings/store"
)

const (
	confID   = "f9e5956e47d460010630009033302ab1"
	fileName = confID + "-009033302ab1-11--alice.pcap"
)

// env is a running service on a loopback port over a fresh database.
type env struct {
	t   *testing.T
	db  *store.DB
	app *apptest.App
}

func newEnv(t *testing.T, opts ...apptest.Option) *env {
	t.Helper()
	a := apptest.New(t, opts...)
	for _, name := range []string{"admin", "alice", "bob"} {
		role := store.RoleUser
		if name == "admin" {
			role = store.RoleAdmin
		}
		a.User(name, role, name+"-pw")
	}
	return &env{t: t, db: a.DB, app: a}
}

// The user of env.do that sends the upload credentials (a phone) and the
// one that sends the CDR credentials (the PBX); no account has these names.
const (
	asPhone = "(phone)"
	asPBX   = "(pbx)"
)

// do sends a request as user: an account (HTTP Basic with the password
// "<name>-pw"), asPhone, asPBX, or "" for no credentials.
func (e *env) do(method, path, user string, body io.Reader, hdr ...string) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.app.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	switch user {
	case "":
	case asPhone:
		apptest.UploadAuth(req)
	case asPBX:
		apptest.CDRAuth(req)
	default:
		req.SetBasicAuth(user, user+"-pw")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.app.Client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readAll(t *testing.T, r *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// chunkedPUT streams data in small writes through a pipe, so the request goes
// out with chunked transfer encoding while the "call" runs.
func (e *env) chunkedPUT(path string, data []byte, piece int) *http.Response {
	pr, pw := io.Pipe()
	go func() {
		for off := 0; off < len(data); off += piece {
			if _, err := pw.Write(data[off:min(off+piece, len(data))]); err != nil {
				return
			}
		}
		pw.Close()
	}()
	return e.do(http.MethodPut, path, asPhone, pr)
}

type recJSON struct {
	ID         int64  `json:"id"`
	State      string `json:"state"`
	Reason     string `json:"reason"`
	Owner      string `json:"owner"`
	Codec      string `json:"codec"`
	DurationMS int64  `json:"duration_ms"`
	Size       int64  `json:"size"`
	Envelope   []byte `json:"envelope"`
}

// waitState waits until the recording is analysed and returns it as the API shows it.
func (e *env) waitState(id int64) recJSON {
	e.t.Helper()
	e.app.WaitAnalysed(id)
	var r recJSON
	resp := e.do(http.MethodGet, fmt.Sprintf("/api/recordings/%d", id), "admin", nil)
	if err := json.Unmarshal(readAll(e.t, resp), &r); err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) idOf(name string) int64 {
	e.t.Helper()
	rec, err := e.db.RecordingByName(context.Background(), "example.com", name)
	if err != nil {
		e.t.Fatalf("recording %s: %v", name, err)
	}
	return rec.ID
}

// expectedStereo decodes the generated call's codes: PCMA left, PCMU right.
func expectedStereo(c callgen.Call) []int16 {
	a, u := codec.NewPCMA(), codec.NewPCMU()
	out := make([]int16, 0, 2*c.Samples())
	var l, r [1]int16
	for i := range c.Samples() {
		a.Decode(l[:], []byte{c.LocalCode(i)})
		u.Decode(r[:], []byte{c.RemoteCode(i)})
		out = append(out, l[0], r[0])
	}
	return out
}

func TestUploadConvertServe(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	call := callgen.Default(150) // 3 s
	capture := call.Bytes()
	path := "/example.com/recordings/Files/" + fileName

	resp := e.chunkedPUT(path, capture, 100)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %d %s", resp.StatusCode, readAll(t, resp))
	}
	id := e.idOf(fileName)
	rec := e.waitState(id)
	if rec.State != "ready" || rec.Owner != "alice" || rec.Codec == "" || rec.DurationMS != 3000 || len(rec.Envelope) == 0 {
		t.Fatalf("recording after analysis: %+v", rec)
	}

	// The capture comes back byte for byte.
	got := readAll(t, e.do(http.MethodGet, path, "admin", nil))
	if !bytes.Equal(got, capture) {
		t.Fatalf("GET capture: %d bytes differ from the %d uploaded", len(got), len(capture))
	}

	// The WAV: 44-byte header, then local left, remote right, sample by sample.
	resp = e.do(http.MethodGet, fmt.Sprintf("/api/recordings/%d/audio.wav", id), "alice", nil)
	wav := readAll(t, resp)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("GET wav: %d %s", resp.StatusCode, resp.Header)
	}
	want := expectedStereo(call)
	if len(wav) != 44+2*len(want) {
		t.Fatalf("wav is %d bytes, want %d", len(wav), 44+2*len(want))
	}
	if string(wav[:4]) != "RIFF" || string(wav[8:12]) != "WAVE" || binary.LittleEndian.Uint16(wav[22:]) != 2 || binary.LittleEndian.Uint32(wav[24:]) != 8000 {
		t.Fatalf("bad wav header % x", wav[:44])
	}
	for i, w := range want {
		if g := int16(binary.LittleEndian.Uint16(wav[44+2*i:])); g != w {
			t.Fatalf("sample %d (channel %d): got %d, want %d", i/2, i%2, g, w)
		}
	}

	// A range in the middle equals the same bytes of the whole file.
	resp = e.do(http.MethodGet, fmt.Sprintf("/api/recordings/%d/audio.wav", id), "alice", nil, "Range", "bytes=20001-30000")
	part := readAll(t, resp)
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, wav[20001:30001]) {
		t.Fatalf("range: status %d, %d bytes, equal=%v", resp.StatusCode, len(part), bytes.Equal(part, wav[20001:30001]))
	}
	if cr := resp.Header.Get("Content-Range"); cr != fmt.Sprintf("bytes 20001-30000/%d", len(wav)) {
		t.Fatalf("Content-Range = %q", cr)
	}

	// The capture is written once: sending it again is refused (409) and
	// changes nothing.
	resp = e.do(http.MethodPut, path, asPhone, bytes.NewReader(capture[:24]))
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("replace PUT: %d", resp.StatusCode)
	}
	if got := readAll(t, e.do(http.MethodGet, path, "admin", nil)); !bytes.Equal(got, capture) {
		t.Fatalf("capture after a refused replace: %d bytes", len(got))
	}
}

func TestAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp := e.do(http.MethodPut, "/example.com/recordings/Files/"+fileName, asPhone, bytes.NewReader(callgen.Default(10).Bytes()))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	id := e.idOf(fileName)
	e.waitState(id)
	for _, tc := range []struct {
		user, method, path string
		want               int
	}{
		{"", http.MethodGet, "/api/recordings", http.StatusUnauthorized},
		{"", http.MethodGet, fmt.Sprintf("/api/recordings/%d/audio.wav", id), http.StatusUnauthorized},
		{"", http.MethodGet, "/example.com/recordings/Files/" + fileName, http.StatusUnauthorized},
		{"alice", http.MethodGet, fmt.Sprintf("/api/recordings/%d/audio.wav", id), http.StatusOK},
		{"bob", http.MethodGet, fmt.Sprintf("/api/recordings/%d/audio.wav", id), http.StatusNotFound},
		{"bob", http.MethodGet, fmt.Sprintf("/api/recordings/%d", id), http.StatusNotFound},
		{"bob", http.MethodDelete, fmt.Sprintf("/api/recordings/%d", id), http.StatusNotFound},
		{"bob", http.MethodGet, "/example.com/recordings/Files/" + fileName, http.StatusNotFound},
		{"admin", http.MethodGet, fmt.Sprintf("/api/recordings/%d", id), http.StatusOK},
	} {
		if resp := e.do(tc.method, tc.path, tc.user, nil); resp.StatusCode != tc.want {
			t.Errorf("%s %s as %q: %d, want %d", tc.method, tc.path, tc.user, resp.StatusCode, tc.want)
		}
	}
	// Lists: alice sees hers, bob nothing, admin everything.
	for user, n := range map[string]int{"alice": 1, "bob": 0, "admin": 1} {
		var out struct{ Recordings []recJSON }
		if err := json.Unmarshal(readAll(t, e.do(http.MethodGet, "/api/recordings", user, nil)), &out); err != nil {
			t.Fatal(err)
		}
		if len(out.Recordings) != n {
			t.Errorf("%s lists %d recordings, want %d", user, len(out.Recordings), n)
		}
	}
	// Protect, refused delete, unprotect, delete.
	p := fmt.Sprintf("/api/recordings/%d", id)
	steps := []struct {
		method, path, body string
		want               int
	}{
		{http.MethodPut, p + "/protected", `{"protected":true}`, http.StatusOK},
		{http.MethodDelete, p, "", http.StatusConflict},
		{http.MethodPut, p + "/protected", `{"protected":"yes"}`, http.StatusBadRequest},
		{http.MethodPut, p + "/protected", `{"protected":false}`, http.StatusOK},
		{http.MethodDelete, p, "", http.StatusNoContent},
		{http.MethodGet, p, "", http.StatusNotFound},
	}
	for _, st := range steps {
		if resp := e.do(st.method, st.path, "alice", strings.NewReader(st.body)); resp.StatusCode != st.want {
			t.Fatalf("%s %s %s: %d, want %d", st.method, st.path, st.body, resp.StatusCode, st.want)
		}
	}
}

func TestLoginCookie(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp := e.do(http.MethodPost, "/api/login", "", strings.NewReader(`{"name":"alice","password":"wrong"}`))
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad login: %d", resp.StatusCode)
	}
	resp = e.do(http.MethodPost, "/api/login", "", strings.NewReader(`{"name":"alice","password":"alice-pw"}`))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "recordings_session" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie: %+v", cookie)
	}
	me := e.do(http.MethodGet, "/api/me", "", nil, "Cookie", "recordings_session="+cookie.Value)
	if b := readAll(t, me); me.StatusCode != http.StatusOK || !strings.Contains(string(b), `"alice"`) {
		t.Fatalf("me: %d %s", me.StatusCode, b)
	}
	out := e.do(http.MethodPost, "/api/logout", "", nil, "Cookie", "recordings_session="+cookie.Value, "Origin", e.app.URL)
	if out.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d", out.StatusCode)
	}
	if me := e.do(http.MethodGet, "/api/me", "", nil, "Cookie", "recordings_session="+cookie.Value); me.StatusCode != http.StatusUnauthorized {
		t.Fatalf("me after logout: %d", me.StatusCode)
	}
}

func TestBadUploads(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *app.Config) { c.MaxUpload = 64 << 10 })
	good := callgen.Default(20).Bytes()
	name := func(i int) string {
		return fmt.Sprintf("/example.com/recordings/Files/%s-009033302ab1-%d-alice.pcap", confID, i)
	}
	oneSided := callgen.Default(20)
	oneSided.Drop = func(dir, n int) bool { return dir == 1 }
	for i, tc := range []struct {
		name      string
		path      string
		body      []byte
		method    string
		want      int
		wantState string // after analysis, "" = nothing stored
	}{
		{"zero bytes", name(1), nil, http.MethodPut, http.StatusBadRequest, ""},
		{"text file", name(2), []byte("hello, this is not a capture\n"), http.MethodPut, http.StatusBadRequest, ""}, // refused: not a capture
		{"truncated pcap", name(3), good[:len(good)-50], http.MethodPut, http.StatusCreated, "ready"},
		{"pcap without rtp", name(4), good[:24], http.MethodPut, http.StatusCreated, "failed"},
		{"one direction", name(5), oneSided.Bytes(), http.MethodPut, http.StatusCreated, "ready"},
		{"too large", name(6), bytes.Repeat(good, 20), http.MethodPut, http.StatusRequestEntityTooLarge, ""},
		{"bad name", "/example.com/recordings/Files/nope.pcap", good, http.MethodPut, http.StatusBadRequest, ""},
		{"escaped slash", "/example.com/recordings/Files/a%2fb.pcap", good, http.MethodPut, http.StatusBadRequest, ""},
		{"dot dot", "/example.com/recordings/Files/..", good, http.MethodPut, http.StatusBadRequest, ""},
		{"wrong method", name(7), good, http.MethodPost, http.StatusMethodNotAllowed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.do(tc.method, tc.path, asPhone, bytes.NewReader(tc.body))
			if b := readAll(t, resp); resp.StatusCode != tc.want {
				t.Fatalf("%d %s, want %d", resp.StatusCode, b, tc.want)
			}
			if tc.wantState == "" {
				return
			}
			rec := e.waitState(e.idOf(fmt.Sprintf("%s-009033302ab1-%d-alice.pcap", confID, i+1)))
			if rec.State != tc.wantState {
				t.Fatalf("state %q (%s), want %q", rec.State, rec.Reason, tc.wantState)
			}
		})
	}
	// Nothing oversized or empty was kept.
	if _, err := e.db.RecordingByName(context.Background(), "example.com", fmt.Sprintf("%s-009033302ab1-6-alice.pcap", confID)); err == nil {
		t.Fatal("oversized upload was stored")
	}
}

// A client that disconnects midway leaves an "incomplete" recording that
// converts up to the cut.
func TestDisconnectMidway(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *app.Config) { c.Tuning.FlushInterval = time.Millisecond })
	call := callgen.Default(100)
	data := call.Bytes()
	cut := len(data) / 2
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPut, e.app.URL+"/example.com/recordings/Files/"+fileName, pr)
	apptest.UploadAuth(req)
	errc := make(chan error, 1)
	go func() {
		_, err := e.app.Client.Do(req)
		errc <- err
	}()
	if _, err := pw.Write(data[:cut]); err != nil {
		t.Fatal(err)
	}
	// Wait until the server has stored what was sent, then cut the connection.
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec, err := e.db.RecordingByName(context.Background(), "example.com", fileName)
		if err == nil && rec.Size == int64(cut) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server stored %d of %d bytes", rec.Size, cut)
		}
		time.Sleep(5 * time.Millisecond)
	}
	pw.CloseWithError(io.ErrUnexpectedEOF)
	<-errc
	rec := e.waitState(e.idOf(fileName))
	if rec.State != "incomplete" || rec.DurationMS < 900 || rec.Size != int64(cut) {
		t.Fatalf("after disconnect: %+v", rec)
	}
	wav := readAll(t, e.do(http.MethodGet, fmt.Sprintf("/api/recordings/%d/audio.wav", rec.ID), "admin", nil))
	want := expectedStereo(call)
	n := (len(wav) - 44) / 2
	if n < 2*8000 || n > len(want) {
		t.Fatalf("incomplete wav has %d samples", n)
	}
	for i := range n - 2*160 { // the last packet may be cut
		if g := int16(binary.LittleEndian.Uint16(wav[44+2*i:])); g != want[i] {
			t.Fatalf("sample %d: got %d, want %d", i, g, want[i])
		}
	}
	// The phone's retry of the cut upload replaces it (204): the whole call.
	resp := e.do(http.MethodPut, "/example.com/recordings/Files/"+fileName, asPhone, bytes.NewReader(data))
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("retry of the cut upload: %d %s", resp.StatusCode, readAll(t, resp))
	}
	if rec := e.waitState(rec.ID); rec.State != "ready" || rec.Size != int64(len(data)) {
		t.Fatalf("after the retry: %+v", rec)
	}
}
