package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"recordings/api"
	"recordings/internal/app"
	"recordings/internal/apptest"
	"recordings/internal/callgen"
	"recordings/metrics"
	"recordings/store"
)

// Short limits so that the catalogue runs in seconds.
const (
	hReadHeader = 300 * time.Millisecond
	hUploadIdle = 300 * time.Millisecond
	hMaxHeader  = 16 << 10
	hMaxUpload  = 64 << 10
)

// hostileEnv is a service behind the production http.Server settings (with
// short timeouts) and with upload credentials configured.
type hostileEnv struct {
	db   *store.DB
	m    *metrics.Metrics
	app  *apptest.App
	addr string
}

func newHostileEnv(t *testing.T) *hostileEnv {
	t.Helper()
	a := apptest.New(t, func(c *app.Config) {
		c.MaxUpload, c.UploadUser, c.UploadPassword = hMaxUpload, "phone", "phone-pw"
		c.Tuning.ChunkBytes, c.Tuning.UploadIdle = 8<<10, hUploadIdle
		c.Tuning.HTTP = api.Timeouts{ReadHeader: hReadHeader, Idle: time.Second, MaxHeaderBytes: hMaxHeader}
	})
	for _, name := range []string{"admin", "alice", "bob"} {
		role := store.RoleUser
		if name == "admin" {
			role = store.RoleAdmin
		}
		a.User(name, role, name+"-pw")
	}
	return &hostileEnv{db: a.DB, m: a.Metrics, app: a, addr: a.Addr}
}

func basic(user, pw string) string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
}

