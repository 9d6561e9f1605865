package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"recordings/store"
)

// backupState is what the page's backup box says about the last backup.
type backupState struct {
	Phase, Text, File, Label string
	Bytes, Total             int64
	Value, Max               float64
}

const backupBox = `#panel-settings .backup-progress`

func (b *tab) backupState() backupState {
	b.t.Helper()
	js := `(() => { const box = document.querySelector('` + backupBox + `'); const p = box?.querySelector('progress');
		return JSON.stringify({Phase: box?.dataset.phase ?? '', Text: box?.querySelector('.backup-text')?.textContent ?? '',
			File: box?.dataset.file ?? '', Bytes: Number(box?.dataset.bytes ?? -1), Total: Number(box?.dataset.total ?? -1),
			Label: p ? [...p.labels].map((l) => l.textContent).join(' ') : '',
			Value: p ? p.value : -1, Max: p ? p.max : -1}); })()`
	var st backupState
	if err := json.Unmarshal([]byte(eval[string](b, js)), &st); err != nil {
		b.t.Fatal(err)
	}
	return st
}

// backupStatus asks the server for the backup status as admin.
func (e *env) backupStatus(admin string) map[string]any {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, e.url+"/api/admin/backup/status", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.SetBasicAuth(admin, password)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var st map[string]any
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil || res.StatusCode != http.StatusOK {
		e.t.Fatalf("backup status: %s %v", res.Status, err)
	}
	return st
}

// waitDownload waits until the download folder holds a finished file of
// size bytes that is not one of have, and returns its path.
func waitDownload(t *testing.T, dir string, size int64, have map[string]bool) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		files, _ := filepath.Glob(filepath.Join(dir, "*.db"))
		for _, f := range files {
			if fi, err := os.Stat(f); err == nil && !have[f] && fi.Size() == size {
				return f
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no finished download of %d bytes in %s (have %v)", size, dir, files)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkBackupFile checks that path is an SQLite database holding ids.
func checkBackupFile(t *testing.T, e *env, path string, ids []int64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("SQLite format 3\x00")) {
		t.Fatalf("%s is no SQLite database: %q", path, data[:min(16, len(data))])
	}
	db, err := store.Open(e.ctx, path, nil)
	if err != nil {
		t.Fatalf("open the backup: %v", err)
	}
	defer db.Close()
	if err := db.IntegrityCheck(e.ctx); err != nil {
		t.Errorf("backup: %v", err)
	}
	for _, id := range ids {
		want, err := e.db.Recording(e.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.Recording(e.ctx, id)
		if err != nil || got.Name != want.Name || got.SHA256 != want.SHA256 {
			t.Errorf("recording %d in the backup: %+v, %v; want %s", id, got.Name, err, want.Name)
		}
	}
}

// storeBlob stores size random bytes as a received capture directly in the
// store (no analysis), to make the database big, and returns its id.
func (e *env) storeBlob(name string, size int) int64 {
	e.t.Helper()
	data := make([]byte, size)
	_, _ = rand.Read(data)
	id, _, err := e.db.BeginUpload(e.ctx, e.domain, name, store.FileName{}, "")
	for off := 0; err == nil && off < len(data); off += 256 << 10 {
		err = e.db.AppendChunk(e.ctx, id, data[off:min(off+256<<10, len(data))])
	}
	if err == nil {
		sum := sha256.Sum256(data)
		err = e.db.FinishUpload(e.ctx, id, store.StateReceiving, hex.EncodeToString(sum[:]))
	}
	if err != nil {
		e.t.Fatalf("store %s: %v", name, err)
	}
	return id
}

// slowBackup starts a backup as user with a client that reads the first
// bytes and then nothing (a small receive buffer), so that the server stays
// in the sending phase until the returned stop closes the connection.
func (e *env) slowBackup(user string) (stop func()) {
	e.t.Helper()
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4096)
		}
		return c, err
	}}
	req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, e.url+"/api/admin/backup", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.SetBasicAuth(user, password)
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	head := make([]byte, 16)
	if _, err := io.ReadFull(res.Body, head); err != nil || res.StatusCode != http.StatusOK {
		e.t.Fatalf("slow backup: %s, %q, %v", res.Status, head, err)
	}
	return func() {
		res.Body.Close()
		tr.CloseIdleConnections()
	}
}

