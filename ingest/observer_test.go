package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"recordings/events"
	"recordings/internal/callgen"
	"recordings/store"
)

type counts struct {
	started, ok, failed, refused, conv int
	states                             []string
}

type countObserver struct {
	mu sync.Mutex
	counts
}

func (o *countObserver) UploadStarted() { o.mu.Lock(); o.started++; o.mu.Unlock() }
func (o *countObserver) UploadDone(ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if ok {
		o.ok++
	} else {
		o.failed++
	}
}
func (o *countObserver) UploadRefused() { o.mu.Lock(); o.refused++; o.mu.Unlock() }
func (o *countObserver) Converted(d time.Duration, state string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.conv++
	o.states = append(o.states, state)
}

func (o *countObserver) snapshot() counts {
	o.mu.Lock()
	defer o.mu.Unlock()
	c := o.counts
	c.states = append([]string(nil), o.states...)
	return c
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// analysed returns a broker to give the service and a function that waits
// until the analysis of every given recording has been stored and logged
// (the service publishes StateChanged as its last step).
func analysed(t *testing.T) (*events.Broker, func(ids ...int64)) {
	updated := make(chan int64, 64)
	broker := &events.Broker{}
	broker.Subscribe(func(ev events.Recording) {
		if ev.Kind == events.StateChanged {
			updated <- ev.ID
		}
	})
	return broker, func(ids ...int64) {
		t.Helper()
		left := map[int64]bool{}
		for _, id := range ids {
			left[id] = true
		}
		timeout := time.After(30 * time.Second)
		for len(left) > 0 {
			select {
			case id := <-updated:
				delete(left, id)
			case <-timeout:
				t.Fatalf("recordings %v not analysed after 30 s", slices.Collect(maps.Keys(left)))
			}
		}
	}
}

// brokenReader yields data, then fails.
type brokenReader struct{ r io.Reader }

func (b *brokenReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		return n, errors.New("connection reset")
	}
	return n, err
}

const aliceName = "0123456789abcdef0123456789abcdef-0090334455aa-1-alice.pcap"

// TestObserverAndLogUser runs in a synctest bubble so that the uploads
// start once Run has finished its start-up recovery (synctest.Wait returns
// when Run waits for its workers). Uploads that complete while Run is still
// recovering are analysed twice: Run takes them for uploads received
// before a restart.
func TestObserverAndLogUser(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testObserverAndLogUser)
}

func testObserverAndLogUser(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &lockedBuf{}
	log := slog.New(slog.NewTextHandler(out, nil))
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "r.db"), log)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	obs := &countObserver{}
	broker, wait := analysed(t)
	s := New(db, log, Options{Observer: obs, Events: broker})
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	synctest.Wait() // Run has recovered (nothing) and waits for its workers

	capture := callgen.Default(100).Bytes()
	id1, _, err := s.Upload(ctx, "example.com", aliceName, bytes.NewReader(capture), int64(len(capture)))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Upload(ctx, "example.com", "bad name.pcap", bytes.NewReader(capture), -1); err == nil {
		t.Fatal("bad name accepted")
	}
	name2 := strings.Replace(aliceName, "-1-", "-2-", 1)
	id2, _, err := s.Upload(ctx, "example.com", name2, &brokenReader{bytes.NewReader(capture[:3000])}, -1)
	if err == nil {
		t.Fatal("broken upload reported no error")
	}
	if err := s.WaitUploads(ctx); err != nil || s.Uploads() != 0 {
		t.Fatalf("uploads left: %d, %v", s.Uploads(), err)
	}
	wait(id1, id2)
	got := obs.snapshot()
	if got.started != 2 || got.ok != 1 || got.failed != 1 || got.refused != 1 || got.conv != 2 {
		t.Errorf("observer saw started %d ok %d failed %d refused %d converted %d", got.started, got.ok, got.failed, got.refused, got.conv)
	}
	logs := out.String()
	for _, msg := range []string{"upload started", "upload complete", "converted", "upload broke off"} {
		found := false
		for _, line := range strings.Split(logs, "\n") {
			if strings.Contains(line, "msg=\""+msg+"\"") || strings.Contains(line, "msg="+msg+" ") {
				found = true
				if !strings.Contains(line, "user=alice") || !strings.Contains(line, "category=") {
					t.Errorf("log line lacks user or category: %s", line)
				}
			}
		}
		if !found {
			t.Errorf("no %q line in\n%s", msg, logs)
		}
	}
	cancel()
	<-done
}

