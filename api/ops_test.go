package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"recordings/convert"
	"recordings/health"
	"recordings/ingest"
	"recordings/internal/app"
	"recordings/internal/apptest"
	"recordings/internal/callgen"
	"recordings/settings"
	"recordings/store"
)

type opsEnv struct {
	t   *testing.T
	db  *store.DB
	ing *ingest.Service
	set *settings.Service
	app *apptest.App
}

func newOpsEnv(t *testing.T, disk func(string) (uint64, uint64, error)) *opsEnv {
	t.Helper()
	a := apptest.New(t, func(c *app.Config) {
		c.Tuning.ChunkBytes, c.Tuning.FlushInterval, c.Tuning.Disk = 4096, 20*time.Millisecond, disk
	})
	a.User("admin", store.RoleAdmin, "admin-pw")
	a.User("alice", store.RoleUser, "alice-pw")
	return &opsEnv{t: t, db: a.DB, ing: a.Ingest, set: a.Settings, app: a}
}

func (e *opsEnv) get(path, user string) (*http.Response, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.app.URL+path, nil)
	if user != "" {
		req.SetBasicAuth(user, user+"-pw")
	}
	resp, err := e.app.Client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, b
}

func (e *opsEnv) put(name string, body io.Reader) int {
	req, _ := http.NewRequest("PUT", e.app.URL+"/example.com/recordings/Files/"+name, body)
	apptest.UploadAuth(req)
	resp, err := e.app.Client.Do(req)
	if err != nil {
		return -1
	}
	resp.Body.Close()
	return resp.StatusCode
}

func captureName(i int) string {
	return fmt.Sprintf("%032x-0090334455aa-%d-alice.pcap", i+1, i+1)
}

func plenty(string) (uint64, uint64, error) { return 10 << 30, 20 << 30, nil }

func TestHealthz(t *testing.T) {
	t.Parallel()
	e := newOpsEnv(t, plenty)
	resp, body := e.get("/healthz", "admin") // the details need an admin (security_transport_test.go)
	var rep health.Report
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || rep.Database != "ok" || rep.DiskFree != 10<<30 || rep.DatabaseBytes == 0 {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
	if len(rep.Problems) != 1 || rep.Problems[0] != settings.PBXNameMissing {
		t.Errorf("problems %q, want PBX Name missing", rep.Problems)
	}

	low := newOpsEnv(t, func(string) (uint64, uint64, error) { return 1 << 20, 20 << 30, nil })
	resp, body = low.get("/healthz", "admin")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "low") {
		t.Errorf("low disk: %d %s", resp.StatusCode, body)
	}
}

