package store

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"recordings/internal/blobtest"
	"recordings/internal/sealed"
	"recordings/s3blob"
)

func testKey(t testing.TB, b byte) *sealed.Key {
	t.Helper()
	k, err := sealed.NewKey(bytes.Repeat([]byte{b}, sealed.KeyLen))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// capEnv is one capture store under test: the chunk table, or an object
// store (a fresh bucket on the real S3 test server) the captures are
// shipped to.
type capEnv struct {
	t     *testing.T
	path  string
	clk   *fakeClock
	key   *sealed.Key
	cfg   s3blob.Config
	blobs *s3blob.Store // nil: the SQLite chunk store
	db    *DB
}

func (e *capEnv) open(key *sealed.Key) {
	e.t.Helper()
	cfg := e.cfg
	db, err := OpenOptions(context.Background(), e.path, testLogger(e.t), Options{Now: e.clk.Now, BcryptCost: bcrypt.MinCost,
		MasterKey: key, Blobs: func(loc string) (Blobs, error) { return s3blob.Open(loc, cfg) }})
	if err != nil {
		e.t.Fatalf("open: %v", err)
	}
	if e.blobs != nil {
		db.AddBlobs(e.blobs)
		if err := db.SetCaptureTarget(context.Background(), e.blobs.Location()); err != nil {
			e.t.Fatal(err)
		}
	}
	e.db = db
}

func (e *capEnv) close() {
	e.t.Helper()
	if err := e.db.Close(); err != nil {
		e.t.Fatal(err)
	}
}

// settle analyses an upload (state ready) and ships it when the store is
// an object store; it returns whether the capture is now in the object store.
func (e *capEnv) settle(id int64) {
	e.t.Helper()
	ctx := context.Background()
	if err := e.db.SetAnalysis(ctx, id, Analysis{State: StateReady}); err != nil {
		e.t.Fatal(err)
	}
	if e.blobs == nil {
		return
	}
	ok, err := e.db.ShipCapture(ctx, id, e.blobs)
	if err != nil || !ok {
		e.t.Fatalf("ship %d: %v, %v", id, ok, err)
	}
}

func (e *capEnv) objects() map[string]int64 {
	e.t.Helper()
	out := map[string]int64{}
	if err := e.blobs.List(context.Background(), func(k string, n int64) error { out[k] = n; return nil }); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func readAll(t testing.TB, db *DB, id int64) []byte {
	t.Helper()
	c, err := db.OpenCapture(context.Background(), id)
	if err != nil {
		t.Fatalf("open capture %d: %v", id, err)
	}
	defer c.Close()
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read capture %d: %v", id, err)
	}
	return b
}

// forEachStore runs f against both capture stores, in clear and encrypted.
func forEachStore(t *testing.T, f func(t *testing.T, e *capEnv)) {
	for _, kind := range []string{"sqlite", "s3"} {
		for _, enc := range []bool{false, true} {
			name := kind + "/clear"
			if enc {
				name = kind + "/encrypted"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				e := &capEnv{t: t, path: filepath.Join(t.TempDir(), "rec.db"), clk: newClock()}
				if enc {
					e.key = testKey(t, 7)
				}
				if kind == "s3" {
					e.blobs, e.cfg = blobtest.Bucket(t, "captures/site1")
				}
				e.open(e.key)
				t.Cleanup(func() {
					if e.db != nil {
						e.db.Close()
					}
				})
				f(t, e)
			})
		}
	}
}

