package retention

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"testing"
	"time"

	"recordings/internal/testutil"
	"recordings/store"
)

// A domain with a retention period of its own keeps its recordings that
// long; the other domains keep them the instance-wide period; a domain
// with 0 days keeps them forever, even with an instance-wide period.
func TestOncePerDomain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := testutil.NewClock(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	db := openDB(t, clk)
	add := func(domain string) int64 {
		t.Helper()
		data := []byte("capture of " + domain + clk.Now().String())
		id, _, err := db.BeginUpload(ctx, domain, clk.Now().Format("20060102")+".pcap", store.FileName{}, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.AppendChunk(ctx, id, data); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if err := db.FinishUpload(ctx, id, store.StateReceiving, hex.EncodeToString(sum[:])); err != nil {
			t.Fatal(err)
		}
		if err := db.SetAnalysis(ctx, id, store.Analysis{State: store.StateReady, Codec: "PCMA"}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	domains := []string{"a.example", "b.example", "c.example"}
	ids := map[string][]int64{} // domain → an older and a newer recording
	for _, after := range []time.Duration{10 * 24 * time.Hour, 60 * time.Hour} {
		for _, d := range domains {
			ids[d] = append(ids[d], add(d))
		}
		clk.Advance(after)
	}
	// The clock is now 12.5 days after the first and 2.5 after the second
	// batch: a.example keeps 10 days (its first goes), b.example the
	// instance-wide 1 day (both go), c.example forever.
	r := New(db, nil, Options{Now: clk.Now, Policy: func(context.Context) (Policy, error) {
		return Policy{RecordingDays: 1, DomainDays: map[string]int{"A.example": 10, "c.example": 0}}, nil
	}})
	rep, err := r.Once(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gone := func(id int64) bool {
		_, err := db.Recording(ctx, id)
		return errors.Is(err, store.ErrNotFound)
	}
	want := map[int64]bool{ids["a.example"][0]: true, ids["b.example"][0]: true, ids["b.example"][1]: true}
	for _, d := range domains {
		for _, id := range ids[d] {
			if gone(id) != want[id] {
				t.Errorf("recording %d of %s: deleted %v, want %v", id, d, gone(id), want[id])
			}
		}
	}
	if rep.Deleted != len(want) {
		t.Fatalf("report: %d deleted, want %d", rep.Deleted, len(want))
	}
	// A domain's days outside the bounds are refused before anything is
	// deleted.
	r = New(db, nil, Options{Now: clk.Now, Policy: func(context.Context) (Policy, error) {
		return Policy{DomainDays: map[string]int{"c.example": MaxDays + 1}}, nil
	}})
	if _, err := r.Once(ctx); err == nil {
		t.Fatal("a domain's retention beyond MaxDays accepted")
	}
	if slices.ContainsFunc(ids["c.example"], gone) {
		t.Fatal("c.example's recordings deleted")
	}
}
