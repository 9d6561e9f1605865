package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
)

// TestConcurrentWritersReaders runs uploads from several goroutines while
// others list recordings and read captures, then checks every capture.
func TestConcurrentWritersReaders(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()
	const (
		writers = 4
		uploads = 6
		readers = 3
	)
	var (
		wg      sync.WaitGroup
		errMu   sync.Mutex
		errs    []error
		written = make([][]byte, writers*uploads)
	)
	fail := func(err error) {
		errMu.Lock()
		errs = append(errs, err)
		errMu.Unlock()
	}
	done := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			for u := range uploads {
				k := w*uploads + u
				data := randBytes(uint64(k), 5000+k*131)
				id, _, err := db.BeginUpload(ctx, "d", fmt.Sprintf("c%d.pcap", k), FileName{RegName: "u"}, "u")
				if err != nil {
					fail(err)
					return
				}
				for off := 0; off < len(data); off += 1000 {
					if err := db.AppendChunk(ctx, id, data[off:min(off+1000, len(data))]); err != nil {
						fail(err)
						return
					}
				}
				if err := db.FinishUpload(ctx, id, StateReceiving, sumHex(data)); err != nil {
					fail(err)
					return
				}
				if err := db.SetAnalysis(ctx, id, Analysis{State: StateReady}); err != nil {
					fail(err)
					return
				}
				written[k] = data
			}
		})
	}
	var rg sync.WaitGroup
	for range readers {
		rg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				rs, _, err := db.ListRecordings(ctx, ListFilter{Query: "u", Limit: 10})
				if err != nil {
					fail(err)
					return
				}
				for _, r := range rs {
					if r.State != StateReady {
						continue
					}
					cr, err := db.OpenCapture(ctx, r.ID)
					if err != nil {
						fail(err)
						return
					}
					got, err := io.ReadAll(cr)
					cr.Close()
					if err != nil || int64(len(got)) != r.Size || sumHex(got) != r.SHA256 {
						fail(fmt.Errorf("reader: capture %d: %d bytes (want %d), err %v", r.ID, len(got), r.Size, err))
						return
					}
				}
				if _, err := db.RecordingsInState(ctx, StateReceiving); err != nil {
					fail(err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	rg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for k, data := range written {
		r, err := db.RecordingByName(ctx, "d", fmt.Sprintf("c%d.pcap", k))
		if err != nil {
			t.Fatal(err)
		}
		cr, err := db.OpenCapture(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(cr)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("capture %d differs after concurrent run: %v", k, err)
		}
	}
}
