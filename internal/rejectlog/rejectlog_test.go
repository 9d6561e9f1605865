package rejectlog

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"recordings/internal/testutil"
)

func newLog(t *testing.T, opt Options) (*Log, *testutil.Clock, *testutil.LogBuffer) {
	t.Helper()
	clk := testutil.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	buf := &testutil.LogBuffer{}
	opt.Now = clk.Now
	return New(slog.New(slog.NewTextHandler(buf, nil)), opt), clk, buf
}

func lines(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// A flood from one source is one line per window, with the count and the
// first reason.
func TestFloodIsOneLinePerSourcePerWindow(t *testing.T) {
	t.Parallel()
	l, clk, buf := newLog(t, Options{})
	for i := range 10000 {
		l.Refused("192.0.2.7", fmt.Sprintf("wrong password %d", i))
		l.Refused("198.51.100.1", "no credentials")
	}
	l.Flush()
	if got := lines(buf.String()); len(got) != 0 {
		t.Fatalf("lines before the window ended: %q", got)
	}
	clk.Advance(time.Minute)
	l.Flush()
	got := lines(buf.String())
	if len(got) != 2 {
		t.Fatalf("%d lines, want 2: %q", len(got), got)
	}
	for _, want := range []string{"remote=192.0.2.7", "count=10000", `reason="wrong password 0"`} {
		if !strings.Contains(got[0]+got[1], want) {
			t.Errorf("no %s in %q", want, got)
		}
	}
	// Nothing more is written for an empty window.
	clk.Advance(time.Hour)
	l.Flush()
	if n := len(lines(buf.String())); n != 2 {
		t.Fatalf("%d lines after an idle hour", n)
	}
}

// A refusal after the window ended writes the ended window first.
func TestNextWindowWritesThePrevious(t *testing.T) {
	t.Parallel()
	l, clk, buf := newLog(t, Options{Window: 10 * time.Second})
	l.Refused("a", "r1")
	clk.Advance(10 * time.Second)
	l.Refused("a", "r2")
	got := lines(buf.String())
	if len(got) != 1 || !strings.Contains(got[0], "count=1") || !strings.Contains(got[0], "reason=r1") {
		t.Fatalf("after the window: %q", got)
	}
	l.FlushAll()
	if got := lines(buf.String()); len(got) != 2 || !strings.Contains(got[1], "reason=r2") {
		t.Fatalf("after FlushAll: %q", got)
	}
}

// Many sources (addresses rotated by an attacker) are bounded too: beyond
// MaxSources they are summed under one line.
func TestManySourcesAreBounded(t *testing.T) {
	t.Parallel()
	l, clk, buf := newLog(t, Options{MaxSources: 5})
	for i := range 1000 {
		l.Refused(fmt.Sprintf("2001:db8::%x", i), "no credentials")
	}
	clk.Advance(time.Minute)
	l.Flush()
	got := lines(buf.String())
	if len(got) != 6 {
		t.Fatalf("%d lines, want 5 sources + the others: %q", len(got), got)
	}
	if !strings.Contains(got[5], `remote="(other sources)"`) || !strings.Contains(got[5], "count=995") {
		t.Fatalf("last line: %q", got[5])
	}
}

func TestLongTextIsClipped(t *testing.T) {
	t.Parallel()
	l, _, buf := newLog(t, Options{})
	l.Refused(strings.Repeat("s", 1000), strings.Repeat("é", 1000))
	l.FlushAll()
	out := buf.String()
	if len(out) > 1000 {
		t.Fatalf("line of %d bytes", len(out))
	}
	if strings.Contains(out, "\\x") {
		t.Fatalf("a UTF-8 sequence was cut: %s", out)
	}
}

// Run writes ended windows by itself and what is left when it stops.
func TestRunFlushes(t *testing.T) {
	t.Parallel()
	l, _, buf := newLog(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx, time.Millisecond) }()
	l.Refused("a", "r")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := lines(buf.String()); len(got) != 1 {
		t.Fatalf("after Run stopped: %q", got)
	}
}
