package ingest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"recordings/events"
	"recordings/ingest"
	"recordings/internal/callgen"
	"recordings/store"
)

// TestRunFinishesWhatACrashLeft covers the two states a kill can leave an
// upload in: still receiving (cut short: it becomes "incomplete") and fully
// received with its checksum but not yet analysed (it must become "ready",
// not stay "receiving" for ever), and one marked incomplete whose analysis
// the stop prevented.
func TestRunFinishesWhatACrashLeft(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := store.OpenOptions(ctx, filepath.Join(t.TempDir(), "rec.db"), log, store.Options{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	capture := callgen.Default(100).Bytes()
	sum := sha256.Sum256(capture)
	tests := []struct {
		name     string
		data     []byte
		finished bool
		want     store.State
		wantMS   int64
	}{
		{"f9e5956e47d460010630009033302ab1-009033302ab1-1--alice.pcap", capture, true, store.StateReady, 2000},
		{"f9e5956e47d460010630009033302ab2-009033302ab1-2--alice.pcap", capture[:len(capture)/2], false, store.StateIncomplete, 0},
		// Marked incomplete, but the service stopped before analysing it.
		{"f9e5956e47d460010630009033302ab3-009033302ab1-3--alice.pcap", capture[:len(capture)/2], false, store.StateIncomplete, 0},
	}
	ids := make([]int64, len(tests))
	for i, tc := range tests {
		id, _, err := db.BeginUpload(ctx, "example.com", tc.name, store.FileName{ConfID: tc.name[:32], MAC: "009033302ab1", Serial: "1", RegName: "alice"}, "alice")
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off < len(tc.data); off += 4096 {
			if err := db.AppendChunk(ctx, id, tc.data[off:min(off+4096, len(tc.data))]); err != nil {
				t.Fatal(err)
			}
		}
		if i == 2 {
			if err := db.FinishUpload(ctx, id, store.StateIncomplete, ""); err != nil {
				t.Fatal(err)
			}
		}
		if tc.finished {
			if err := db.FinishUpload(ctx, id, store.StateReceiving, hex.EncodeToString(sum[:])); err != nil {
				t.Fatal(err)
			}
		}
		ids[i] = id
	}

	rctx, cancel := context.WithCancel(ctx)
	// An analysis ends with a StateChanged event, after its result is stored.
	updated := make(chan int64, 64)
	broker := &events.Broker{}
	broker.Subscribe(func(ev events.Recording) {
		if ev.Kind == events.StateChanged {
			updated <- ev.ID
		}
	})
	svc := ingest.New(db, log, ingest.Options{Events: broker})
	done := make(chan error, 1)
	go func() { done <- svc.Run(rctx) }()
	defer func() { cancel(); <-done }()
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
			t.Errorf("not analysed 30 s after restart: %v", left)
			left = nil
		}
	}
	for i, tc := range tests {
		rec, err := db.Recording(ctx, ids[i])
		if err != nil {
			t.Fatal(err)
		}
		if rec.State != tc.want || rec.DurationMS <= 0 || (tc.wantMS != 0 && rec.DurationMS != tc.wantMS) {
			t.Errorf("%s: state %q (reason %q, %d ms) after restart, want %q and %d ms (0: any)",
				tc.name, rec.State, rec.Reason, rec.DurationMS, tc.want, tc.wantMS)
		}
	}
}
