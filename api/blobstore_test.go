package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"recordings/internal/app"
	"recordings/internal/apptest"
	"recordings/internal/blobtest"
	"recordings/internal/callgen"
	"recordings/replica"
	"recordings/s3blob"
)

// writeKey writes a key file of 32 bytes b and returns its path.
func writeKey(t *testing.T, b byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "master.key")
	if err := os.WriteFile(p, []byte(strings.Repeat(fmt.Sprintf("%02x", b), 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitCaptures kicks the capture runner until cond holds; it waits on the
// runner's passes, never sleeps, and fails after a minute.
func waitCaptures(t *testing.T, a *apptest.App, cond func() bool) {
	t.Helper()
	deadline := time.After(time.Minute)
	for !cond() {
		next := a.Captures.NextPass()
		a.Captures.Kick()
		select {
		case <-next:
		case <-deadline:
			t.Fatal("capture store: condition not reached within a minute")
		}
	}
}

func objects(t *testing.T, b *s3blob.Store) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	if err := b.List(context.Background(), func(k string, n int64) error { out[k] = n; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCapturesInObjectStore: an upload is shipped to the bucket once
// analysed, encrypted; it plays and downloads from there; deleting the
// recording deletes the object.
func TestCapturesInObjectStore(t *testing.T) {
	t.Parallel()
	b, cfg := blobtest.Bucket(t, "site")
	e := newEnv(t, func(c *app.Config) {
		c.CaptureStore, c.KeyFile = b.Location(), writeKey(t, 1)
		c.S3 = replica.S3{Endpoint: cfg.Endpoint, Region: cfg.Region, AccessKeyID: cfg.AccessKey, SecretAccessKey: cfg.SecretKey}
		c.Tuning.CaptureInterval = time.Hour // passes only when kicked
	})
	ctx := context.Background()
	call := callgen.Default(150)
	capture := call.Bytes()
	path := "/example.com/recordings/Files/" + fileName
	if resp := e.chunkedPUT(path, capture, 1000); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	id := e.idOf(fileName)
	if rec := e.waitState(id); rec.State != "ready" {
		t.Fatalf("state %s", rec.State)
	}
	waitCaptures(t, e.app, func() bool {
		st, err := e.db.CaptureStats(ctx)
		return err == nil && st.InObjects == 1
	})
	objs := objects(t, b)
	if len(objs) != 1 {
		t.Fatalf("objects %v", objs)
	}
	for k := range objs {
		raw := make([]byte, 200)
		if _, err := b.ReadAt(ctx, k, raw, 0); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, capture[24:100]) {
			t.Fatal("object in clear")
		}
	}
	if got := readAll(t, e.do(http.MethodGet, path, "admin", nil)); !bytes.Equal(got, capture) {
		t.Fatalf("GET capture from the bucket: %d bytes differ", len(got))
	}
	resp := e.do(http.MethodGet, fmt.Sprintf("/api/recordings/%d/audio.wav", id), "alice", nil, "Range", "bytes=20001-30000")
	if part := readAll(t, resp); resp.StatusCode != http.StatusPartialContent || len(part) != 10000 {
		t.Fatalf("range from the bucket: %d, %d bytes", resp.StatusCode, len(part))
	}
	body := readAll(t, e.do(http.MethodGet, "/healthz", "admin", nil))
	var h struct {
		Status   string `json:"status"`
		Captures string `json:"captures"`
	}
	if err := json.Unmarshal(body, &h); err != nil || h.Status != "ok" || h.Captures != "ok" {
		t.Fatalf("healthz %s", body)
	}
	if resp := e.do(http.MethodDelete, fmt.Sprintf("/api/recordings/%d", id), "admin", nil); resp.StatusCode/100 != 2 {
		t.Fatalf("DELETE: %d", resp.StatusCode)
	}
	waitCaptures(t, e.app, func() bool { return len(objects(t, b)) == 0 })
}

// TestWrongKeyFile: restarted with another key file, the service starts,
// reports the encrypted recordings as unreadable, refuses to play them
// (503) and keeps them.
func TestWrongKeyFile(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "rec.db")
	capture := callgen.Default(50).Bytes()
	path := "/example.com/recordings/Files/" + fileName
	var id int64
	t.Run("with key A", func(t *testing.T) {
		e := newEnv(t, func(c *app.Config) { c.DB, c.KeyFile = dbPath, writeKey(t, 0xA) })
		if resp := e.chunkedPUT(path, capture, 1000); resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT: %d", resp.StatusCode)
		}
		id = e.idOf(fileName)
		e.waitState(id)
	})
	for _, key := range []string{"B", "none"} {
		t.Run("with key "+key, func(t *testing.T) {
			e := newEnv(t, func(c *app.Config) {
				c.DB = dbPath
				if key == "B" {
					c.KeyFile = writeKey(t, 0xB)
				}
			})
			resp := e.do(http.MethodGet, "/healthz", "admin", nil)
			body := readAll(t, resp)
			if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "1 encrypted recordings cannot be read") {
				t.Fatalf("healthz %d %s", resp.StatusCode, body)
			}
			if resp := e.do(http.MethodGet, path, "admin", nil); resp.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("GET capture: %d", resp.StatusCode)
			}
			if resp := e.do(http.MethodGet, fmt.Sprintf("/api/recordings/%d/audio.wav", id), "admin", nil); resp.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("GET audio: %d", resp.StatusCode)
			}
			if rec := e.waitState(id); rec.State != "ready" || rec.Size != int64(len(capture)) {
				t.Fatalf("recording changed: %+v", rec)
			}
			var shown struct {
				Encrypted, Unreadable bool
			}
			if err := json.Unmarshal(readAll(t, e.do(http.MethodGet, fmt.Sprintf("/api/recordings/%d", id), "admin", nil)), &shown); err != nil ||
				!shown.Encrypted || !shown.Unreadable {
				t.Fatalf("recording shown as %+v (%v), want encrypted and unreadable", shown, err)
			}
		})
	}
	t.Run("with key A again", func(t *testing.T) {
		e := newEnv(t, func(c *app.Config) { c.DB, c.KeyFile = dbPath, writeKey(t, 0xA) })
		if got := readAll(t, e.do(http.MethodGet, path, "admin", nil)); !bytes.Equal(got, capture) {
			t.Fatal("capture differs with the right key back")
		}
	})
}

