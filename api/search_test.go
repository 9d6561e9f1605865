package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"recordings/store"
)

// TestSearchFinds: the list finds names whatever their accents and case
// and numbers whatever their prefix form, counts what it finds, lists the
// oldest first on request and filters by the call's time; over REST and
// the websocket alike.
func TestSearchFinds(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t)
	ctx := e.ctx
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	peers := []struct{ name, number string }{
		{"José García", "+49891234560"},
		{"Zoë Zander", "0891234561"},
		{"Hans Müller", "0049301234567"},
		{"Anna Mueller", "+43 1 234"},
		{"Bob Builder", "201"},
	}
	ids := map[string]int64{}
	for i, p := range peers {
		id, _, err := e.db.BeginUpload(ctx, "example.com", fmt.Sprintf("s%d.pcap", i), store.FileName{RegName: "alice"}, "alice")
		if err != nil {
			t.Fatal(err)
		}
		// The calls connected a day apart, oldest first; the uploads all
		// happened now: the list orders and filters by the call.
		if err := e.db.SetCDR(ctx, id, store.CDR{Direction: "in", PeerName: p.name, PeerNumber: p.number,
			ConnectedAt: base.AddDate(0, 0, i)}); err != nil {
			t.Fatal(err)
		}
		ids[p.name] = id
	}
	// bob's recording with the same name is not alice's to find.
	bobs, _, _ := e.db.BeginUpload(ctx, "example.com", "bob.pcap", store.FileName{RegName: "bob"}, "bob")
	if err := e.db.SetCDR(ctx, bobs, store.CDR{PeerName: "José García", PeerNumber: "+49891234560"}); err != nil {
		t.Fatal(err)
	}
	cookie := e.login("alice")
	ws := e.mustDial("alice")
	get := func(params url.Values) (ids []int64, total int, exact bool) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.app.URL+"/api/recordings?"+params.Encode(), nil)
		req.AddCookie(cookie)
		res, err := e.app.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("GET %v: %s, %v %v", params, res.Status, body, err)
		}
		// The websocket answers the same.
		wsParams := map[string]any{}
		for k := range params {
			wsParams[k] = params.Get(k)
			if n, err := strconv.Atoi(params.Get(k)); err == nil && k == "limit" {
				wsParams[k] = n
			}
		}
		r := ws.call("ListRecordings", wsParams)
		if errOf(r) != "" || !slices.Equal(listIDs(r), listIDs(body)) || r["total"] != body["total"] {
			t.Fatalf("websocket %v: %v; REST %v", params, r, body)
		}
		return listIDs(body), int(body["total"].(float64)), body["total_exact"].(bool)
	}
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"garcia", []string{"José García"}},
		{"GARCÍA", []string{"José García"}},
		{"jose garcia", []string{"José García"}},
		{"zoe", []string{"Zoë Zander"}},
		{"Zoë", []string{"Zoë Zander"}},
		{"muller", []string{"Hans Müller"}},
		{"mueller", []string{"Anna Mueller", "Hans Müller"}},
		{"Müller", []string{"Anna Mueller", "Hans Müller"}},
		{"0891234560", []string{"José García"}},
		{"0049891234560", []string{"José García"}},
		{"+49891234560", []string{"José García"}},
		{"+49 89 123456-1", []string{"Zoë Zander"}},
		{"089", []string{"Zoë Zander", "José García"}},
		{"030 1234567", []string{"Hans Müller"}},
		{"+43 1", []string{"Anna Mueller"}},
		{"201", []string{"Bob Builder"}},
		{"schmidt", nil},
	} {
		var want []int64
		for _, name := range c.want {
			want = append(want, ids[name])
		}
		slices.Reverse(want) // newest first: the later calls first
		slices.Sort(want)
		slices.Reverse(want)
		got, total, exact := get(url.Values{"q": {c.q}})
		if !slices.Equal(got, want) || total != len(want) || !exact {
			t.Errorf("q=%q: %v (total %d, exact %v), want %v", c.q, got, total, exact, c.want)
		}
	}
	all := []int64{ids["José García"], ids["Zoë Zander"], ids["Hans Müller"], ids["Anna Mueller"], ids["Bob Builder"]}
	if got, total, _ := get(url.Values{"order": {"oldest"}, "limit": {"2"}}); !slices.Equal(got, all[:2]) || total != 5 {
		t.Errorf("oldest first: %v total %d, want %v total 5", got, total, all[:2])
	}
	if got, _, _ := get(url.Values{"order": {"newest"}, "limit": {"1"}}); !slices.Equal(got, all[4:]) {
		t.Errorf("newest first: %v", got)
	}
	// The date filter is on the call: the second and third day.
	got, total, _ := get(url.Values{"from": {base.AddDate(0, 0, 1).Format(time.RFC3339)}, "to": {"2026-03-04"}})
	if want := []int64{all[2], all[1]}; !slices.Equal(got, want) || total != 2 {
		t.Errorf("from/to on the call time: %v total %d, want %v", got, total, want)
	}
	// A bad order is refused clearly.
	req, _ := http.NewRequest(http.MethodGet, e.app.URL+"/api/recordings?order=sideways", nil)
	req.AddCookie(cookie)
	if res, err := e.app.Client.Do(req); err != nil || res.StatusCode != http.StatusBadRequest {
		t.Errorf("order=sideways: %v, %v", res.Status, err)
	} else {
		res.Body.Close()
	}
	if r := ws.call("ListRecordings", map[string]any{"order": "sideways"}); errOf(r) == "" {
		t.Errorf("websocket order=sideways: %v", r)
	}
}
