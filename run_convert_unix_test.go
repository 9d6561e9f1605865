//go:build unix

package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"recordings/convert"
	"recordings/internal/callgen"
	"recordings/media"
)

// TestConvertToFIFO: an output that is not a regular file (a pipe, a
// device such as /dev/null) is written to, not replaced by a rename.
func TestConvertToFIFO(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "call.pcap")
	call := callgen.Default(50)
	if err := os.WriteFile(in, call.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "out.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	got := make(chan int64, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- -1
			return
		}
		defer f.Close()
		n, _ := io.Copy(io.Discard, f)
		got <- n
	}()
	if err := Run(context.Background(), []string{"convert", in, fifo}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if n, want := <-got, int64(44+4*call.Samples()); n != want {
		t.Fatalf("read %d bytes from the FIFO, want %d", n, want)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("the FIFO was replaced: %v %v", fi.Mode(), err)
	}
}

// TestConvertFileShortened: a mapped capture that another program
// shortens while it is converted fails the conversion with an error
// instead of crashing it (SIGBUS on the pages that are gone).
func TestConvertFileShortened(t *testing.T) {
	t.Parallel()
	in := filepath.Join(t.TempDir(), "call.pcap")
	if err := os.WriteFile(in, callgen.Default(3000).Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	open, cleanup, err := fileOpener(in)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	open, release, err := indexedOpener(open)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if err := os.Truncate(in, 100); err != nil {
		t.Fatal(err)
	}
	_, err = guardFaults(func() (*media.Analysis, error) { return convert.Analyze(open, media.Options{}) })
	if err == nil || !strings.Contains(err.Error(), "changed while being converted") {
		t.Fatalf("err = %v, want the capture file changed", err)
	}
}
