package api_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"recordings/internal/app"
	"recordings/internal/callgen"
	"recordings/internal/testutil"
	"recordings/media"
)

// TestAudioRangesAfterRestart: the render checkpoints are stored with the
// analysis, and with them its render plan, so after a restart (a new
// service on the same database, with nothing cached) a range of an old
// recording starts from a stored checkpoint without analysing the capture:
// neither an analysis nor a render from the start of the call happens for
// it (the service counts both), and its bytes are those of the whole WAV.
// Checkpoints stored without a plan (as before plans were stored) cost one
// analysis and still resume. Stored checkpoints that are damaged are
// refused with a warning in the log, and the range renders from the start
// instead, still exact. With a key file the captures are encrypted and so
// are their stored checkpoints.
func TestAudioRangesAfterRestart(t *testing.T) {
	t.Parallel()
	for _, encrypted := range []bool{false, true} {
		t.Run(fmt.Sprintf("encrypted=%v", encrypted), func(t *testing.T) {
			t.Parallel()
			testAudioRangesAfterRestart(t, encrypted)
		})
	}
}

func testAudioRangesAfterRestart(t *testing.T, encrypted bool) {
	path := filepath.Join(t.TempDir(), "recordings.db")
	logs := &testutil.LogBuffer{}
	key := ""
	if encrypted {
		key = writeKey(t, 3)
	}
	onDB := func(c *app.Config) { c.DB = path; c.LogOutput = logs; c.KeyFile = key }
	call := callgen.Default(3000) // 60 s
	names := []string{fileName, "f9e5956e47d460010630009033302ab2-009033302ab1-12--alice.pcap",
		"f9e5956e47d460010630009033302ab3-009033302ab1-13--alice.pcap"}
	ids := make([]int64, len(names))
	t.Run("before restart", func(t *testing.T) {
		e := newEnv(t, onDB)
		for i, name := range names {
			if resp := e.chunkedPUT("/example.com/recordings/Files/"+name, call.Bytes(), 64<<10); resp.StatusCode != http.StatusCreated {
				t.Fatalf("PUT: %d %s", resp.StatusCode, readAll(t, resp))
			}
			ids[i] = e.idOf(name)
			if rec := e.waitState(ids[i]); rec.State != "ready" {
				t.Fatalf("recording: %+v", rec)
			}
		}
		// The second recording's stored checkpoints are damaged (one bit).
		ctx := context.Background()
		if st, err := e.db.CaptureStats(ctx); err != nil || (st.Encrypted > 0) != encrypted {
			t.Fatalf("capture stats: %+v, %v", st, err)
		}
		rec, err := e.db.Recording(ctx, ids[1])
		if err != nil {
			t.Fatal(err)
		}
		b, err := e.db.Checkpoints(ctx, ids[1], rec.SHA256)
		if err != nil {
			t.Fatalf("checkpoints not stored with the analysis: %v", err)
		}
		b[len(b)/2] ^= 0x10
		if err := e.db.SetCheckpoints(ctx, ids[1], rec.SHA256, b); err != nil {
			t.Fatal(err)
		}
		// The third's are stored as before plans were (version 1).
		if rec, err = e.db.Recording(ctx, ids[2]); err != nil {
			t.Fatal(err)
		}
		if b, err = e.db.Checkpoints(ctx, ids[2], rec.SHA256); err != nil {
			t.Fatal(err)
		}
		cps, err := media.ParseCheckpoints(b)
		if err != nil || cps.Plan == nil {
			t.Fatalf("stored checkpoints without a plan: %v", err)
		}
		cps.Plan = nil
		if b, err = cps.MarshalBinary(); err != nil {
			t.Fatal(err)
		}
		if err := e.db.SetCheckpoints(ctx, ids[2], rec.SHA256, b); err != nil {
			t.Fatal(err)
		}
	})
	e := newEnv(t, onDB)
	rng := rand.New(rand.NewPCG(15, 16))
	type rangeOf struct{ off, end int64 }
	url := func(id int64) string { return fmt.Sprintf("/api/recordings/%d/audio.wav", id) }
	size := int64(44 + 4*call.Samples())
	var ranges []rangeOf
	for range 10 {
		off := 44 + rng.Int64N(size-44)
		ranges = append(ranges, rangeOf{off, min(size, off+1+rng.Int64N(100_000)) - 1})
	}
	get := func(id int64, r rangeOf) []byte {
		t.Helper()
		resp := e.do(http.MethodGet, url(id), "alice", nil, "Range", fmt.Sprintf("bytes=%d-%d", r.off, r.end))
		part := readAll(t, resp)
		if resp.StatusCode != http.StatusPartialContent {
			t.Fatalf("range %d-%d: status %d", r.off, r.end, resp.StatusCode)
		}
		return part
	}
	var parts [][]byte
	for _, r := range ranges {
		parts = append(parts, get(ids[0], r))
	}
	if n := e.app.Ingest.RendersFromStart(); n != 0 {
		t.Fatalf("%d renders from the start for %d ranges after the restart, want 0", n, len(ranges))
	}
	if n := e.app.Ingest.PlaybackAnalyses(); n != 0 {
		t.Fatalf("%d analyses for %d ranges after the restart, want 0", n, len(ranges))
	}
	if strings.Contains(logs.String(), "unusable") {
		t.Fatal("intact checkpoints or plan refused")
	}
	wav := readAll(t, e.do(http.MethodGet, url(ids[0]), "alice", nil))
	if int64(len(wav)) != size {
		t.Fatalf("wav of %d bytes, want %d", len(wav), size)
	}
	if n := e.app.Ingest.RendersFromStart(); n != 1 {
		t.Fatalf("%d renders from the start after the whole WAV, want 1", n)
	}
	if n := e.app.Ingest.PlaybackAnalyses(); n != 0 {
		t.Fatalf("%d analyses after the whole WAV, want 0", n)
	}
	for i, r := range ranges {
		if !bytes.Equal(parts[i], wav[r.off:r.end+1]) {
			t.Fatalf("range %d-%d differs from the whole WAV", r.off, r.end)
		}
	}

	// Stored without a plan: analysed once, then resumed from a stored
	// checkpoint all the same.
	for _, r := range ranges[:3] {
		if part := get(ids[2], r); !bytes.Equal(part, wav[r.off:r.end+1]) {
			t.Fatalf("range %d-%d of the recording stored without a plan differs from the whole WAV", r.off, r.end)
		}
	}
	if n := e.app.Ingest.PlaybackAnalyses(); n != 1 {
		t.Fatalf("%d analyses for a recording stored without a plan, want 1", n)
	}
	if n := e.app.Ingest.RendersFromStart(); n != 1 {
		t.Fatalf("%d renders from the start, want none for the recording stored without a plan", n)
	}

	// Damaged: refused with a warning, the range rendered from the start.
	r := rangeOf{size - 50_000, size - 1}
	if part := get(ids[1], r); !bytes.Equal(part, wav[r.off:r.end+1]) {
		t.Fatal("range of the recording with damaged checkpoints differs from the whole WAV")
	}
	if !strings.Contains(logs.String(), "stored render checkpoints unusable") {
		t.Fatalf("no warning about the damaged checkpoints in the log:\n%s", logs.String())
	}
	if n := e.app.Ingest.RendersFromStart(); n < 2 {
		t.Fatalf("%d renders from the start, want the damaged recording's range among them", n)
	}
	if n := e.app.Ingest.PlaybackAnalyses(); n != 2 {
		t.Fatalf("%d analyses, want one more for the damaged recording", n)
	}
}