// TestCaptureStoreConformance: both stores keep what was written, byte for
// byte, read any range of it, survive a crash mid-upload, delete and list.
func TestCaptureStoreConformance(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, e *capEnv) {
		ctx := context.Background()
		data := randBytes(1, 3*MaxChunkSize+12345)
		id := upload(t, e.db, "d", "a.pcap", "alice", data, 1000, MaxChunkSize, 77777)
		e.settle(id)
		if got := readAll(t, e.db, id); !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes, differs from the %d written", len(got), len(data))
		}
		rec, err := e.db.Recording(ctx, id)
		if err != nil || rec.SHA256 != sumHex(data) || rec.Size != int64(len(data)) {
			t.Fatalf("recording %+v, %v", rec, err)
		}

		t.Run("ranges", func(t *testing.T) {
			c, err := e.db.OpenCapture(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			r := rand.New(rand.NewPCG(3, 4))
			offs := []int64{0, BlobSegment - 1, BlobSegment, MaxChunkSize - 3, int64(len(data)) - 1, int64(len(data))}
			for range 30 {
				offs = append(offs, r.Int64N(int64(len(data))))
			}
			for _, off := range offs {
				n := min(int64(1+r.IntN(3*BlobSegment)), int64(len(data))-off)
				if _, err := c.Seek(off, io.SeekStart); err != nil {
					t.Fatal(err)
				}
				got := make([]byte, n)
				if _, err := io.ReadFull(c, got); err != nil {
					t.Fatalf("read %d at %d: %v", n, off, err)
				}
				if !bytes.Equal(got, data[off:off+n]) {
					t.Fatalf("range %d+%d differs", off, n)
				}
			}
			if _, err := c.Seek(0, io.SeekEnd); err != nil {
				t.Fatal(err)
			}
			if n, err := c.Read(make([]byte, 10)); n != 0 || err != io.EOF {
				t.Fatalf("read at end: %d, %v", n, err)
			}
		})

		t.Run("crash mid-upload", func(t *testing.T) {
			part := randBytes(2, 2*MaxChunkSize+5)
			id2, _, err := e.db.BeginUpload(ctx, "d", "cut.pcap", FileName{}, "bob")
			if err != nil {
				t.Fatal(err)
			}
			for off := 0; off < len(part); off += MaxChunkSize {
				if err := e.db.AppendChunk(ctx, id2, part[off:min(off+MaxChunkSize, len(part))]); err != nil {
					t.Fatal(err)
				}
			}
			// The process dies: nothing finishes the upload.
			e.close()
			e.open(e.key)
			if got := readAll(t, e.db, id2); !bytes.Equal(got, part) {
				t.Fatal("what was appended before the crash is not all there")
			}
			if err := e.db.FinishUpload(ctx, id2, StateIncomplete, sumHex(part)); err != nil {
				t.Fatal(err)
			}
			if err := e.db.SetAnalysis(ctx, id2, Analysis{State: StateIncomplete}); err != nil {
				t.Fatal(err)
			}
			if e.blobs != nil {
				if ok, err := e.db.ShipCapture(ctx, id2, e.blobs); !ok || err != nil {
					t.Fatalf("ship: %v %v", ok, err)
				}
			}
			if got := readAll(t, e.db, id2); !bytes.Equal(got, part) {
				t.Fatal("incomplete capture differs after shipping")
			}
		})

		t.Run("list and delete", func(t *testing.T) {
			st, err := e.db.CaptureStats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if e.blobs == nil {
				if st.InObjects != 0 || st.InDatabase != 2 {
					t.Fatalf("stats %+v", st)
				}
				if err := e.db.DeleteRecording(ctx, id); err != nil {
					t.Fatal(err)
				}
				if _, err := e.db.OpenCapture(ctx, id); !errors.Is(err, ErrNotFound) {
					t.Fatalf("deleted capture opens: %v", err)
				}
				return
			}
			if st.InObjects != 2 || st.Pending != 0 {
				t.Fatalf("stats %+v", st)
			}
			objs := e.objects()
			if len(objs) != 2 {
				t.Fatalf("objects %v, want 2", objs)
			}
			var chunks int
			if err := e.db.r.QueryRow(`SELECT count(*) FROM chunks`).Scan(&chunks); err != nil || chunks != 0 {
				t.Fatalf("%d chunks left in the database after shipping (%v)", chunks, err)
			}
			for k, n := range objs {
				want := objectSize(int64(len(data)), BlobSegment, e.key != nil)
				if n != want && n != objectSize(2*MaxChunkSize+5, BlobSegment, e.key != nil) {
					t.Fatalf("object %s has %d bytes, want %d", k, n, want)
				}
			}
			if err := e.db.DeleteRecording(ctx, id); err != nil {
				t.Fatal(err)
			}
			if n, err := e.db.CollectBlobGarbage(ctx, 10); n != 1 || err != nil {
				t.Fatalf("garbage: %d, %v", n, err)
			}
			if objs := e.objects(); len(objs) != 1 {
				t.Fatalf("objects after delete: %v", objs)
			}
		})
	})
}

