// Package rejectlog logs refused requests in aggregated form: per source
// and per window (a minute by default) it writes one line with how many
// requests were refused and the reason of the first of them. A flood of
// refused requests therefore costs at most one line per source per window
// (and at most MaxSources+1 lines per window in all), so it can neither
// bury the real events of the log nor grow it without bound, while a
// misconfigured device still shows up in the log within a window.
package rejectlog

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"
	"unicode/utf8"
)

// Defaults of Options.
const (
	DefaultWindow     = time.Minute
	DefaultMaxSources = 100
	DefaultMessage    = "requests refused"
)

// OtherSources is the source under which the refusals of sources beyond
// MaxSources in a window are counted.
const OtherSources = "(other sources)"

// Bounds on what one entry keeps.
const (
	maxSourceLen = 128
	maxReasonLen = 256
)

// Options tune a Log; zero values take the defaults.
type Options struct {
	Now        func() time.Time // the clock; default time.Now
	Window     time.Duration    // how long refusals are summed per line; default a minute
	MaxSources int              // sources with a line of their own per window; default 100
	Message    string           // the lines' message; default "requests refused"
}

// Log counts refusals per source and writes them once per window. It is
// safe for concurrent use.
type Log struct {
	log *slog.Logger
	opt Options

	mu      sync.Mutex
	start   time.Time // of the current window; zero when nothing is counted
	sources map[string]*entry
}

type entry struct {
	count  int
	reason string // of the first refusal in the window
}

// New returns a Log writing its lines to log at level Warn.
func New(log *slog.Logger, opt Options) *Log {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Window <= 0 {
		opt.Window = DefaultWindow
	}
	if opt.MaxSources <= 0 {
		opt.MaxSources = DefaultMaxSources
	}
	if opt.Message == "" {
		opt.Message = DefaultMessage
	}
	return &Log{log: log, opt: opt, sources: map[string]*entry{}}
}

// Refused counts one refused request from source (a remote address) for
// reason. The window's lines are written once it has ended: by the next
// Refused, Flush or Run.
func (l *Log) Refused(source, reason string) {
	now := l.opt.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.start.IsZero() && !now.Before(l.start.Add(l.opt.Window)) {
		l.writeLocked()
	}
	if l.start.IsZero() {
		l.start = now
	}
	source = clip(source, maxSourceLen)
	e, ok := l.sources[source]
	if !ok {
		if len(l.sources) >= l.opt.MaxSources {
			source = OtherSources
			e = l.sources[source]
		}
		if e == nil {
			e = &entry{reason: clip(reason, maxReasonLen)}
			l.sources[source] = e
		}
	}
	e.count++
}

// Flush writes the lines of the current window if it has ended.
func (l *Log) Flush() {
	now := l.opt.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.start.IsZero() && !now.Before(l.start.Add(l.opt.Window)) {
		l.writeLocked()
	}
}

// FlushAll writes what is counted now, whether or not its window has
// ended (at shutdown).
func (l *Log) FlushAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writeLocked()
}

// Run flushes ended windows every tick (0 means a tenth of the window,
// at most a second) until ctx ends, then writes what is left.
func (l *Log) Run(ctx context.Context, tick time.Duration) error {
	if tick <= 0 {
		tick = min(l.opt.Window/10, time.Second)
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			l.FlushAll()
			return nil
		case <-t.C:
			l.Flush()
		}
	}
}

// writeLocked writes one line per source of the current window, most
// refused first (the other sources last), and starts a new window.
func (l *Log) writeLocked() {
	if len(l.sources) == 0 {
		l.start = time.Time{}
		return
	}
	type line struct {
		source string
		*entry
	}
	lines := make([]line, 0, len(l.sources))
	for s, e := range l.sources {
		lines = append(lines, line{s, e})
	}
	slices.SortFunc(lines, func(a, b line) int {
		if (a.source == OtherSources) != (b.source == OtherSources) {
			if a.source == OtherSources {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(b.count, a.count), cmp.Compare(a.source, b.source))
	})
	seconds := int(l.opt.Window / time.Second)
	for _, ln := range lines {
		l.log.Warn(l.opt.Message, "remote", ln.source, "count", ln.count, "reason", ln.reason,
			"since", l.start.UTC().Format(time.RFC3339), "window_s", seconds)
	}
	l.start = time.Time{}
	clear(l.sources)
}

// clip cuts s to at most n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > n-utf8.UTFMax && cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
