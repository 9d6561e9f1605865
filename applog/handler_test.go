package applog

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"recordings/store"
)

type memSink struct {
	mu      sync.Mutex
	entries []store.LogEntry
	block   chan struct{}
}

func (m *memSink) AddLogs(_ context.Context, es []store.LogEntry) error {
	if m.block != nil {
		<-m.block
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = append(m.entries, es...)
	return nil
}

func (m *memSink) all() []store.LogEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]store.LogEntry(nil), m.entries...)
}

func TestLevelsPerCategory(t *testing.T) {
	var out bytes.Buffer
	levels := NewLevels(slog.LevelInfo)
	sink := &memSink{}
	l := New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}), levels, sink, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx, time.Millisecond, 10) }()
	log := l.Slog()

	log.Debug("hidden", "category", Converting)
	if err := levels.Set(Converting, slog.LevelDebug); err != nil {
		t.Fatal(err)
	}
	log.Debug("shown", "category", Converting, "user", "alice", "id", int64(7), "err", errors.New("boom"))
	log.With("category", UI).Info("ui line")
	log.Debug("system debug stays hidden")
	if err := levels.Set("Nonsense", slog.LevelDebug); err == nil {
		t.Fatal("unknown category accepted")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := sink.all()
	if len(got) != 2 {
		t.Fatalf("stored %d entries: %+v", len(got), got)
	}
	if e := got[0]; e.Message != "shown" || e.Category != Converting || e.User != "alice" || e.RecordingID != 7 || !strings.Contains(string(e.Attrs), "boom") {
		t.Fatalf("entry 0: %+v attrs=%s", e, e.Attrs)
	}
	if e := got[1]; e.Category != UI || e.Level != "INFO" {
		t.Fatalf("entry 1: %+v", e)
	}
	if s := out.String(); strings.Contains(s, "hidden") || !strings.Contains(s, "shown") {
		t.Fatalf("process log:\n%s", s)
	}
}

// A stalled database must never stall the code that logs.
func TestBlockedSinkDoesNotBlockCallers(t *testing.T) {
	sink := &memSink{block: make(chan struct{})}
	l := New(slog.NewTextHandler(&bytes.Buffer{}, nil), NewLevels(slog.LevelInfo), sink, 8)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx, time.Millisecond, 4) }()
	log := l.Slog()
	start := time.Now()
	for i := range 1000 {
		log.Info("line", "n", i)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("1000 log calls took %v with a blocked sink", d)
	}
	if l.Dropped() == 0 {
		t.Fatal("nothing counted as dropped although the queue was full")
	}
	close(sink.block)
	cancel()
	<-done
}

func TestParseLevel(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want slog.Level
		ok   bool
	}{{"off", slog.LevelError + 4, true}, {"Debug", slog.LevelDebug, true}, {"warn", slog.LevelWarn, true}, {"INFO", slog.LevelInfo, true}, {"loud", 0, false}} {
		got, err := ParseLevel(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseLevel(%q) = %v, %v", tc.in, got, err)
		}
	}
}
