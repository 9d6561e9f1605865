package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// fakeRemoteEnd is a scripted BiDi remote end for testing bidiConn without a
// browser. Methods:
//
//	echo       answers success with the params as result
//	fail       answers an error
//	silent     never answers
//	event      sends an event carrying the params, then answers success
//	later      answers only after the next command was answered
//	garbage    sends a message that is not JSON
func fakeRemoteEnd(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/session" {
			http.NotFound(w, r)
			return
		}
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		ctx := r.Context()
		send := func(v any) {
			b, _ := json.Marshal(v)
			_ = ws.Write(ctx, websocket.MessageText, b)
		}
		var held []int64 // ids of "later" commands
		for {
			_, data, err := ws.Read(ctx)
			if err != nil {
				return
			}
			var cmd struct {
				ID     int64           `json:"id"`
				Method string          `json:"method"`
				Params json.RawMessage `json:"params"`
			}
			if err := json.Unmarshal(data, &cmd); err != nil {
				send(map[string]any{"type": "error", "id": nil, "error": "invalid argument", "message": err.Error()})
				continue
			}
			switch cmd.Method {
			case "echo":
				send(map[string]any{"type": "success", "id": cmd.ID, "result": cmd.Params})
			case "fail":
				send(map[string]any{"type": "error", "id": cmd.ID, "error": "no such frame", "message": "gone"})
			case "silent":
			case "event":
				send(map[string]any{"type": "event", "method": "test.happened", "params": cmd.Params})
				send(map[string]any{"type": "success", "id": cmd.ID, "result": map[string]any{}})
			case "later":
				held = append(held, cmd.ID)
				continue
			case "garbage":
				_ = ws.Write(ctx, websocket.MessageText, []byte("{not json"))
			default:
				send(map[string]any{"type": "error", "id": cmd.ID, "error": "unknown command", "message": cmd.Method})
			}
			for _, id := range held {
				send(map[string]any{"type": "success", "id": id, "result": map[string]string{"held": "yes"}})
			}
			held = nil
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/session"
}

func TestBiDiConnCall(t *testing.T) {
	url := fakeRemoteEnd(t)
	ctx := context.Background()
	var mu sync.Mutex
	var events []string
	c, err := dialBiDi(ctx, url, func(method string, params json.RawMessage) {
		mu.Lock()
		events = append(events, method+" "+string(params))
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()

	cases := []struct {
		method  string
		params  any
		want    string // result as JSON
		errCode string // a bidiError with this code
		errText string // or an error containing this
		timeout time.Duration
	}{
		{method: "echo", params: map[string]int{"n": 1}, want: `{"n":1}`},
		{method: "echo", params: nil, want: `{}`},
		{method: "fail", errCode: "no such frame"},
		{method: "nope", errCode: "unknown command"},
		{method: "silent", timeout: 50 * time.Millisecond, errText: "context deadline exceeded"},
		{method: "event", params: map[string]string{"what": "x"}, want: `{}`},
	}
	for _, tc := range cases {
		t.Run(tc.method, func(t *testing.T) {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if tc.timeout > 0 {
				cancel()
				cctx, cancel = context.WithTimeout(ctx, tc.timeout)
			}
			defer cancel()
			var got json.RawMessage
			err := c.call(cctx, tc.method, tc.params, &got)
			switch {
			case tc.errCode != "":
				var be *bidiError
				if !errors.As(err, &be) || be.Code != tc.errCode || be.Method != tc.method {
					t.Fatalf("error %v, want a %s bidiError", err, tc.errCode)
				}
			case tc.errText != "":
				if err == nil || !strings.Contains(err.Error(), tc.errText) || !strings.HasPrefix(err.Error(), tc.method+":") {
					t.Fatalf("error %v, want one about %q", err, tc.errText)
				}
			case err != nil:
				t.Fatalf("call: %v", err)
			case string(got) != tc.want:
				t.Fatalf("result %s, want %s", got, tc.want)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 1 || events[0] != `test.happened {"what":"x"}` {
		t.Errorf("events %q", events)
	}
}

// Answers arrive out of order: each goes to its own caller.
func TestBiDiConnOutOfOrder(t *testing.T) {
	c, err := dialBiDi(context.Background(), fakeRemoteEnd(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	held := make(chan error, 1)
	go func() {
		var r struct{ Held string }
		err := c.call(ctx, "later", nil, &r)
		if err == nil && r.Held != "yes" {
			err = errors.New("wrong answer to the held command: " + r.Held)
		}
		held <- err
	}()
	// Wait until the held command is pending before sending the next.
	for {
		c.mu.Lock()
		n := len(c.pending)
		c.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	var r struct{ N int }
	if err := c.call(ctx, "echo", map[string]int{"N": 7}, &r); err != nil || r.N != 7 {
		t.Fatalf("echo: %v %+v", err, r)
	}
	if err := <-held; err != nil {
		t.Fatal(err)
	}
}

// A message that is not JSON ends the connection: every call fails after.
func TestBiDiConnBrokenMessage(t *testing.T) {
	c, err := dialBiDi(context.Background(), fakeRemoteEnd(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.call(ctx, "garbage", nil, nil); err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Fatalf("garbage: error %v", err)
	}
	if err := c.call(ctx, "echo", nil, nil); err == nil || !strings.Contains(err.Error(), "connection closed") {
		t.Fatalf("after garbage: error %v", err)
	}
}

func TestBiDiDialRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/session"
	srv.Close()
	if _, err := dialBiDi(ctx, url, nil); err == nil || !strings.Contains(err.Error(), url) {
		t.Fatalf("dial a closed port: error %v", err)
	}
}
