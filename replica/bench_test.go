package replica_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"recordings/store"
)

// BenchmarkReplicationLag writes the 1,000-call load into a replicated
// database — each op is one 20 KiB chunk of one of 1,000 uploads, paced
// at 1,000 chunks a second (every call persists about a second of G.711
// audio per second) — and samples the replication lag (how long the
// oldest transaction not yet on the replica has waited) every 50 ms.
// Reported: the lag's median, 99th percentile and maximum, and the time
// from the last write until the replica had everything (drain).
//
//	go test -run '^$' -bench ReplicationLag -benchtime 5000x ./replica/
func BenchmarkReplicationLag(b *testing.B) {
	for _, tc := range targets {
		b.Run(tc.name, func(b *testing.B) {
			tg := tc.target(b)
			r := start(b, tg)
			const calls, chunk, rate = 1000, 20 << 10, 1000
			ctx := context.Background()
			ids := make([]int64, calls)
			for i := range ids {
				id, _, err := r.db.BeginUpload(ctx, "example.com", fmt.Sprintf("call-%04d.pcap", i), store.FileName{RegName: "alice"}, "alice")
				if err != nil {
					b.Fatal(err)
				}
				ids[i] = id
			}
			data := make([]byte, chunk)
			var lags []float64
			stop := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				t := time.NewTicker(50 * time.Millisecond)
				defer t.Stop()
				for {
					select {
					case <-stop:
						return
					case <-t.C:
						lags = append(lags, r.svc.Status().LagSeconds)
					}
				}
			}()
			b.ResetTimer()
			begin := time.Now()
			for i := range b.N {
				if due := begin.Add(time.Duration(i) * time.Second / rate); time.Until(due) > 0 {
					time.Sleep(time.Until(due)) // pacing the load, not waiting for a result
				}
				data[0], data[1] = byte(i), byte(i>>8)
				if err := r.db.AppendChunk(ctx, ids[i%calls], data); err != nil {
					b.Fatal(err)
				}
			}
			wrote := time.Since(begin)
			last := time.Now()
			// A marker write after the load: the replica has everything
			// once it holds a transaction newer than those read before it.
			local := r.svc.Status().LocalTXID
			if err := r.db.AppendChunk(ctx, ids[0], data); err != nil {
				b.Fatal(err)
			}
			var seen time.Duration
			for {
				st := r.svc.Status()
				if seen == 0 && st.LocalTXID > local {
					seen = time.Since(last)
				}
				if st.LocalTXID > local && st.ReplicaTXID >= st.LocalTXID && st.LagSeconds == 0 {
					break
				}
				if time.Since(last) > time.Minute {
					b.Fatalf("replica did not catch up: %+v", st)
				}
				time.Sleep(5 * time.Millisecond) // polling a condition
			}
			drain := time.Since(last)
			b.Logf("marker read from the WAL after %v, on the replica after %v", seen, drain)
			b.StopTimer()
			close(stop)
			<-sampled
			slices.Sort(lags)
			q := func(p float64) float64 {
				if len(lags) == 0 {
					return 0
				}
				return lags[min(len(lags)-1, int(p*float64(len(lags))))]
			}
			b.ReportMetric(q(0.5)*1000, "lag-p50-ms")
			b.ReportMetric(q(0.99)*1000, "lag-p99-ms")
			b.ReportMetric(q(1)*1000, "lag-max-ms")
			b.ReportMetric(float64(drain.Milliseconds()), "drain-ms")
			b.ReportMetric(float64(b.N)/wrote.Seconds(), "chunks/s")
		})
	}
}
