package applog

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"recordings/internal/testutil"
)

// memSink collects batches; block, when set, holds every AddLogs until closed.
type memSink struct {
	mu      sync.Mutex
	entries []Record
	batches int
	block   chan struct{}
	err     error
}

func (s *memSink) AddLogs(ctx context.Context, es []Record) error {
	if s.block != nil {
		select {
		case <-s.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.entries = append(s.entries, es...)
	s.batches++
	return nil
}

func (s *memSink) all() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Record(nil), s.entries...)
}

// run starts l.Run and returns a function that stops it and waits.
func run(t *testing.T, l *Logger) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx, 5*time.Millisecond, 100) }()
	return func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return")
		}
	}
}

func newTest(t *testing.T, sink Sink) (*Logger, *slog.Logger, *testutil.LogBuffer) {
	t.Helper()
	out := &testutil.LogBuffer{}
	l := New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo}), NewLevels(slog.LevelInfo), sink, 0)
	return l, l.Slog(), out
}

func TestParseLevel(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want slog.Level
		err  bool
	}{
		{"off", LevelOff, false},
		{"OFF", LevelOff, false},
		{"error", slog.LevelError, false},
		{" warn ", slog.LevelWarn, false},
		{"warning", slog.LevelWarn, false},
		{"Info", slog.LevelInfo, false},
		{"debug", slog.LevelDebug, false},
		{"trace", slog.LevelDebug, false},
		{"INFO+2", slog.LevelInfo + 2, false},
		{"", 0, true},
		{"loud", 0, true},
		{"info+x", 0, true},
	} {
		got, err := ParseLevel(tc.in)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v, err %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestLevels(t *testing.T) {
	lv := NewLevels(slog.LevelInfo)
	if err := lv.Set("Sound", slog.LevelDebug); err == nil {
		t.Error("unknown category accepted")
	}
	if err := lv.Set("call information", slog.LevelDebug); err != nil {
		t.Fatal(err)
	}
	if got := lv.Level(CallInformation); got != slog.LevelDebug {
		t.Errorf("Call Information = %v, want DEBUG", got)
	}
	if got := lv.Level(Recording); got != slog.LevelInfo {
		t.Errorf("Recording = %v, want the default INFO", got)
	}
	if lv.lowest() != slog.LevelDebug {
		t.Errorf("lowest = %v", lv.lowest())
	}
	if err := lv.Set(CallInformation, LevelOff); err != nil {
		t.Fatal(err)
	}
	if lv.lowest() != slog.LevelInfo {
		t.Errorf("lowest after raising = %v, want INFO", lv.lowest())
	}
	cs := Categories()
	cs[0] = "changed"
	if Categories()[0] != Recording {
		t.Error("Categories shares its slice")
	}
}

func TestHandlerFields(t *testing.T) {
	sink := &memSink{}
	l, log, out := newTest(t, sink)
	stop := run(t, l)
	log.Info("upload started", "category", "Recording", "user", "alice", "id", int64(42), "bytes", 1000,
		"took", 1500*time.Millisecond, "err", errors.New("boom"))
	log.With("category", "UI", "user", "bob").WithGroup("req").Info("signed in", "remote", "10.0.0.1",
		slog.Group("tls", "ok", true))
	log.Info("no category")
	log.Info("call details attached", "category", CallInformation, "id", int64(9), "owner", "carol")
	stop()
	got := sink.all()
	if len(got) != 4 {
		t.Fatalf("%d entries stored, want 4: %+v", len(got), got)
	}
	if e := got[3]; e.User != "carol" || e.RecordingID != 9 || !strings.Contains(string(e.Attrs), `"owner":"carol"`) {
		t.Errorf("owner as user: %+v %s", e, e.Attrs)
	}
	got = got[:3]
	if len(got) != 3 {
		t.Fatalf("%d entries stored, want 3: %+v", len(got), got)
	}
	e := got[0]
	if e.Category != Recording || e.User != "alice" || e.RecordingID != 42 || e.Message != "upload started" || e.Level != "INFO" {
		t.Errorf("entry 0 = %+v", e)
	}
	var attrs map[string]any
	if err := json.Unmarshal(e.Attrs, &attrs); err != nil {
		t.Fatalf("attrs %s: %v", e.Attrs, err)
	}
	if attrs["bytes"] != 1000.0 || attrs["took"] != "1.5s" || attrs["err"] != "boom" || attrs["id"] != 42.0 {
		t.Errorf("attrs = %v", attrs)
	}
	if _, ok := attrs["user"]; ok {
		t.Error("user duplicated into attrs")
	}
	e = got[1]
	if e.Category != UI || e.User != "bob" {
		t.Errorf("entry 1 = %+v (category and user set with With before a group must apply)", e)
	}
	attrs = nil
	if err := json.Unmarshal(e.Attrs, &attrs); err != nil {
		t.Fatal(err)
	}
	if attrs["req.remote"] != "10.0.0.1" || attrs["req.tls.ok"] != true {
		t.Errorf("grouped attrs = %v", attrs)
	}
	if got[2].Category != System {
		t.Errorf("uncategorised entry has category %q", got[2].Category)
	}
	if s := out.String(); !strings.Contains(s, "msg=\"upload started\"") || !strings.Contains(s, "category=Recording") {
		t.Errorf("process log lacks readable lines:\n%s", s)
	}
}

func TestLevelsAtRuntime(t *testing.T) {
	sink := &memSink{}
	l, log, out := newTest(t, sink)
	stop := run(t, l)
	log.Debug("hidden", "category", Converting)
	if err := l.Levels().Set(Converting, slog.LevelDebug); err != nil {
		t.Fatal(err)
	}
	log.Debug("shown", "category", Converting)
	log.Debug("other category still hidden", "category", Recording)
	if err := l.Levels().Set(Recording, LevelOff); err != nil {
		t.Fatal(err)
	}
	log.Info("off", "category", Recording)
	log.Error("off but an error", "category", Recording)
	stop()
	var msgs []string
	for _, e := range sink.all() {
		msgs = append(msgs, e.Message)
	}
	if strings.Join(msgs, "|") != "shown" {
		t.Errorf("stored %q, want only [shown]", msgs)
	}
	if s := out.String(); !strings.Contains(s, "off but an error") || strings.Contains(s, "msg=off ") {
		t.Errorf("process log must keep errors of an off category and drop its info:\n%s", s)
	}
}

func TestBlockedSinkDoesNotBlockCallers(t *testing.T) {
	sink := &memSink{block: make(chan struct{})}
	out := &testutil.LogBuffer{}
	l := New(slog.NewTextHandler(out, nil), NewLevels(slog.LevelInfo), sink, 64)
	log := l.Slog()
	stop := run(t, l)
	const n = 10000
	// Log from another goroutine while the sink stays blocked: if a call
	// waited for the sink, the loop would never end.
	type result struct{ total, worst time.Duration }
	res := make(chan result, 1)
	go func() {
		start := time.Now()
		var worst time.Duration
		for i := range n {
			t0 := time.Now()
			log.Info("event", "category", Recording, "i", i)
			worst = max(worst, time.Since(t0))
		}
		res <- result{time.Since(start), worst}
	}()
	var r result
	select {
	case r = <-res:
	case <-time.After(30 * time.Second):
		t.Fatal("logging calls blocked on a blocked sink")
	}
	t.Logf("%d records with the sink blocked: %v total, slowest call %v, dropped %d", n, r.total, r.worst, l.Dropped())
	if l.Dropped() < n-64-100 {
		t.Errorf("dropped %d of %d, want nearly all (the queue holds 64, one batch of 100 may be in flight)", l.Dropped(), n)
	}
	if avg := r.total / n; avg > 5*time.Millisecond {
		t.Errorf("a logging call took %v on average with the sink blocked", avg)
	}
	close(sink.block)
	stop()
	if got := len(sink.all()); got == 0 || int64(got)+l.Dropped() != n {
		t.Errorf("stored %d + dropped %d != %d", got, l.Dropped(), n)
	}
}

func TestSinkErrorIsReported(t *testing.T) {
	sink := &memSink{err: errors.New("disk full")}
	l, log, out := newTest(t, sink)
	stop := run(t, l)
	log.Info("a")
	log.Info("b")
	stop()
	if l.Failed() != 2 {
		t.Errorf("Failed = %d, want 2", l.Failed())
	}
	if !strings.Contains(out.String(), "storing logs failed") || !strings.Contains(out.String(), "disk full") {
		t.Errorf("process log does not tell:\n%s", out.String())
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abcdef", 3, "abc"},
		{"aé", 2, "a"},
		{"aéb", 3, "aé"},
		{"日本", 4, "日"},
	} {
		if got := truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func BenchmarkHandle(b *testing.B) {
	sink := &memSink{}
	l := New(slog.DiscardHandler, NewLevels(slog.LevelInfo), sink, 1<<20)
	log := l.Slog()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		log.Info("upload complete", "category", Recording, "user", "alice", "id", int64(i), "bytes", 12345)
		if i%1000 == 999 {
			for len(l.queue) > 0 {
				<-l.queue
			}
		}
	}
}
