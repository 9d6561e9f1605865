package pbxlink

import (
	"context"
	"slices"
	"sync"
	"testing"
)

// With several domains configured, each domain whose PBX is not connected
// is a problem of its own and is listed in Status before it first
// connects; with one domain or none, one NotConnected while no PBX is.
func TestHubDomainProblems(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name       string
		domains    []string
		connect    []string
		want       []string
		configured bool
	}{
		{"none configured, none connected", nil, nil, []string{NotConnected}, false},
		{"one configured, none connected", []string{"a.example"}, nil, []string{NotConnected}, false},
		{"one configured, connected", []string{"a.example"}, []string{"a.example"}, nil, false},
		{"two, none connected", []string{"a.example", "b.example"}, nil,
			[]string{NotConnectedOf("a.example"), NotConnectedOf("b.example")}, true},
		{"two, A connected", []string{"a.example", "b.example"}, []string{"a.example"},
			[]string{NotConnectedOf("b.example")}, true},
		{"two, B connected in another case", []string{"a.example", "b.example"}, []string{"B.EXAMPLE"},
			[]string{NotConnectedOf("a.example")}, true},
		{"two, both connected", []string{"a.example", "b.example"}, []string{"b.example", "a.example"}, nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := NewHub(Options{Expected: func() bool { return true }, Domains: func() []string { return c.domains }})
			for _, d := range c.connect {
				h.Attach(Login{Domain: d}, &fakeConn{}).Handle(info("pbx-" + d))
			}
			if got := h.Problems(); !slices.Equal(got, c.want) {
				t.Fatalf("problems %q, want %q", got, c.want)
			}
			st := h.Status()
			if c.configured {
				if len(st.Connections) != len(c.domains) {
					t.Fatalf("status lists %+v, want every configured domain", st.Connections)
				}
				for _, cs := range st.Connections {
					if !cs.Configured {
						t.Fatalf("%s not marked configured", cs.Domain)
					}
				}
			} else if len(st.Connections) != len(c.connect) {
				t.Fatalf("status lists %+v", st.Connections)
			}
		})
	}
}

// The licence set runs one client per domain: each asks about its own
// domain's users and answers for its domain only; the summed state covers
// both, and one domain's disconnect leaves the other's answer alone.
func TestLicenceSetPerDomain(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var answers []LicenceAnswer
	done := make(chan struct{}, 4)
	ls := NewLicenceSet(LicenceSetOptions{
		Users: func(_ context.Context, domain string) ([]string, error) {
			return map[string][]string{"a.example": {"anna"}, "b.example": {"bea", "ben"}}[domain], nil
		},
		Answer: func(_ context.Context, a LicenceAnswer) {
			mu.Lock()
			answers = append(answers, a)
			mu.Unlock()
			done <- struct{}{}
		},
	})
	h := NewHub(Options{PerDomain: func(d string) []Client { return []Client{ls.ForDomain(d)} }})
	conns := map[string]*fakeConn{}
	sessions := map[string]*Session{}
	for _, d := range []string{"a.example", "b.example"} {
		conns[d] = &fakeConn{sent: make(chan struct{}, 1)}
		sessions[d] = h.Attach(Login{Domain: d}, conns[d])
		sessions[d].Handle(info("pbx-"+d, AdminAPI))
	}
	// Each PBX gets GetAppLics and a check per user of its domain (all
	// within the window); answer them.
	asked := map[string][]string{}
	for d, n := range map[string]int{"a.example": 2, "b.example": 3} {
		c := conns[d]
		for len(c.messages()) < n {
			<-c.sent
		}
		for _, m := range c.messages() {
			src, _ := m["src"].(string)
			switch m["mt"] {
			case "GetAppLics":
				sessions[d].Handle([]byte(`{"api":"PbxAdminApi","mt":"GetAppLicsResult","src":"` + src + `","lic":[{"name":"` +
					Licence + `","count":"4","used":"1"}]}`))
			case "CheckAppLic":
				u, _ := m["h323"].(string)
				asked[d] = append(asked[d], u)
				ok := "true"
				if u == "ben" {
					ok = "false"
				}
				sessions[d].Handle([]byte(`{"api":"PbxAdminApi","mt":"CheckAppLicResult","src":"` + src + `","ok":` + ok + `}`))
			}
		}
	}
	<-done
	<-done
	mu.Lock()
	got := slices.Clone(answers)
	mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("answers %+v", got)
	}
	for _, a := range got {
		want := map[string]map[string]bool{"a.example": {"anna": true}, "b.example": {"bea": true, "ben": false}}[a.Domain]
		if len(a.Licensed) != len(want) || a.Count != 4 {
			t.Fatalf("answer of %s: %+v", a.Domain, a)
		}
		for u, ok := range want {
			if l, in := a.Licensed[u]; !in || l != ok {
				t.Fatalf("answer of %s: %+v", a.Domain, a)
			}
		}
	}
	if !slices.Equal(asked["a.example"], []string{"anna"}) || !slices.Equal(asked["b.example"], []string{"bea", "ben"}) {
		t.Fatalf("asked %v", asked)
	}
	st := ls.State()
	if st.Last == nil || len(st.Last.Licensed) != 3 || st.Last.Count != 8 || st.Last.Used != 2 {
		t.Fatalf("summed state %+v", st.Last)
	}
	sessions["b.example"].End("gone")
	if ds := ls.Domains(); len(ds) != 2 || ds[0].Last == nil || ds[0].Domain != "a.example" {
		t.Fatalf("after B's disconnect: %+v", ds)
	}
}
