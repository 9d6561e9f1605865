package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"recordings/internal/blobtest"
	"recordings/internal/sealed"
	"recordings/s3blob"
	"recordings/store"
)

func keyFile(t *testing.T, b byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), fmt.Sprintf("key-%x", b))
	if err := os.WriteFile(p, []byte(strings.Repeat(fmt.Sprintf("%02x", b), 32)), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// capturesDB makes a database of n analysed recordings, encrypted under
// the key in keyPath.
func capturesDB(t *testing.T, keyPath string, n int) (string, map[int64][]byte) {
	t.Helper()
	ctx := context.Background()
	k, err := sealed.LoadKeyFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rec.db")
	db, err := store.OpenOptions(ctx, path, nil, store.Options{BcryptCost: 4, MasterKey: k})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := map[int64][]byte{}
	for i := range n {
		data := bytes.Repeat([]byte{byte(i), 1, 2, 3}, 50000+i*1000)
		id, _, err := db.BeginUpload(ctx, "example.com", fmt.Sprintf("c%d.pcap", i), store.FileName{}, "alice")
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off < len(data); off += store.MaxChunkSize {
			if err := db.AppendChunk(ctx, id, data[off:min(off+store.MaxChunkSize, len(data))]); err != nil {
				t.Fatal(err)
			}
		}
		sum := sha256.Sum256(data)
		if err := db.FinishUpload(ctx, id, store.StateReceiving, hex.EncodeToString(sum[:])); err != nil {
			t.Fatal(err)
		}
		if err := db.SetAnalysis(ctx, id, store.Analysis{State: store.StateReady}); err != nil {
			t.Fatal(err)
		}
		want[id] = data
	}
	return path, want
}

func checkCaptures(t *testing.T, path, keyPath string, cfg s3blob.Config, want map[int64][]byte) store.CaptureStats {
	t.Helper()
	ctx := context.Background()
	k, err := sealed.LoadKeyFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenOptions(ctx, path, nil, store.Options{MasterKey: k,
		Blobs: func(loc string) (store.Blobs, error) { return s3blob.Open(loc, cfg) }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for id, data := range want {
		c, err := db.OpenCapture(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(c)
		c.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("recording %d: %v, equal %v", id, err, bytes.Equal(got, data))
		}
	}
	st, err := db.CaptureStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestMigrateCapturesCommand moves the captures to a bucket and back with
// the command, runs it again (nothing left to do), and rotates the key.
// Not parallel: the command reads the S3 configuration from the
// environment.
func TestMigrateCapturesCommand(t *testing.T) {
	b, cfg := blobtest.Bucket(t, "cli")
	t.Setenv("RECORDINGS_S3_ENDPOINT", cfg.Endpoint)
	t.Setenv("AWS_REGION", cfg.Region)
	t.Setenv("AWS_ACCESS_KEY_ID", cfg.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", cfg.SecretKey)
	keyA, keyB := keyFile(t, 0xA), keyFile(t, 0xB)
	path, want := capturesDB(t, keyA, 3)

	if out, err := run(t, "migrate-captures", "-db", path, "-to", "s3://nope"); err == nil {
		t.Fatalf("bad location accepted: %s", out)
	}
	out, err := run(t, "migrate-captures", "-db", path, "-key-file", keyA, "-to", b.Location())
	if err != nil || !strings.Contains(out, "3 captures moved to "+b.Location()) {
		t.Fatalf("to s3: %v\n%s", err, out)
	}
	if st := checkCaptures(t, path, keyA, cfg, want); st.InObjects != 3 || st.InDatabase != 0 || st.Target != b.Location() {
		t.Fatalf("after migrating to the bucket: %+v", st)
	}
	// Resumable: a second run finds nothing left.
	if out, err := run(t, "migrate-captures", "-db", path, "-key-file", keyA, "-to", b.Location()); err != nil ||
		!strings.Contains(out, "0 captures moved") {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	// Without the key the encrypted captures cannot move: nothing is lost.
	if out, err := run(t, "migrate-captures", "-db", path, "-to", "sqlite"); err == nil {
		t.Fatalf("moved without the key: %s", out)
	}
	out, err = run(t, "rotate-key", "-db", path, "-old-key-file", keyA, "-key-file", keyB)
	if err != nil || !strings.Contains(out, "3 data keys rewrapped") {
		t.Fatalf("rotate: %v\n%s", err, out)
	}
	out, err = run(t, "migrate-captures", "-db", path, "-key-file", keyB, "-to", "sqlite")
	if err != nil || !strings.Contains(out, "3 captures moved to sqlite") {
		t.Fatalf("to sqlite: %v\n%s", err, out)
	}
	if st := checkCaptures(t, path, keyB, cfg, want); st.InObjects != 0 || st.InDatabase != 3 || st.Garbage != 0 {
		t.Fatalf("after migrating back: %+v", st)
	}
	var left int
	if err := b.List(context.Background(), func(string, int64) error { left++; return nil }); err != nil || left != 0 {
		t.Fatalf("%d objects left in the bucket (%v)", left, err)
	}
}