// TestMissingBucketKeepsUploads: with the bucket missing, uploads are
// acknowledged and playable from the database, /healthz and the admin
// status say why; once the bucket exists they are shipped.
func TestMissingBucketKeepsUploads(t *testing.T) {
	t.Parallel()
	missing := blobtest.Missing(t)
	cfg := blobtest.Server(t)
	e := newEnv(t, func(c *app.Config) {
		c.CaptureStore = missing.Location()
		c.S3 = replica.S3{Endpoint: cfg.Endpoint, Region: cfg.Region, AccessKeyID: cfg.AccessKey, SecretAccessKey: cfg.SecretKey}
		c.Tuning.CaptureInterval = time.Hour
	})
	ctx := context.Background()
	capture := callgen.Default(50).Bytes()
	path := "/example.com/recordings/Files/" + fileName
	if resp := e.chunkedPUT(path, capture, 1000); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	id := e.idOf(fileName)
	e.waitState(id)
	waitCaptures(t, e.app, func() bool {
		_, err := e.app.Captures.Check(ctx)
		return err != nil && strings.Contains(err.Error(), "1 captures wait in the database")
	})
	resp := e.do(http.MethodGet, "/api/admin/status", "admin", nil)
	if body := readAll(t, resp); !strings.Contains(string(body), "the bucket does not exist") {
		t.Fatalf("admin status does not say what is wrong: %s", body)
	}
	if resp := e.do(http.MethodGet, "/healthz", "admin", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("healthz %d with the bucket missing", resp.StatusCode)
	}
	if got := readAll(t, e.do(http.MethodGet, path, "admin", nil)); !bytes.Equal(got, capture) {
		t.Fatal("capture not playable while the bucket is missing")
	}
	if err := missing.MakeBucket(ctx); err != nil {
		t.Fatal(err)
	}
	waitCaptures(t, e.app, func() bool {
		st, err := e.db.CaptureStats(ctx)
		return err == nil && st.InObjects == 1
	})
	if _, err := e.app.Captures.Check(ctx); err != nil {
		t.Fatalf("still reported after shipping: %v", err)
	}
	if got := readAll(t, e.do(http.MethodGet, path, "admin", nil)); !bytes.Equal(got, capture) {
		t.Fatal("capture differs after shipping")
	}
}
