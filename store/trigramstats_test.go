package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestTrigramStatsCache(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	var s trigramStats
	s.put("abc", 7, t0)
	for _, c := range []struct {
		name string
		key  string
		at   time.Time
		n    int
		ok   bool
	}{
		{"fresh", "abc", t0.Add(time.Second), 7, true},
		{"just before the TTL", "abc", t0.Add(trigramStatsTTL - time.Millisecond), 7, true},
		{"at the TTL", "abc", t0.Add(trigramStatsTTL), 0, false},
		{"clock went back", "abc", t0.Add(-time.Second), 0, false},
		{"never counted", "xyz", t0, 0, false},
	} {
		if n, ok := s.get(c.key, c.at); n != c.n || ok != c.ok {
			t.Errorf("%s: get = %d, %v; want %d, %v", c.name, n, ok, c.n, c.ok)
		}
	}
	for i := range trigramStatsMax {
		s.put(fmt.Sprintf("%03x", i), i, t0)
	}
	if len(s.m) > trigramStatsMax {
		t.Fatalf("cache holds %d entries, at most %d", len(s.m), trigramStatsMax)
	}
	s.reset()
	if _, ok := s.get("001", t0); ok {
		t.Error("count kept after reset")
	}
}

// TestSearchWithStaleCounts: counts cached while a trigram was rare steer
// the plan to the trigram index after it became common, and the other way
// round; either way the result is every matching row.
func TestSearchWithStaleCounts(t *testing.T) {
	t.Parallel()
	db, clk := openTest(t)
	db.ftsCap = 4 // small, so that a few rows make a trigram common
	ctx := context.Background()
	add := func(n int, peer string) {
		for range n {
			clk.Advance(time.Second)
			id, _, err := db.BeginUpload(ctx, "d", fmt.Sprintf("r%d.pcap", clk.Now().UnixNano()), FileName{RegName: "r"}, "u")
			if err != nil {
				t.Fatal(err)
			}
			if err := db.SetCDR(ctx, id, CDR{Direction: "in", PeerName: peer, PeerNumber: "+49555"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	count := func(q string) int {
		t.Helper()
		rs, _, err := db.ListRecordings(ctx, ListFilter{Query: q, Limit: MaxListLimit})
		if err != nil {
			t.Fatal(err)
		}
		return len(rs)
	}
	add(2, "Zander")
	if n := count("zander"); n != 2 {
		t.Fatalf("zander: %d rows, want 2", n)
	}
	add(30, "Zander") // "zan", "and", ... now in more rows than the caps
	if n := count("zander"); n != 32 {
		t.Fatalf("zander with counts from when it was rare: %d rows, want 32", n)
	}
	db.trigrams.reset()
	if n := count("zander"); n != 32 {
		t.Fatalf("zander counted afresh: %d rows, want 32", n)
	}
	// Common first, then mostly deleted: the cached counts say common.
	rs, _, err := db.ListRecordings(ctx, ListFilter{Query: "zander", Limit: MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs[1:] {
		if err := db.DeleteRecording(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	if n := count("zander"); n != 1 {
		t.Fatalf("zander after deleting all but one: %d rows, want 1", n)
	}
}