// TestRestartAnalysesCompleteUploads: an upload that arrived completely but
// was not analysed before a stop is analysed at start, not marked incomplete.
func TestRestartAnalysesCompleteUploads(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "r.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	capture := callgen.Default(50).Bytes()
	id, _, err := db.BeginUpload(ctx, "example.com", aliceName, store.FileName{RegName: "alice"}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AppendChunk(ctx, id, capture); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(capture)
	if err := db.FinishUpload(ctx, id, store.StateReceiving, hex.EncodeToString(sum[:])); err != nil {
		t.Fatal(err)
	}
	partial, _, err := db.BeginUpload(ctx, "example.com", strings.Replace(aliceName, "-1-", "-3-", 1), store.FileName{}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AppendChunk(ctx, partial, capture[:2000]); err != nil {
		t.Fatal(err)
	}
	empty, _, err := db.BeginUpload(ctx, "example.com", strings.Replace(aliceName, "-1-", "-4-", 1), store.FileName{}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	// An incomplete upload whose analysis a stop cut short.
	cutShort, _, err := db.BeginUpload(ctx, "example.com", strings.Replace(aliceName, "-1-", "-5-", 1), store.FileName{}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AppendChunk(ctx, cutShort, capture[:4000]); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishUpload(ctx, cutShort, store.StateIncomplete, ""); err != nil {
		t.Fatal(err)
	}
	broker, wait := analysed(t)
	s := New(db, nil, Options{Events: broker})
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	want := map[int64]store.State{id: store.StateReady, partial: store.StateIncomplete, cutShort: store.StateIncomplete}
	// The last of these is queued after the empty upload was dropped.
	wait(id, partial, cutShort)
	for rid, st := range want {
		r, err := db.Recording(ctx, rid)
		if err != nil {
			t.Fatal(err)
		}
		if r.State != st || r.DurationMS == 0 {
			t.Errorf("recording %d: state %s, %d ms, want %s and a duration", rid, r.State, r.DurationMS, st)
		}
	}
	if _, err := db.Recording(ctx, empty); err == nil {
		t.Error("interrupted upload with no bytes kept")
	}
	cancel()
	<-done
}

// TestUploadBeforeRecoveryAnalysedOnce: an upload that completes before Run
// has recovered what a stop left behind is left to its own analysis, not
// queued a second time by the recovery (it looks like a receiving upload
// with its checksum stored).
func TestUploadBeforeRecoveryAnalysedOnce(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		out := &lockedBuf{}
		db, err := store.Open(ctx, filepath.Join(t.TempDir(), "r.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		obs := &countObserver{}
		broker, wait := analysed(t)
		s := New(db, slog.New(slog.NewTextHandler(out, nil)), Options{Observer: obs, Events: broker})
		capture := callgen.Default(50).Bytes()
		id, _, err := s.Upload(ctx, "example.com", aliceName, bytes.NewReader(capture), int64(len(capture)))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		wait(id)
		synctest.Wait() // the workers are idle: anything queued twice has run
		if c := obs.snapshot(); c.conv != 1 {
			t.Errorf("converted %d times, want once", c.conv)
		}
		if strings.Contains(out.String(), "received before restart") {
			t.Errorf("the recovery took this process's upload for a left-over one:\n%s", out)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