// raw builds a request exactly as given; a Content-Length is added for a
// body unless the headers frame it themselves.
func raw(method, path string, body string, hdr ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: recorder\r\nConnection: close\r\n", method, path)
	framed := false
	for _, h := range hdr {
		l := strings.ToLower(h)
		framed = framed || strings.HasPrefix(l, "content-length:") || strings.HasPrefix(l, "transfer-encoding:")
		b.WriteString(h + "\r\n")
	}
	if body != "" && !framed {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n" + body)
	return b.String()
}

// chunked frames data as HTTP/1.1 chunks of n bytes.
func chunked(data []byte, n int) string {
	var b strings.Builder
	for off := 0; off < len(data); off += n {
		p := data[off:min(off+n, len(data))]
		fmt.Fprintf(&b, "%x\r\n%s\r\n", len(p), p)
	}
	b.WriteString("0\r\n\r\n")
	return b.String()
}

type answer struct {
	status int // 0: the connection closed without an answer
	ctype  string
	body   string
	took   time.Duration
}

// send writes req over a fresh connection (one byte per trickle when set)
// and reads the answer.
func (e *hostileEnv) send(t *testing.T, req string, trickle time.Duration) answer {
	t.Helper()
	start := time.Now()
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if trickle > 0 {
		go func() {
			for i := range len(req) {
				if _, err := c.Write([]byte{req[i]}); err != nil {
					return
				}
				time.Sleep(trickle)
			}
		}()
	} else if _, err := io.WriteString(c, req); err != nil {
		// The server may refuse before the whole request is sent.
		t.Logf("write: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return answer{took: time.Since(start)}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), body: string(b), took: time.Since(start)}
}

func TestHostileInput(t *testing.T) {
	t.Parallel()
	e := newHostileEnv(t)
	ctx := context.Background()
	phone := basic("phone", "phone-pw")
	name := func(i int, owner string) string { return fmt.Sprintf("%032x-009033302ab1-%d--%s.pcap", i, i, owner) }
	files := "/example.com/recordings/Files/"

	// What is stored before: a call of alice's and one of bob's.
	capture := callgen.Default(100).Bytes()
	var ids []int64
	for i, owner := range []string{"alice", "bob"} {
		a := e.send(t, raw("PUT", files+name(i+1, owner), chunked(capture, 1000), phone, "Transfer-Encoding: chunked"), 0)
		if a.status != http.StatusCreated {
			t.Fatalf("seed upload: %+v", a)
		}
		rec, err := e.db.RecordingByName(ctx, "example.com", name(i+1, owner))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rec.ID)
	}
	for _, id := range ids {
		e.app.WaitRecording(id, func(r store.Recording) bool { return r.State == store.StateReady })
	}
	aliceID, bobID := ids[0], ids[1]

	// Sessions in every state a stolen or stale cookie can be in.
	admin, err := e.db.User(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	expired, err := e.db.CreateSession(ctx, admin.ID, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	loggedOut, err := e.db.CreateSession(ctx, admin.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.DeleteSession(ctx, loggedOut); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	before := digest(t, e.db)

	asAdmin, asAlice := basic("admin", "admin-pw"), basic("alice", "alice-pw")
	big := callgen.Default(400).Bytes() // ≈ 180 kB, over the 64 KiB limit
	xss := `<script>alert(document.cookie)</script>`
	q := func(s string) string { return "/api/recordings?q=" + url.QueryEscape(s) }
	rec := func(id int64, tail string) string { return fmt.Sprintf("/api/recordings/%d%s", id, tail) }
	tests := []struct {
		name    string
		req     string
		trickle time.Duration
		status  int    // 0: connection closed without an answer
		msg     string // substring of the answer's body
		not     string // must not appear in the answer
		within  time.Duration
	}{
		// Uploads.
		{name: "upload without credentials", req: raw("PUT", files+name(9, "alice"), string(capture)), status: 401, msg: "upload credentials required"},
		{name: "upload with wrong password", req: raw("PUT", files+name(9, "alice"), string(capture), basic("phone", "guess")), status: 401, msg: "upload credentials required"},
		{name: "upload with admin's credentials", req: raw("PUT", files+name(9, "alice"), string(capture), asAdmin), status: 401, msg: "upload credentials required"},
		{name: "file name not innovaphone's", req: raw("PUT", files+"evil.pcap", string(capture), phone), status: 400, msg: "bad file name"},
		{name: "file name with markup", req: raw("PUT", files+"f9e5956e47d460010630009033302ab1-009033302ab1-1--<b>x.pcap", string(capture), phone), status: 400, msg: "bad file name"},
		{name: "escaped dot-dot", req: raw("PUT", files+"%2e%2e%2f%2e%2e%2fetc%2fpasswd", string(capture), phone), status: 400, msg: "escaped characters are not allowed"},
		{name: "escaped NUL", req: raw("PUT", files+name(9, "alice")+"%00.txt", string(capture), phone), status: 400, msg: "escaped characters are not allowed"},
		{name: "dot-dot segments", req: raw("PUT", files+"../../../etc/passwd", string(capture), phone), status: 400, msg: "'..' is not allowed"},
		{name: "slash in file name", req: raw("PUT", files+"sub/"+name(9, "alice"), string(capture), phone), status: 400, msg: "'/' is not allowed"},
		{name: "empty body", req: raw("PUT", files+name(9, "alice"), "", phone, "Content-Length: 0"), status: 400, msg: "empty upload"},
		{name: "declared size over the limit", req: raw("PUT", files+name(9, "alice"), "", phone, "Content-Length: 10737418240"), status: 413, msg: "exceeds the size limit"},
		{name: "chunked body over the limit", req: raw("PUT", files+name(9, "alice"), chunked(big, 4096), phone, "Transfer-Encoding: chunked"), status: 413, msg: "exceeds the size limit"},
		{name: "malformed chunk size", req: raw("PUT", files+name(9, "alice"), "zz\r\nhello\r\n0\r\n\r\n", phone, "Transfer-Encoding: chunked"), status: 400, msg: "upload failed"},
		{name: "chunk size overflow", req: raw("PUT", files+name(9, "alice"), "ffffffffffffffffffff\r\nhello\r\n0\r\n\r\n", phone, "Transfer-Encoding: chunked"), status: 400, msg: "upload failed"},
		{name: "chunk without its CRLF", req: raw("PUT", files+name(9, "alice"), "3\r\nabcXX0\r\n\r\n", phone, "Transfer-Encoding: chunked"), status: 400, msg: "upload failed"},
		{name: "body not a capture", req: raw("PUT", files+name(9, "alice"), "<html><script>alert(1)</script></html>", phone), status: 400, msg: "not a pcap or pcapng capture"},
		{name: "body shorter than a magic number", req: raw("PUT", files+name(9, "alice"), "ab", phone), status: 400, msg: "not a pcap or pcapng capture"},
		{name: "smuggling: Content-Length and chunked", req: raw("PUT", files+name(9, "alice"), "0\r\n\r\nPUT /x HTTP/1.1\r\n\r\n", phone, "Content-Length: 5", "Transfer-Encoding: chunked"), status: 400},
		{name: "smuggling: unknown transfer coding", req: raw("PUT", files+name(9, "alice"), "5\r\nhello\r\n0\r\n\r\n", phone, "Transfer-Encoding: gzip, chunked"), status: 501},
		{name: "negative Content-Length", req: raw("PUT", files+name(9, "alice"), "x", phone, "Content-Length: -1"), status: 400},
		{name: "slowloris: headers one byte per 50 ms", req: raw("GET", "/healthz", ""), trickle: 50 * time.Millisecond, status: 400, msg: "Bad Request", within: hReadHeader + 2*time.Second},
		{name: "slowloris: upload body never sent", req: raw("PUT", files+name(9, "alice"), "", phone, "Transfer-Encoding: chunked"), status: 400, msg: "timeout", within: hUploadIdle + 2*time.Second},
		{name: "oversized header", req: raw("GET", "/api/me", "", "Cookie: recordings_session="+strings.Repeat("A", 2*hMaxHeader)), status: 431},
		{name: "oversized URL", req: raw("GET", "/api/recordings?q="+strings.Repeat("%25", hMaxHeader), "", asAdmin), status: 431},
		{name: "download with a PUT-only method", req: raw("DELETE", files+name(1, "alice"), "", asAdmin), status: 405},
		{name: "upload into the api namespace", req: raw("PUT", "/api/recordings/Files/"+name(9, "alice"), string(capture), phone), status: 404},

		// The JSON API.
		{name: "login: invalid JSON", req: raw("POST", "/api/login", "{"), status: 400, msg: "body must be JSON"},
		{name: "login: wrong types", req: raw("POST", "/api/login", `{"name":1,"password":true}`), status: 400, msg: "body must be JSON"},
		{name: "login: oversized body", req: raw("POST", "/api/login", `{"name":"admin","password":"`+strings.Repeat("x", 10000)+`"}`), status: 400, msg: "body must be JSON"},
		{name: "login: markup as user name", req: raw("POST", "/api/login", `{"name":"`+xss+`","password":"x"}`), status: 401, msg: "wrong user name or password", not: "<script>"},
		{name: "login: SQL in user name", req: raw("POST", "/api/login", `{"name":"admin' OR '1'='1","password":"' OR '1'='1"}`), status: 401, msg: "wrong user name or password"},
		{name: "basic auth not base64", req: raw("GET", "/api/me", "", "Authorization: Basic !!!"), status: 401, msg: "sign-in required"},
		{name: "expired session", req: raw("GET", "/api/recordings", "", "Cookie: recordings_session="+expired), status: 401, msg: "sign-in required"},
		{name: "logged-out session", req: raw("GET", "/api/recordings", "", "Cookie: recordings_session="+loggedOut), status: 401, msg: "sign-in required"},
		{name: "forged session", req: raw("GET", "/api/recordings", "", "Cookie: recordings_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), status: 401, msg: "sign-in required"},
		{name: "LIKE wildcard % matches nothing", req: raw("GET", q("%"), "", asAdmin), status: 200, msg: `"recordings":[]`},
		{name: "LIKE wildcard _ matches nothing", req: raw("GET", q("_"), "", asAdmin), status: 200, msg: `"recordings":[]`},
		{name: "LIKE escape character", req: raw("GET", q(`\%`), "", asAdmin), status: 200, msg: `"recordings":[]`},
		{name: "SQL injection in filter", req: raw("GET", q("' OR 1=1 --"), "", asAdmin), status: 200, msg: `"recordings":[]`},
		{name: "wildcard filter leaks nothing to a user", req: raw("GET", q("%"), "", asAlice), status: 200, msg: `"recordings":[]`, not: "bob"},
		{name: "markup in filter", req: raw("GET", q(xss), "", asAdmin), status: 200, msg: `"recordings":[]`, not: "<script>"},
		{name: "filter too long", req: raw("GET", q(strings.Repeat("a", 300)), "", asAdmin), status: 400},
		{name: "limit not a number", req: raw("GET", "/api/recordings?limit=abc", "", asAdmin), status: 400, msg: "limit: a number from 1 to 500"},
		{name: "limit negative", req: raw("GET", "/api/recordings?limit=-5", "", asAdmin), status: 400, msg: "limit: a number from 1 to 500"},
		{name: "limit huge", req: raw("GET", "/api/recordings?limit=99999999999999999999", "", asAdmin), status: 400, msg: "limit: a number from 1 to 500"},
		{name: "from not a date", req: raw("GET", "/api/recordings?from=yesterday", "", asAdmin), status: 400, msg: "from: want RFC 3339"},
		{name: "cursor forged", req: raw("GET", "/api/recordings?cursor=cjEuMS4x'--", "", asAdmin), status: 400, msg: "malformed cursor"},
		{name: "id not a number", req: raw("GET", "/api/recordings/abc", "", asAdmin), status: 400, msg: "positive number"},
		{name: "id zero", req: raw("GET", "/api/recordings/0", "", asAdmin), status: 400, msg: "positive number"},
		{name: "id overflowing int64", req: raw("GET", "/api/recordings/99999999999999999999", "", asAdmin), status: 400, msg: "positive number"},
		{name: "id that does not exist", req: raw("GET", rec(999999, ""), "", asAdmin), status: 404, msg: "no such recording"},
		{name: "someone else's id", req: raw("GET", rec(bobID, ""), "", asAlice), status: 404, msg: "no such recording", not: "bob"},
		{name: "protect: invalid JSON", req: raw("PUT", rec(aliceID, "/protected"), "{", asAdmin), status: 400, msg: `body must be {`},
		{name: "protect: wrong type", req: raw("PUT", rec(aliceID, "/protected"), `{"protected":"yes"}`, asAdmin), status: 400, msg: `body must be {`},
		{name: "protect: field missing", req: raw("PUT", rec(aliceID, "/protected"), `{"protect":true}`, asAdmin), status: 400, msg: `body must be {`},
		{name: "protect: oversized body", req: raw("PUT", rec(aliceID, "/protected"), `{"protected":true,"x":"`+strings.Repeat("x", 5000)+`"}`, asAdmin), status: 400, msg: `body must be {`},
		{name: "delete someone else's", req: raw("DELETE", rec(bobID, ""), "", asAlice), status: 404, msg: "no such recording"},
		{name: "range past the end", req: raw("GET", rec(aliceID, "/audio.wav"), "", asAdmin, "Range: bytes=99999999-"), status: 416, msg: "range not satisfiable"},
		{name: "range reversed", req: raw("GET", rec(aliceID, "/audio.wav"), "", asAdmin, "Range: bytes=500-100"), status: 416, msg: "range not satisfiable"},
		{name: "range garbage", req: raw("GET", rec(aliceID, "/audio.wav"), "", asAdmin, "Range: bytes=-0"), status: 416, msg: "range not satisfiable"},
		{name: "unknown API path", req: raw("GET", "/api/nothing", "", asAdmin), status: 404},
		{name: "dot-dot out of the API", req: raw("GET", "/api/../../etc/passwd", "", asAdmin), status: 307, not: "root:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := e.send(t, tc.req, tc.trickle)
			if a.status != tc.status {
				t.Fatalf("status %d (body %.200q), want %d", a.status, a.body, tc.status)
			}
			if !strings.Contains(a.body, tc.msg) {
				t.Errorf("body %.300q lacks %q", a.body, tc.msg)
			}
			if tc.not != "" && strings.Contains(a.body, tc.not) {
				t.Errorf("body %.300q contains %q", a.body, tc.not)
			}
			if d := digest(t, e.db); d != before {
				t.Errorf("stored data changed")
				before = d
			}
			if tc.within > 0 && a.took > tc.within {
				t.Errorf("answered after %v, want within %v", a.took, tc.within)
			}
			// Errors from the service are JSON, never HTML that could run script.
			if a.status >= 400 && strings.HasPrefix(a.body, "{") && !strings.HasPrefix(a.ctype, "application/json") {
				t.Errorf("JSON error with Content-Type %q", a.ctype)
			}
		})
	}
	if len(tests) < 25 {
		t.Fatalf("only %d hostile requests in the catalogue", len(tests))
	}

	if after := digest(t, e.db); after != before {
		t.Errorf("hostile requests changed what is stored")
	}
	integrityCheck(t, e.db.Path())
	// The service still serves: sign-in, listing and a new upload.
	if a := e.send(t, raw("GET", "/api/recordings", "", asAdmin), 0); a.status != 200 || !strings.Contains(a.body, name(1, "alice")) {
		t.Errorf("list after the catalogue: %+v", a)
	}
	if a := e.send(t, raw("PUT", files+name(3, "alice"), string(capture), phone), 0); a.status != 201 {
		t.Errorf("upload after the catalogue: %+v", a)
	}
	if a := e.send(t, raw("GET", files+name(3, "alice"), "", asAlice), 0); a.status != 200 || !bytes.Equal([]byte(a.body), capture) {
		t.Errorf("download after the catalogue: %d, %d bytes", a.status, len(a.body))
	}

	// A phone that stops sending midway (without closing) is cut off after
	// UploadIdle; what arrived is kept as an incomplete recording.
	half := capture[:len(capture)/2]
	stalled := raw("PUT", files+name(4, "alice"), fmt.Sprintf("%x\r\n%s\r\n", len(half), half), phone, "Transfer-Encoding: chunked")
	a := e.send(t, stalled, 0)
	if a.status != 400 || !strings.Contains(a.body, "timeout") || a.took > hUploadIdle+2*time.Second {
		t.Fatalf("stalled upload: %+v", a)
	}
	r, err := e.db.RecordingByName(ctx, "example.com", name(4, "alice"))
	if err != nil || r.State != "incomplete" || r.Size != int64(len(half)) {
		t.Fatalf("stalled upload stored as %+v, %v; want incomplete with %d bytes", r, err, len(half))
	}
}
