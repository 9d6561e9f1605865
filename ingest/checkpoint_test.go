package ingest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"recordings/convert"
	"recordings/ingest"
	"recordings/internal/callgen"
	"recordings/internal/testutil"
	"recordings/media"
	"recordings/store"
)

// TestLazyCheckpoints covers an analysis without render checkpoints (what
// a restart leaves: the cache is empty and the recording is analysed again
// for playback, before checkpoints were stored): the first Prepare has
// none, the service records them in the background and stores them with
// the analysis, and the next Prepare has them, as has a service started
// afterwards without rendering again; ranges started from them are the
// bytes of the whole WAV.
func TestLazyCheckpoints(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, id := storedCall(ctx, t, log)
	svc := ingest.New(db, log, ingest.Options{})
	done := make(chan int64, 1)
	svc.NotifyCheckpointed(done)
	ran := make(chan struct{})
	go func() { defer close(ran); svc.Run(ctx) }()
	defer func() { cancel(); <-ran }()
	rec, err := db.Recording(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for !svc.Running() {
		runtime.Gosched()
	}
	// Analysed again for playback: no checkpoints yet, a render for them
	// starts in the background.
	p, err := svc.Prepare(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	if p.Checkpoints != nil {
		t.Fatal("checkpoints without a render")
	}
	if got := <-done; got != id {
		t.Fatalf("checkpointed %d, want %d", got, id)
	}
	if p, err = svc.Prepare(ctx, rec); err != nil || p.Checkpoints == nil {
		t.Fatalf("after the lazy render: %v, %v", p.Checkpoints, err)
	}
	if !p.Checkpoints.Matches(p.Analysis) || len(p.Checkpoints.List) < 5 {
		t.Fatalf("lazy checkpoints: %d", len(p.Checkpoints.List))
	}
	if n := svc.RendersFromStart(); n != 1 {
		t.Fatalf("%d renders from the start, want the lazy one", n)
	}
	if n := svc.PlaybackAnalyses(); n != 1 {
		t.Fatalf("%d analyses, want the first Prepare's", n)
	}
	// The lazy render stored them with the analysis: a service started
	// afterwards (nothing cached) reads them instead of rendering again.
	if _, err := db.Checkpoints(ctx, id, rec.SHA256); err != nil {
		t.Fatalf("lazy checkpoints not stored: %v", err)
	}
	again := ingest.New(db, log, ingest.Options{})
	if p, err = again.Prepare(ctx, rec); err != nil || p.Checkpoints == nil || !p.Checkpoints.Matches(p.Analysis) {
		t.Fatalf("after a restart: %v, %v", p.Checkpoints, err)
	}
	var whole bytes.Buffer
	if err := convert.WriteWAV(p.Analysis, p.Open, &whole); err != nil {
		t.Fatal(err)
	}
	for _, off := range []int64{44 + 4*8000*13 + 2, 44 + 4*8000*30, int64(whole.Len()) - 5000} {
		var part bytes.Buffer
		if err := p.WriteWAVRange(ctx, &part, off, 4000); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(part.Bytes(), whole.Bytes()[off:off+4000]) {
			t.Fatalf("range at %d differs", off)
		}
	}
	if n := again.RendersFromStart(); n != 0 {
		t.Fatalf("%d renders from the start with stored checkpoints, want 0", n)
	}
	if n := again.PlaybackAnalyses(); n != 0 {
		t.Fatalf("%d analyses with the plan stored with the checkpoints, want 0", n)
	}
}

// storedCall stores a 40-second call as a ready recording without its
// analysis' checkpoints, as a recording analysed before they were stored.
func storedCall(ctx context.Context, t *testing.T, log *slog.Logger) (*store.DB, int64) {
	t.Helper()
	db, err := store.OpenOptions(ctx, filepath.Join(t.TempDir(), "rec.db"), log, store.Options{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	capture := callgen.Default(2000).Bytes() // 40 s
	sum := sha256.Sum256(capture)
	name := "f9e5956e47d460010630009033302ab1-009033302ab1-1--alice.pcap"
	id, _, err := db.BeginUpload(ctx, "example.com", name, store.FileName{ConfID: name[:32], MAC: "009033302ab1", Serial: "1", RegName: "alice"}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(capture); off += 64 << 10 {
		if err := db.AppendChunk(ctx, id, capture[off:min(off+64<<10, len(capture))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.FinishUpload(ctx, id, store.StateReceiving, hex.EncodeToString(sum[:])); err != nil {
		t.Fatal(err)
	}
	if err := db.SetAnalysis(ctx, id, store.Analysis{State: store.StateReady, Codec: "PCMA/PCMU", DurationMS: 40000}); err != nil {
		t.Fatal(err)
	}
	return db, id
}

// TestStoredPlanRecordedAgain: checkpoints stored without their analysis'
// render plan (as before plans were stored), with a damaged plan, or with
// one recorded under other analysis options cost one analysis of the
// capture (the damaged and refused ones with a warning); the checkpoints
// still fit and are used, and the service stores them again with the new
// analysis' plan, so that a service started afterwards analyses nothing.
// Ranges are the bytes of the whole WAV throughout.
func TestStoredPlanRecordedAgain(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		// tamper changes the plan stored with the checkpoints.
		tamper func(plan []byte) []byte
		opt    media.Options // the services' analysis options
		warn   bool
	}{
		{"without a plan", func([]byte) []byte { return nil }, media.Options{}, false},
		{"damaged plan", func(p []byte) []byte { p[len(p)/2] ^= 4; return p }, media.Options{}, true},
		{"plan of other options", func(p []byte) []byte { return p }, media.Options{ReorderPackets: 32}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			logs := &testutil.LogBuffer{}
			log := slog.New(slog.NewTextHandler(logs, nil))
			db, id := storedCall(ctx, t, log)
			rec, err := db.Recording(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			// The checkpoints and plan as the analysis stores them, then
			// tampered with.
			open := func() (io.ReadCloser, error) { return db.OpenCapture(ctx, id) }
			a, err := convert.Analyze(open, media.Options{})
			if err != nil {
				t.Fatal(err)
			}
			cps, err := convert.RenderCheckpoints(ctx, a, open, discard{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if cps.Plan, err = a.MarshalPlan(); err != nil {
				t.Fatal(err)
			}
			cps.Plan = c.tamper(cps.Plan)
			b, err := cps.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if err := db.SetCheckpoints(ctx, id, rec.SHA256, b); err != nil {
				t.Fatal(err)
			}

			svc := ingest.New(db, log, ingest.Options{Media: c.opt})
			done := make(chan int64, 1)
			svc.NotifyCheckpointed(done)
			ran := make(chan struct{})
			go func() { defer close(ran); svc.Run(ctx) }()
			defer func() { cancel(); <-ran }()
			for !svc.Running() {
				runtime.Gosched()
			}
			p, err := svc.Prepare(ctx, rec)
			if err != nil {
				t.Fatal(err)
			}
			if p.Checkpoints == nil || !p.Checkpoints.Matches(p.Analysis) {
				t.Fatal("stored checkpoints not used")
			}
			if n := svc.PlaybackAnalyses(); n != 1 {
				t.Fatalf("%d analyses, want 1", n)
			}
			if got := strings.Contains(logs.String(), "stored render plan unusable"); got != c.warn {
				t.Fatalf("warning about the plan: %v, want %v:\n%s", got, c.warn, logs.String())
			}
			if got := <-done; got != id {
				t.Fatalf("stored again: %d, want %d", got, id)
			}
			stored, err := db.Checkpoints(ctx, id, rec.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			set, err := media.ParseCheckpoints(stored)
			if err != nil || set.Plan == nil {
				t.Fatalf("stored again without a plan: %v", err)
			}
			if _, err := media.ParsePlan(set.Plan, c.opt); err != nil {
				t.Fatalf("stored again: %v", err)
			}

			again := ingest.New(db, log, ingest.Options{Media: c.opt})
			q, err := again.Prepare(ctx, rec)
			if err != nil || q.Checkpoints == nil {
				t.Fatalf("after a restart: %v, %v", q.Checkpoints, err)
			}
			if n := again.PlaybackAnalyses(); n != 0 {
				t.Fatalf("%d analyses after the plan was stored again, want 0", n)
			}
			var whole bytes.Buffer
			if err := convert.WriteWAV(p.Analysis, p.Open, &whole); err != nil {
				t.Fatal(err)
			}
			for _, off := range []int64{44 + 4*8000*13 + 2, 44 + 4*8000*30, int64(whole.Len()) - 5000} {
				var part bytes.Buffer
				if err := q.WriteWAVRange(ctx, &part, off, 4000); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(part.Bytes(), whole.Bytes()[off:off+4000]) {
					t.Fatalf("range at %d differs", off)
				}
			}
			if n := again.RendersFromStart(); n != 0 {
				t.Fatalf("%d renders from the start, want 0", n)
			}
		})
	}
}

type discard struct{}

func (discard) WriteFrames([]int16) error { return nil }
