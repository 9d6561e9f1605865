package replica_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"recordings/internal/sealed"
	"recordings/replica"
)

func key(t testing.TB, b byte) *sealed.Key {
	t.Helper()
	k, err := sealed.NewKey(bytes.Repeat([]byte{b}, sealed.KeyLen))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// replicaHas tells whether any file of the replica folder holds marker.
func replicaHas(t *testing.T, dir, marker string) bool {
	t.Helper()
	found, files := false, 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		found = found || bytes.Contains(b, []byte(marker))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatalf("no files in the replica %s", dir)
	}
	return found
}

// TestEncryptedReplica: a database replicated with a key restores with
// that key to the same recordings; the replica's files hold none of the
// database's text (while a replica in clear does); restoring without the
// key or with another key fails clearly and writes nothing; a service with
// another key does not replicate onto it and says why.
func TestEncryptedReplica(t *testing.T) {
	t.Parallel()
	const marker = "MARKER-q7Zx-caller-alice@example.com"
	ctx := context.Background()
	k := key(t, 1)
	for _, tc := range []struct {
		name   string
		target func(testing.TB) target
		key    *sealed.Key
	}{{"clear file", fileTarget, nil}, {"encrypted file", fileTarget, k}, {"encrypted s3", s3Target, k}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := tc.target(t)
			r := startKey(t, tg, tc.key)
			want := map[string]string{}
			for i := range 10 {
				name := fmt.Sprintf("%s-%02d.pcap", marker, i)
				want[name] = upload(t, r.db, name, []byte(strings.Repeat(marker, 100+i)))
			}
			waitCaughtUp(t, r.svc)
			r.stop()
			if dir, ok := strings.CutPrefix(tg.url, "file://"); ok {
				if has := replicaHas(t, dir, marker); has != (tc.key == nil) {
					t.Fatalf("replica holds the marker: %v, want %v", has, tc.key == nil)
				}
			}
			if tc.key == nil {
				return
			}

			outDir := t.TempDir()
			for _, bad := range []struct {
				name string
				key  *sealed.Key
				want error
			}{{"no key", nil, replica.ErrReplicaEncrypted}, {"other key", key(t, 2), replica.ErrReplicaKey}} {
				out := filepath.Join(outDir, bad.name+".db")
				_, err := replica.Restore(ctx, tg.url, out, replica.RestoreOptions{S3: tg.s3, Key: bad.key, Log: testLog(t)})
				if !errors.Is(err, bad.want) {
					t.Errorf("restore with %s: %v, want %v", bad.name, err, bad.want)
				}
				if _, err := os.Lstat(out); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("restore with %s left %s (%v)", bad.name, out, err)
				}
			}
			if ents, _ := os.ReadDir(outDir); len(ents) != 0 {
				t.Errorf("failed restores left %d entries in the folder", len(ents))
			}

			out := filepath.Join(outDir, "rec.db")
			if _, err := replica.Restore(ctx, tg.url, out, replica.RestoreOptions{S3: tg.s3, Key: k, Log: testLog(t)}); err != nil {
				t.Fatalf("restore with the key: %v", err)
			}
			got := recordings(t, out)
			if len(got) != len(want) {
				t.Errorf("restored %d recordings, want %d", len(got), len(want))
			}
			for name, sum := range want {
				if got[name] != sum {
					t.Errorf("%s: restored sha %q, want %q", name, got[name], sum)
				}
			}

			// A service with another key refuses the replica and reports it.
			other := startKey(t, tg, key(t, 3))
			st := waitState(t, other.svc, "error")
			if !strings.Contains(st.LastError, "another key") {
				t.Errorf("status with another key: %+v, want an error naming the key", st)
			}
		})
	}
}

// waitState polls the status (a condition, as in
// TestStatusReportsUnreachableReplica) until it is in state.
func waitState(t *testing.T, svc *replica.Service, state string) replica.Status {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := svc.Status()
		if st.State == state && (state != "error" || st.LastError != "") {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("state %q never reached: %+v", state, st)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition
	}
}
