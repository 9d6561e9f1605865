// Package blobtest gives tests a real S3-compatible server and a fresh
// bucket each: the one named by RECORDINGS_S3_ENDPOINT (with
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION), as ./test.sh
// exports it, or else a versitygw (posix backend in a temporary folder,
// loopback) started for the test binary: `go install
// github.com/versity/versitygw/cmd/versitygw@v1.8.0`. No in-process fake
// stands in for S3.
//
// A package using it runs its tests through Main:
//
//	func TestMain(m *testing.M) { os.Exit(blobtest.Main(m)) }
package blobtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"recordings/s3blob"
)

var (
	mu      sync.Mutex
	started bool
	cfg     s3blob.Config
	cmd     *exec.Cmd
	dir     string
	failure error
)

// Main runs the tests and stops a server Server started.
func Main(m *testing.M) int {
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	if cmd != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		os.RemoveAll(dir)
	}
	return code
}

// binary finds versitygw on PATH or in GOPATH/bin.
func binary() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		home, _ := os.UserHomeDir()
		gopath = filepath.Join(home, "go")
	}
	p := filepath.Join(gopath, "bin", "versitygw")
	if _, err := os.Stat(p); err != nil {
		return "", errors.New("versitygw not found: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0, or set RECORDINGS_S3_ENDPOINT")
	}
	return p, nil
}

// Server returns how to reach the test S3 server, starting one at first
// use; without one the test fails under CI=true and is skipped otherwise.
func Server(t testing.TB) s3blob.Config {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if !started {
		started = true
		failure = start()
	}
	if failure != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("S3 test server: %v", failure)
		}
		t.Skipf("S3 test server: %v", failure)
	}
	return cfg
}

func start() error {
	if ep := os.Getenv("RECORDINGS_S3_ENDPOINT"); ep != "" {
		cfg = s3blob.FromEnv()
		return nil
	}
	bin, err := binary()
	if err != nil {
		return err
	}
	if dir, err = os.MkdirTemp("", "blobtest-*"); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	access, secret := "blobtest", hexRand(16)
	cmd = exec.Command(bin, "--port", addr, "--access", access, "--secret", secret, "--quiet", "posix", dir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		cmd = nil
		return fmt.Errorf("start versitygw: %w", err)
	}
	cfg = s3blob.Config{Endpoint: "http://" + addr, Region: "us-east-1", AccessKey: access, SecretKey: secret}
	// Ready when it answers on its port.
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("versitygw did not listen on %s: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond) // polling a child process's port: no event to wait on
	}
}

func hexRand(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Bucket makes a fresh bucket and returns its store at
// s3://bucket/prefix.
func Bucket(t testing.TB, prefix string) (*s3blob.Store, s3blob.Config) {
	t.Helper()
	c := Server(t)
	loc := "s3://t-" + hexRand(8)
	if prefix != "" {
		loc += "/" + prefix
	}
	s, err := s3blob.Open(loc, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MakeBucket(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, c
}

// Missing returns a store for a bucket that does not exist.
func Missing(t testing.TB) *s3blob.Store {
	t.Helper()
	s, err := s3blob.Open("s3://missing-"+hexRand(8)+"/p", Server(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
