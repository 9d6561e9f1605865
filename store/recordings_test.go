package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestCaptureRoundTrip(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()
	for i, c := range []struct {
		name  string
		size  int
		sizes []int
	}{
		{"empty", 0, nil},
		{"one byte", 1, nil},
		{"one full chunk", MaxChunkSize, nil},
		{"max chunks plus one", MaxChunkSize + 1, nil},
		{"many small", 10007, []int{1000}},
		{"irregular", 300000, []int{1, 7, 4096, 65536, 13, MaxChunkSize}},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := randBytes(uint64(i+1), c.size)
			id := upload(t, db, "example.com", c.name+".pcap", "alice", data, c.sizes...)
			rec, err := db.Recording(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Size != int64(len(data)) || rec.SHA256 != sumHex(data) || !rec.Uploaded() {
				t.Errorf("recording size %d sha %s uploaded %v, want %d %s true",
					rec.Size, rec.SHA256, rec.Uploaded(), len(data), sumHex(data))
			}
			cr, err := db.OpenCapture(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			defer cr.Close()
			if cr.Size() != int64(len(data)) {
				t.Errorf("Size() = %d, want %d", cr.Size(), len(data))
			}
			got, err := io.ReadAll(cr)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("read %d bytes, differ from the %d uploaded", len(got), len(data))
			}
		})
	}
}

