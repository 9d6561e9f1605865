package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"recordings/internal/apptest"
	"recordings/internal/callgen"
	"recordings/store"
)

// TestHostileWebsocketAndCDR continues the catalogue on the CDR endpoint
// and the websocket API: oversized and malformed requests each get their
// answer, and nothing stored changes.
func TestHostileWebsocketAndCDR(t *testing.T) {
	t.Parallel()
	e := newHostileEnv(t)
	ctx := context.Background()
	phone := basic("phone", "phone-pw")
	name := fmt.Sprintf("%032x-009033302ab1-1--alice.pcap", 1)
	if a := e.send(t, raw("PUT", "/example.com/recordings/Files/"+name, string(callgen.Default(50).Bytes()), phone), 0); a.status != 201 {
		t.Fatalf("seed: %+v", a)
	}
	if r, err := e.db.RecordingByName(ctx, "example.com", name); err != nil {
		t.Fatal(err)
	} else {
		e.app.WaitRecording(r.ID, func(r store.Recording) bool { return r.State == store.StateReady })
	}
	before := digest(t, e.db)
	cdr := "/example.com/recordings/cdr"
	pbx := basic(apptest.CDRUser, apptest.CDRPassword)

	t.Run("cdr", func(t *testing.T) {
		for _, tc := range []struct {
			name, req string
			status    int
			msg       string
		}{
			{"body over 1 MiB", raw("POST", cdr, "<cdr>"+strings.Repeat("x", 1<<20)+"</cdr>", "Content-Type: text/xml", pbx), 413, "larger than 1 MiB"},
			{"body over 1 MiB, chunked", raw("POST", cdr, chunked([]byte("<cdr>"+strings.Repeat("x", 1<<20)), 64<<10), "Transfer-Encoding: chunked", "Content-Type: text/xml", pbx), 413, "larger than 1 MiB"},
			{"empty", raw("POST", cdr, "", "Content-Length: 0", pbx), 400, "no CDR in the request"},
			{"XML not closed", raw("POST", cdr, "<cdr><event type='rel'", "Content-Type: text/xml", pbx), 400, ""},
			{"XML entity bomb", raw("POST", cdr, `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><cdr>&b;&b;&b;&b;</cdr>`, "Content-Type: text/xml", pbx), 400, ""},
			{"bad query escape", raw("GET", cdr+"?msg=%zz", "", pbx), 400, "no CDR in the request"},
			{"markup in msg", raw("GET", cdr+"?msg="+url.QueryEscape("<script>alert(1)</script>"), "", pbx), 400, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a := e.send(t, tc.req, 0)
				if a.status != tc.status || !strings.Contains(a.body, tc.msg) {
					t.Fatalf("%d %.300q, want %d with %q", a.status, a.body, tc.status, tc.msg)
				}
				if strings.Contains(a.body, "<script>") {
					t.Errorf("answer echoes markup: %.300q", a.body)
				}
			})
		}
	})

	wsURL := "ws" + strings.TrimPrefix(e.app.URL, "http") + "/api/ws"
	dial := func(t *testing.T, hdr http.Header) (*websocket.Conn, *http.Response, error) {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if hdr == nil {
			hdr = http.Header{}
		}
		c, resp, err := websocket.Dial(dctx, wsURL, &websocket.DialOptions{HTTPHeader: hdr})
		if err == nil {
			t.Cleanup(func() { c.CloseNow() })
		}
		return c, resp, err
	}
	signedIn := http.Header{"Origin": {e.app.URL}, "Authorization": {strings.TrimPrefix(basic("alice", "alice-pw"), "Authorization: ")}}

	t.Run("websocket handshake", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			hdr  http.Header
		}{
			{"foreign origin", http.Header{"Origin": {"https://evil.example"}, "Authorization": signedIn["Authorization"]}},
			{"origin with the host as a suffix", http.Header{"Origin": {"http://evil" + strings.TrimPrefix(e.app.URL, "http://")}, "Authorization": signedIn["Authorization"]}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, resp, err := dial(t, tc.hdr)
				if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
					t.Fatalf("dial with %v: %v (%v), want 403", tc.hdr, err, resp)
				}
			})
		}
	})

	t.Run("websocket messages", func(t *testing.T) {
		conn, _, err := dial(t, signedIn)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetReadLimit(1 << 20)
		read := func() string {
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			_, b, err := conn.Read(rctx)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			return string(b)
		}
		for _, tc := range []struct {
			name string
			typ  websocket.MessageType
			msg  string
			want string // substring of the answer
		}{
			{"invalid JSON", websocket.MessageText, `{"mt":`, "message is not a JSON object"},
			{"JSON array", websocket.MessageText, `[1,2,3]`, "message is not a JSON object"},
			{"no mt", websocket.MessageText, `{"src":"x"}`, `message has no \"mt\"`},
			{"binary frame", websocket.MessageBinary, `{"mt":"GetMe"}`, "messages must be JSON text"},
			{"unknown mt with markup", websocket.MessageText, `{"mt":"<script>alert(1)</script>","src":"x"}`, "unknown message type"},
			{"id of the wrong type", websocket.MessageText, `{"mt":"GetRecording","src":"x","id":"1 OR 1=1"}`, "wrong type"},
			{"id negative", websocket.MessageText, `{"mt":"DeleteRecording","src":"x","id":-1}`, "id must be a positive number"},
			{"id overflowing", websocket.MessageText, `{"mt":"DeleteRecording","src":"x","id":99999999999999999999}`, "wrong type"},
			{"protected of the wrong type", websocket.MessageText, `{"mt":"SetProtected","src":"x","id":1,"protected":"no"}`, "wrong type"},
			{"limit of the wrong type", websocket.MessageText, `{"mt":"ListRecordings","src":"x","limit":"all"}`, "wrong type"},
			{"limit out of range", websocket.MessageText, `{"mt":"ListRecordings","src":"x","limit":100000}`, "limit: a number from 1 to 500"},
			{"LIKE wildcard", websocket.MessageText, `{"mt":"ListRecordings","src":"x","q":"%"}`, `"recordings":[]`},
			{"query too long", websocket.MessageText, `{"mt":"ListRecordings","src":"x","q":"` + strings.Repeat("a", 300) + `"}`, "at most 256 bytes"},
			{"forged cursor", websocket.MessageText, `{"mt":"ListRecordings","src":"x","cursor":"' OR 1=1"}`, "malformed cursor"},
			{"admin message as a user", websocket.MessageText, `{"mt":"CreateUser","src":"x","name":"mallory","role":"admin","password":"x"}`, "administrators only"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				defer cancel()
				if err := conn.Write(wctx, tc.typ, []byte(tc.msg)); err != nil {
					t.Fatal(err)
				}
				if got := read(); !strings.Contains(got, tc.want) || strings.Contains(got, "<script>") {
					t.Fatalf("answer %.300q, want %q and no markup", got, tc.want)
				}
			})
		}
		// A frame over the 64 KiB limit closes the connection with 1009.
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = conn.Write(wctx, websocket.MessageText, []byte(`{"mt":"GetMe","src":"`+strings.Repeat("x", 1<<20)+`"}`))
		_, _, err = conn.Read(wctx)
		if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
			t.Fatalf("after a 1 MiB frame: %v, want close 1009", err)
		}
	})

	t.Run("websocket without a valid session", func(t *testing.T) {
		for _, hdr := range []http.Header{
			{"Origin": {e.app.URL}},
			{"Origin": {e.app.URL}, "Cookie": {"recordings_session=forged"}},
			{"Origin": {e.app.URL}, "Authorization": {strings.TrimPrefix(basic("alice", "wrong"), "Authorization: ")}},
		} {
			conn, _, err := dial(t, hdr)
			if err != nil {
				t.Fatal(err)
			}
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if err := conn.Write(wctx, websocket.MessageText, []byte(`{"mt":"ListRecordings","src":"x"}`)); err != nil {
				t.Fatal(err)
			}
			_, b, err := conn.Read(wctx)
			cancel()
			if err != nil || !strings.Contains(string(b), "sign-in required") || strings.Contains(string(b), "recordings\"") {
				t.Errorf("anonymous ListRecordings (%v): %s %v", hdr, b, err)
			}
		}
	})

	if digest(t, e.db) != before {
		t.Errorf("hostile websocket and CDR requests changed what is stored")
	}
	integrityCheck(t, e.db.Path())
	// Still serving.
	conn, _, err := dial(t, signedIn)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := conn.Write(wctx, websocket.MessageText, []byte(`{"mt":"ListRecordings","src":"x"}`)); err != nil {
		t.Fatal(err)
	}
	if _, b, err := conn.Read(wctx); err != nil || !strings.Contains(string(b), name) {
		var ce websocket.CloseError
		t.Fatalf("list after the catalogue: %s %v %v", b, err, errors.As(err, &ce))
	}
}
