package main

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"recordings/internal/sealed"
	"recordings/replica"
	"recordings/store"
)

// replicated makes a replica (file://) of a database with one recording.
func replicated(t *testing.T) string {
	t.Helper()
	return replicatedKey(t, nil)
}

// replicatedKey is replicated with the replica encrypted under key.
func replicatedKey(t *testing.T, key *sealed.Key) string {
	t.Helper()
	url := "file://" + filepath.Join(t.TempDir(), "replica")
	db, err := store.OpenOptions(context.Background(), newDB(t), nil, store.Options{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	svc := replica.New(db.Path(), nil, replica.Options{AutoCheckpoint: db.SetAutoCheckpoint, Key: key})
	svc.SetURL(url)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	deadline := time.Now().Add(time.Minute)
	for st := svc.Status(); st.State != "replicating" || st.ReplicaTXID == 0 || st.ReplicaTXID < st.LocalTXID; st = svc.Status() {
		if time.Now().After(deadline) {
			t.Fatalf("not replicated: %+v", st)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return url
}

func TestRestoreCmd(t *testing.T) {
	t.Parallel()
	url := replicated(t)
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.db")
	if err := os.WriteFile(existing, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string // in the output, or in the error when fail
		fail bool
	}{
		{"restores", []string{"-from", url, filepath.Join(dir, "new", "rec.db")}, "integrity ok, schema version", false},
		{"no -from", []string{filepath.Join(dir, "x.db")}, "usage: recordings restore", true},
		{"no output", []string{"-from", url}, "usage: recordings restore", true},
		{"bad timestamp", []string{"-from", url, "-timestamp", "yesterday", filepath.Join(dir, "y.db")}, "RFC 3339", true},
		{"existing file", []string{"-from", url, existing}, "exists", true},
		{"bad URL", []string{"-from", "http://example.com/x", filepath.Join(dir, "z.db")}, "replica_url", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(t, append([]string{"restore"}, tc.args...)...)
			if tc.fail {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("restore %q: %v (%s), want an error containing %q", tc.args, err, out, tc.want)
				}
				return
			}
			if err != nil || !strings.Contains(out, tc.want) {
				t.Fatalf("restore %q: %v\n%s", tc.args, err, out)
			}
		})
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me" {
		t.Errorf("the existing file was changed: %q", b)
	}
	out, err := run(t, "check", "-db", filepath.Join(dir, "new", "rec.db"))
	if err != nil || !strings.Contains(out, ": ok") {
		t.Errorf("check of the restored database: %v\n%s", err, out)
	}
}

// writeKey writes a key file of 32 bytes b (hex) with mode perm.
func writeKey(t *testing.T, b byte, perm os.FileMode) (string, *sealed.Key) {
	t.Helper()
	raw := strings.Repeat(hex.EncodeToString([]byte{b}), sealed.KeyLen)
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte(raw+"\n"), perm); err != nil {
		t.Fatal(err)
	}
	k, err := sealed.ParseKey([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return path, k
}

// TestRestoreCmdEncrypted: an encrypted replica restores with -key-file
// only, and the refusals say why and write nothing.
func TestRestoreCmdEncrypted(t *testing.T) {
	t.Parallel()
	keyFile, k := writeKey(t, 0x11, 0o600)
	otherFile, _ := writeKey(t, 0x22, 0o600)
	openFile, _ := writeKey(t, 0x11, 0o644)
	url := replicatedKey(t, k)
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
		fail bool
	}{
		{"no key", []string{"-from", url, filepath.Join(dir, "a.db")}, "give the master key", true},
		{"other key", []string{"-from", url, "-key-file", otherFile, filepath.Join(dir, "b.db")}, "another key", true},
		{"readable key file", []string{"-from", url, "-key-file", openFile, filepath.Join(dir, "c.db")}, "chmod 600", true},
		{"the key", []string{"-from", url, "-key-file", keyFile, filepath.Join(dir, "d.db")}, "integrity ok", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(t, append([]string{"restore"}, tc.args...)...)
			if tc.fail {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("restore %q: %v (%s), want an error containing %q", tc.args, err, out, tc.want)
				}
				if _, err := os.Lstat(tc.args[len(tc.args)-1]); err == nil {
					t.Errorf("a refused restore wrote %s", tc.args[len(tc.args)-1])
				}
				return
			}
			if err != nil || !strings.Contains(out, tc.want) {
				t.Fatalf("restore %q: %v\n%s", tc.args, err, out)
			}
		})
	}
}