// TestAdminBackup takes database backups from the admin app's settings in
// Chromium, by mouse and by keyboard: the page shows the backup's progress
// with a labelled <progress> while the browser saves the file itself, and
// the saved file is the database with the uploaded recordings.
func TestAdminBackup(t *testing.T) {
	shots := artifacts(t)
	b := newBrowser(t)
	e := startEnv(t)
	e.createUser("alice", "Alice Anders", store.RoleUser)
	e.createUser("root", "Administrator", store.RoleAdmin)
	e.createUser("admin2", "Second Admin", store.RoleAdmin)
	start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	ids := []int64{
		e.upload("alice", callCapture(start, 3*time.Second, 440, 660)),
		e.upload("alice", callCapture(start.Add(time.Hour), 2*time.Second, 500, 300)),
	}
	for _, id := range ids {
		e.waitReady(id)
	}
	// 24 MB more: more than the loopback's socket buffers hold, so a
	// client that stops reading holds a backup in the sending phase.
	ids = append(ids, e.storeBlob("big.pcap", 24<<20))
	if st := e.backupStatus("root"); st["phase"] != "idle" {
		t.Fatalf("status before any backup: %v", st)
	}
	downloads := t.TempDir()
	b.ready(downloads)
	b.signIn(e.url, "root")
	b.do("settings from the menu", chromedp.Click(`#admin-menu-btn`), chromedp.Click(`#admin-menu .menu-settings`))
	link := `#panel-settings a.backup-link`
	b.waitFor("the backup link", `document.querySelector('`+link+`')?.getAttribute('href') === '/api/admin/backup'`)
	have := map[string]bool{}
	// Every text the progress line shows, for the log.
	b.do("watch the progress text", chromedp.Evaluate[chromedp.Void](`window.backupTexts = [];
		new MutationObserver(() => window.backupTexts.push(document.querySelector('`+backupBox+` .backup-text').textContent))
			.observe(document.querySelector('`+backupBox+` .backup-text'), {childList: true, characterData: true, subtree: true})`))

	for i, how := range []string{"mouse", "keyboard"} {
		t.Run(how, func(t *testing.T) {
			b := b.on(t)
			if how == "mouse" {
				b.do("click backup", chromedp.Click(link))
			} else {
				b.do("backup by keyboard", chromedp.Focus(link), chromedp.KeyEvent(kb.Enter))
			}
			// The box is up at once, with a labelled <progress>.
			b.waitFor("the progress box", `!document.querySelector('`+backupBox+`').hidden`)
			if st := b.backupState(); st.Label != "Backup progress" || st.Max != 100 {
				t.Errorf("while running: %+v, want a <progress> labelled \"Backup progress\"", st)
			}
			b.waitFor("the saved state", `document.querySelector('`+backupBox+`').dataset.id === '`+strconv.Itoa(i+1)+`' && document.querySelector('`+backupBox+`').dataset.phase === 'done' && document.querySelector('`+backupBox+` .backup-text').textContent.startsWith('Backup saved: recordings-')`)
			st := b.backupState()
			srv := e.backupStatus("root")
			if st.Bytes <= 0 || st.Bytes != st.Total || float64(st.Bytes) != srv["bytes"] || float64(st.Total) != srv["total"] ||
				srv["phase"] != "done" || srv["id"] != float64(i+1) || srv["user"] != "root" {
				t.Errorf("page %+v, server %v", st, srv)
			}
			if st.Label != "Backup progress" || st.Value != 100 {
				t.Errorf("progress after the backup: %+v", st)
			}
			if !strings.Contains(st.Text, st.File) || !strings.HasSuffix(st.File, ".db") || srv["file"] != st.File {
				t.Errorf("text %q, file %q (server %v)", st.Text, st.File, srv["file"])
			}
			path := waitDownload(t, downloads, st.Bytes, have)
			have[path] = true
			if !strings.HasPrefix(filepath.Base(path), strings.TrimSuffix(st.File, ".db")) {
				t.Errorf("saved as %s, the page says %s", filepath.Base(path), st.File)
			}
			checkBackupFile(t, e, path, ids)
			t.Logf("backup %d by %s: %s, %s bytes; the page showed %s", i+1, how, filepath.Base(path), strconv.FormatInt(st.Bytes, 10),
				eval[string](b, `JSON.stringify(window.backupTexts.splice(0))`))
			b.screenshot(shots, "admin-backup-saved-"+how)
		})
	}

	// Another admin's backup is running: the page does not start a second
	// one (the server would answer 503) but shows the running one and how
	// it ends.
	t.Run("someone else's backup", func(t *testing.T) {
		b := b.on(t)
		stop := e.slowBackup("admin2")
		defer stop()
		if st := e.backupStatus("root"); st["phase"] != "sending" || st["user"] != "admin2" {
			t.Fatalf("status of the held backup: %v", st)
		}
		before, _ := filepath.Glob(filepath.Join(downloads, "*"))
		b.do("click backup", chromedp.Click(link))
		b.waitFor("the refusal", `document.querySelector('#panel-settings .backup-note')?.textContent.startsWith('Backup already running (started by admin2)')`)
		b.waitFor("the running backup", `document.querySelector('`+backupBox+` .backup-text').textContent.startsWith('A backup started by admin2 is running: Downloading… ')`)
		if st := b.backupState(); st.Phase != "sending" || st.Label != "Backup progress" || st.Bytes <= 0 || st.Bytes >= st.Total || st.Value >= 100 {
			t.Errorf("while admin2's backup runs: %+v", st)
		}
		b.screenshot(shots, "admin-backup-running-elsewhere")
		stop()
		b.waitFor("its end", `document.querySelector('`+backupBox+` .backup-text').textContent.startsWith('The backup started by admin2 failed: download interrupted')`)
		if st := e.backupStatus("root"); st["phase"] != "failed" {
			t.Errorf("status after admin2's client left: %v", st)
		}
		time.Sleep(300 * time.Millisecond)
		if after, _ := filepath.Glob(filepath.Join(downloads, "*")); len(after) != len(before) {
			t.Errorf("a download started anyway: %v, before %v", after, before)
		}
		t.Logf("the page showed %s", eval[string](b, `JSON.stringify(window.backupTexts.splice(0))`))
	})

	t.Run("phone screen", func(t *testing.T) {
		checkSettingsOnPhone(b.on(t), backupBox, shots, "admin-phone-backup")
	})
	b.checkClean()
}
