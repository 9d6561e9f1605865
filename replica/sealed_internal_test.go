package replica

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/benbjohnson/litestream/file"
	"github.com/superfly/ltx"

	"recordings/internal/sealed"
)

func testKey(t testing.TB, b byte) *sealed.Key {
	t.Helper()
	k, err := sealed.NewKey(bytes.Repeat([]byte{b}, sealed.KeyLen))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testClient(t testing.TB, inner *file.ReplicaClient, b byte) *SealedClient {
	t.Helper()
	c, err := NewSealedClient(inner, testKey(t, b))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ltxLike is n bytes that start like an LTX file (the writer reads only
// the header's magic and timestamp).
func ltxLike(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	copy(b, ltx.Magic)
	return b
}

func readAll(t testing.TB, c *SealedClient, off, size int64) ([]byte, error) {
	t.Helper()
	rc, err := c.OpenLTXFile(context.Background(), 0, 1, 2, off, size)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// TestSealedSizes: the sizes of encrypted files map back to the plaintext
// sizes, and LTXFiles and WriteLTXFile report plaintext sizes.
func TestSealedSizes(t *testing.T) {
	t.Parallel()
	for _, n := range []int64{0, 1, 100, SegmentSize - 1, SegmentSize, SegmentSize + 1, 3 * SegmentSize, 3*SegmentSize + 5} {
		if got := PlainSize(SealedSize(n)); got != n {
			t.Errorf("PlainSize(SealedSize(%d)) = %d", n, got)
		}
	}
	for _, n := range []int64{0, encHeadLen, encHeadLen + gcmTag - 1, encHeadLen + segSealed + 3} {
		if got := PlainSize(n); got != -1 {
			t.Errorf("PlainSize(%d) = %d, want -1", n, got)
		}
	}
}

// TestSealedRanges: range reads at and around segment boundaries return
// exactly the plaintext's bytes; the replica's file has the sealed size.
func TestSealedRanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	inner := file.NewReplicaClient(dir)
	c := testClient(t, inner, 1)
	plain := ltxLike(3*SegmentSize + 1000)
	info, err := c.WriteLTXFile(ctx, 0, 1, 2, bytes.NewReader(plain))
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != int64(len(plain)) {
		t.Errorf("written size %d, want %d", info.Size, len(plain))
	}
	fi, err := os.Stat(inner.LTXFilePath(0, 1, 2))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != SealedSize(int64(len(plain))) {
		t.Errorf("file of %d bytes, want %d", fi.Size(), SealedSize(int64(len(plain))))
	}
	it, err := c.LTXFiles(ctx, 0, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if !it.Next() || it.Item().Size != int64(len(plain)) {
		t.Errorf("listed %+v, want size %d", it.Item(), len(plain))
	}
	it.Close()

	S, N := int64(SegmentSize), int64(len(plain))
	for _, r := range [][2]int64{
		{0, 0}, {0, ltx.HeaderSize}, {0, S}, {0, S + 1}, {S - 1, 2}, {S, S}, {S, 0}, {S + 1, 0},
		{2*S - 1, 1}, {2 * S, 1}, {3 * S, 0}, {3*S + 999, 1}, {N - 40, 0}, {N - 40, 1000}, {5, N - 5}, {N, 0}, {N + 10, 10},
	} {
		got, err := readAll(t, c, r[0], r[1])
		if err != nil {
			t.Errorf("read %d+%d: %v", r[0], r[1], err)
			continue
		}
		end := N
		if r[1] > 0 {
			end = min(r[0]+r[1], N)
		}
		want := plain[min(r[0], N):end]
		if !bytes.Equal(got, want) {
			t.Errorf("read %d+%d: got %d bytes, want %d (equal prefix: %v)", r[0], r[1], len(got), len(want),
				len(got) <= len(want) && bytes.Equal(got, want[:len(got)]))
		}
	}
}

// TestSealedRefusals: another key, a file in clear, a flipped bit, a file
// cut at a segment boundary or a file renamed each fail with their error.
func TestSealedRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	plain := ltxLike(2*SegmentSize + 10)
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, path string)
		key    byte
		want   error
	}{
		{"other key", func(*testing.T, string) {}, 2, ErrReplicaKey},
		{"flipped bit", func(t *testing.T, p string) { flip(t, p, encHeadLen+SegmentSize+5) }, 1, ErrReplicaAuth},
		{"flipped header", func(t *testing.T, p string) { flip(t, p, 40) }, 1, ErrReplicaAuth},
		{"cut at a segment", func(t *testing.T, p string) {
			if err := os.Truncate(p, encHeadLen+2*segSealed); err != nil {
				t.Fatal(err)
			}
		}, 1, ErrReplicaAuth},
		{"renamed", func(t *testing.T, p string) {
			if err := os.Rename(p, filepath.Join(filepath.Dir(p), ltx.FormatFilename(1, 2))); err != nil {
				t.Fatal(err)
			}
		}, 1, ErrReplicaAuth},
		{"in clear", func(t *testing.T, p string) {
			if err := os.WriteFile(filepath.Join(filepath.Dir(p), ltx.FormatFilename(1, 2)), plain, 0o600); err != nil {
				t.Fatal(err)
			}
		}, 1, ErrReplicaFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inner := file.NewReplicaClient(t.TempDir())
			w := testClient(t, inner, 1)
			written := ltx.TXID(2)
			if tc.name == "renamed" {
				written = 3 // and renamed to 1-2 by change
			}
			if _, err := w.WriteLTXFile(ctx, 0, 1, written, bytes.NewReader(plain)); err != nil {
				t.Fatal(err)
			}
			tc.change(t, inner.LTXFilePath(0, 1, written))
			got, err := readAll(t, testClient(t, inner, tc.key), 0, 0)
			if !errors.Is(err, tc.want) {
				t.Fatalf("read: %v (%d bytes), want %v", err, len(got), tc.want)
			}
		})
	}
}

