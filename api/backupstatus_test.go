package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"recordings/api"
	"recordings/store"
)

// backupGet asks path as user (Basic credentials) with optional headers.
func (e *wsEnv) backupGet(path, user string, hdr ...string) (*http.Response, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.app.URL+path, nil)
	if user != "" {
		req.SetBasicAuth(user, wsPassword)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.app.Client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return res, b
}

func (e *wsEnv) backupStatus() api.BackupStatus {
	e.t.Helper()
	res, b := e.backupGet("/api/admin/backup/status", "root")
	var st api.BackupStatus
	if res.StatusCode != http.StatusOK || json.Unmarshal(b, &st) != nil {
		e.t.Fatalf("status: %d %s", res.StatusCode, b)
	}
	return st
}

// waitPhase polls the status until it is in phase.
func (e *wsEnv) waitPhase(phase string) api.BackupStatus {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := e.backupStatus()
		if st.Phase == phase {
			return st
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("backup status %+v, want phase %s", st, phase)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBackupStatusAccess(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t)
	for _, tc := range []struct {
		user string
		want int
	}{{"", http.StatusUnauthorized}, {"alice", http.StatusForbidden}, {"root", http.StatusOK}} {
		res, b := e.backupGet("/api/admin/backup/status", tc.user)
		if res.StatusCode != tc.want {
			t.Errorf("%q: %d %s, want %d", tc.user, res.StatusCode, b, tc.want)
		}
	}
	if st := e.backupStatus(); st.Phase != "idle" || st.ID != 0 || st.Bytes != 0 || st.Started != nil {
		t.Errorf("before any backup: %+v", st)
	}
}

func TestBackupStatusDone(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t)
	ids := []int64{e.upload("alice", 300), e.upload("bob", 300)}
	tests := []struct {
		name   string
		rng    string // Range header
		code   int
		length int64 // 0: the whole file
	}{
		{"whole file", "", http.StatusOK, 0},
		{"range", "bytes=0-99", http.StatusPartialContent, 100},
		{"whole file again", "", http.StatusOK, 0},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.rng != "" {
				hdr = []string{"Range", tc.rng}
			}
			before := time.Now().UTC().Add(-time.Second)
			res, body := e.backupGet("/api/admin/backup", "root", hdr...)
			if res.StatusCode != tc.code {
				t.Fatalf("backup: %d %s", res.StatusCode, body)
			}
			st := e.waitPhase("done")
			if st.ID != int64(i+1) || st.User != "root" || st.Error != "" {
				t.Errorf("status %+v", st)
			}
			if st.Bytes != int64(len(body)) || st.Total != int64(len(body)) || (tc.length > 0 && st.Total != tc.length) {
				t.Errorf("status %d of %d bytes, body %d", st.Bytes, st.Total, len(body))
			}
			if st.Started == nil || st.Finished == nil || st.Started.Before(before) || st.Finished.Before(*st.Started) {
				t.Errorf("times %v %v", st.Started, st.Finished)
			}
			_, params, err := mime.ParseMediaType(res.Header.Get("Content-Disposition"))
			if err != nil || params["filename"] != st.File || !strings.HasPrefix(st.File, "recordings-") {
				t.Errorf("file %q, Content-Disposition %q", st.File, res.Header.Get("Content-Disposition"))
			}
			if !bytes.HasPrefix(body, []byte("SQLite format 3\x00")) {
				t.Fatalf("not an SQLite database: %q", body[:min(16, len(body))])
			}
			if tc.length > 0 {
				return
			}
			path := filepath.Join(t.TempDir(), st.File)
			if err := os.WriteFile(path, body, 0o600); err != nil {
				t.Fatal(err)
			}
			db, err := store.Open(context.Background(), path, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, id := range ids {
				if _, err := db.Recording(context.Background(), id); err != nil {
					t.Errorf("recording %d not in the backup: %v", id, err)
				}
			}
		})
	}
}

// TestBackupCancelled stops the client after the first bytes of the body:
// the backup ends failed, a second backup meanwhile is refused with 503
// while the status shows the first one, and a following backup works.
func TestBackupCancelled(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t)
	e.upload("alice", 300)
	e.upload("bob", 300)
	var hold atomic.Bool
	hold.Store(true)
	reached := make(chan struct{}, 1)
	e.s.BeforeBackupWrite(func(ctx context.Context, sent int64) {
		if sent == 0 || !hold.Load() {
			return
		}
		select {
		case reached <- struct{}{}:
		default:
		}
		select { // the client is gone: the context ends
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
		}
	})
	req, _ := http.NewRequest(http.MethodGet, e.app.URL+"/api/admin/backup", nil)
	req.SetBasicAuth("root", wsPassword)
	res, err := e.app.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 16)
	if _, err := io.ReadFull(res.Body, head); err != nil || string(head) != "SQLite format 3\x00" {
		t.Fatalf("head %q, %v", head, err)
	}
	select {
	case <-reached:
	case <-time.After(10 * time.Second):
		t.Fatal("the body's second write never came")
	}
	st := e.backupStatus()
	if st.Phase != "sending" || st.User != "root" || st.Bytes == 0 || st.Bytes >= st.Total {
		t.Errorf("while sending: %+v", st)
	}
	busy, b := e.backupGet("/api/admin/backup", "root")
	if busy.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "already running") {
		t.Errorf("second backup: %d %s", busy.StatusCode, b)
	}
	res.Body.Close() // reads no further: the connection is closed

	st = e.waitPhase("failed")
	if !strings.Contains(st.Error, "interrupted") || st.Bytes >= st.Total || st.Finished == nil {
		t.Errorf("after the client left: %+v", st)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(e.db.Path()), ".backup-*")); len(m) != 0 {
		t.Errorf("snapshot left behind: %v", m)
	}

	hold.Store(false)
	var next *http.Response
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) { // the first handler may still be unwinding
		next, b = e.backupGet("/api/admin/backup", "root")
		if next.StatusCode != http.StatusServiceUnavailable || time.Since(start) > 10*time.Second {
			break
		}
	}
	if next.StatusCode != http.StatusOK {
		t.Fatalf("next backup: %d", next.StatusCode)
	}
	st = e.waitPhase("done")
	if st.ID != 2 || st.Bytes != int64(len(b)) || st.Total != int64(len(b)) || st.Error != "" {
		t.Errorf("next backup: %+v, body %d bytes", st, len(b))
	}
}
