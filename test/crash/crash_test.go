// Package crash_test runs the real binary, kills it with SIGKILL while 100
// phones stream their calls, restarts it and checks that nothing was lost,
// damaged or duplicated.
package crash_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"recordings/convert"
	"recordings/internal/callgen"
	"recordings/media"
)

const (
	domain  = "example.com"
	adminPW = "crash-test-admin"
	// The phones' upload credentials, given to the service as at start-up.
	uploadUser, uploadPW = "crash-phone", "crash-test-upload"
	uploads              = 100
	piecePkts            = 10                     // packet pairs per written piece: 200 ms of call
	pace                 = 200 * time.Millisecond // real time
	shortPkts            = 50                     // 1 s calls: done before the kill
	longPkts             = 1500                   // 30 s calls: cut by the kill
	// The kill comes once every short call is done and every long one
	// has at least this many pieces stored, while they go on streaming.
	killPieces = 5
)

// buildBinary compiles the appliance once into dir.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "recordings")
	cmd := exec.Command("go", "build", "-o", bin, "recordings")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// server is one run of the binary.
type server struct {
	cmd  *exec.Cmd
	url  string
	logs *syncBuffer
	done chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listenRE = regexp.MustCompile(`listen=(127\.0\.0\.1:\d+)`)

func start(t *testing.T, bin, db string) *server {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "RECORDINGS_LISTEN=127.0.0.1:0", "RECORDINGS_LISTEN_TLS=off", "RECORDINGS_DB="+db,
		"RECORDINGS_ADMIN_PASSWORD="+adminPW, "RECORDINGS_UPLOAD_USER="+uploadUser,
		"RECORDINGS_UPLOAD_PASSWORD="+uploadPW)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, logs: &syncBuffer{}, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(s.logs, line)
			if m := listenRE.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		s.done <- cmd.Wait()
	}()
	select {
	case a := <-addr:
		s.url = "http://" + a
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("server did not start:\n%s", s.logs)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

func (s *server) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.done
}

func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("server exit after SIGTERM: %v\n%s", err, s.logs)
		}
	case <-time.After(40 * time.Second):
		_ = s.cmd.Process.Kill()
		t.Fatal("server did not stop after SIGTERM")
	}
}

// upload is one phone's call and what became of it.
type upload struct {
	name    string
	data    []byte
	packets int
	status  int // HTTP status, 0 when the connection died
	err     error
}

func fileName(i int) string {
	return fmt.Sprintf("%032x-009033302ab1-%d--user%d.pcap", i+1, i+1, i%7)
}

// piece is the size of the pieces u is sent in.
func (u *upload) piece() int { return len(u.data) / (u.packets / piecePkts) }

// stream PUTs u.data with chunked encoding, one 200 ms piece per 200 ms.
func stream(ctx context.Context, c *http.Client, base string, u *upload) {
	pr, pw := io.Pipe()
	piece := u.piece()
	go func() {
		t := time.NewTicker(pace)
		defer t.Stop()
		for off := 0; off < len(u.data); off += piece {
			if _, err := pw.Write(u.data[off:min(off+piece, len(u.data))]); err != nil {
				return
			}
			select {
			case <-t.C:
			case <-ctx.Done():
				pw.CloseWithError(ctx.Err())
				return
			}
		}
		pw.Close()
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, base+"/"+domain+"/recordings/Files/"+u.name, pr)
	if err != nil {
		u.err = err
		return
	}
	req.SetBasicAuth(uploadUser, uploadPW)
	resp, err := c.Do(req)
	if err != nil {
		pr.CloseWithError(err)
		u.err = err
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	u.status = resp.StatusCode
}

type recording struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	State      string `json:"state"`
	Reason     string `json:"reason"`
	Size       int64  `json:"size"`
	SHA256     string `json:"sha256"`
	DurationMS int64  `json:"duration_ms"`
}

