package store

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"recordings/store/listquery"
)

// listFixture stores n recordings with varied owners, peers and times
// (several share a creation millisecond) and returns them.
func listFixture(t *testing.T, db *DB, clk *fakeClock, n int) []Recording {
	t.Helper()
	ctx := context.Background()
	owners := []string{"alice", "bob", "carol", "", "Dave_Smith"}
	peers := []struct{ name, number string }{
		{"Bob Builder", "+49701111"},
		{"50% Rabatt GmbH", "0800123"},
		{"under_score", "555"},
		{"MÜLLER", "4912345"},
		{"plain", "99"},
		{"", ""},
	}
	var out []Recording
	for i := range n {
		if i%4 != 0 { // every fourth shares the previous timestamp
			clk.Advance(time.Duration(1+i%3) * time.Second)
		}
		owner := owners[i%len(owners)]
		reg := fmt.Sprintf("reg%d", i%7)
		if i%11 == 0 {
			reg = "x%y"
		}
		id, _, err := db.BeginUpload(ctx, "d", fmt.Sprintf("r%03d.pcap", i), FileName{RegName: reg}, owner)
		if err != nil {
			t.Fatal(err)
		}
		if i%5 != 0 {
			p := peers[i%len(peers)]
			c := CDR{Direction: "in", PeerName: p.name, PeerNumber: p.number}
			if i%3 == 0 { // the call connected a while before the capture began
				c.ConnectedAt = clk.Now().Add(-time.Duration(i%13) * time.Second)
			}
			if err := db.SetCDR(ctx, id, c); err != nil {
				t.Fatal(err)
			}
		}
		r, err := db.Recording(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Recording) int {
		if c := callAt(b).Compare(callAt(a)); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return out
}

// callAt is the time the list orders and filters by.
func callAt(r Recording) time.Time {
	if !r.ConnectedAt.IsZero() {
		return r.ConnectedAt
	}
	return r.CreatedAt
}

// reference applies f to the fixture (sorted newest first) the slow,
// obvious way: each term of the parsed query in the Go-built search text.
func reference(all []Recording, f ListFilter) []int64 {
	ids := []int64{}
	q := listquery.ParseQuery(f.Query, listquery.DefaultNumberPlan)
	if q.None {
		return ids
	}
	for _, r := range all {
		if f.Owners != nil && !slices.Contains(f.Owners, r.Owner) {
			continue
		}
		text := listquery.SearchText(listquery.DefaultNumberPlan, r.Owner, r.PeerName, r.PeerNumber, r.RegName)
		if !allFunc(q.Terms, func(t listquery.Term) bool {
			return slices.ContainsFunc(t.Alts, func(a string) bool { return strings.Contains(text, a) })
		}) {
			continue
		}
		if !f.From.IsZero() && callAt(r).Before(f.From) {
			continue
		}
		if !f.To.IsZero() && !callAt(r).Before(f.To) {
			continue
		}
		ids = append(ids, r.ID)
	}
	if f.Order == OrderOldest {
		slices.Reverse(ids)
	}
	return ids
}

func allFunc[T any](s []T, f func(T) bool) bool {
	for _, v := range s {
		if !f(v) {
			return false
		}
	}
	return true
}

func TestListRecordings(t *testing.T) {
	t.Parallel()
	db, clk := openTest(t)
	start := clk.Now()
	all := listFixture(t, db, clk, 130)
	ctx := context.Background()
	mid := start.Add(60 * time.Second)
	for _, c := range []struct {
		name string
		f    ListFilter
		min  int // the reference must find at least this many (guards the fixture)
	}{
		{"all", ListFilter{}, 130},
		{"one owner", ListFilter{Owners: []string{"alice"}}, 20},
		{"two owners", ListFilter{Owners: []string{"alice", "carol"}}, 40},
		{"no owners", ListFilter{Owners: []string{}}, 0},
		{"unknown owner", ListFilter{Owners: []string{"zed"}}, 0},
		{"punctuation only: nothing", ListFilter{Query: "%"}, 0},
		{"punctuation only: nothing (_)", ListFilter{Query: "_"}, 0},
		{"spaces only: everything", ListFilter{Query: "   "}, 130},
		{"punctuation separates words", ListFilter{Query: "x%y"}, 5},
		{"percent is no wildcard", ListFilter{Query: "50%rab"}, 0},
		{"backslash", ListFilter{Query: `\`}, 0},
		{"case-insensitive ASCII", ListFilter{Query: "BOB"}, 20},
		{"case-insensitive Unicode", ListFilter{Query: "müller"}, 5},
		{"umlaut spelt out", ListFilter{Query: "mueller"}, 5},
		{"umlaut dropped", ListFilter{Query: "muller"}, 5},
		{"two words any order", ListFilter{Query: "builder bob"}, 5},
		{"peer number national", ListFilter{Query: "0800"}, 5},
		{"peer number international", ListFilter{Query: "+49800"}, 5},
		{"peer number international 00", ListFilter{Query: "0049 800"}, 5},
		{"peer number digits", ListFilter{Query: "1111"}, 5},
		{"oldest first", ListFilter{Order: OrderOldest}, 130},
		{"oldest first, query", ListFilter{Order: OrderOldest, Query: "b"}, 20},
		{"reg name", ListFilter{Query: "reg3"}, 5},
		{"no match", ListFilter{Query: "zzz"}, 0},
		{"from", ListFilter{From: mid}, 20},
		{"to", ListFilter{To: mid}, 20},
		{"range and owner and query", ListFilter{From: start.Add(20 * time.Second), To: mid.Add(100 * time.Second),
			Owners: []string{"bob", "Dave_Smith"}, Query: "b"}, 3},
		{"range oldest first", ListFilter{From: start.Add(20 * time.Second), To: mid.Add(100 * time.Second),
			Order: OrderOldest}, 10},
	} {
		for _, path := range []string{"auto", "scan"} {
			t.Run(c.name+"/"+path, func(t *testing.T) {
				db.ftsCap = 5000
				if path == "scan" {
					db.ftsCap = 0
				}
				want := reference(all, c.f)
				if len(want) < c.min {
					t.Fatalf("fixture gives only %d rows for this case, want ≥ %d", len(want), c.min)
				}
				if n, exact, err := db.CountRecordings(ctx, c.f); err != nil || n != len(want) || !exact {
					t.Errorf("count = %d, %v, %v; want %d, exact", n, exact, err, len(want))
				}
				for _, limit := range []int{3, 7, 50, 1000} {
					f := c.f
					f.Limit = limit
					got := []int64{}
					for page := 0; ; page++ {
						rs, next, err := db.ListRecordings(ctx, f)
						if err != nil {
							t.Fatalf("limit %d page %d: %v", limit, page, err)
						}
						if len(rs) > limit || len(rs) > MaxListLimit {
							t.Fatalf("limit %d: page of %d", limit, len(rs))
						}
						for _, r := range rs {
							got = append(got, r.ID)
							if r.Stats != nil || r.Envelope != nil {
								t.Fatalf("list result carries blobs")
							}
						}
						if next == "" {
							break
						}
						if len(rs) != limit {
							t.Fatalf("limit %d: short page of %d with a next cursor", limit, len(rs))
						}
						if page > len(all) {
							t.Fatal("paging does not end")
						}
						f.Cursor = next
					}
					if !slices.Equal(got, want) {
						t.Fatalf("limit %d: ids\n%v\nwant\n%v", limit, got, want)
					}
				}
			})
		}
	}
}

func TestListRecordingsDefaultsAndErrors(t *testing.T) {
	t.Parallel()
	db, clk := openTest(t)
	all := listFixture(t, db, clk, 60)
	ctx := context.Background()
	rs, next, err := db.ListRecordings(ctx, ListFilter{})
	if err != nil || len(rs) != DefaultListLimit || next == "" || rs[0].ID != all[0].ID {
		t.Fatalf("default page: %d rows, next %q, err %v", len(rs), next, err)
	}
	rs, _, err = db.ListRecordings(ctx, ListFilter{Full: true, Limit: 1})
	if err != nil || len(rs) != 1 {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		f    ListFilter
	}{
		{"negative limit", ListFilter{Limit: -1}},
		{"garbage cursor", ListFilter{Cursor: "!!"}},
		{"wrong cursor version", ListFilter{Cursor: cursorString("r0.1.2")}},
		{"cursor not numbers", ListFilter{Cursor: cursorString("r1.a.2")}},
		{"cursor too long", ListFilter{Cursor: strings.Repeat("A", 200)}},
		{"control char query", ListFilter{Query: "a\nb"}},
		{"long query", ListFilter{Query: strings.Repeat("q", 300)}},
		{"too many owners", ListFilter{Owners: make([]string, 1001)}},
	} {
		if _, _, err := db.ListRecordings(ctx, c.f); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", c.name, err)
		}
	}
}

func cursorString(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestListQueryPlans(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		where string
		args  []any
		want  string // must appear in the plan
	}{
		{"first page", "", nil, "recordings_call"},
		{"cursor", "WHERE (call_at, id) < (?, ?)", []any{1, 2}, "recordings_call"},
		{"query", "WHERE instr(search, ?) > 0", []any{"x"}, "USING INDEX recordings_call"},
		{"date range", "WHERE call_at >= ? AND call_at < ?", []any{1, 2}, "recordings_call (call_at>? AND call_at<?)"},
		{"owner", "WHERE owner_key IN (?)", []any{"a"}, "recordings_owner (owner_key=?)"},
		{"owner and query", "WHERE owner_key IN (?) AND instr(search, ?) > 0", []any{"a", "b"}, "USING INDEX recordings_owner (owner_key=?)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows, err := db.r.QueryContext(ctx, "EXPLAIN QUERY PLAN SELECT "+recColsLight+
				" FROM recordings "+c.where+" ORDER BY call_at DESC, id DESC LIMIT 51", c.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			p := strings.Join(plan, "; ")
			if !strings.Contains(p, c.want) || strings.Contains(p, "TEMP B-TREE") {
				t.Errorf("plan %q: want %q and no sort", p, c.want)
			}
		})
	}
}

func TestListQueryPlanFTS(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	rows, err := db.r.QueryContext(context.Background(), "EXPLAIN QUERY PLAN SELECT "+recColsLight+
		" FROM recordings NOT INDEXED WHERE instr(search, ?) > 0 AND (call_at, id) < (?, ?)"+
		" AND id IN (SELECT rowid FROM recordings_fts WHERE recordings_fts MATCH ?)"+
		" ORDER BY call_at DESC, id DESC LIMIT 51", "abc", 1, 2, `"abc"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	p := strings.Join(plan, "; ")
	if !strings.Contains(p, "INTEGER PRIMARY KEY (rowid=?)") || !strings.Contains(p, "VIRTUAL TABLE INDEX") {
		t.Errorf("plan %q: want rowid lookups of the trigram index's candidates", p)
	}
}
