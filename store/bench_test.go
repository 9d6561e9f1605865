package store

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"recordings/store/listquery"
)

const benchRows = 1_000_000

// benchFixture returns a database of benchRows recordings, built once with
// a bulk insert and cached in the temp directory across benchmark runs.
func benchFixture(b *testing.B) *DB {
	b.Helper()
	ctx := context.Background()
	// Not named by schema version: a cached fixture of an older schema is
	// upgraded by Open like any database (and then re-analysed).
	path := filepath.Join(os.TempDir(), fmt.Sprintf("recordings-store-bench-f4-%d.db", benchRows))
	if _, err := os.Stat(path); err != nil {
		b.Logf("building %d-row fixture at %s (once)", benchRows, path)
		start := time.Now()
		tmp := path + ".building"
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(tmp + suffix)
		}
		if err := buildFixture(ctx, tmp); err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			b.Fatal(err)
		}
		b.Logf("fixture built in %v", time.Since(start).Round(time.Millisecond))
	}
	start := time.Now()
	db, err := Open(ctx, path, slog.New(slog.NewTextHandler(testWriter{b}, nil)))
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("open (with any pending migrations) took %v", time.Since(start).Round(time.Millisecond))
	b.Cleanup(func() { db.Close() })
	var unanalysed int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index'
		AND tbl_name = 'recordings' AND name NOT IN (SELECT idx FROM sqlite_stat1 WHERE idx IS NOT NULL)`).Scan(&unanalysed); err != nil {
		b.Fatal(err)
	}
	if unanalysed > 0 {
		if _, err := db.w.ExecContext(ctx, `ANALYZE recordings`); err != nil {
			b.Fatal(err)
		}
	}
	return db
}

var benchSurnames = []string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner",
	"Becker", "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder",
	"Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt",
	"Werner", "Schmitz", "Krause", "Meier", "Lehmann", "Schmid", "Schulze", "Maier", "Köhler", "Herrmann",
	"König", "Walter", "Mayer", "Huber", "Kaiser", "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß",
	"Jung", "Hahn", "Schubert", "Vogel", "Friedrich", "Keller", "Günther", "Frank", "Berger", "Winkler",
	"Roth", "Beck", "Lorenz", "Baumann", "Franke", "Albrecht", "Schuster", "Simon", "Ludwig", "Böhm",
	"Winter", "Kraus", "Martin", "Schumacher", "Krämer", "Vogt", "Stein", "Jäger", "Otto", "Sommer",
	"Groß", "Seidel", "Heinrich", "Brandt", "Haas", "Schreiber", "Graf", "Schulte", "Dietrich", "Ziegler",
	"Kuhn", "Kühn", "Pohl", "Engel", "Horn", "Busch", "Bergmann", "Thomas", "Voigt", "Sauer", "Arnold",
	"Wolff", "Pfeiffer"}

// buildFixture writes benchRows recordings over two years, 200 owners,
// with CDR peers, small stats and envelopes, in one transaction under
// schema 1, then opens the file again so that the later migrations (the
// trigram index) run over the million rows as an upgrade would.
func buildFixture(ctx context.Context, path string) error {
	if err := bulkInsert(ctx, path); err != nil {
		return err
	}
	db, err := Open(ctx, path, nil)
	if err != nil {
		return err
	}
	if _, err := db.w.ExecContext(ctx, `ANALYZE`); err != nil {
		db.Close()
		return err
	}
	if _, err = db.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		db.Close()
		return err
	}
	return db.Close()
}

func bulkInsert(ctx context.Context, path string) error {
	db, err := OpenOptions(ctx, path, nil, Options{migrateTo: 1})
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.w.ExecContext(ctx, `PRAGMA cache_size = -262144`); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(1, 2))
	stats := []byte(`{"rtp":{"local":{"packets":12345,"lost":3},"remote":{"packets":12340,"lost":0}}}`)
	env := make([]byte, 256)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	step := int64(2*365*24*time.Hour/time.Millisecond) / benchRows
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `INSERT INTO recordings (domain, name, conf_id, mac, serial, reg_name,
		state, size, nchunks, sha256, created_at, updated_at, codec, duration_ms, stats, envelope, owner,
		direction, peer_name, peer_number, connected_at, call_ms, cdr, search)
		VALUES ('pbx.example.com', ?, ?, ?, '', ?, 'ready', ?, ?, ?, ?, ?, 'PCMA', ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for i := range benchRows {
		created := t0 + int64(i)*step + r.Int64N(step)
		owner := fmt.Sprintf("user%03d", r.IntN(200))
		peer := benchSurnames[r.IntN(len(benchSurnames))] + ", " + benchSurnames[r.IntN(len(benchSurnames))]
		number := fmt.Sprintf("+49%d", 100000000+r.IntN(900000000))
		dir := "in"
		if r.IntN(2) == 0 {
			dir = "out"
		}
		dur := int64(5000 + r.IntN(600000))
		env[0] = byte(i)
		_, err := st.ExecContext(ctx, fmt.Sprintf("rec-%07d.pcap", i), fmt.Sprintf("%016x", r.Uint64()),
			"009033000000", owner, dur*16+200, dur/1000/16+1, fmt.Sprintf("%064x", i), created, created,
			dur, stats, env, owner, dir, peer, number, created, dur, listquery.SearchText(listquery.DefaultNumberPlan, owner, peer, number, owner))
		if err != nil {
			return fmt.Errorf("row %d: %w", i, err)
		}
	}
	return tx.Commit()
}