func login(t *testing.T, base string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := c.Post(base+"/api/login", "application/json",
		strings.NewReader(`{"name":"admin","password":"`+adminPW+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("login: %d %s", resp.StatusCode, b)
	}
	return c
}

func get(t *testing.T, c *http.Client, url string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, resp.Header, b
}

func list(t *testing.T, c *http.Client, base string) []recording {
	t.Helper()
	code, _, b := get(t, c, base+"/api/recordings?limit=500")
	if code != http.StatusOK {
		t.Fatalf("list: %d %s", code, b)
	}
	var out struct {
		Recordings []recording `json:"recordings"`
		Next       string      `json:"next"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Next != "" {
		t.Fatalf("more than 500 recordings listed")
	}
	return out.Recordings
}

// await lists the recordings every 100 ms until done accepts them, and
// fails after a minute: the server's work is waited for, not timed.
func await(t *testing.T, c *http.Client, base, what string, done func([]recording) bool) []recording {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		recs := list(t, c, base)
		if done(recs) {
			return recs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after a minute: %+v", what, recs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// settled lists every recording once none is still receiving or awaiting analysis.
func settled(t *testing.T, c *http.Client, base string) []recording {
	t.Helper()
	return await(t, c, base, "every recording analysed after restart", func(recs []recording) bool {
		for _, r := range recs {
			if r.State == "receiving" || (r.State == "incomplete" && r.DurationMS == 0 && r.Reason == "") {
				return false
			}
		}
		return true
	})
}

func integrityCheck(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil {
		t.Fatalf("integrity_check: %v", err)
	}
	if res != "ok" {
		t.Fatalf("integrity_check: %s", res)
	}
}

// wavLength is what the service must answer for a capture of these bytes.
func wavLength(t *testing.T, capture []byte) int64 {
	t.Helper()
	a, err := convert.Analyze(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(capture)), nil }, media.Options{})
	if err != nil {
		t.Fatalf("analyse %d bytes locally: %v", len(capture), err)
	}
	return convert.WAVSize(a)
}

func TestKillMidUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	dbPath := filepath.Join(dir, "data", "rec.db")
	srv := start(t, bin, dbPath)

	ups := make([]*upload, uploads)
	for i := range ups {
		n := shortPkts
		if i%2 == 1 {
			n = longPkts
		}
		call := callgen.Default(n)
		call.LocalCode = func(j int) byte { return byte(j*7 + 3 + i) }
		ups[i] = &upload{name: fileName(i), data: call.Bytes(), packets: n}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, DisableKeepAlives: true}}
	var wg, short sync.WaitGroup
	short.Add(uploads / 2)
	for _, u := range ups {
		wg.Go(func() {
			stream(ctx, client, srv.url, u)
			if u.packets == shortPkts {
				short.Done()
			}
		})
	}
	// Kill while the long calls stream, once the short ones are answered
	// and every long one has its first second stored: a slow machine
	// makes the kill come later, not miss what it is meant to hit.
	shortDone := make(chan struct{})
	go func() { short.Wait(); close(shortDone) }()
	select {
	case <-shortDone:
	case <-time.After(time.Minute):
		t.Fatal("the short calls are not answered after a minute")
	}
	ac := login(t, srv.url)
	await(t, ac, srv.url, "long calls stored up to the kill point", func(recs []recording) bool {
		size := map[string]int64{}
		for _, r := range recs {
			size[r.Name] = r.Size
		}
		for _, u := range ups {
			if u.packets == longPkts && size[u.name] < int64(killPieces*u.piece()) {
				return false
			}
		}
		return true
	})
	srv.kill(t)
	wg.Wait()
	cancel()

	completed := 0
	for _, u := range ups {
		switch {
		case u.status == http.StatusCreated:
			completed++
		case u.status != 0:
			t.Errorf("%s: status %d before the kill", u.name, u.status)
		}
	}
	if completed < uploads/2 {
		t.Fatalf("only %d uploads completed before the kill; the short calls should all have", completed)
	}
	if completed == uploads {
		t.Fatalf("every upload completed: the kill came too late to test anything")
	}
	t.Logf("killed with %d uploads completed and %d in flight", completed, uploads-completed)

	srv = start(t, bin, dbPath)
	c := login(t, srv.url)
	recs := settled(t, c, srv.url)
	integrityCheck(t, dbPath)

	byName := map[string]recording{}
	for _, r := range recs {
		if _, dup := byName[r.Name]; dup {
			t.Errorf("recording %s stored twice", r.Name)
		}
		byName[r.Name] = r
	}
	if len(recs) != uploads {
		t.Errorf("%d recordings stored, want %d", len(recs), uploads)
	}
	var cut, full int
	for _, u := range ups {
		r, ok := byName[u.name]
		if !ok {
			t.Errorf("%s (status %d): lost", u.name, u.status)
			continue
		}
		code, hdr, got := get(t, c, srv.url+"/"+domain+"/recordings/Files/"+u.name)
		if code != http.StatusOK {
			t.Errorf("%s: GET capture %d %s", u.name, code, got)
			continue
		}
		sum := sha256.Sum256(got)
		if r.SHA256 != hex.EncodeToString(sum[:]) || int64(len(got)) != r.Size || hdr.Get("ETag") != `"`+r.SHA256+`"` {
			t.Errorf("%s: stored sha256 %s size %d, served %d bytes hashing to %x", u.name, r.SHA256, r.Size, len(got), sum)
		}
		complete := bytes.Equal(got, u.data)
		switch {
		case u.status == http.StatusCreated && (!complete || r.State != "ready"):
			t.Errorf("%s: acknowledged with 201 but stored as %s with %d of %d bytes", u.name, r.State, len(got), len(u.data))
			continue
		case complete && r.State != "ready":
			t.Errorf("%s: all %d bytes stored but state %s", u.name, len(got), r.State)
			continue
		case !complete && (r.State != "incomplete" || len(got) == 0 || !bytes.HasPrefix(u.data, got)):
			t.Errorf("%s: interrupted upload stored as %s with %d bytes (prefix of what was sent: %v)",
				u.name, r.State, len(got), bytes.HasPrefix(u.data, got))
			continue
		}
		if complete {
			full++
		} else {
			cut++
		}
		code, hdr, wav := get(t, c, fmt.Sprintf("%s/api/recordings/%d/audio.wav", srv.url, r.ID))
		want := wavLength(t, got)
		if code != http.StatusOK || int64(len(wav)) != want || hdr.Get("Content-Length") != fmt.Sprint(want) || string(wav[:4]) != "RIFF" {
			t.Errorf("%s (%s): audio.wav %d, %d bytes (Content-Length %s), want %d", u.name, r.State, code, len(wav), hdr.Get("Content-Length"), want)
			continue
		}
		// 8 kHz stereo 16-bit: 32 bytes per ms after the 44-byte header.
		if complete && want != 44+int64(u.packets)*160*4 {
			t.Errorf("%s: wav of a complete %d-packet call is %d bytes", u.name, u.packets, want)
		}
		if !complete && (r.DurationMS < 500 || r.DurationMS >= int64(u.packets)*20) {
			t.Errorf("%s: interrupted call plays %d ms, want between 0.5 s and the full %d ms", u.name, r.DurationMS, u.packets*20)
		}
	}
	t.Logf("after restart: %d complete, %d cut and playable up to the cut", full, cut)
	srv.stop(t)
	integrityCheck(t, dbPath)
	if t.Failed() {
		t.Logf("server log:\n%s", srv.logs)
	}
}
