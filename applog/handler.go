package applog

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Bounds of a Record that every Sink must accept: one oversized record must
// not make a whole batch fail, so records are cut to fit before queueing.
const (
	MaxMessage = 8 << 10  // bytes of Record.Message
	MaxAttrs   = 64 << 10 // bytes of Record.Attrs
	MaxField   = 256      // bytes of Record.Category and Record.User
	MaxBatch   = 10000    // records per AddLogs call
)

// Record is one log record as it is stored for the UI's log views: what
// the handler hands a Sink and, read back, what the views show.
type Record struct {
	ID          int64 // the sink's id of a stored record; 0 in what applog hands the sink
	Time        time.Time
	Level       string // slog level name: "DEBUG", "INFO", "WARN", "ERROR" (or e.g. "INFO+2")
	Category    string // one of Categories() or System
	User        string // user name concerned, may be empty
	RecordingID int64  // recording concerned, 0 for none
	Message     string
	Attrs       []byte // JSON object, may be nil
}

// Sink stores batches of records (store.DB is one). It must accept every
// record within the bounds above, and at most MaxBatch of them per call.
type Sink interface {
	AddLogs(ctx context.Context, records []Record) error
}

// Logger owns the queue between handlers and the database writer.
type Logger struct {
	levels  *Levels
	out     slog.Handler
	self    slog.Handler // out with category System: applog's own reports
	queue   chan Record
	dropped atomic.Int64
	failed  atomic.Int64
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
	return &Logger{levels: levels, out: out, self: out.WithAttrs([]slog.Attr{slog.String("category", System)}),
		queue: make(chan Record, queueLen), sink: sink}
}

// Slog returns the *slog.Logger to hand to the rest of the program.
func (l *Logger) Slog() *slog.Logger { return slog.New(&handler{l: l, out: l.out}) }

// Levels returns the per-category levels in force (change them with Set).
func (l *Logger) Levels() *Levels { return l.levels }

// Dropped is how many records were not stored because the queue was full.
func (l *Logger) Dropped() int64 { return l.dropped.Load() }

// Failed is how many records were lost because the sink refused a batch.
func (l *Logger) Failed() int64 { return l.failed.Load() }

// finalFlush bounds the last write at shutdown, so a stuck sink cannot keep
// the process from exiting.
const finalFlush = 5 * time.Second

// writeTimeout bounds one batch write while running.
const writeTimeout = 30 * time.Second

// Run writes queued records in batches (every interval or every batch
// records) until ctx ends, then writes what is left.
func (l *Logger) Run(ctx context.Context, interval time.Duration, batch int) error {
	if interval <= 0 {
		interval = 500 * time.Millisecond
	}
	if batch <= 0 {
		batch = 500
	}
	batch = min(batch, MaxBatch)
	buf := make([]Record, 0, batch)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	// Writes do not stop when ctx ends mid-batch (the records would be
	// lost); each is bounded instead.
	wctx := context.WithoutCancel(ctx)
	flush := func(ctx context.Context) {
		if len(buf) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(ctx, writeTimeout)
		defer cancel()
		if err := l.sink.AddLogs(ctx, buf); err != nil {
			l.failed.Add(int64(len(buf)))
			// Only the process log is left to tell.
			r := slog.NewRecord(time.Now(), slog.LevelError, "storing logs failed", 0)
			r.AddAttrs(slog.Int("entries", len(buf)), slog.String("err", err.Error()))
			_ = l.self.Handle(ctx, r)
		}
		clear(buf)
		buf = buf[:0]
	}
	for {
		select {
		case e := <-l.queue:
			buf = append(buf, e)
			if len(buf) >= batch {
				flush(wctx)
			}
		case <-tick.C:
			flush(wctx)
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(wctx, finalFlush)
			defer cancel()
			for {
				select {
				case e := <-l.queue:
					buf = append(buf, e)
					if len(buf) >= batch {
						flush(fctx)
					}
				default:
					flush(fctx)
					return nil
				}
			}
		}
	}
}

func (l *Logger) enqueue(e Record) {
	select {
	case l.queue <- e:
	default:
		l.dropped.Add(1)
	}
}