// measure runs fn b.N times and reports its p50 and p99 latency in ms,
// and on Linux the p50 and p99 of the CPU time the calling thread spent in
// it: wall-clock percentiles on a shared two-core machine measure the
// scheduler as much as the query, CPU time does not.
func measure(b *testing.B, fn func() error) {
	b.Helper()
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	lat := make([]time.Duration, 0, b.N)
	cpu := make([]time.Duration, 0, b.N)
	for range 3 { // warm the page cache: p99 is about steady state
		if err := fn(); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		c0, cok := threadCPU()
		t := time.Now()
		if err := fn(); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t))
		if c1, ok := threadCPU(); ok && cok {
			cpu = append(cpu, time.Duration(c1-c0))
		}
	}
	b.StopTimer()
	report := func(d []time.Duration, unit string) {
		if len(d) == 0 {
			return
		}
		slices.Sort(d)
		ms := func(q float64) float64 {
			return float64(d[min(len(d)-1, int(q*float64(len(d))))].Microseconds()) / 1000
		}
		b.ReportMetric(ms(0.50), "p50-"+unit)
		b.ReportMetric(ms(0.99), "p99-"+unit)
	}
	report(lat, "ms")
	report(cpu, "cpu-ms")
}

func BenchmarkListRecordings(b *testing.B) {
	db := benchFixture(b)
	ctx := context.Background()
	var created, id int64
	if err := db.r.QueryRowContext(ctx, `SELECT created_at, id FROM recordings
		ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET 499999`).Scan(&created, &id); err != nil {
		b.Fatal(err)
	}
	deep := listquery.Cursor{At: created, ID: id}.String()
	// The number of the oldest recording: a search for it finds one row,
	// at the very end of the newest-first order.
	var rare string
	if err := db.r.QueryRowContext(ctx, `SELECT peer_number FROM recordings ORDER BY created_at, id LIMIT 1`).Scan(&rare); err != nil {
		b.Fatal(err)
	}
	mid := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		f    ListFilter
		want int  // rows on the page
		cold bool // without the trigram counts of earlier searches
	}{
		{"first", ListFilter{}, 50, false},
		{"deep-500000", ListFilter{Cursor: deep}, 50, false},
		{"query-name", ListFilter{Query: "müller"}, 50, false}, // ~2% of rows
		{"query-name-folded", ListFilter{Query: "mueller"}, 50, false},
		{"query-two-words", ListFilter{Query: "weber schmidt"}, 10, false},
		{"query-number", ListFilter{Query: "+49123"}, 50, false}, // ~0.1%
		{"query-number-cold", ListFilter{Query: "+49123"}, 50, true},
		{"query-number-national", ListFilter{Query: "0123"}, 50, false}, // the same numbers
		{"query-number-digits", ListFilter{Query: "2345"}, 50, false},   // anywhere in the number
		{"query-number-common", ListFilter{Query: "+4912"}, 50, false},  // ~1%
		{"oldest", ListFilter{Order: OrderOldest}, 50, false},
		{"query-rare", ListFilter{Query: rare}, 1, false}, // the oldest row only
		{"query-deep", ListFilter{Query: "weber", Cursor: deep}, 50, false},
		{"owner", ListFilter{Owners: []string{"user042"}}, 50, false}, // 0.5%
		{"owner-deep", ListFilter{Owners: []string{"user042"}, Cursor: deep}, 50, false},
		{"owners-3", ListFilter{Owners: []string{"user001", "user002", "user003"}}, 50, false},
		{"owner-query", ListFilter{Owners: []string{"user042"}, Query: "schmidt"}, 50, false},
		{"range", ListFilter{From: mid.AddDate(0, -1, 0), To: mid}, 50, false},
		{"limit-500", ListFilter{Limit: 500}, 500, false},
	} {
		f := c.f
		b.Run(c.name+"+count", func(b *testing.B) {
			// What the API does for each page: the page and the count.
			measure(b, func() error {
				if c.cold {
					db.trigrams.reset()
				}
				rs, _, err := db.ListRecordings(ctx, f)
				if err != nil {
					return err
				}
				if len(rs) < c.want {
					return fmt.Errorf("%d rows, want ≥ %d", len(rs), c.want)
				}
				if n, _, err := db.CountRecordings(ctx, f); err != nil || n < 0 {
					return fmt.Errorf("count %d, %v", n, err)
				}
				return nil
			})
		})
		b.Run(c.name, func(b *testing.B) {
			measure(b, func() error {
				if c.cold {
					db.trigrams.reset()
				}
				rs, _, err := db.ListRecordings(ctx, c.f)
				if err != nil {
					return err
				}
				if len(rs) < c.want {
					return fmt.Errorf("%d rows, want ≥ %d", len(rs), c.want)
				}
				return nil
			})
		})
	}
}

func BenchmarkAppendChunk(b *testing.B) {
	for _, size := range []int{16 << 10, MaxChunkSize} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			db, _ := openTest(b)
			ctx := context.Background()
			data := randBytes(7, size)
			id, _, err := db.BeginUpload(ctx, "d", "bench.pcap", FileName{}, "")
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := db.AppendChunk(ctx, id, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkReadCapture(b *testing.B) {
	db, _ := openTest(b)
	ctx := context.Background()
	data := randBytes(9, 8<<20)
	id := upload(b, db, "d", "read.pcap", "", data)
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		cr, err := db.OpenCapture(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := cr.Read(buf)
			if err != nil {
				break
			}
		}
		cr.Close()
	}
}
