package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"maps"
	"slices"
	"testing"
	"time"
)

func TestExpiredAndTrim(t *testing.T) {
	t.Parallel()
	db, clk := openTest(t)
	ctx := context.Background()
	add := func(name string, chunks int) int64 {
		id, _, err := db.BeginUpload(ctx, "d", name, FileName{}, "alice")
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		for i := range chunks {
			b := bytes.Repeat([]byte{byte(i)}, 1000+i)
			h.Write(b)
			if err := db.AppendChunk(ctx, id, b); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.FinishUpload(ctx, id, StateReceiving, hex.EncodeToString(h.Sum(nil))); err != nil {
			t.Fatal(err)
		}
		if err := db.SetAnalysis(ctx, id, Analysis{State: StateReady, Codec: "PCMA"}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	big := add("big", 10)
	prot := add("protected", 3)
	if err := db.SetProtected(ctx, prot, true); err != nil {
		t.Fatal(err)
	}
	recv, _, err := db.BeginUpload(ctx, "d", "receiving", FileName{}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	fresh := add("fresh", 1)
	cutoff := clk.Now().Add(-time.Minute)

	due, err := db.ExpiredRecordings(ctx, Before(cutoff), 10)
	if err != nil || len(due) != 1 || due[0].ID != big || due[0].Size != 10*1000+45 {
		t.Fatalf("expired = %+v, %v; want only the big one", due, err)
	}
	if _, err := db.ExpiredRecordings(ctx, Before(cutoff), 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("limit 0: %v", err)
	}
	// Trim at most 2500 bytes: the last two chunks (1009 + 1008).
	left, kept, err := db.TrimExpired(ctx, big, Before(cutoff), 2500)
	if err != nil || kept || left != 10*1000+45-1009-1008 {
		t.Fatalf("trim: left %d kept %v err %v", left, kept, err)
	}
	r, err := db.Recording(ctx, big)
	if err != nil || r.Size != left || r.Chunks != 8 {
		t.Fatalf("after trim: %+v %v", r, err)
	}
	c, err := db.OpenCapture(ctx, big)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, c)
	c.Close()
	if err != nil || n != left {
		t.Fatalf("capture after trim: %d bytes, %v", n, err)
	}
	// A budget smaller than a chunk still removes one.
	if left2, _, err := db.TrimExpired(ctx, big, Before(cutoff), 1); err != nil || left2 != left-1007 {
		t.Fatalf("trim one chunk: %d %v", left2, err)
	}
	for _, id := range []int64{prot, recv, fresh} {
		if _, kept, err := db.TrimExpired(ctx, id, Before(cutoff), 1<<20); err != nil || !kept {
			t.Errorf("recording %d: kept %v err %v", id, kept, err)
		}
	}
	if _, _, err := db.TrimExpired(ctx, 999, Before(cutoff), 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing recording: %v", err)
	}
	// DeleteExpired deletes only what is still expired.
	got, err := db.DeleteExpired(ctx, []int64{big, prot, recv, fresh}, Before(cutoff))
	if err != nil || len(got) != 1 || got[0] != big {
		t.Fatalf("deleted %v, %v", got, err)
	}
	if _, err := db.Recording(ctx, big); !errors.Is(err, ErrNotFound) {
		t.Errorf("big still there: %v", err)
	}
	// The audit trail notes the deletion, by nobody.
	entries, _, err := db.Audit(ctx, AuditFilter{Action: AuditDeletedByRetention})
	if err != nil || len(entries) != 1 || entries[0].RecordingID != big || entries[0].By != "" {
		t.Errorf("audit after retention: %+v, %v", entries, err)
	}
}

// A cutoff with domains of their own: each domain's recordings expire by
// its own time (a zero time keeps them), the others' by the default; the
// delete and the trim check the same rule again.
func TestExpiredPerDomain(t *testing.T) {
	t.Parallel()
	db, clk := openTest(t)
	ctx := context.Background()
	add := func(domain, name string) int64 {
		id, _, err := db.BeginUpload(ctx, domain, name, FileName{}, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.AppendChunk(ctx, id, []byte("data-"+name)); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte("data-" + name))
		if err := db.FinishUpload(ctx, id, StateReceiving, hex.EncodeToString(sum[:])); err != nil {
			t.Fatal(err)
		}
		if err := db.SetAnalysis(ctx, id, Analysis{State: StateReady, Codec: "PCMA"}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	old := map[string]int64{}
	for _, d := range []string{"a.example", "B.example", "c.example", "other.example"} {
		old[d] = add(d, "old")
	}
	clk.Advance(10 * 24 * time.Hour)
	young := map[string]int64{}
	for _, d := range []string{"a.example", "B.example", "c.example", "other.example"} {
		young[d] = add(d, "young")
	}
	clk.Advance(24 * time.Hour)
	now := clk.Now()
	// Default 30 days (nothing), a.example 2 days (its old one), b.example
	// 0.5 days (both), c.example forever.
	cut := Cutoff{Default: now.AddDate(0, 0, -30), Domains: map[string]time.Time{
		"a.example": now.AddDate(0, 0, -2), "b.example": now.Add(-12 * time.Hour), "c.example": {}}}
	due, err := db.ExpiredRecordings(ctx, cut, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]bool{}
	for _, e := range due {
		got[e.ID] = true
	}
	want := map[int64]bool{old["a.example"]: true, old["B.example"]: true, young["B.example"]: true}
	if len(got) != len(want) {
		t.Fatalf("expired %v, want %v", got, want)
	}
	for id := range want {
		if !got[id] {
			t.Fatalf("expired %v, want %v", got, want)
		}
	}
	// The trim and the delete keep what the cutoff keeps.
	for _, id := range []int64{old["c.example"], old["other.example"], young["a.example"]} {
		if _, kept, err := db.TrimExpired(ctx, id, cut, 1); err != nil || !kept {
			t.Fatalf("trim of %d: kept %v, %v", id, kept, err)
		}
	}
	all := append(slices.Collect(maps.Values(old)), slices.Collect(maps.Values(young))...)
	deleted, err := db.DeleteExpired(ctx, all, cut)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(deleted)
	wantIDs := slices.Sorted(maps.Keys(want))
	if !slices.Equal(deleted, wantIDs) {
		t.Fatalf("deleted %v, want %v", deleted, wantIDs)
	}
	// Nothing expires under a cutoff of zero times only.
	if due, err := db.ExpiredRecordings(ctx, Cutoff{Domains: map[string]time.Time{"a.example": {}}}, 100); err != nil || len(due) != 0 {
		t.Fatalf("zero cutoff: %v %v", due, err)
	}
}
