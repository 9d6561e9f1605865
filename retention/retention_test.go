package retention

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"recordings/events"
	"recordings/internal/testutil"
	"recordings/store"
)

func openDB(t testing.TB, clk *testutil.Clock) *store.DB {
	t.Helper()
	db, err := store.OpenOptions(context.Background(), filepath.Join(t.TempDir(), "r.db"), nil,
		store.Options{Now: clk.Now, BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// addRecording stores a complete, analysed recording of size random bytes.
func addRecording(t testing.TB, db *store.DB, name, owner string, size int, rng *rand.Rand) int64 {
	t.Helper()
	ctx := context.Background()
	id, _, err := db.BeginUpload(ctx, "example.com", name, store.FileName{RegName: owner}, owner)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	buf := make([]byte, min(size, store.MaxChunkSize))
	for left := size; left > 0; left -= len(buf) {
		b := buf[:min(left, len(buf))]
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		h.Write(b)
		if err := db.AppendChunk(ctx, id, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.FinishUpload(ctx, id, store.StateReceiving, hex.EncodeToString(h.Sum(nil))); err != nil {
		t.Fatal(err)
	}
	if err := db.SetAnalysis(ctx, id, store.Analysis{State: store.StateReady, Codec: "PCMA", DurationMS: 1000}); err != nil {
		t.Fatal(err)
	}
	return id
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func TestOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := testutil.NewClock(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	db := openDB(t, clk)
	rng := rand.New(rand.NewPCG(1, 2))

	// Day 0: 60 old recordings, 3 of them protected; one upload left
	// receiving. Day 40: 10 new ones.
	var old, protected []int64
	for i := range 60 {
		id := addRecording(t, db, fmt.Sprintf("old-%d.pcap", i), []string{"alice", "bob"}[i%2], 100<<10, rng)
		if i%20 == 7 {
			if err := db.SetProtected(ctx, id, true); err != nil {
				t.Fatal(err)
			}
			protected = append(protected, id)
		} else {
			old = append(old, id)
		}
	}
	// One long call, larger than a transaction's byte budget: taken apart
	// in pieces, then deleted.
	old = append(old, addRecording(t, db, "long-call.pcap", "bob", 3<<20, rng))
	receiving, _, err := db.BeginUpload(ctx, "example.com", "streaming.pcap", store.FileName{}, "carol")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AddLogs(ctx, []store.LogEntry{{Level: "INFO", Message: "old log"}}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(40 * 24 * time.Hour)
	var fresh []int64
	for i := range 10 {
		fresh = append(fresh, addRecording(t, db, fmt.Sprintf("new-%d.pcap", i), "alice", 100<<10, rng))
	}
	if err := db.AddLogs(ctx, []store.LogEntry{{Level: "INFO", Message: "new log"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	before := fileSize(t, db.Path())

	// What a trivial write costs on this machine right now (other jobs
	// share the CPU): the bound below is 100 ms on top of that.
	var noise time.Duration
	for i := range 20 {
		t0 := time.Now()
		if err := db.SetSetting(ctx, "noise", fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
		noise = max(noise, time.Since(t0))
	}
	out := &testutil.LogBuffer{}
	var deleted []int64
	broker := &events.Broker{}
	broker.Subscribe(func(ev events.Recording) {
		if ev.Kind == events.Deleted && ev.By == events.ByRetention {
			deleted = append(deleted, ev.ID)
		}
	})
	r := New(db, slog.New(slog.NewTextHandler(out, nil)), Options{
		Now:    clk.Now,
		Policy: func(context.Context) (Policy, error) { return Policy{RecordingDays: 30, LogDays: 30}, nil },
		Events: broker,
	})
	rep, err := r.Once(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report %+v", rep)
	if rep.Deleted != len(old) || len(deleted) != len(old) {
		t.Fatalf("deleted %d (%d told), want %d", rep.Deleted, len(deleted), len(old))
	}
	for _, id := range old {
		if _, err := db.Recording(ctx, id); err == nil {
			t.Errorf("expired recording %d still there", id)
		}
	}
	for _, id := range append(append(protected, fresh...), receiving) {
		if _, err := db.Recording(ctx, id); err != nil {
			t.Errorf("recording %d should be kept: %v", id, err)
		}
	}
	if rep.LogsPruned != 1 {
		t.Errorf("pruned %d log entries, want 1", rep.LogsPruned)
	}
	if rep.DeletedBytes != int64(len(old)-1)*100<<10+3<<20 {
		t.Errorf("deleted bytes %d", rep.DeletedBytes)
	}
	if rep.Batches < 2 {
		t.Errorf("%d batches: deletion should go in small batches", rep.Batches)
	}
	// Wall times depend on the machine's load; the bound itself is tested
	// with a cost model in TestBatchesStayShort and measured by
	// BenchmarkDeleteBatch.
	t.Logf("longest write transaction %v, vacuum step %v (a trivial write took up to %v)",
		rep.LongestBatch, rep.LongestVacuumStep, noise)
	if rep.SizeAfter >= rep.SizeBefore-int64(len(old))*90<<10 {
		t.Errorf("database %d → %d bytes: pages not released", rep.SizeBefore, rep.SizeAfter)
	}
	after := fileSize(t, db.Path())
	t.Logf("file %d → %d bytes", before, after)
	if after > before-int64(len(old))*90<<10 {
		t.Errorf("file %d → %d bytes: did not shrink", before, after)
	}
	if n := strings.Count(out.String(), "recording deleted by retention"); n != len(old) {
		t.Errorf("%d deletions logged, want %d", n, len(old))
	}
	if !strings.Contains(out.String(), "user=bob") {
		t.Error("deletion log lines lack the owner")
	}

	// A second run has nothing to do.
	rep, err = r.Once(ctx)
	if err != nil || rep.Deleted != 0 || rep.VacuumSteps != 0 {
		t.Errorf("second run: %+v, %v", rep, err)
	}
}

func TestOff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := testutil.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	db := openDB(t, clk)
	id := addRecording(t, db, "a.pcap", "alice", 1000, rand.New(rand.NewPCG(1, 1)))
	clk.Advance(100000 * 24 * time.Hour)
	rep, err := New(db, nil, Options{Now: clk.Now}).Once(ctx)
	if err != nil || rep.Deleted != 0 || !rep.Cutoff.IsZero() {
		t.Fatalf("retention off: %+v, %v", rep, err)
	}
	if _, err := db.Recording(ctx, id); err != nil {
		t.Fatal(err)
	}
	for _, p := range []Policy{{RecordingDays: -1}, {RecordingDays: MaxDays + 1}, {LogDays: -5}} {
		r := New(db, nil, Options{Now: clk.Now, Policy: func(context.Context) (Policy, error) { return p, nil }})
		if _, err := r.Once(ctx); err == nil {
			t.Errorf("policy %+v accepted", p)
		}
	}
}

// TestSchedule drives Run with a fake timer: a run at start, one per tick,
// one per Kick, and the policy read afresh each time. The fake After also
// tells when a run is over (Run asks it for the next wait), so nothing
// here depends on how long a run takes.
func TestSchedule(t *testing.T) {
	t.Parallel()
	clk := testutil.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	db := openDB(t, clk)
	rng := rand.New(rand.NewPCG(3, 4))
	addRecording(t, db, "a.pcap", "alice", 1000, rng)
	var (
		mu   sync.Mutex
		days = 0
		runs = make(chan struct{}, 10)
	)
	ticks := make(chan time.Time)
	asked := make(chan time.Duration, 10)
	r := New(db, nil, Options{
		Now: clk.Now,
		Policy: func(context.Context) (Policy, error) {
			mu.Lock()
			defer mu.Unlock()
			runs <- struct{}{}
			return Policy{RecordingDays: days}, nil
		},
		After: func(d time.Duration) <-chan time.Time {
			asked <- d
			return ticks
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	// ran waits for one run: its policy is read, then Run asks After for
	// the next 24 h, and reads the policy no more until it is woken.
	ran := func(what string) {
		t.Helper()
		select {
		case <-runs:
		case <-time.After(30 * time.Second):
			t.Fatalf("no run %s", what)
		}
		select {
		case d := <-asked:
			if d != 24*time.Hour {
				t.Errorf("%s: After asked for %v, want 24h", what, d)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("the run %s did not end", what)
		}
		select {
		case <-runs:
			t.Fatalf("%s: more than one run", what)
		default:
		}
	}
	count := func() int {
		n, _, err := db.ListRecordings(context.Background(), store.ListFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return len(n)
	}
	ran("at start")
	clk.Advance(10 * 24 * time.Hour)
	ticks <- clk.Now()
	ran("after a day")
	if count() != 1 {
		t.Fatal("deleted with retention off")
	}
	mu.Lock()
	days = 5
	mu.Unlock()
	r.Kick()
	ran("after Kick")
	if count() != 0 {
		t.Error("setting 5 days did not delete the 10-day-old recording")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// BenchmarkDeleteBatch measures retention over 2,000 recordings of 64 KiB
// and reports the longest write transaction (the longest an upload can wait).
func BenchmarkDeleteBatch(b *testing.B) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	b.ReportAllocs()
	var longest time.Duration
	for b.Loop() {
		b.StopTimer()
		clk := testutil.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		db := openDB(b, clk)
		for i := range 2000 {
			addRecording(b, db, fmt.Sprintf("r%d.pcap", i), "alice", 64<<10, rng)
		}
		clk.Advance(31 * 24 * time.Hour)
		r := New(db, nil, Options{Now: clk.Now, Policy: func(context.Context) (Policy, error) {
			return Policy{RecordingDays: 30}, nil
		}})
		b.StartTimer()
		rep, err := r.Once(ctx)
		if err != nil || rep.Deleted != 2000 {
			b.Fatalf("%+v %v", rep, err)
		}
		longest = max(longest, rep.LongestBatch, rep.LongestVacuumStep)
		b.Logf("%+v", rep)
	}
	b.ReportMetric(float64(longest.Microseconds())/1000, "max-write-ms")
}

// costStore is a Store whose operations cost fake time: deleting a
// recording costs per byte, a vacuum step per page, so batch durations are
// deterministic.
type costStore struct {
	clk      *testutil.Clock
	recs     []store.Expired // sorted by CreatedAt
	perMiB   time.Duration
	perPage  time.Duration
	free     int64 // free pages
	maxBatch int
}

func (s *costStore) ExpiredRecordings(_ context.Context, before store.Cutoff, limit int) ([]store.Expired, error) {
	var out []store.Expired
	for _, r := range s.recs {
		if len(out) == limit {
			break
		}
		if before.Expired(r.Domain, r.CreatedAt) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *costStore) DeleteExpired(_ context.Context, ids []int64, _ store.Cutoff) ([]int64, error) {
	s.maxBatch = max(s.maxBatch, len(ids))
	gone := map[int64]bool{}
	// Recordings come in whole chunks in the real store: sizes here are
	// what is left.
	for _, id := range ids {
		gone[id] = true
	}
	var keep []store.Expired
	var bytes int64
	for _, r := range s.recs {
		if gone[r.ID] {
			bytes += r.Size
			s.free += r.Size / 4096
		} else {
			keep = append(keep, r)
		}
	}
	s.recs = keep
	s.clk.Advance(2*time.Millisecond + time.Duration(bytes)*s.perMiB/(1<<20))
	return ids, nil
}

func (s *costStore) TrimExpired(_ context.Context, id int64, _ store.Cutoff, maxBytes int64) (int64, bool, error) {
	for i := range s.recs {
		if s.recs[i].ID != id {
			continue
		}
		const chunk = 256 << 10
		cut := max(chunk, maxBytes/chunk*chunk)
		cut = min(cut, s.recs[i].Size)
		s.recs[i].Size -= cut
		s.free += cut / 4096
		s.clk.Advance(2*time.Millisecond + time.Duration(cut)*s.perMiB/(1<<20))
		return s.recs[i].Size, false, nil
	}
	return 0, false, store.ErrNotFound
}

func (s *costStore) IncrementalVacuumStep(_ context.Context, pages int) (int64, error) {
	n := min(int64(pages), s.free)
	s.free -= n
	s.clk.Advance(time.Millisecond + time.Duration(n)*s.perPage)
	return s.free, nil
}

func (s *costStore) PruneLogs(context.Context, time.Time) (int64, error) { return 0, nil }
func (s *costStore) Size(context.Context) (int64, error)                 { return s.free * 4096, nil }
func (s *costStore) Checkpoint(context.Context) error {
	s.clk.Advance(5 * time.Millisecond)
	return nil
}

// TestBatchesStayShort: whatever the recordings' sizes and the store's
// speed, the adaptive batches keep every write transaction under 100 ms.
func TestBatchesStayShort(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		size    int64
		n       int
		perMiB  time.Duration
		perPage time.Duration
	}{
		{"small recordings, fast disk", 50 << 10, 5000, 2 * time.Millisecond, 5 * time.Microsecond},
		{"large recordings, fast disk", 60 << 20, 200, 2 * time.Millisecond, 5 * time.Microsecond},
		{"small recordings, slow disk", 50 << 10, 3000, 40 * time.Millisecond, 100 * time.Microsecond},
		{"mixed sizes, slow disk", 0, 1000, 20 * time.Millisecond, 50 * time.Microsecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			policy := testutil.NewClock(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
			watch := testutil.NewClock(time.Unix(0, 0))
			cs := &costStore{clk: watch, perMiB: tc.perMiB, perPage: tc.perPage}
			for i := range tc.n {
				size := tc.size
				if size == 0 {
					size = int64(1+i%7) << (10 + 2*(i%5)) // 1 KiB … 7 MiB
				}
				cs.recs = append(cs.recs, store.Expired{ID: int64(i + 1), Size: size,
					CreatedAt: time.Date(2025, 1, 1, 0, 0, i, 0, time.UTC)})
			}
			r := New(cs, nil, Options{Now: policy.Now, Stopwatch: watch.Now,
				Policy: func(context.Context) (Policy, error) { return Policy{RecordingDays: 30}, nil }})
			rep, err := r.Once(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if rep.Deleted != tc.n || len(cs.recs) != 0 || cs.free != 0 {
				t.Fatalf("deleted %d of %d, %d left, %d free pages left", rep.Deleted, tc.n, len(cs.recs), cs.free)
			}
			t.Logf("%d batches (largest %d recordings), longest %v; %d vacuum steps, longest %v",
				rep.Batches, cs.maxBatch, rep.LongestBatch, rep.VacuumSteps, rep.LongestVacuumStep)
			if rep.LongestBatch > 100*time.Millisecond || rep.LongestVacuumStep > 100*time.Millisecond {
				t.Errorf("longest transaction %v, vacuum step %v: over 100 ms", rep.LongestBatch, rep.LongestVacuumStep)
			}
		})
	}
}

func TestAdapt(t *testing.T) {
	const target = 25 * time.Millisecond
	for _, tc := range []struct {
		n    int
		took time.Duration
		want int
	}{
		{8, 5 * time.Millisecond, 16},
		{8, 20 * time.Millisecond, 8},
		{8, 30 * time.Millisecond, 4},
		{1, time.Second, 1},
		{600, time.Millisecond, 1000},
		{1000, time.Millisecond, 1000},
	} {
		if got := adapt(tc.n, tc.took, target, 1000); got != tc.want {
			t.Errorf("adapt(%d, %v) = %d, want %d", tc.n, tc.took, got, tc.want)
		}
	}
}
