package pbxlink

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeConn records what the hub writes and whether it closed.
type fakeConn struct {
	mu     sync.Mutex
	out    [][]byte
	closed string
	full   bool
	sent   chan struct{} // signalled at every Enqueue, when made
}

func (c *fakeConn) Enqueue(b []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.full || c.closed != "" {
		return false
	}
	c.out = append(c.out, b)
	if c.sent != nil {
		select {
		case c.sent <- struct{}{}:
		default:
		}
	}
	return true
}

func (c *fakeConn) Close(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = reason
}

func (c *fakeConn) messages() []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []map[string]any
	for _, b := range c.out {
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		out = append(out, m)
	}
	return out
}

// fakeClient records its callbacks.
type fakeClient struct {
	api    string
	mu     sync.Mutex
	events []string
	s      Sender
}

func (c *fakeClient) API() string { return c.api }
func (c *fakeClient) Connected(ctx context.Context, s Sender, info PbxInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s = s
	c.events = append(c.events, "connected:"+info.PBX)
}
func (c *fakeClient) Handle(ctx context.Context, m Msg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, "handle:"+m.MT)
}
func (c *fakeClient) Disconnected() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, "disconnected")
}
func (c *fakeClient) got() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.events)
}

func info(pbx string, apis ...string) []byte {
	b, _ := json.Marshal(map[string]any{"mt": "PbxInfo", "domain": "sys", "pbx": pbx, "pbxDns": "dns", "apis": apis})
	return b
}

// Clients are Connected after PbxInfo for the APIs it lists, get their
// api's messages, are Disconnected when the connection ends or is
// replaced, and move to the newest remaining connection.
func TestHubClients(t *testing.T) {
	t.Parallel()
	admin, users := &fakeClient{api: "PbxAdminApi"}, &fakeClient{api: "PbxTableUsers"}
	expected := false
	h := NewHub(Options{Clients: []Client{admin, users}, Expected: func() bool { return expected }})
	if p := h.Problems(); len(p) != 0 {
		t.Fatalf("problems before expected: %v", p)
	}
	expected = true
	if p := h.Problems(); !slices.Equal(p, []string{NotConnected}) {
		t.Fatalf("problems: %v", p)
	}
	c1 := &fakeConn{}
	s1 := h.Attach(Login{Domain: "a.example", SIP: "rec"}, c1)
	if len(admin.got()) != 0 {
		t.Fatal("connected before PbxInfo")
	}
	s1.Handle(info("pbx-a", "PbxAdminApi"))
	s1.Handle([]byte(`{"api":"PbxAdminApi","mt":"GetAppLicsResult","src":"1"}`))
	s1.Handle([]byte(`{"api":"PbxTableUsers","mt":"ReplicateStart","src":"2"}`)) // not announced
	if got := admin.got(); !slices.Equal(got, []string{"connected:pbx-a", "handle:GetAppLicsResult"}) {
		t.Fatalf("admin: %v", got)
	}
	if got := users.got(); len(got) != 0 {
		t.Fatalf("users: %v", got)
	}
	if m := c1.messages(); len(m) != 1 || m[0]["mt"] != "ReplicateStartResult" || m[0]["api"] != "PbxTableUsers" ||
		m[0]["src"] != "2" || !strings.Contains(m[0]["error"].(string), "not used") {
		t.Fatalf("answers: %v", m)
	}
	if p := h.Problems(); len(p) != 0 {
		t.Fatalf("problems while connected: %v", p)
	}
	// Another domain's PBX: the clients move to the newest.
	c2 := &fakeConn{}
	s2 := h.Attach(Login{Domain: "b.example"}, c2)
	s2.Handle(info("pbx-b", "PbxAdminApi", "PbxTableUsers"))
	if got := admin.got(); !slices.Equal(got[2:], []string{"disconnected", "connected:pbx-b"}) {
		t.Fatalf("admin after b: %v", got)
	}
	// A message of the old connection reaches no client now.
	s1.Handle([]byte(`{"api":"PbxAdminApi","mt":"CheckAppLic","src":"3"}`))
	if got := admin.got(); len(got) != 4 {
		t.Fatalf("admin got the old connection's message: %v", got)
	}
	// b ends: the clients return to a.
	s2.End("gone")
	if got := admin.got(); !slices.Equal(got[4:], []string{"disconnected", "connected:pbx-a"}) {
		t.Fatalf("admin after b ended: %v", got)
	}
	if got := users.got(); !slices.Equal(got, []string{"connected:pbx-b", "disconnected"}) {
		t.Fatalf("users: %v", got)
	}
	// A newer login of a replaces the older, which is closed.
	c3 := &fakeConn{}
	h.Attach(Login{Domain: "a.example", Remote: "192.0.2.9:1"}, c3)
	if c1.closed == "" {
		t.Fatal("replaced connection not closed")
	}
	st := h.Status()
	if len(st.Connections) != 2 || !st.Connections[0].Connected || st.Connections[0].InfoReceived ||
		st.Connections[1].Connected || st.Connections[1].DisconnectWhy != "gone" {
		t.Fatalf("status: %+v", st)
	}
	if err := admin.s.Send(context.Background(), map[string]string{"mt": "X"}); err == nil {
		t.Fatal("send on an ended connection succeeded")
	}
	if p := h.Problems(); len(p) != 0 {
		t.Fatalf("problems: %v", p)
	}
}