func TestAdminStatus(t *testing.T) {
	t.Parallel()
	e := newOpsEnv(t, plenty)
	if resp, _ := e.get("/api/admin/status", "alice"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("user got %d", resp.StatusCode)
	}
	if resp, _ := e.get("/api/admin/status", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous got %d", resp.StatusCode)
	}
	resp, body := e.get("/api/admin/status", "admin")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"problems":["PBX Name missing"]`) {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
	if err := e.set.Set(context.Background(), "admin", map[string]string{settings.KeyPBXName: "pbx-a", settings.KeyRetentionDays: "365"}); err != nil {
		t.Fatal(err)
	}
	_, body = e.get("/api/admin/status", "admin")
	if !strings.Contains(string(body), `"problems":[]`) || !strings.Contains(string(body), `"pbx_name":"pbx-a"`) ||
		!strings.Contains(string(body), `"retention_days":365`) {
		t.Errorf("after naming the PBX: %s", body)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	e := newOpsEnv(t, plenty)
	capture := callgen.Default(50).Bytes()
	if code := e.put(captureName(0), bytes.NewReader(capture)); code != http.StatusCreated {
		t.Fatalf("upload: %d", code)
	}
	if code := e.put("nonsense.pcap", bytes.NewReader(capture)); code != http.StatusBadRequest {
		t.Fatalf("bad upload: %d", code)
	}
	xml, err := os.ReadFile(filepath.Join("..", "pbx", "testdata", "cdr", "internal.xml"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", e.app.URL+"/example.com/recordings/cdr", bytes.NewReader(xml))
	req.Header.Set("Content-Type", "text/xml")
	apptest.CDRAuth(req)
	resp, err := e.app.Client.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CDR post: %v %v", resp, err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	var body []byte
	for time.Now().Before(deadline) {
		_, body = e.get("/metrics", "admin")
		if strings.Contains(string(body), `recordings_conversion_seconds_count{state="ready"} 1`) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{
		"recordings_uploads_completed_total 1\n", "recordings_uploads_failed_total 1\n",
		"recordings_uploads_in_progress 0\n", `recordings_conversion_seconds_count{state="ready"} 1`,
		"recordings_database_size_bytes ",
		"recordings_cdrs_received_total 2\n", "recordings_cdrs_unmatched_total 2\n", // no recording of that call
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// slowBody streams b in pieces with pauses, like a phone recording a call;
// with hold, it stops once holdAt bytes are left until hold is closed.
type slowBody struct {
	b      []byte
	piece  int
	pause  time.Duration
	hold   <-chan struct{}
	holdAt int
}

func (s *slowBody) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	if s.hold != nil && len(s.b) <= s.holdAt {
		<-s.hold
		s.hold = nil
	}
	time.Sleep(s.pause)
	n := copy(p[:min(len(p), s.piece)], s.b)
	s.b = s.b[n:]
	return n, nil
}

// TestBackupDuringUploads takes a backup over HTTP while calls are being
// uploaded, restores it (a plain file copy) and checks that it opens, passes
// the integrity check, and that every recording in it plays once the
// restored service has finished what was interrupted.
func TestBackupDuringUploads(t *testing.T) {
	t.Parallel()
	e := newOpsEnv(t, plenty)
	if resp, _ := e.get("/api/admin/backup", "alice"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("user got %d", resp.StatusCode)
	}
	// Some finished recordings first, then streaming uploads meanwhile.
	for i := range 5 {
		c := callgen.Default(100 + i*10).Bytes()
		if code := e.put(captureName(i), bytes.NewReader(c)); code != http.StatusCreated {
			t.Fatalf("upload %d: %d", i, code)
		}
	}
	// The streams send half their call, then wait until the backup is taken.
	var wg sync.WaitGroup
	hold := make(chan struct{})
	release := sync.OnceFunc(func() { close(hold) })
	t.Cleanup(release)
	for i := 5; i < 11; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := callgen.Default(400).Bytes()
			body := &slowBody{b: c, piece: 2000, pause: 5 * time.Millisecond, hold: hold, holdAt: len(c) / 2}
			if code := e.put(captureName(i), body); code != http.StatusCreated {
				t.Errorf("streaming upload %d: %d", i, code)
			}
		}()
	}
	// Wait until the streams are under way and have stored something.
	storing := func() int {
		recs, err := e.app.DB.RecordingsInState(context.Background(), store.StateReceiving)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range recs {
			if r.Size > 0 && !r.Uploaded() {
				n++
			}
		}
		return n
	}
	for start := time.Now(); storing() < 6; {
		if time.Since(start) > 20*time.Second {
			release()
			wg.Wait()
			t.Fatalf("only %d uploads have stored something", storing())
		}
		time.Sleep(5 * time.Millisecond)
	}
	resp, body := e.get("/api/admin/backup", "admin")
	inFlight := e.ing.Uploads()
	release()
	if resp.StatusCode != 200 {
		t.Fatalf("backup: %d %s", resp.StatusCode, body)
	}
	if cl, _ := strconv.Atoi(resp.Header.Get("Content-Length")); cl != len(body) || cl == 0 {
		t.Fatalf("Content-Length %q, body %d bytes", resp.Header.Get("Content-Length"), len(body))
	}
	if !bytes.HasPrefix(body, []byte("SQLite format 3\x00")) {
		t.Fatal("backup is not an SQLite database")
	}
	if !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("Content-Disposition %q", resp.Header.Get("Content-Disposition"))
	}
	wg.Wait()
	t.Logf("backup of %d bytes taken with %d uploads still in flight", len(body), inFlight)
	// No snapshot files left next to the database.
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(e.db.Path()), ".backup-*")); len(m) != 0 {
		t.Errorf("snapshot left behind: %v", m)
	}

	// Restore: the file is the database.
	restored := filepath.Join(t.TempDir(), "restored.db")
	if err := os.WriteFile(restored, body, 0o600); err != nil {
		t.Fatal(err)
	}
	ra := apptest.New(t, func(c *app.Config) { c.DB = restored }) // the service started on the restored file
	ctx, db := ra.Ctx, ra.DB
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	var recs []store.Recording
	deadline := time.Now().Add(20 * time.Second)
	for {
		var err error
		recs, _, err = db.ListRecordings(ctx, store.ListFilter{})
		if err != nil {
			t.Fatal(err)
		}
		pending := 0
		for _, r := range recs {
			if r.State == store.StateReceiving || (r.DurationMS == 0 && r.State != store.StateFailed) {
				pending++
			}
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d recordings still pending in the restored database", pending)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(recs) < 5 {
		t.Fatalf("restored %d recordings, want at least the 5 finished ones", len(recs))
	}
	states := map[store.State]int{}
	for _, r := range recs {
		states[r.State]++
		full, err := db.Recording(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		p, err := ra.Ingest.Prepare(ctx, full)
		if err != nil {
			t.Errorf("recording %d (%s, %d bytes) does not play: %v", r.ID, r.State, r.Size, err)
			continue
		}
		var wav bytes.Buffer
		if err := convert.WriteWAV(p.Analysis, p.Open, &wav); err != nil {
			t.Errorf("recording %d: %v", r.ID, err)
			continue
		}
		if int64(wav.Len()) != p.Size() || wav.Len() <= 44 {
			t.Errorf("recording %d: WAV of %d bytes, want %d (> header)", r.ID, wav.Len(), p.Size())
		}
	}
	t.Logf("restored recordings by state: %v", states)
	if states[store.StateIncomplete] == 0 {
		t.Error("no upload was caught midway: the test did not test a snapshot during uploads")
	}
}
