package api_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"

	"recordings/internal/callgen"
)

// TestAudioRangesFromCheckpoints uploads a one-minute call and checks that
// its analysis kept render checkpoints (so that a Range starts near its
// first byte instead of rendering from the start) and that random ranges
// are byte for byte the same part of the whole WAV.
func TestAudioRangesFromCheckpoints(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	call := callgen.Default(3000) // 60 s
	path := "/example.com/recordings/Files/" + fileName
	if resp := e.chunkedPUT(path, call.Bytes(), 64<<10); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %d %s", resp.StatusCode, readAll(t, resp))
	}
	id := e.idOf(fileName)
	if rec := e.waitState(id); rec.State != "ready" {
		t.Fatalf("recording: %+v", rec)
	}
	rec, err := e.db.Recording(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.app.Ingest.Prepare(context.Background(), rec)
	if err != nil {
		t.Fatal(err)
	}
	if p.Checkpoints == nil || !p.Checkpoints.Matches(p.Analysis) || len(p.Checkpoints.List) < 8 {
		t.Fatalf("checkpoints after the analysis: %+v", p.Checkpoints)
	}
	url := fmt.Sprintf("/api/recordings/%d/audio.wav", id)
	wav := readAll(t, e.do(http.MethodGet, url, "alice", nil))
	if int64(len(wav)) != p.Size() {
		t.Fatalf("wav of %d bytes, want %d", len(wav), p.Size())
	}
	rng := rand.New(rand.NewPCG(15, 15))
	for range 20 {
		off := rng.Int64N(int64(len(wav)))
		end := min(int64(len(wav)), off+1+rng.Int64N(100_000)) - 1
		resp := e.do(http.MethodGet, url, "alice", nil, "Range", fmt.Sprintf("bytes=%d-%d", off, end))
		part := readAll(t, resp)
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, wav[off:end+1]) {
			t.Fatalf("range %d-%d: status %d, %d bytes, equal %v", off, end, resp.StatusCode, len(part), bytes.Equal(part, wav[off:end+1]))
		}
	}
}