// Refused logins naming ever new domains do not grow the hub without
// bound.
func TestHubRecordsBounded(t *testing.T) {
	t.Parallel()
	h := NewHub(Options{})
	s := h.Attach(Login{Domain: "kept"}, &fakeConn{})
	for i := range 1000 {
		h.Failed(fmt.Sprintf("d%d", i), "wrong digest")
	}
	st := h.Status()
	if len(st.Connections) > maxRecords+1 || !slices.ContainsFunc(st.Connections, func(c ConnStatus) bool {
		return c.Domain == "kept" && c.Connected
	}) {
		t.Fatalf("%d records, connected kept: %+v", len(st.Connections), st.Connections[:3])
	}
	s.End("x")
}

// A PBX sending faster than the rate limit is disconnected; one without
// PbxInfo is reported.
func TestHubLimits(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	h := NewHub(Options{Rate: 10, Burst: 5, Now: func() time.Time { return now }, InfoTimeout: time.Millisecond})
	c := &fakeConn{}
	changed := make(chan struct{}, 16)
	h.OnChange(func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	s := h.Attach(Login{Domain: "d"}, c)
	for {
		<-changed
		if st := h.Status(); strings.Contains(st.Connections[0].LastError, "PbxInfo") {
			break
		}
	}
	for i := range 5 {
		s.Handle([]byte(`{"mt":"KeepAlive"}`))
		if c.closed != "" {
			t.Fatalf("closed after %d messages", i+1)
		}
	}
	s.Handle([]byte(`{"mt":"KeepAlive"}`))
	if c.closed == "" {
		t.Fatal("not closed above the burst")
	}
	// Time refills the bucket.
	c2 := &fakeConn{}
	s2 := h.Attach(Login{Domain: "e"}, c2)
	for range 20 {
		now = now.Add(100 * time.Millisecond)
		s2.Handle([]byte(`{"mt":"KeepAlive"}`))
	}
	if c2.closed != "" {
		t.Fatalf("closed at the allowed rate: %s", c2.closed)
	}
}

// The licence client asks GetAppLics and CheckAppLic per user with at most
// licenceWindow in flight, and delivers one complete answer.
func TestLicences(t *testing.T) {
	t.Parallel()
	var names []string
	for i := range 40 {
		names = append(names, fmt.Sprintf("u%02d", i))
	}
	answers := make(chan LicenceAnswer, 1)
	l := NewLicences(LicenceOptions{
		Users:  func(context.Context) ([]string, error) { return names, nil },
		Answer: func(_ context.Context, a LicenceAnswer) { answers <- a },
	})
	h := NewHub(Options{Clients: []Client{l}})
	c := &fakeConn{sent: make(chan struct{}, 1)}
	s := h.Attach(Login{Domain: "d"}, c)
	s.Handle(info("p", AdminAPI))
	answered := 0
	deadline := time.After(time.Minute)
	for {
		msgs := c.messages()
		for _, m := range msgs[answered:] {
			var reply string
			switch m["mt"] {
			case "GetAppLics":
				reply = fmt.Sprintf(`{"api":"PbxAdminApi","mt":"GetAppLicsResult","src":%q,"lic":[{"name":"App(innovaphone-recorder)","count":"7","used":"3"},{"name":"Other","count":"1"}]}`, m["src"])
			case "CheckAppLic":
				if m["lic"] != Licence {
					t.Fatalf("lic %v", m["lic"])
				}
				ok := strings.HasSuffix(m["h323"].(string), "0")
				reply = fmt.Sprintf(`{"api":"PbxAdminApi","mt":"CheckAppLicResult","src":%q,"ok":%v}`, m["src"], ok)
			default:
				t.Fatalf("unexpected %v", m)
			}
			if st := l.State(); st.Checking {
				// The window holds.
				l.mu.Lock()
				n := len(l.pending)
				l.mu.Unlock()
				if n > licenceWindow {
					t.Fatalf("%d checks in flight", n)
				}
			}
			answered++
			s.Handle([]byte(reply))
		}
		select {
		case a := <-answers:
			if len(a.Licensed) != 40 || a.Count != 7 || a.Used != 3 || !a.Licensed["u10"] || a.Licensed["u11"] {
				t.Fatalf("answer: %+v", a)
			}
			if answered != 41 {
				t.Fatalf("%d requests", answered)
			}
			return
		case <-c.sent:
		case <-deadline:
			t.Fatalf("stuck after %d requests: %+v", answered, l.State())
		}
	}
}

// An error answer or a disconnect leaves no answer.
func TestLicencesNoAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, reply string
		drop        bool
		want        string
	}{
		{name: "bad", reply: `{"api":"PbxAdminApi","mt":"CheckAppLicResult","src":"%s","ok":"yes"}`, want: "bad CheckAppLicResult"},
		{name: "drop", drop: true, want: "disconnected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := make(chan LicenceAnswer, 1)
			l := NewLicences(LicenceOptions{
				Users:  func(context.Context) ([]string, error) { return []string{"x"}, nil },
				Answer: func(_ context.Context, a LicenceAnswer) { got <- a },
			})
			h := NewHub(Options{Clients: []Client{l}})
			c := &fakeConn{sent: make(chan struct{}, 1)}
			s := h.Attach(Login{Domain: "d"}, c)
			s.Handle(info("p", AdminAPI))
			for len(c.messages()) < 2 {
				<-c.sent
			}
			check := c.messages()[1]
			if tc.drop {
				s.End("drop")
			} else {
				s.Handle([]byte(fmt.Sprintf(tc.reply, check["src"])))
			}
			if st := l.State(); st.Last != nil || !strings.Contains(st.LastError, tc.want) {
				t.Fatalf("state: %+v", st)
			}
			select {
			case a := <-got:
				t.Fatalf("answer: %+v", a)
			default:
			}
		})
	}
}

