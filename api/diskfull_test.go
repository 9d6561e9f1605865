package api_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"recordings/internal/app"
	"recordings/internal/callgen"
	"recordings/store"
)

// TestDiskFull fills the database (PRAGMA max_page_count) and checks that
// uploads are refused with 507, that nothing stored before is damaged, that
// a partial upload is handled cleanly and that the service recovers once
// space returns.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	// Small stored chunks, so that a long upload hits the limit midway.
	e := newEnv(t, func(c *app.Config) { c.Tuning.ChunkBytes = 16 << 10 })
	ctx := context.Background()
	name := func(i int) string { return fmt.Sprintf("%032x-009033302ab1-%d--alice.pcap", i, i) }
	path := func(i int) string { return "/example.com/recordings/Files/" + name(i) }
	for i := 1; i <= 3; i++ {
		if resp := e.chunkedPUT(path(i), callgen.Default(100).Bytes(), 1000); resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT %d: %d %s", i, resp.StatusCode, readAll(t, resp))
		}
		if r := e.waitState(e.idOf(name(i))); r.State != "ready" {
			t.Fatalf("recording %d: %+v", i, r)
		}
	}
	before := digest(t, e.db)
	pages, err := e.db.PageCount(ctx)
	if err != nil {
		t.Fatal(err)
	}

	big := callgen.Default(1500).Bytes() // 30 s, about 700 KB
	tests := []struct {
		name     string
		headroom int64 // pages allowed beyond the current file
		body     []byte
		chunked  bool
		partial  bool // some chunks fit: the recording is kept as incomplete
	}{
		{"no room, chunked", 0, callgen.Default(100).Bytes(), true, false},
		{"no room, Content-Length", 0, callgen.Default(100).Bytes(), false, false},
		{"full midway, chunked", 40, big, true, true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := 10 + i
			got, err := e.db.SetMaxPages(ctx, pages+tc.headroom)
			if err != nil || got != pages+tc.headroom {
				t.Fatalf("SetMaxPages(%d) = %d, %v", pages+tc.headroom, got, err)
			}
			var resp *http.Response
			if tc.chunked {
				resp = e.chunkedPUT(path(n), tc.body, 4000)
			} else {
				resp = e.do(http.MethodPut, path(n), asPhone, bytes.NewReader(tc.body))
			}
			if msg := readAll(t, resp); resp.StatusCode != http.StatusInsufficientStorage || !bytes.Contains(msg, []byte("storage full")) {
				t.Fatalf("PUT with the disk full: %d %s, want 507 storage full", resp.StatusCode, msg)
			}
			rec, err := e.db.RecordingByName(ctx, "example.com", name(n))
			switch {
			case !tc.partial && !errors.Is(err, store.ErrNotFound):
				t.Errorf("refused upload left a recording behind: %+v, %v", rec, err)
			case tc.partial && err != nil:
				t.Errorf("upload cut by the full disk: %v, want what arrived kept", err)
			case tc.partial:
				r := e.waitState(rec.ID)
				stored := readAll(t, e.do(http.MethodGet, path(n), "admin", nil))
				if r.State != "incomplete" || len(stored) == 0 || !bytes.HasPrefix(tc.body, stored) {
					t.Errorf("upload cut by the full disk: state %s, %d bytes stored (a prefix of the upload: %v)",
						r.State, len(stored), bytes.HasPrefix(tc.body, stored))
				}
				// What was kept plays, even if its analysis could not be stored.
				wav := e.do(http.MethodGet, fmt.Sprintf("/api/recordings/%d/audio.wav", rec.ID), "admin", nil)
				if b := readAll(t, wav); wav.StatusCode != http.StatusOK || len(b) <= 44 {
					t.Errorf("audio of the cut upload: %d, %d bytes", wav.StatusCode, len(b))
				}
				if err := e.db.DeleteRecording(ctx, rec.ID); err != nil {
					t.Fatal(err)
				}
			}
			// Reading still works with the disk full.
			for i := 1; i <= 3; i++ {
				if resp := e.do(http.MethodGet, path(i), "admin", nil); resp.StatusCode != http.StatusOK {
					t.Errorf("GET %d with the disk full: %d", i, resp.StatusCode)
				}
			}
			if resp := e.do(http.MethodGet, "/healthz", "", nil); resp.StatusCode != http.StatusOK {
				t.Errorf("healthz with the disk full: %d", resp.StatusCode)
			}
		})
	}
	if after := digest(t, e.db); after != before {
		t.Errorf("stored recordings changed while the disk was full")
	}
	integrityCheck(t, e.db.Path())

	// Space returns: uploads work again.
	if _, err := e.db.SetMaxPages(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if resp := e.chunkedPUT(path(20), big, 4000); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT after space returned: %d %s", resp.StatusCode, readAll(t, resp))
	}
	if r := e.waitState(e.idOf(name(20))); r.State != "ready" || r.DurationMS != 30000 {
		t.Fatalf("upload after space returned: %+v", r)
	}
	if got := readAll(t, e.do(http.MethodGet, path(20), "admin", nil)); !bytes.Equal(got, big) {
		t.Fatalf("capture after space returned differs")
	}
	integrityCheck(t, e.db.Path())
}