// handler is the slog.Handler. The attributes "category", "user" and "id"
// (or "recording", "recording_id") fill the stored entry's columns; without
// a "user", an "owner" (of the recording concerned) is the entry's user.
// WithAttrs/WithGroup copies carry the pre-set attributes, already qualified
// by the groups open when they were added (a category set with .With
// applies to every record).
type handler struct {
	l      *Logger
	out    slog.Handler
	attrs  []slog.Attr // keys already qualified with their groups
	groups string      // "a.b." for the groups open now
}

// Enabled lets a record through when some category wants it; warnings and
// errors always reach the process log.
func (h *handler) Enabled(_ context.Context, lvl slog.Level) bool {
	return lvl >= min(h.l.levels.lowest(), slog.LevelWarn)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	c := *h
	c.out = h.out.WithAttrs(as)
	c.attrs = append([]slog.Attr(nil), h.attrs...)
	for _, a := range as {
		c.attrs = append(c.attrs, slog.Attr{Key: h.groups + a.Key, Value: a.Value})
	}
	return &c
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.out = h.out.WithGroup(name)
	c.groups = h.groups + name + "."
	return &c
}

// entry collects one record's fields for the store.
type entry struct {
	e     Record
	owner string // a recording's owner, the user when none is named
	extra map[string]any
}

// add takes one attribute whose key is already qualified by its groups.
func (x *entry) add(key string, v slog.Value) {
	v = v.Resolve()
	switch key {
	case "category":
		x.e.Category = v.String()
		return
	case "user":
		x.e.User = v.String()
		return
	case "owner":
		x.owner = v.String()
	case "id", "recording", "recording_id":
		switch v.Kind() {
		case slog.KindInt64:
			x.e.RecordingID = v.Int64()
		case slog.KindUint64:
			x.e.RecordingID = int64(min(v.Uint64(), 1<<63-1))
		}
	}
	switch v.Kind() {
	case slog.KindGroup:
		for _, a := range v.Group() {
			k := a.Key
			if key != "" { // an empty group key inlines its attributes
				k = key + "." + k
			}
			x.add(k, a.Value)
		}
		return
	case slog.KindInt64, slog.KindUint64, slog.KindFloat64, slog.KindBool:
		x.set(key, v.Any())
	case slog.KindDuration:
		x.set(key, v.Duration().String())
	case slog.KindTime:
		x.set(key, v.Time().UTC().Format(time.RFC3339Nano))
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			x.set(key, err.Error())
			return
		}
		x.set(key, v.String())
	default:
		x.set(key, v.String())
	}
}

func (x *entry) set(key string, v any) {
	if key == "" {
		return
	}
	if x.extra == nil {
		x.extra = map[string]any{}
	}
	x.extra[key] = v
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	x := entry{e: Record{Time: r.Time, Level: r.Level.String(), Category: System, Message: r.Message}}
	for _, a := range h.attrs {
		x.add(a.Key, a.Value)
	}
	r.Attrs(func(a slog.Attr) bool {
		x.add(h.groups+a.Key, a.Value)
		return true
	})
	if x.e.User == "" {
		x.e.User = x.owner
	}
	if c, ok := Canonical(x.e.Category); ok {
		x.e.Category = c
	}
	wanted := r.Level >= h.l.levels.Level(x.e.Category)
	if wanted {
		if len(x.extra) > 0 {
			if b, err := json.Marshal(x.extra); err == nil && len(b) <= MaxAttrs {
				x.e.Attrs = b
			} else {
				x.e.Attrs = []byte(`{"attrs":"too large or not representable"}`)
			}
		}
		x.e.Message = truncate(x.e.Message, MaxMessage)
		x.e.Category = truncate(x.e.Category, MaxField)
		x.e.User = truncate(x.e.User, MaxField)
		h.l.enqueue(x.e)
	}
	if (wanted || r.Level >= slog.LevelWarn) && h.out.Enabled(ctx, r.Level) {
		return h.out.Handle(ctx, r)
	}
	return nil
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size > 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s
}