// A user the PBX cannot check is left undecided; the others are answered.
func TestLicencesUnknownUser(t *testing.T) {
	t.Parallel()
	got := make(chan LicenceAnswer, 1)
	l := NewLicences(LicenceOptions{
		Users:  func(context.Context) ([]string, error) { return []string{"ghost", "anna"}, nil },
		Answer: func(_ context.Context, a LicenceAnswer) { got <- a },
	})
	h := NewHub(Options{Clients: []Client{l}})
	c := &fakeConn{sent: make(chan struct{}, 1)}
	s := h.Attach(Login{Domain: "d"}, c)
	s.Handle(info("p", AdminAPI))
	for len(c.messages()) < 3 {
		<-c.sent
	}
	for _, m := range c.messages() {
		switch {
		case m["mt"] == "GetAppLics":
			s.Handle([]byte(fmt.Sprintf(`{"api":"PbxAdminApi","mt":"GetAppLicsResult","src":%q}`, m["src"])))
		case m["h323"] == "ghost":
			s.Handle([]byte(fmt.Sprintf(`{"api":"PbxAdminApi","mt":"CheckAppLicResult","src":%q,"error":"no such user"}`, m["src"])))
		default:
			s.Handle([]byte(fmt.Sprintf(`{"api":"PbxAdminApi","mt":"CheckAppLicResult","src":%q,"ok":true}`, m["src"])))
		}
	}
	a := <-got
	if !slices.Equal(a.Unknown, []string{"ghost"}) || len(a.Licensed) != 1 || !a.Licensed["anna"] || a.Count != -1 {
		t.Fatalf("answer: %+v", a)
	}
}

// FuzzSession feeds any message to an App-object session with the licence
// client running: nothing panics, and every answer is a JSON object.
func FuzzSession(f *testing.F) {
	for _, s := range []string{`{"mt":"AppInfo","src":"1"}`, `{"mt":"KeepAlive"}`,
		`{"api":"PbxAdminApi","mt":"CheckAppLicResult","src":"lic-1-1","ok":true}`,
		`{"api":"PbxAdminApi","mt":"GetAppLicsResult","src":"lics-1","lic":[{"name":"App(innovaphone-recorder)","count":5}]}`,
		`{"mt":"PbxInfo","apis":[1]}`, `{"mt":"Bogus"}`, `x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l := NewLicences(LicenceOptions{Users: func(context.Context) ([]string, error) { return []string{"a"}, nil }})
		h := NewHub(Options{Clients: []Client{l}})
		c := &fakeConn{}
		s := h.Attach(Login{Domain: "d"}, c)
		s.Handle(info("p", AdminAPI))
		s.Handle(data)
		s.End("done")
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, b := range c.out {
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil || m["mt"] == nil {
				t.Fatalf("answer %q to %q", b, data)
			}
		}
	})
}
