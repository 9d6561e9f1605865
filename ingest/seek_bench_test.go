//go:build linux

package ingest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"recordings/ingest"
	"recordings/internal/callgen"
	"recordings/internal/sealed"
	"recordings/store"
)

// BenchmarkPrepareAfterRestart is the first range after a restart through
// the service, store included: a new ingest.Service over the database
// (nothing cached) prepares the recording (reads the stored checkpoint set,
// opens it with the recording's data key when sealed, parses it and the
// analysis' plan) and renders a range at 50 % to its first byte. It fails
// if that analyses the capture or renders from its start. cpu-ns/op is the
// thread's CPU time. SEEK_CAPTURE names a capture to store (default a
// generated one-hour G.711 call), e.g. one of the seek benchmarks' in
// $TMPDIR/recordings-seekbench:
//
//	SEEK_CAPTURE=/tmp/recordings-seekbench/G729-4h0m0s.pcap go test -run XXX -bench PrepareAfterRestart -benchtime 20x ./ingest/
func BenchmarkPrepareAfterRestart(b *testing.B) {
	capture := callgen.Default(180_000).Bytes()
	if path := os.Getenv("SEEK_CAPTURE"); path != "" {
		var err error
		if capture, err = os.ReadFile(path); err != nil {
			b.Fatal(err)
		}
	}
	for _, seal := range []bool{false, true} {
		b.Run(fmt.Sprintf("sealed=%v", seal), func(b *testing.B) {
			ctx := context.Background()
			log := slog.New(slog.DiscardHandler)
			db, rec := benchRecording(ctx, b, log, capture, seal)
			var cpu time.Duration
			var stored int
			for b.Loop() {
				svc := ingest.New(db, log, ingest.Options{})
				runtime.LockOSThread()
				c0 := threadCPU()
				p, err := svc.Prepare(ctx, rec)
				if err != nil {
					b.Fatal(err)
				}
				off := 44 + (p.Size()-44)/2/4*4
				if err := p.WriteWAVRange(ctx, firstByte{}, off, p.Size()-off); !errors.Is(err, errFirstByte) {
					b.Fatal(err)
				}
				cpu += time.Duration(threadCPU() - c0)
				runtime.UnlockOSThread()
				if n, m := svc.PlaybackAnalyses(), svc.RendersFromStart(); n != 0 || m != 0 {
					b.Fatalf("%d analyses, %d renders from the start", n, m)
				}
				stored = p.Checkpoints.Size()
			}
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(stored), "checkpoint-B")
		})
	}
}

// benchRecording stores capture as a ready recording (encrypted when seal)
// and has the service record and store its checkpoints with its plan.
func benchRecording(ctx context.Context, b *testing.B, log *slog.Logger, capture []byte, seal bool) (*store.DB, store.Recording) {
	b.Helper()
	opt := store.Options{BcryptCost: 4}
	if seal {
		k, err := sealed.NewDataKey()
		if err != nil {
			b.Fatal(err)
		}
		opt.MasterKey = k
	}
	db, err := store.OpenOptions(ctx, filepath.Join(b.TempDir(), "rec.db"), log, opt)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	name := "f9e5956e47d460010630009033302ab1-009033302ab1-1--alice.pcap"
	id, _, err := db.BeginUpload(ctx, "example.com", name, store.FileName{ConfID: name[:32], MAC: "009033302ab1", Serial: "1", RegName: "alice"}, "alice")
	if err != nil {
		b.Fatal(err)
	}
	for off := 0; off < len(capture); off += 256 << 10 {
		if err := db.AppendChunk(ctx, id, capture[off:min(off+256<<10, len(capture))]); err != nil {
			b.Fatal(err)
		}
	}
	sum := sha256.Sum256(capture)
	if err := db.FinishUpload(ctx, id, store.StateReceiving, hex.EncodeToString(sum[:])); err != nil {
		b.Fatal(err)
	}
	if err := db.SetAnalysis(ctx, id, store.Analysis{State: store.StateReady}); err != nil {
		b.Fatal(err)
	}
	rec, err := db.Recording(ctx, id)
	if err != nil {
		b.Fatal(err)
	}
	// The first Prepare analyses it and records its checkpoints in the
	// background, which stores them with the plan.
	svc := ingest.New(db, log, ingest.Options{})
	done := make(chan int64, 1)
	svc.NotifyCheckpointed(done)
	rctx, cancel := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { defer close(ran); svc.Run(rctx) }()
	defer func() { cancel(); <-ran }()
	for !svc.Running() {
		runtime.Gosched()
	}
	if _, err := svc.Prepare(ctx, rec); err != nil {
		b.Fatal(err)
	}
	<-done
	if st, err := db.CaptureStats(ctx); err != nil || (st.Encrypted > 0) != seal {
		b.Fatalf("capture stats: %+v, %v", st, err)
	}
	return db, rec
}

// errFirstByte ends a range once its first bytes arrived.
var errFirstByte = errors.New("first byte")

type firstByte struct{}

func (firstByte) Write([]byte) (int, error) { return 0, errFirstByte }

var _ io.Writer = firstByte{}

// threadCPU returns the calling thread's CPU time in ns
// (CLOCK_THREAD_CPUTIME_ID), or -1.
func threadCPU() int64 {
	const clockThreadCPUTime = 3
	var ts syscall.Timespec
	if _, _, e := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return -1
	}
	return ts.Nano()
}