// TestShipVerifiesSHA256: a capture whose bytes do not match the recording's
// checksum is not switched over, and its copy is queued for deletion.
func TestShipVerifiesSHA256(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, cfg := blobtest.Bucket(t, "")
	e := &capEnv{t: t, path: filepath.Join(t.TempDir(), "rec.db"), clk: newClock(), blobs: b, cfg: cfg}
	e.open(nil)
	defer e.close()
	data := randBytes(5, 100000)
	id := upload(t, e.db, "d", "x.pcap", "a", data)
	if err := e.db.SetAnalysis(ctx, id, Analysis{State: StateReady}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.w.Exec(`UPDATE recordings SET sha256 = ? WHERE id = ?`, sumHex([]byte("other")), id); err != nil {
		t.Fatal(err)
	}
	if ok, err := e.db.ShipCapture(ctx, id, b); ok || err == nil {
		t.Fatalf("shipped a capture whose SHA-256 does not match: %v %v", ok, err)
	}
	if got := readAll(t, e.db, id); !bytes.Equal(got, data) {
		t.Fatal("capture lost after a refused shipment")
	}
	if n, err := e.db.CollectBlobGarbage(ctx, 10); n != 1 || err != nil {
		t.Fatalf("the refused copy was not removed: %d %v", n, err)
	}
	if objs := e.objects(); len(objs) != 0 {
		t.Fatalf("objects left: %v", objs)
	}
}

// TestMissingBucket: uploads are kept in the database while the bucket is
// missing, the failure is reported, and they ship once it exists.
func TestMissingBucket(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	missing := blobtest.Missing(t)
	e := &capEnv{t: t, path: filepath.Join(t.TempDir(), "rec.db"), clk: newClock(), blobs: missing, cfg: blobtest.Server(t)}
	e.open(testKey(t, 1))
	defer e.close()
	if err := missing.Check(ctx); err == nil {
		t.Fatal("Check of a missing bucket passed")
	}
	data := randBytes(6, 300000)
	id := upload(t, e.db, "d", "m.pcap", "a", data)
	if err := e.db.SetAnalysis(ctx, id, Analysis{State: StateReady}); err != nil {
		t.Fatal(err)
	}
	if ok, err := e.db.ShipCapture(ctx, id, missing); ok || err == nil {
		t.Fatalf("shipped to a missing bucket: %v %v", ok, err)
	}
	st, err := e.db.CaptureStats(ctx)
	if err != nil || st.Pending != 1 || st.InDatabase != 1 {
		t.Fatalf("stats %+v %v", st, err)
	}
	if got := readAll(t, e.db, id); !bytes.Equal(got, data) {
		t.Fatal("acknowledged upload unreadable while the bucket is missing")
	}
	if err := missing.MakeBucket(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := e.db.ShipCapture(ctx, id, missing); !ok || err != nil {
		t.Fatalf("ship once the bucket exists: %v %v", ok, err)
	}
	if got := readAll(t, e.db, id); !bytes.Equal(got, data) {
		t.Fatal("capture differs after shipping")
	}
}

// TestMigrateWhileUploading moves every capture to the object store and
// back while uploads go on; nothing is lost or changed.
func TestMigrateWhileUploading(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, cfg := blobtest.Bucket(t, "m")
	e := &capEnv{t: t, path: filepath.Join(t.TempDir(), "rec.db"), clk: newClock(), cfg: cfg, blobs: b}
	e.open(testKey(t, 2))
	defer e.close()

	var (
		mu   sync.Mutex
		want = map[int64][]byte{}
		wg   sync.WaitGroup
		stop = make(chan struct{})
	)
	add := func(i int) {
		data := randBytes(uint64(100+i), 1000+i*7919%150000)
		id := upload(t, e.db, "d", "u"+hex.EncodeToString([]byte{byte(i), byte(i >> 8)})+".pcap", "a", data, 40000)
		if err := e.db.SetAnalysis(ctx, id, Analysis{State: StateReady}); err != nil {
			t.Error(err)
		}
		mu.Lock()
		want[id] = data
		mu.Unlock()
	}
	for i := range 10 {
		add(i)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 10; i < 40; i++ { // bounded: a few go on after the migrations
			select {
			case <-stop:
				return
			default:
			}
			add(i)
		}
	}()
	move := func(toBlobs bool) int {
		moved := 0
		for after := int64(0); ; {
			ids, err := e.db.CapturesToMove(ctx, toBlobs, after, 4)
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) == 0 {
				return moved
			}
			for _, id := range ids {
				var ok bool
				if toBlobs {
					ok, err = e.db.ShipCapture(ctx, id, b)
				} else {
					ok, err = e.db.UnshipCapture(ctx, id)
				}
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					moved++
				}
				after = id
			}
		}
	}
	if n := move(true); n < 10 {
		t.Fatalf("shipped %d", n)
	}
	if n := move(false); n < 10 {
		t.Fatalf("moved back %d", n)
	}
	close(stop)
	wg.Wait()
	move(true) // what arrived at the end
	mu.Lock()
	defer mu.Unlock()
	for id, data := range want {
		if got := readAll(t, e.db, id); !bytes.Equal(got, data) {
			t.Fatalf("recording %d differs after the migrations", id)
		}
	}
	if _, err := e.db.CollectBlobGarbage(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	st, err := e.db.CaptureStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if objs := e.objects(); int64(len(objs)) != st.InObjects || st.Garbage != 0 {
		t.Fatalf("%d objects for %d captures in objects, garbage %d", len(objs), st.InObjects, st.Garbage)
	}
}

// TestEncryptionAtRest: captures are not in clear in the database file or
// the bucket; tampering is detected; a wrong or missing key makes them
// unreadable and retention deletes none of them; rotation rewraps keys.
func TestEncryptionAtRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, cfg := blobtest.Bucket(t, "")
	keyA, keyB := testKey(t, 0xA), testKey(t, 0xB)
	e := &capEnv{t: t, path: filepath.Join(t.TempDir(), "rec.db"), clk: newClock(), cfg: cfg, blobs: b}
	e.open(keyA)
	marker := bytes.Repeat([]byte("SECRET-CALL-AUDIO"), 4000)
	inDB := upload(t, e.db, "d", "db.pcap", "a", marker, 50000)
	inS3 := upload(t, e.db, "d", "s3.pcap", "a", marker, 50000)
	for _, id := range []int64{inDB, inS3} {
		if err := e.db.SetAnalysis(ctx, id, Analysis{State: StateReady}); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := e.db.ShipCapture(ctx, inS3, b); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := e.db.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{e.path, e.path + "-wal"} {
		raw, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte("SECRET-CALL-AUDIO")) {
			t.Fatalf("%s holds the capture in clear", f)
		}
	}
	var objKey string
	if err := e.db.r.QueryRow(`SELECT blob_key FROM recordings WHERE id = ?`, inS3).Scan(&objKey); err != nil {
		t.Fatal(err)
	}
	obj := make([]byte, objectSize(int64(len(marker)), BlobSegment, true))
	if _, err := b.ReadAt(ctx, objKey, obj, 0); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(obj, []byte("SECRET-CALL-AUDIO")) {
		t.Fatal("the object holds the capture in clear")
	}

	t.Run("tamper", func(t *testing.T) {
		// A flipped bit in a stored chunk and in an object segment.
		var chunk []byte
		if err := e.db.r.QueryRow(`SELECT data FROM chunks WHERE recording_id = ? AND seq = 1`, inDB).Scan(&chunk); err != nil {
			t.Fatal(err)
		}
		if _, err := e.db.w.Exec(`UPDATE chunks SET data = substr(data, 1, 40) || x'00' || substr(data, 42)
			WHERE recording_id = ? AND seq = 1`, inDB); err != nil {
			t.Fatal(err)
		}
		bad := bytes.Clone(obj)
		bad[BlobSegment+sealed.Overhead+100] ^= 1
		if err := b.Put(ctx, objKey, bytes.NewReader(bad), int64(len(bad))); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{inDB, inS3} {
			c, err := e.db.OpenCapture(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.ReadAll(c)
			if !errors.Is(err, sealed.ErrAuth) {
				t.Fatalf("recording %d: tampered capture read with %v", id, err)
			}
			// The untouched first piece still reads.
			if _, err := c.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			first := make([]byte, 1000)
			if _, err := io.ReadFull(c, first); err != nil || !bytes.Equal(first, marker[:1000]) {
				t.Fatalf("first piece: %v", err)
			}
		}
		// Repair for the next steps.
		if _, err := e.db.w.Exec(`UPDATE chunks SET data = ? WHERE recording_id = ? AND seq = 1`, chunk, inDB); err != nil {
			t.Fatal(err)
		}
		if err := b.Put(ctx, objKey, bytes.NewReader(obj), int64(len(obj))); err != nil {
			t.Fatal(err)
		}
	})

	e.close()
	for _, k := range []*sealed.Key{nil, keyB} {
		e.open(k)
		for _, id := range []int64{inDB, inS3} {
			if _, err := e.db.OpenCapture(ctx, id); !errors.Is(err, ErrUnreadable) {
				t.Fatalf("key %v: recording %d opens with %v", k != nil, id, err)
			}
		}
		st, err := e.db.CaptureStats(ctx)
		if err != nil || st.Unreadable != 2 || st.Encrypted != 2 {
			t.Fatalf("stats %+v %v", st, err)
		}
		// Long past any retention period: retention finds nothing to delete.
		later := e.clk.Now().Add(10 * 365 * 24 * time.Hour)
		if exp, err := e.db.ExpiredRecordings(ctx, Before(later), 100); err != nil || len(exp) != 0 {
			t.Fatalf("expired with the wrong key: %v %v", exp, err)
		}
		if del, err := e.db.DeleteExpired(ctx, []int64{inDB, inS3}, Before(later)); err != nil || len(del) != 0 {
			t.Fatalf("deleted with the wrong key: %v %v", del, err)
		}
		if _, kept, err := e.db.TrimExpired(ctx, inS3, Before(later), 1<<20); err != nil || !kept {
			t.Fatalf("trimmed with the wrong key: %v %v", kept, err)
		}
		// The admin's preview of a retention limit counts what retention
		// would delete: not these.
		e.clk.Advance(400 * 24 * time.Hour)
		if p, err := e.db.PreviewRetention(ctx, 1, 5); err != nil || p.WouldDelete != 0 {
			t.Fatalf("retention preview with the wrong key: %+v %v", p, err)
		}
		e.close()
	}

	// Rotation rewraps the keys; the captures are untouched.
	e.open(keyA)
	before := e.objects()
	n, err := e.db.RotateKey(ctx, keyA, keyB)
	if err != nil || n != 2 {
		t.Fatalf("rotate: %d %v", n, err)
	}
	e.close()
	e.open(keyB)
	defer e.close()
	for _, id := range []int64{inDB, inS3} {
		if got := readAll(t, e.db, id); !bytes.Equal(got, marker) {
			t.Fatal("capture differs after rotation")
		}
	}
	after := e.objects()
	if len(after) != len(before) {
		t.Fatal("rotation changed the objects")
	}
}
