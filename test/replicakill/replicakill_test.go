// Package replicakill_test measures the recovery point of continuous
// replication: it runs the real binary replicating to the S3 test server
// (internal/s3test) while phones upload calls, kills it with SIGKILL,
// restores the database from the replica into a second folder with
// "recordings restore", and checks that every upload acknowledged more than
// a second before the kill is in the restored database.
package replicakill_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"recordings/internal/callgen"
	"recordings/internal/s3test"
)

const (
	domain               = "example.com"
	uploadUser, uploadPW = "kill-phone", "kill-test-upload"
	phones               = 50 // uploading at once, each one call after the other
	callPkts             = 50 // 1 s calls
	// The kill comes after this many acknowledged uploads and at least
	// loadFor of load, so that uploads are acknowledged right up to it.
	killAfter = 1000
	loadFor   = 3 * time.Second
	// rpo is the recovery point the issue asks for.
	rpo = time.Second
)

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

// env is the process environment without the AWS_* variables of the
// machine, plus kv.
func env(kv ...string) []string {
	var out []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "AWS_") && !strings.HasPrefix(e, "RECORDINGS_") {
			out = append(out, e)
		}
	}
	return append(out, kv...)
}

// ack is an acknowledged upload: its name and when the answer arrived.
type ack struct {
	name string
	at   time.Time
}

func TestKillAndRestore(t *testing.T) {
	srv := s3test.Env(t)
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bucket := srv.Bucket(t)
	replicaURL := "s3://" + bucket + "/recordings"
	s3env := []string{"RECORDINGS_S3_ENDPOINT=" + srv.Endpoint, "AWS_REGION=" + srv.Region,
		"AWS_ACCESS_KEY_ID=" + srv.AccessKey, "AWS_SECRET_ACCESS_KEY=" + srv.SecretKey}

	dir := t.TempDir()
	bin := filepath.Join(dir, "recordings")
	build := exec.Command("go", "build", "-o", bin, "recordings")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// The service, replicating to the bucket.
	cmd := exec.Command(bin, "serve")
	cmd.Env = env(append(s3env, "RECORDINGS_LISTEN=127.0.0.1:0", "RECORDINGS_LISTEN_TLS=off",
		"RECORDINGS_DB="+filepath.Join(dir, "first", "rec.db"), "RECORDINGS_ADMIN_PASSWORD=kill-test-admin",
		"RECORDINGS_UPLOAD_USER="+uploadUser, "RECORDINGS_UPLOAD_PASSWORD="+uploadPW,
		"RECORDINGS_REPLICA_URL="+replicaURL)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	addr := make(chan string, 1)
	replicating := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logs, line)
			if m := listenRE.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
			if strings.Contains(line, "replicating the database") {
				once.Do(func() { close(replicating) })
			}
		}
		_ = cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case <-time.After(60 * time.Second):
		t.Fatalf("the service did not start:\n%s", logs)
	}
	select {
	case <-replicating:
	case <-time.After(60 * time.Second):
		t.Fatalf("the service did not start replicating:\n%s", logs)
	}

	// The load: phones uploading 1 s calls back to back.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: phones}}
	var (
		mu     sync.Mutex
		acks   []ack
		wg     sync.WaitGroup
		enough = make(chan struct{})
		once   sync.Once
	)
	begin := time.Now()
	for p := range phones {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				call := callgen.Default(callPkts)
				call.LocalCode = func(j int) byte { return byte(j*7 + 3 + p + i) }
				name := fmt.Sprintf("%032x-009033302ab1-%d--user%d.pcap", p*100000+i+1, p+1, p%7)
				req, err := http.NewRequestWithContext(ctx, http.MethodPut, base+"/"+domain+"/recordings/Files/"+name,
					bytes.NewReader(call.Bytes()))
				if err != nil {
					t.Error(err)
					return
				}
				req.SetBasicAuth(uploadUser, uploadPW)
				resp, err := client.Do(req)
				if err != nil {
					return // the kill
				}
				resp.Body.Close()
				now := time.Now()
				if resp.StatusCode/100 != 2 {
					t.Errorf("upload %s: %s", name, resp.Status)
					return
				}
				mu.Lock()
				acks = append(acks, ack{name: name, at: now})
				if len(acks) >= killAfter && now.Sub(begin) >= loadFor {
					once.Do(func() { close(enough) })
				}
				mu.Unlock()
			}
		})
	}
	select {
	case <-enough:
	case <-time.After(3 * time.Minute):
		t.Fatalf("fewer than %d uploads acknowledged after 3 minutes:\n%s", killAfter, logs)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	<-exited
	cancel()
	wg.Wait()
	mu.Lock()
	got := slices.Clone(acks)
	mu.Unlock()

	// Restore on a second folder.
	out := filepath.Join(dir, "second", "rec.db")
	restore := exec.Command(bin, "restore", "-from", replicaURL, out)
	restore.Env = env(s3env...)
	started := time.Now()
	if b, err := restore.CombinedOutput(); err != nil {
		t.Fatalf("restore: %v\n%s", err, b)
	}
	restoreTook := time.Since(started)
	db, err := sql.Open("sqlite", "file:"+out+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM recordings WHERE domain = ?`, domain)
	if err != nil {
		t.Fatal(err)
	}
	restored := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		restored[n] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	// Every upload acknowledged more than rpo before the kill is there;
	// the oldest one missing gives the recovery point measured.
	var missing, lost int
	var worst time.Duration
	for _, a := range got {
		if restored[a.name] {
			continue
		}
		if age := killed.Sub(a.at); age > worst {
			worst = age
		}
		lost++
		if killed.Sub(a.at) > rpo {
			missing++
			if missing <= 5 {
				t.Errorf("%s acknowledged %v before the kill is not in the restored database", a.name, killed.Sub(a.at))
			}
		}
	}
	t.Logf("%d uploads acknowledged in %v, %d restored; %d acknowledged ones lost, the oldest acknowledged %v before the kill "+
		"(recovery point; target ≤ %v); restore took %v",
		len(got), killed.Sub(begin).Round(time.Millisecond), len(restored), lost, worst.Round(time.Millisecond), rpo,
		restoreTook.Round(time.Millisecond))
	if missing > 0 {
		t.Errorf("%d acknowledged uploads older than %v are lost", missing, rpo)
	}
}
