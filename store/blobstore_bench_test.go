package store

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"recordings/internal/blobtest"
	"recordings/internal/sealed"
)

// benchCapture is the capture size of the object-store benchmarks: about
// 8 minutes of a G.711 call as captured (RTP in pcap, both directions).
const benchCapture = 8 << 20

func benchDB(b *testing.B, key *sealed.Key) *DB {
	b.Helper()
	db, err := OpenOptions(context.Background(), filepath.Join(b.TempDir(), "rec.db"), testLogger(b),
		Options{BcryptCost: bcrypt.MinCost, MasterKey: key})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

func benchKeys(b *testing.B) []struct {
	name string
	key  *sealed.Key
} {
	return []struct {
		name string
		key  *sealed.Key
	}{{"clear", nil}, {"encrypted", testKey(b, 9)}}
}

// BenchmarkUploadSpool: the acknowledged path of an upload, 256 KiB
// chunks appended to the database (the spool of either store).
func BenchmarkUploadSpool(b *testing.B) {
	for _, k := range benchKeys(b) {
		b.Run(k.name, func(b *testing.B) {
			db := benchDB(b, k.key)
			ctx := context.Background()
			data := randBytes(1, MaxChunkSize)
			id, _, err := db.BeginUpload(ctx, "d", "bench.pcap", FileName{}, "a")
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(MaxChunkSize)
			b.ResetTimer()
			for b.Loop() {
				if err := db.AppendChunk(ctx, id, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkShipCapture: shipping an 8 MiB capture to the bucket (copy,
// read back, SHA-256 check, switch), the throughput of moving captures to
// object storage and of migrate-captures.
func BenchmarkShipCapture(b *testing.B) {
	for _, k := range benchKeys(b) {
		b.Run(k.name, func(b *testing.B) {
			bl, _ := blobtest.Bucket(b, "bench")
			db := benchDB(b, k.key)
			db.AddBlobs(bl)
			ctx := context.Background()
			data := randBytes(2, benchCapture)
			b.SetBytes(benchCapture)
			i := 0
			for b.Loop() {
				b.StopTimer()
				i++
				id := upload(b, db, "d", fmt.Sprintf("s%d.pcap", i), "a", data)
				if err := db.SetAnalysis(ctx, id, Analysis{State: StateReady}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if ok, err := db.ShipCapture(ctx, id, bl); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}

// BenchmarkSeekCapture: a seek to a random place and a 4 KiB read, as the
// renderer does for a Range request, in the database and in the bucket.
func BenchmarkSeekCapture(b *testing.B) {
	for _, where := range []string{"sqlite", "s3"} {
		for _, k := range benchKeys(b) {
			b.Run(where+"/"+k.name, func(b *testing.B) {
				db := benchDB(b, k.key)
				ctx := context.Background()
				data := randBytes(3, benchCapture)
				id := upload(b, db, "d", "seek.pcap", "a", data)
				if err := db.SetAnalysis(ctx, id, Analysis{State: StateReady}); err != nil {
					b.Fatal(err)
				}
				if where == "s3" {
					bl, _ := blobtest.Bucket(b, "")
					if ok, err := db.ShipCapture(ctx, id, bl); !ok || err != nil {
						b.Fatal(ok, err)
					}
				}
				c, err := db.OpenCapture(ctx, id)
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				r := rand.New(rand.NewPCG(1, 2))
				buf := make([]byte, 4096)
				for b.Loop() {
					off := r.Int64N(benchCapture - 4096)
					if _, err := c.Seek(off, io.SeekStart); err != nil {
						b.Fatal(err)
					}
					if _, err := io.ReadFull(c, buf); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
