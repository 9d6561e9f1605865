package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"recordings/internal/callgen"
	"recordings/store"
)

// pieceReader hands out data at most max bytes per Read, as a phone's
// chunked upload arrives; with every > 0 it waits that long before each
// piece (a real-time sender).
type pieceReader struct {
	data  []byte
	max   int
	every time.Duration
	left  int // of the current piece
}

func (r *pieceReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	if r.left == 0 {
		if r.every > 0 {
			time.Sleep(r.every)
		}
		r.left = r.max
	}
	n := copy(p[:min(len(p), r.left)], r.data)
	r.data, r.left = r.data[n:], r.left-n
	return n, nil
}

// openDB opens a new database for t, closed when t ends.
func openDB(ctx context.Context, t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "r.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func callName(i int) string { return strings.Replace(aliceName, "-1-", fmt.Sprintf("-%d-", i+1), 1) }

// TestUploadBuffersBounded streams many uploads at once, as fast as the
// single writer takes them, and counts the bytes the uploads hold: within
// the shared budget plus, per upload, the small chunk and two blocks —
// not the 256 KiB chunk each (plus two 32 KiB read buffers) that a slow
// writer used to let every upload grow to. Every upload is stored
// byte-exact, and every block is released at the end.
func TestUploadBuffersBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(ctx, t)
	const uploads, budget = 40, 256 << 10
	s := New(db, nil, Options{BufferBytes: budget, FlushInterval: time.Hour})
	capture := callgen.Default(2000).Bytes() // 0.9 MB each
	want := sha256.Sum256(capture)
	var wg sync.WaitGroup
	errs := make(chan error, uploads)
	for i := range uploads {
		wg.Go(func() {
			id, _, err := s.Upload(ctx, "example.com", callName(i), &pieceReader{data: capture, max: 4600}, -1)
			if err != nil {
				errs <- err
				return
			}
			rec, err := db.Recording(ctx, id)
			if err != nil || rec.SHA256 != hex.EncodeToString(want[:]) || rec.Size != int64(len(capture)) {
				errs <- fmt.Errorf("upload %d stored %d bytes, sha %s, %v", i, rec.Size, rec.SHA256, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	now, peak := s.BufferedBytes()
	if now != 0 {
		t.Errorf("%d bytes still held after every upload ended", now)
	}
	limit := int64(budget + uploads*(minChunk+2*uploadBlock))
	if peak > limit || peak <= 0 {
		t.Errorf("uploads held up to %d bytes at once, want at most %d (%d uploads)", peak, limit, uploads)
	}
	t.Logf("%d uploads of %d bytes: at most %d KiB held at once (bound %d KiB; before: up to %d KiB)",
		uploads, len(capture), peak>>10, limit>>10, uploads*(256+64))
}

// TestUploadBufferRefusedReleased: uploads refused after their first read
// (not a capture, a bad name, an empty body) hold nothing afterwards.
func TestUploadBufferRefusedReleased(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(ctx, t)
	s := New(db, nil, Options{})
	for _, body := range []io.Reader{strings.NewReader("GET / HTTP/1.1\r\n\r\n"), strings.NewReader(""),
		&brokenReader{bytes.NewReader(callgen.Default(20).Bytes()[:2000])}} {
		s.Upload(ctx, "example.com", aliceName, body, -1)
	}
	if now, _ := s.BufferedBytes(); now != 0 {
		t.Fatalf("%d bytes held after refused and broken uploads", now)
	}
}

// TestUploadPersistsEverySecond: a call streamed in real time (a piece
// every 200 ms) is stored at least once a FlushInterval while it streams,
// although its chunk never fills; the fake clock of a synctest bubble
// stands in for real time.
func TestUploadPersistsEverySecond(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		db, err := store.Open(ctx, filepath.Join(t.TempDir(), "r.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		s := New(db, nil, Options{})
		capture := callgen.Default(500).Bytes() // 10 s of call, 230 kB
		const piece = 4600                      // 200 ms of both directions
		done := make(chan error, 1)
		go func() {
			_, _, err := s.Upload(ctx, "example.com", aliceName, &pieceReader{data: capture, max: piece, every: 200 * time.Millisecond}, -1)
			done <- err
		}()
		start := time.Now()
		for sec := 1; sec <= 9; sec++ {
			time.Sleep(time.Until(start.Add(time.Duration(sec)*time.Second + 100*time.Millisecond)))
			synctest.Wait()
			rec, err := db.RecordingByName(ctx, "example.com", aliceName)
			if err != nil {
				t.Fatal(err)
			}
			// Sent by the last whole second: 5 pieces a second. The flush
			// then may lag by one interval.
			if min := int64((sec-1)*5*piece) - 1; rec.Size < min {
				t.Fatalf("after %d s %d bytes stored, want at least %d", sec, rec.Size, min)
			}
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if now, _ := s.BufferedBytes(); now != 0 {
			t.Fatalf("%d bytes held after the upload", now)
		}
	})
}

// heldReader hands out head at once, then blocks in Read until release is
// closed (a phone between two packets), then ends the body.
type heldReader struct {
	head    []byte
	waiting func() // called once, as the first blocking Read begins
	release <-chan struct{}
	blocked bool
}

func (r *heldReader) Read(p []byte) (int, error) {
	if len(r.head) > 0 {
		n := copy(p, r.head)
		r.head = r.head[n:]
		return n, nil
	}
	if !r.blocked {
		r.blocked = true
		r.waiting()
		<-r.release
	}
	return 0, io.EOF
}

// TestUploadGoroutinesPerUpload: an upload being received runs on its
// caller's goroutine alone (the handler's); its once-a-FlushInterval
// persistence and its chunk stores run on goroutines the uploads share. So
// with N uploads waiting for their phones the process has at most N plus
// a few goroutines more than before, not 2N (a reader goroutine per
// upload). Not parallel: it counts the process's goroutines.
// ingestGoroutines counts the goroutines running code of this package
// (an upload's handler blocked in its body's Read has Service.Upload on its
// stack; anything ingest starts was created by it). Counting only these
// keeps goroutines of other tests and of the runtime's libraries, which
// come and go on a busy machine, out of the figure.
func ingestGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "recordings/ingest.") {
			count++
		}
	}
	return count
}

func TestUploadGoroutinesPerUpload(t *testing.T) {
	ctx := context.Background()
	db := openDB(ctx, t)
	s := New(db, nil, Options{FlushInterval: 50 * time.Millisecond})
	capture := callgen.Default(20).Bytes()
	// One upload first, so that what the store starts lazily (connections,
	// their cleaners) is counted before.
	if _, _, err := s.Upload(ctx, "example.com", callName(1000), bytes.NewReader(capture), -1); err != nil {
		t.Fatal(err)
	}
	const uploads, shared = 100, 5
	before := ingestGoroutines()
	var inRead, done sync.WaitGroup
	release := make(chan struct{})
	errs := make(chan error, uploads)
	for i := range uploads {
		inRead.Add(1)
		done.Go(func() {
			body := &heldReader{head: capture, waiting: inRead.Done, release: release}
			id, _, err := s.Upload(ctx, "example.com", callName(i), body, -1)
			if err != nil {
				errs <- err
				return
			}
			if rec, err := db.Recording(ctx, id); err != nil || rec.Size != int64(len(capture)) {
				errs <- fmt.Errorf("upload %d stored %d bytes, %v", i, rec.Size, err)
			}
		})
	}
	inRead.Wait() // every upload is waiting for its phone
	during := ingestGoroutines()
	close(release)
	done.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if extra := during - before; extra > uploads+shared {
		t.Errorf("%d uploads in flight ran %d goroutines more, want at most %d (one each plus %d shared)",
			uploads, extra, uploads+shared, shared)
	}
	t.Logf("%d uploads in flight: %d goroutines more", uploads, during-before)
}

// TestChunkWriterGroupsWaitingChunks: the chunks that wait while the
// writer stores one batch go together into the next transaction (up to
// batchBytes), each upload told of its own outcome; one refused upload
// fails alone.
func TestChunkWriterGroupsWaitingChunks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(ctx, t)
	const per = store.MaxChunkSize // so that batchBytes/per chunks fill a batch
	full := batchBytes / per
	uploads := 1 + full + 3
	big := bytes.Repeat([]byte{'c'}, per-10)
	ids := make([]int64, uploads)
	for i := range ids {
		var err error
		if ids[i], _, err = db.BeginUpload(ctx, "example.com", callName(i), store.FileName{RegName: "alice"}, "alice"); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.DeleteRecording(ctx, ids[7]); err != nil { // refused when its chunk comes
		t.Fatal(err)
	}
	var w chunkWriter
	entered, release := make(chan struct{}), make(chan struct{})
	results := make(chan error, uploads)
	// The first chunk, stored alone, holds the writer until every other
	// one waits.
	first := &chunkReq{ctx: ctx, id: ids[0], parts: [][]byte{[]byte("first")}, done: func(err error) {
		close(entered)
		<-release
		results <- err
	}}
	w.submit(db, first)
	<-entered
	reqs := make([]*chunkReq, uploads)
	errs := make([]error, uploads)
	for i := 1; i < uploads; i++ {
		reqs[i] = &chunkReq{ctx: ctx, id: ids[i], parts: [][]byte{big, []byte(fmt.Sprintf("chunk %4d", i))}, done: func(err error) {
			errs[i] = err
			results <- err
		}}
		w.submit(db, reqs[i])
	}
	close(release)
	for range uploads {
		<-results
	}
	if b, n := w.batches.Load(), w.batched.Load(); b != 3 || n != int64(uploads) {
		t.Errorf("%d chunks stored in %d transactions, want %d in 3 (1, %d, 3)", n, b, uploads, full)
	}
	for i := 1; i < uploads; i++ {
		if i == 7 {
			if !errors.Is(errs[i], store.ErrNotFound) {
				t.Errorf("the deleted upload's chunk: %v, want ErrNotFound", errs[i])
			}
			continue
		}
		if errs[i] != nil {
			t.Errorf("chunk %d: %v", i, errs[i])
			continue
		}
		rec, err := db.Recording(ctx, ids[i])
		if err != nil || rec.Size != per || rec.Chunks != 1 {
			t.Errorf("upload %d: %d bytes in %d chunks, %v; want %d in 1", i, rec.Size, rec.Chunks, err, per)
			continue
		}
		c, err := db.OpenCapture(ctx, ids[i])
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(c)
		c.Close()
		if want := append(big[:len(big):len(big)], fmt.Sprintf("chunk %4d", i)...); err != nil || !bytes.Equal(got, want) {
			t.Errorf("upload %d stored other bytes (%d, %v)", i, len(got), err)
		}
	}
}