func flip(t *testing.T, path string, at int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[at] ^= 1
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// FuzzSealedSegments: decoding arbitrary bytes as an encrypted file never
// panics and yields either an error or exactly the plaintext sealed under
// the key at that place (authenticity).
func FuzzSealedSegments(f *testing.F) {
	c, err := NewSealedClient(nil, testKey(f, 9))
	if err != nil {
		f.Fatal(err)
	}
	// Small seeds keep the fuzzer fast; segment boundaries are covered by
	// TestSealedRanges.
	plain := ltxLike(300)
	enc := sealedWriter(f, c, plain)
	f.Add(enc, int64(0), int64(0))
	f.Add(enc, int64(150), int64(10))
	f.Add(enc[:encHeadLen+20], int64(0), int64(0))
	f.Add(sealedWriter(f, c, ltxLike(ltx.HeaderSize)), int64(0), int64(ltx.HeaderSize))
	f.Add([]byte("LTX1"), int64(0), int64(0))
	f.Fuzz(func(t *testing.T, b []byte, off, size int64) {
		if off < 0 || size < 0 || off > 1<<40 || size > 1<<40 {
			return
		}
		got, err := decodeBytes(c, b, off, size)
		if err != nil {
			return
		}
		if !bytes.Equal(b, enc) {
			// Only the genuine file opens in full; anything else that
			// opens must still be a range of the genuine plaintext.
			// (A range past the end reads no segment and yields nothing:
			// no bytes, so none forged.)
			if len(got) > 0 && (off > int64(len(plain)) || !bytes.Equal(got, plain[off:min(off+int64(len(got)), int64(len(plain)))])) {
				t.Fatalf("forged input decoded to %d bytes not from the plaintext", len(got))
			}
			return
		}
		end := int64(len(plain))
		if size > 0 {
			end = min(end, off+size)
		}
		if off <= int64(len(plain)) && !bytes.Equal(got, plain[off:end]) {
			t.Fatalf("read %d+%d of the genuine file: wrong bytes", off, size)
		}
	})
}

func sealedWriter(t testing.TB, c *SealedClient, plain []byte) []byte {
	t.Helper()
	mc := &memClient{}
	c2 := *c
	c2.inner = mc
	if _, err := c2.WriteLTXFile(context.Background(), 0, 1, 2, bytes.NewReader(plain)); err != nil {
		t.Fatal(err)
	}
	return mc.data
}

// decodeBytes decodes the range off+size of an encrypted file held in b
// (level 0, TXIDs 1-2).
func decodeBytes(c *SealedClient, b []byte, off, size int64) ([]byte, error) {
	c2 := *c
	c2.inner = &memClient{data: b}
	rc, err := c2.OpenLTXFile(context.Background(), 0, 1, 2, off, size)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// BenchmarkSealedWrite and BenchmarkSealedRead: encrypting and decrypting
// a 4 MiB LTX file in memory.
func BenchmarkSealedWrite(b *testing.B) {
	c, err := NewSealedClient(&memClient{}, testKey(b, 1))
	if err != nil {
		b.Fatal(err)
	}
	plain := ltxLike(4 << 20)
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.WriteLTXFile(context.Background(), 0, 1, 2, bytes.NewReader(plain)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSealedRead(b *testing.B) {
	c, err := NewSealedClient(&memClient{}, testKey(b, 1))
	if err != nil {
		b.Fatal(err)
	}
	plain := ltxLike(4 << 20)
	if _, err := c.WriteLTXFile(context.Background(), 0, 1, 2, bytes.NewReader(plain)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	for b.Loop() {
		rc, err := c.OpenLTXFile(context.Background(), 0, 1, 2, 0, 0)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			b.Fatal(err)
		}
		rc.Close()
	}
}
