package applog

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync/atomic"
	"time"

	"recordings/store"
)

// Sink stores batches of log entries (store.DB does).
type Sink interface {
	AddLogs(ctx context.Context, entries []store.LogEntry) error
}

// Logger owns the queue between handlers and the database writer.
type Logger struct {
	levels  *Levels
	out     slog.Handler
	queue   chan store.LogEntry
	dropped atomic.Int64
	sink    Sink
}

// New returns a Logger printing to out (the process log) and, once Run is
// going, storing records in sink. queueLen bounds the records waiting to be
// written; when full, records are dropped and counted rather than block the
// caller (ingest must never wait on logging).
func New(out slog.Handler, levels *Levels, sink Sink, queueLen int) *Logger {
	if queueLen <= 0 {
		queueLen = 4096
	}
	return &Logger{levels: levels, out: out, queue: make(chan store.LogEntry, queueLen), sink: sink}
}

// Slog returns the *slog.Logger to hand to the rest of the program.
func (l *Logger) Slog() *slog.Logger { return slog.New(&handler{l: l, out: l.out}) }

// Dropped is how many records were not stored because the queue was full.
func (l *Logger) Dropped() int64 { return l.dropped.Load() }

// Run writes queued records in batches (every interval or every batch
// records) until ctx ends, then writes what is left.
func (l *Logger) Run(ctx context.Context, interval time.Duration, batch int) error {
	if interval <= 0 {
		interval = 500 * time.Millisecond
	}
	if batch <= 0 {
		batch = 500
	}
	buf := make([]store.LogEntry, 0, batch)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	flush := func(ctx context.Context) {
		if len(buf) == 0 {
			return
		}
		if err := l.sink.AddLogs(ctx, buf); err != nil {
			// Only the process log is left to tell.
			_ = l.out.Handle(ctx, slog.NewRecord(time.Now(), slog.LevelError, "storing logs failed: "+err.Error(), 0))
		}
		buf = buf[:0]
	}
	for {
		select {
		case e := <-l.queue:
			buf = append(buf, e)
			if len(buf) >= batch {
				flush(ctx)
			}
		case <-tick.C:
			flush(ctx)
		case <-ctx.Done():
			for {
				select {
				case e := <-l.queue:
					buf = append(buf, e)
					if len(buf) >= batch {
						flush(context.WithoutCancel(ctx))
					}
				default:
					flush(context.WithoutCancel(ctx))
					return nil
				}
			}
		}
	}
}

func (l *Logger) enqueue(e store.LogEntry) {
	select {
	case l.queue <- e:
	default:
		l.dropped.Add(1)
	}
}

// handler is the slog.Handler; WithAttrs/WithGroup copies carry the
// pre-set attributes (a category set with .With applies to every record).
type handler struct {
	l      *Logger
	out    slog.Handler
	attrs  []slog.Attr
	groups string
}

func (h *handler) Enabled(_ context.Context, lvl slog.Level) bool {
	return lvl >= h.l.levels.lowest()
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.out = h.out.WithAttrs(as)
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

func (h *handler) WithGroup(name string) slog.Handler {
	c := *h
	c.out = h.out.WithGroup(name)
	c.groups = h.groups + name + "."
	return &c
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	e := store.LogEntry{Time: r.Time, Level: r.Level.String(), Category: System, Message: r.Message}
	extra := map[string]any{}
	take := func(a slog.Attr) bool {
		switch a.Key {
		case "category":
			e.Category = a.Value.String()
		case "user":
			e.User = a.Value.String()
		case "id", "recording":
			if a.Value.Kind() == slog.KindInt64 {
				e.RecordingID = a.Value.Int64()
			}
			extra[h.groups+a.Key] = a.Value.Any()
		default:
			v := a.Value.Resolve()
			if v.Kind() == slog.KindAny {
				if err, ok := v.Any().(error); ok {
					extra[h.groups+a.Key] = err.Error()
					return true
				}
			}
			extra[h.groups+a.Key] = v.String()
		}
		return true
	}
	for _, a := range h.attrs {
		take(a)
	}
	r.Attrs(take)
	if r.Level < h.l.levels.Level(e.Category) {
		return nil
	}
	if len(extra) > 0 {
		e.Attrs, _ = json.Marshal(extra)
	}
	h.l.enqueue(e)
	if h.out.Enabled(ctx, r.Level) {
		return h.out.Handle(ctx, r)
	}
	return nil
}