func TestCaptureSeek(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()
	const chunk = 1000
	data := randBytes(42, 10*chunk+123)
	id := upload(t, db, "d", "seek", "", data, chunk)
	cr, err := db.OpenCapture(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer cr.Close()
	n := int64(len(data))
	for _, c := range []struct {
		name   string
		off    int64
		whence int
		want   int64 // absolute position
		read   int
	}{
		{"start", 0, io.SeekStart, 0, 10},
		{"across boundary", chunk - 5, io.SeekStart, chunk - 5, 10},
		{"exact boundary", 3 * chunk, io.SeekStart, 3 * chunk, chunk},
		{"across three chunks", 2*chunk - 1, io.SeekStart, 2*chunk - 1, chunk + 2},
		{"backwards relative", -500, io.SeekCurrent, 3*chunk + 1 - 500, 700},
		{"from end", -50, io.SeekEnd, n - 50, 50},
		{"last byte", -1, io.SeekEnd, n - 1, 1},
		{"middle of last chunk", 10*chunk + 60, io.SeekStart, 10*chunk + 60, 63},
	} {
		t.Run(c.name, func(t *testing.T) {
			pos, err := cr.Seek(c.off, c.whence)
			if err != nil || pos != c.want {
				t.Fatalf("Seek(%d, %d) = %d, %v; want %d", c.off, c.whence, pos, err, c.want)
			}
			buf := make([]byte, c.read)
			if _, err := io.ReadFull(cr, buf); err != nil {
				t.Fatalf("ReadFull(%d) at %d: %v", c.read, pos, err)
			}
			if !bytes.Equal(buf, data[pos:pos+int64(c.read)]) {
				t.Errorf("bytes at %d differ", pos)
			}
		})
	}
	// Past the end: EOF; negative: error.
	if _, err := cr.Seek(n+10, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if k, err := cr.Read(make([]byte, 4)); k != 0 || err != io.EOF {
		t.Errorf("Read past end = %d, %v; want 0, EOF", k, err)
	}
	if _, err := cr.Seek(-1, io.SeekStart); !errors.Is(err, ErrInvalid) {
		t.Errorf("Seek(-1) error = %v, want ErrInvalid", err)
	}
	if _, err := cr.Seek(math.MaxInt64, io.SeekEnd); !errors.Is(err, ErrInvalid) {
		t.Errorf("Seek overflowing = %v, want ErrInvalid", err)
	}
	if _, err := cr.Seek(0, 7); !errors.Is(err, ErrInvalid) {
		t.Errorf("Seek whence 7 error = %v, want ErrInvalid", err)
	}
	if _, err := db.OpenCapture(ctx, id+100); !errors.Is(err, ErrNotFound) {
		t.Errorf("OpenCapture(unknown) = %v, want ErrNotFound", err)
	}
}

// Captures are written once: a complete recording (received, ready or
// failed) is never replaced; only a cut upload (incomplete) may be sent
// again, and replacing it keeps its id and drops what it held.
func TestUploadReplace(t *testing.T) {
	t.Parallel()
	db, clk := openTest(t)
	ctx := context.Background()
	first := randBytes(1, 5000)
	id := upload(t, db, "d", "call.pcap", "alice", first, 1000)
	for _, st := range []State{StateReceiving, StateReady, StateFailed} {
		if st != StateReceiving {
			if err := db.SetAnalysis(ctx, id, Analysis{State: st, Codec: "PCMA", DurationMS: 1234}); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := db.BeginUpload(ctx, "d", "call.pcap", FileName{ConfID: "c2", RegName: "carol"}, "carol"); !errors.Is(err, ErrComplete) {
			t.Fatalf("BeginUpload over a %s recording: %v, want ErrComplete", st, err)
		}
		rec, err := db.Recording(ctx, id)
		if err != nil || rec.Owner != "alice" || rec.SHA256 != sumHex(first) || rec.Size != int64(len(first)) {
			t.Fatalf("%s recording changed by a refused upload: %+v %v", st, rec, err)
		}
	}

	// A cut upload may be sent again.
	cut, _, err := db.BeginUpload(ctx, "d", "cut.pcap", FileName{RegName: "alice"}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AppendChunk(ctx, cut, first[:1000]); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishUpload(ctx, cut, StateIncomplete, sumHex(first[:1000])); err != nil {
		t.Fatal(err)
	}
	if err := db.SetAnalysis(ctx, cut, Analysis{State: StateIncomplete, Codec: "PCMA", DurationMS: 1234,
		Stats: []byte(`{"a":1}`), Envelope: []byte{1, 2, 3}}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetCDR(ctx, cut, CDR{Direction: "in", PeerName: "Bob", PeerNumber: "123",
		ConnectedAt: clk.Now(), CallMS: 999}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	id2, replaced, err := db.BeginUpload(ctx, "d", "cut.pcap", FileName{ConfID: "c2", RegName: "carol"}, "carol")
	if err != nil {
		t.Fatal(err)
	}
	if !replaced || id2 != cut {
		t.Fatalf("BeginUpload over a cut upload = id %d replaced %v, want id %d replaced true", id2, replaced, cut)
	}
	rec, err := db.Recording(ctx, cut)
	if err != nil {
		t.Fatal(err)
	}
	want := Recording{ID: cut, Domain: "d", Name: "cut.pcap", FileName: FileName{ConfID: "c2", RegName: "carol"},
		State: StateReceiving, Owner: "carol", CreatedAt: clk.Now(), UpdatedAt: clk.Now()}
	if !equalRecording(rec, want) {
		t.Errorf("replaced recording = %+v\nwant %+v", rec, want)
	}
	var chunks int
	if err := db.w.QueryRowContext(ctx, `SELECT count(*) FROM chunks WHERE recording_id = ?`, cut).Scan(&chunks); err != nil {
		t.Fatal(err)
	}
	if chunks != 0 {
		t.Errorf("%d chunks left after replace", chunks)
	}
	// Begun again and cut before its checksum (a crash): still replaceable.
	if _, replaced, err := db.BeginUpload(ctx, "d", "cut.pcap", FileName{}, ""); err != nil || !replaced {
		t.Fatalf("BeginUpload over an upload left receiving: %v %v", replaced, err)
	}
	second := randBytes(2, 1500)
	if err := db.AppendChunk(ctx, cut, second); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishUpload(ctx, cut, StateReceiving, sumHex(second)); err != nil {
		t.Fatal(err)
	}
	cr, err := db.OpenCapture(ctx, cut)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(cr)
	if err != nil || !bytes.Equal(got, second) {
		t.Fatalf("capture after replace: %d bytes, err %v; want the %d new bytes", len(got), err, len(second))
	}
	// A protected cut upload stays as it is.
	prot, _, err := db.BeginUpload(ctx, "d", "prot.pcap", FileName{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AppendChunk(ctx, prot, first[:100]); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishUpload(ctx, prot, StateIncomplete, sumHex(first[:100])); err != nil {
		t.Fatal(err)
	}
	if err := db.SetProtected(ctx, prot, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.BeginUpload(ctx, "d", "prot.pcap", FileName{}, ""); !errors.Is(err, ErrProtected) {
		t.Fatalf("BeginUpload over a protected cut upload: %v", err)
	}
	// A different name in the same domain is a new recording.
	id3, replaced, err := db.BeginUpload(ctx, "d", "other.pcap", FileName{}, "")
	if err != nil || replaced || id3 == id {
		t.Errorf("BeginUpload(new name) = %d, %v, %v", id3, replaced, err)
	}
	// Same name, other domain: also new.
	id4, replaced, err := db.BeginUpload(ctx, "e", "call.pcap", FileName{}, "")
	if err != nil || replaced || id4 == id || id4 == id3 {
		t.Errorf("BeginUpload(other domain) = %d, %v, %v", id4, replaced, err)
	}
}

func equalRecording(a, b Recording) bool {
	return a.ID == b.ID && a.Domain == b.Domain && a.Name == b.Name && a.FileName == b.FileName &&
		a.State == b.State && a.Reason == b.Reason && a.Size == b.Size && a.SHA256 == b.SHA256 &&
		a.Chunks == b.Chunks && a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt) &&
		a.Codec == b.Codec && a.DurationMS == b.DurationMS && bytes.Equal(a.Stats, b.Stats) &&
		bytes.Equal(a.Envelope, b.Envelope) && a.Protected == b.Protected && a.Owner == b.Owner &&
		a.Direction == b.Direction && a.PeerName == b.PeerName && a.PeerNumber == b.PeerNumber &&
		a.ConnectedAt.Equal(b.ConnectedAt) && a.CallMS == b.CallMS && a.CDR == b.CDR
}

func TestRecordingLifecycle(t *testing.T) {
	t.Parallel()
	db, clk := openTest(t)
	ctx := context.Background()
	fn := FileName{ConfID: "abc", MAC: "009033010203", Serial: "s1", RegName: "alice"}
	id, replaced, err := db.BeginUpload(ctx, "pbx.example", "x.pcap", fn, "alice")
	if err != nil || replaced {
		t.Fatalf("BeginUpload = %v, %v", replaced, err)
	}
	created := clk.Now()
	clk.Advance(time.Second)
	if err := db.AppendChunk(ctx, id, []byte("hello ")); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendChunk(ctx, id, nil); err != nil {
		t.Fatalf("empty chunk: %v", err)
	}
	if err := db.AppendChunk(ctx, id, []byte("world")); err != nil {
		t.Fatal(err)
	}
	if err := db.SetAnalysis(ctx, id, Analysis{State: StateReady}); !errors.Is(err, ErrState) {
		t.Errorf("SetAnalysis during upload = %v, want ErrState", err)
	}
	rs, err := db.RecordingsInState(ctx, StateReceiving)
	if err != nil || len(rs) != 1 || rs[0].ID != id || rs[0].Uploaded() {
		t.Fatalf("RecordingsInState(receiving) = %+v, %v", rs, err)
	}
	sum := sumHex([]byte("hello world"))
	if err := db.FinishUpload(ctx, id, StateReceiving, strings.ToUpper(sum)); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if err := db.SetAnalysis(ctx, id, Analysis{State: StateFailed, Reason: "unsupported codec opus",
		Codec: "opus", DurationMS: 5000, Stats: []byte(`{}`), Envelope: []byte{9}}); err != nil {
		t.Fatal(err)
	}
	got, err := db.RecordingByName(ctx, "pbx.example", "x.pcap")
	if err != nil {
		t.Fatal(err)
	}
	want := Recording{ID: id, Domain: "pbx.example", Name: "x.pcap", FileName: fn, State: StateFailed,
		Reason: "unsupported codec opus", Size: 11, SHA256: sum, Chunks: 2, CreatedAt: created,
		UpdatedAt: clk.Now(), Codec: "opus", DurationMS: 5000, Stats: []byte(`{}`), Envelope: []byte{9},
		Owner: "alice"}
	if !equalRecording(got, want) {
		t.Errorf("recording = %+v\nwant %+v", got, want)
	}
	if rs, _ := db.RecordingsInState(ctx, StateReceiving); len(rs) != 0 {
		t.Errorf("still %d receiving", len(rs))
	}
	if rs, _ := db.RecordingsInState(ctx, StateFailed); len(rs) != 1 || rs[0].Stats != nil {
		t.Errorf("RecordingsInState(failed) = %+v", rs)
	}
	if err := db.SetCallOwner(ctx, id, "bob", "admin"); err != nil {
		t.Fatal(err)
	}
	if r, _ := db.Recording(ctx, id); r.Owner != "bob" {
		t.Errorf("owner after SetCallOwner = %q", r.Owner)
	}

	// Errors.
	for _, c := range []struct {
		name string
		err  error
		want error
	}{
		{"append after finish", db.AppendChunk(ctx, id, []byte("x")), ErrState},
		{"finish twice", db.FinishUpload(ctx, id, StateReceiving, sum), ErrState},
		{"append unknown", db.AppendChunk(ctx, 9999, []byte("x")), ErrNotFound},
		{"finish unknown", db.FinishUpload(ctx, 9999, StateIncomplete, ""), ErrNotFound},
		{"analysis unknown", db.SetAnalysis(ctx, 9999, Analysis{State: StateReady}), ErrNotFound},
		{"analysis bad state", db.SetAnalysis(ctx, id, Analysis{State: "done"}), ErrInvalid},
		{"analysis receiving", db.SetAnalysis(ctx, id, Analysis{State: StateReceiving}), ErrInvalid},
		{"finish ready", db.FinishUpload(ctx, id, StateReady, sum), ErrInvalid},
		{"finish without sum", db.FinishUpload(ctx, id, StateReceiving, ""), ErrInvalid},
		{"finish bad sum", db.FinishUpload(ctx, id, StateReceiving, "abcd"), ErrInvalid},
		{"oversized chunk", db.AppendChunk(ctx, id, make([]byte, MaxChunkSize+1)), ErrInvalid},
		{"owner unknown", db.SetCallOwner(ctx, 9999, "x", "admin"), ErrNotFound},
		{"protect unknown", db.SetProtected(ctx, 9999, true), ErrNotFound},
		{"delete unknown", db.DeleteRecording(ctx, 9999), ErrNotFound},
		{"cdr unknown", db.SetCDR(ctx, 9999, CDR{}), ErrNotFound},
		{"get unknown", second(db.Recording(ctx, 9999)), ErrNotFound},
		{"by name unknown", second(db.RecordingByName(ctx, "pbx.example", "y")), ErrNotFound},
		{"bad state list", second(db.RecordingsInState(ctx, "nope")), ErrInvalid},
		{"empty domain", third(db.BeginUpload(ctx, "", "n", FileName{}, "")), ErrInvalid},
		{"empty name", third(db.BeginUpload(ctx, "d", "", FileName{}, "")), ErrInvalid},
		{"control char", third(db.BeginUpload(ctx, "d", "a\nb", FileName{}, "")), ErrInvalid},
		{"bad utf8", third(db.BeginUpload(ctx, "d", "n", FileName{RegName: "\xff"}, "")), ErrInvalid},
		{"long name", third(db.BeginUpload(ctx, "d", strings.Repeat("n", 2000), FileName{}, "")), ErrInvalid},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, c.err, c.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func third[A, B any](_ A, _ B, err error) error { return err }

func TestIncompleteUpload(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()
	id, _, err := db.BeginUpload(ctx, "d", "cut.pcap", FileName{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AppendChunk(ctx, id, []byte("partial")); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishUpload(ctx, id, StateIncomplete, ""); err != nil {
		t.Fatal(err)
	}
	rs, err := db.RecordingsInState(ctx, StateIncomplete)
	if err != nil || len(rs) != 1 || rs[0].Size != 7 || rs[0].Uploaded() {
		t.Fatalf("RecordingsInState(incomplete) = %+v, %v", rs, err)
	}
	// Analysis of what arrived is allowed.
	if err := db.SetAnalysis(ctx, id, Analysis{State: StateIncomplete, Codec: "PCMU"}); err != nil {
		t.Fatal(err)
	}
}

func TestProtectDelete(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()
	data := randBytes(3, 3000)
	id := upload(t, db, "d", "keep.pcap", "", data, 1000)
	if err := db.SetProtected(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	if r, _ := db.Recording(ctx, id); !r.Protected {
		t.Fatal("not protected after SetProtected(true)")
	}
	if err := db.DeleteRecording(ctx, id); !errors.Is(err, ErrProtected) {
		t.Fatalf("DeleteRecording(protected) = %v, want ErrProtected", err)
	}
	if _, _, err := db.BeginUpload(ctx, "d", "keep.pcap", FileName{}, ""); !errors.Is(err, ErrProtected) {
		t.Fatalf("BeginUpload over protected = %v, want ErrProtected", err)
	}
	// Still intact.
	cr, err := db.OpenCapture(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(cr); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("protected capture changed: %v", err)
	}
	if err := db.SetProtected(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteRecording(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Recording(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("Recording after delete = %v, want ErrNotFound", err)
	}
	var n int
	if err := db.w.QueryRowContext(ctx, `SELECT count(*) FROM chunks`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d chunks left after delete", n)
	}
	// The open reader notices the capture is gone.
	if _, err := cr.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	cr.buf = nil
	if _, err := cr.Read(make([]byte, 10)); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Read of deleted capture = %v, want ErrUnexpectedEOF", err)
	}
}

// TestAppendChunkParts: a chunk given in parts is stored as their
// concatenation, one chunk per call; the size limit counts all parts.
func TestAppendChunkParts(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()
	id, _, err := db.BeginUpload(ctx, "pbx.example", "parts.pcap", FileName{RegName: "alice"}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for i, parts := range [][][]byte{
		{[]byte("one"), []byte(", two"), nil, []byte(", three")},
		{nil, nil},
		{[]byte("; four")},
		{bytes.Repeat([]byte{'x'}, 5000), []byte("y"), bytes.Repeat([]byte{'z'}, 3000)},
	} {
		if err := db.AppendChunkParts(ctx, id, parts...); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		want = append(want, bytes.Join(parts, nil)...)
	}
	big := [][]byte{make([]byte, MaxChunkSize/2), make([]byte, MaxChunkSize/2+1)}
	if err := db.AppendChunkParts(ctx, id, big...); !errors.Is(err, ErrInvalid) {
		t.Fatalf("parts over MaxChunkSize: %v, want ErrInvalid", err)
	}
	rec, err := db.Recording(ctx, id)
	if err != nil || rec.Chunks != 3 || rec.Size != int64(len(want)) {
		t.Fatalf("recording: %d chunks, %d bytes, %v; want 3 chunks, %d bytes", rec.Chunks, rec.Size, err, len(want))
	}
	c, err := db.OpenCapture(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("stored %q (%v), want %q", got[:min(len(got), 40)], err, want[:40])
	}
}

// readCapture returns recording id's stored capture.
func readCapture(t *testing.T, db *DB, id int64) []byte {
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

// TestAppendChunks: several uploads' chunks stored in one transaction
// each land as AppendChunkParts would store them; an entry the store
// refuses fails alone, with its own error, and the others are stored.
func TestAppendChunks(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()
	begin := func(name string) int64 {
		id, _, err := db.BeginUpload(ctx, "pbx.example", name, FileName{RegName: "alice"}, "alice")
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	a, b, done := begin("a.pcap"), begin("b.pcap"), begin("done.pcap")
	if err := db.AppendChunk(ctx, done, []byte("all of it")); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishUpload(ctx, done, StateReceiving, sumHex([]byte("all of it"))); err != nil {
		t.Fatal(err)
	}
	batch := []ChunkAppend{
		{ID: a, Parts: [][]byte{[]byte("a1"), []byte("-a2")}},
		{ID: done, Parts: [][]byte{[]byte("too late")}},
		{ID: b, Parts: [][]byte{bytes.Repeat([]byte{'b'}, 9000)}},
		{ID: 999999, Parts: [][]byte{[]byte("nobody")}},
		{ID: a, Parts: [][]byte{nil, []byte("|a3")}}, // the same upload again: in order
		{ID: b, Parts: [][]byte{make([]byte, MaxChunkSize), []byte("x")}},
		{ID: b, Parts: [][]byte{nil}},
	}
	db.AppendChunks(ctx, batch)
	for i, want := range []error{nil, ErrState, nil, ErrNotFound, nil, ErrInvalid, nil} {
		if got := batch[i].Err; (want == nil) != (got == nil) || (want != nil && !errors.Is(got, want)) {
			t.Errorf("entry %d (recording %d): %v, want %v", i, batch[i].ID, got, want)
		}
	}
	for _, c := range []struct {
		id     int64
		want   []byte
		chunks int64
	}{
		{a, []byte("a1-a2|a3"), 2},
		{b, bytes.Repeat([]byte{'b'}, 9000), 1},
		{done, []byte("all of it"), 1},
	} {
		rec, err := db.Recording(ctx, c.id)
		if err != nil || rec.Chunks != c.chunks || rec.Size != int64(len(c.want)) {
			t.Errorf("recording %d: %d chunks, %d bytes, %v; want %d chunks, %d bytes", c.id, rec.Chunks, rec.Size, err, c.chunks, len(c.want))
		}
		if got := readCapture(t, db, c.id); !bytes.Equal(got, c.want) {
			t.Errorf("recording %d holds %q, want %q", c.id, got[:min(len(got), 40)], c.want[:min(len(c.want), 40)])
		}
	}
	// Nothing to store is no transaction and no error.
	empty := []ChunkAppend{{ID: a}, {ID: 999999, Parts: [][]byte{nil}}}
	db.AppendChunks(ctx, empty)
	if empty[0].Err != nil || empty[1].Err != nil {
		t.Errorf("empty entries: %v, %v", empty[0].Err, empty[1].Err)
	}
}

// TestAppendChunksFailureIsolated: when one entry fails the whole
// transaction (here a sealed capture whose key is not configured), the
// others are stored all the same, each in a transaction of its own, and
// only that one reports the failure.
func TestAppendChunksFailureIsolated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rec.db")
	db, err := OpenOptions(ctx, path, testLogger(t), Options{BcryptCost: bcrypt.MinCost, MasterKey: testKey(t, 7)})
	if err != nil {
		t.Fatal(err)
	}
	sealedID, _, err := db.BeginUpload(ctx, "pbx.example", "sealed.pcap", FileName{RegName: "alice"}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = OpenOptions(ctx, path, testLogger(t), Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ids []int64
	for _, name := range []string{"one.pcap", "two.pcap"} {
		id, _, err := db.BeginUpload(ctx, "pbx.example", name, FileName{RegName: "alice"}, "alice")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	batch := []ChunkAppend{
		{ID: ids[0], Parts: [][]byte{[]byte("first")}},
		{ID: sealedID, Parts: [][]byte{[]byte("cannot be sealed")}},
		{ID: ids[1], Parts: [][]byte{[]byte("sec"), []byte("ond")}},
	}
	db.AppendChunks(ctx, batch)
	if batch[0].Err != nil || batch[2].Err != nil || !errors.Is(batch[1].Err, ErrUnreadable) {
		t.Fatalf("errors %v, %v, %v; want nil, ErrUnreadable, nil", batch[0].Err, batch[1].Err, batch[2].Err)
	}
	for i, want := range []string{"first", "second"} {
		if got := readCapture(t, db, ids[i]); string(got) != want {
			t.Errorf("recording %d holds %q, want %q", ids[i], got, want)
		}
	}
	if rec, err := db.Recording(ctx, sealedID); err != nil || rec.Size != 0 || rec.Chunks != 0 {
		t.Errorf("the failed upload: %d bytes in %d chunks, %v; want nothing stored", rec.Size, rec.Chunks, err)
	}
}
