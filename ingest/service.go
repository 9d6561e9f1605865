// Package ingest owns the life of a recording: the streamed upload, its
// analysis once complete (by package convert), and the analyses kept for
// rendering the stored capture to WAV on demand.
package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"recordings/applog"
	"recordings/convert"
	"recordings/events"
	"recordings/media"
	"recordings/pbx"
	"recordings/store"
)

// Options tune the service; zero values take the defaults.
type Options struct {
	MaxUploadBytes int64         // default 4 GiB
	ChunkBytes     int           // stored chunk size, default 256 KiB (store.MaxChunkSize at most)
	BufferBytes    int64         // all uploads' buffers beyond which chunks stay at 32 KiB, default 16 MiB (buffer.go)
	FlushInterval  time.Duration // persist buffered bytes at least this often, default 1 s
	Workers        int           // concurrent analyses, default 2
	CacheEntries   int           // analyses kept for WAV rendering, default 64
	Media          media.Options
	Now            func() time.Time
	Observer       Observer // told about uploads and conversions; default none
	// Events is told of every recording change ingest makes (and tells
	// ingest of deletions elsewhere, to drop their cached analyses); nil
	// publishes nothing.
	Events *events.Broker
	// Attach, if set, is called when an upload begins and when it ends, to
	// attach call details (owner, CDR facts) to the recording.
	Attach func(ctx context.Context, id int64)

	// CheckpointBytes bounds the render checkpoints kept with the cached
	// analyses (default 64 MiB); beyond it the oldest entries lose theirs
	// and their ranges render from the start.
	CheckpointBytes int
}

func (o *Options) defaults() {
	if o.MaxUploadBytes <= 0 {
		o.MaxUploadBytes = 4 << 30
	}
	if o.ChunkBytes <= 0 {
		o.ChunkBytes = 256 << 10
	}
	o.ChunkBytes = min(o.ChunkBytes, store.MaxChunkSize)
	if o.BufferBytes <= 0 {
		o.BufferBytes = 16 << 20
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = time.Second
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.CacheEntries <= 0 {
		o.CacheEntries = 64
	}
	if o.CheckpointBytes <= 0 {
		o.CheckpointBytes = 64 << 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	if o.Attach == nil {
		o.Attach = func(context.Context, int64) {}
	}
}

// Errors the HTTP layer maps to status codes.
var (
	ErrBadName  = errors.New("bad file name")
	ErrTooLarge = errors.New("upload exceeds the size limit")
	ErrEmpty    = errors.New("empty upload")
	// ErrNotCapture: the body does not start like a pcap or pcapng file.
	ErrNotCapture = errors.New("not a pcap or pcapng capture")
	// ErrExists: a complete recording of that name is stored (or a
	// protected one); captures are written once.
	ErrExists = errors.New("a complete recording of this name exists: captures are written once")
	// ErrBusy: an upload of that name is being received.
	ErrBusy = errors.New("an upload of this name is in progress")
)

// Service runs uploads and analyses against one store.
type Service struct {
	db      *store.DB
	log     *slog.Logger // category Recording: uploads
	convLog *slog.Logger // category Converting: analyses
	opt     Options
	jobs    chan int64
	renders *convert.Pool // playback renders (see Prepared.Acquire)

	mu    sync.Mutex
	cache map[int64]cached // analyses for rendering, keyed by recording id
	order []int64          // insertion order for eviction
	// runCtx is Run's context once it runs: lazy checkpoint renders of
	// analyses without checkpoints stop with it.
	runCtx context.Context
	// checkpointed, when set (tests), is told the id of every recording
	// whose lazy checkpoint render, or whose storing again of checkpoints
	// with their plan, ended.
	checkpointed chan<- int64
	// fromStart counts the renders that began at the start of a capture:
	// playback ranges without a usable checkpoint, and checkpoint renders.
	fromStart atomic.Int64
	// analyses counts the captures Prepare analysed: cache misses without
	// a usable stored plan.
	analyses atomic.Int64

	inflight  atomic.Int64 // uploads being received
	blocks    blockPool    // the uploads' buffers
	chunks    chunkWriter  // stores the uploads' chunks
	flush     flusher      // stores what uploads have held for a FlushInterval
	upMu      sync.Mutex
	uploading map[string]struct{} // domain + NUL + name of the uploads being received
	// recovered is set once Run has finished what a stop left behind;
	// until then begun holds the uploads this process began, which the
	// recovery must leave to their own completion (they queue their own
	// analysis).
	recovered bool
	begun     map[string]struct{}
	// recoveredCh is closed when recovered is set.
	recoveredCh chan struct{}
}

type cached struct {
	sha string
	a   *media.Analysis
	// cps are the render checkpoints recorded with the analysis (nil when
	// it was re-analysed for playback; pending while they are recorded).
	cps     *media.Checkpoints
	pending bool
}

// New returns a service; call Run to start its analysis workers. It logs
// uploads under applog.Recording and analyses under applog.Converting.
func New(db *store.DB, log *slog.Logger, opt Options) *Service {
	opt.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{db: db, log: log.With("category", applog.Recording), convLog: log.With("category", applog.Converting),
		opt: opt, jobs: make(chan int64, 1024), cache: map[int64]cached{}, uploading: map[string]struct{}{},
		begun: map[string]struct{}{}, recoveredCh: make(chan struct{})}
	s.renders = convert.NewPool(convert.PoolConfig{})
	s.flush.db, s.flush.w, s.flush.interval = db, &s.chunks, opt.FlushInterval
	// A recording deleted anywhere (the apps, retention) leaves the cache.
	opt.Events.Subscribe(func(ev events.Recording) {
		if ev.Kind == events.Deleted {
			s.forget(ev.ID)
		}
	})
	return s
}

// Run analyses completed uploads until ctx ends. At start it finishes what a
// crash left behind: uploads still receiving become incomplete and are
// analysed up to where they stopped.
func (s *Service) Run(ctx context.Context) error {
	s.mu.Lock()
	s.runCtx = ctx
	s.mu.Unlock()
	left, err := s.db.RecordingsInState(ctx, store.StateReceiving)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped before it began
		}
		return fmt.Errorf("find interrupted uploads: %w", err)
	}
	cut, err := s.db.RecordingsInState(ctx, store.StateIncomplete)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("find interrupted uploads: %w", err)
	}
	var wg sync.WaitGroup
	for range s.opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case id := <-s.jobs:
					s.analyse(ctx, id)
				}
			}
		}()
	}
	for _, r := range left {
		s.recoverUpload(ctx, r)
	}
	for _, r := range cut {
		if s.begunHere(r) {
			continue // cut off in this process, which queued its analysis
		}
		if r.Codec == "" && r.DurationMS == 0 {
			// Marked incomplete, but stopped before its analysis was stored.
			s.log.Info("analysing incomplete upload left unanalysed", "user", r.Owner, "id", r.ID, "name", r.Name)
			s.enqueue(r.ID)
		}
	}
	s.upMu.Lock()
	s.recovered, s.begun = true, nil
	close(s.recoveredCh)
	s.upMu.Unlock()
	wg.Wait()
	return nil
}

// Recovered is closed once Run has dealt with what a stop left behind
// (uploads still receiving or cut off): from then on nothing in the
// store is taken for a leftover of an earlier process. It stays open if
// Run stops before.
func (s *Service) Recovered() <-chan struct{} { return s.recoveredCh }

// begunHere reports whether this process began an upload of r's name
// while Run was recovering.
func (s *Service) begunHere(r store.Recording) bool {
	s.upMu.Lock()
	defer s.upMu.Unlock()
	_, ok := s.begun[uploadKey(r.Domain, r.Name)]
	return ok
}

// recoverUpload finishes what a stop left of an upload: analyse it when it
// had arrived completely, keep what arrived as incomplete, or drop it when
// nothing was stored. An upload this process is receiving now (one may
// start while Run is still recovering) is left alone: the check and the
// recovery happen under upMu, which Upload takes before it begins.
func (s *Service) recoverUpload(ctx context.Context, left store.Recording) {
	s.upMu.Lock()
	defer s.upMu.Unlock()
	key := uploadKey(left.Domain, left.Name)
	if _, busy := s.uploading[key]; busy {
		return
	}
	if _, ok := s.begun[key]; ok {
		return // begun by this process after the stop: it finishes itself
	}
	r, err := s.db.Recording(ctx, left.ID)
	if err != nil || r.State != store.StateReceiving {
		return // gone or finished since it was listed
	}
	if r.Uploaded() {
		// Fully received (its checksum is stored) but not yet analysed.
		s.log.Info("analysing upload received before restart", "user", r.Owner, "id", r.ID, "name", r.Name)
		s.enqueue(r.ID)
		return
	}
	if r.Size == 0 {
		// Begun, but not one byte was stored: nothing to keep.
		s.log.Warn("empty upload interrupted by restart removed", "user", r.Owner, "id", r.ID, "name", r.Name)
		if err := s.db.DeleteRecording(ctx, r.ID); err != nil {
			s.log.Error("remove empty interrupted upload", "user", r.Owner, "id", r.ID, "err", err)
		}
		return
	}
	s.log.Warn("upload interrupted by restart", "user", r.Owner, "id", r.ID, "name", r.Name, "bytes", r.Size)
	if err := s.finish(ctx, r.ID, store.StateIncomplete, r.Size); err != nil {
		s.log.Error("mark interrupted upload", "user", r.Owner, "id", r.ID, "err", err)
	}
}

// publish tells the broker what ingest did to recording id.
func (s *Service) publish(kind events.Kind, id int64) {
	s.opt.Events.Publish(events.Recording{Kind: kind, ID: id, By: events.ByUpload})
}

func uploadKey(domain, name string) string { return domain + "\x00" + name }

// Upload stores body as the capture named name in domain, persisting it as it
// arrives. declared is the Content-Length, or -1 when unknown (chunked).
// When the body breaks off, what arrived is kept as incomplete and analysed;
// the error is returned too.
//
// Captures are written once: an upload of a name that is being received
// (ErrBusy) or whose capture is complete (ErrExists) is refused before
// anything is read or stored; only a cut upload may be sent again, and
// replaced is true then.
func (s *Service) Upload(ctx context.Context, domain, name string, body io.Reader, declared int64) (id int64, replaced bool, err error) {
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	started := false
	defer func() {
		if started {
			s.opt.Observer.UploadDone(err == nil)
		} else if err != nil {
			s.opt.Observer.UploadRefused()
		}
	}()
	key := uploadKey(domain, name)
	s.upMu.Lock()
	if _, busy := s.uploading[key]; busy {
		s.upMu.Unlock()
		return 0, false, ErrBusy
	}
	s.uploading[key] = struct{}{}
	if !s.recovered {
		s.begun[key] = struct{}{}
	}
	s.upMu.Unlock()
	defer func() {
		s.upMu.Lock()
		delete(s.uploading, key)
		s.upMu.Unlock()
	}()
	fn, err := pbx.ParseFileName(name)
	if err != nil {
		return 0, false, fmt.Errorf("%w: %w", ErrBadName, err)
	}
	if declared > s.opt.MaxUploadBytes {
		return 0, false, fmt.Errorf("%w: %d bytes declared, limit %d", ErrTooLarge, declared, s.opt.MaxUploadBytes)
	}
	if declared == 0 {
		return 0, false, ErrEmpty
	}
	switch old, err := s.db.RecordingByName(ctx, domain, name); {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return 0, false, fmt.Errorf("look up %s: %w", name, err)
	case old.Protected:
		return 0, false, fmt.Errorf("%w (recording %d is protected)", ErrExists, old.ID)
	case !old.Replaceable():
		return 0, false, fmt.Errorf("%w (recording %d, %s)", ErrExists, old.ID, old.State)
	}
	// Read the first bytes before touching the store, so that an empty body
	// never replaces a stored capture.
	// Its magic number must be a capture's, so that garbage (or a broken
	// request) stores nothing either.
	q := &pending{pool: &s.blocks}
	defer func() { q.release() }() // receive has released them when it ran
	n, rerr := io.ReadAtLeast(body, q.room(min(uploadBlock, s.opt.ChunkBytes)), magicLen)
	q.received(n)
	head := q.cur[:n]
	switch {
	case n == 0 && (rerr == nil || errors.Is(rerr, io.EOF)):
		return 0, false, ErrEmpty
	case rerr != nil && !errors.Is(rerr, io.ErrUnexpectedEOF):
		return 0, false, fmt.Errorf("read upload: %w", rerr)
	case !looksLikeCapture(head):
		return 0, false, fmt.Errorf("%w: starts with % x", ErrNotCapture, head[:min(n, magicLen)])
	}
	sf := store.FileName{ConfID: fn.ConfID, MAC: fn.MAC, Serial: fn.Serial, RegName: fn.RegName}
	id, replaced, err = s.db.BeginUpload(ctx, domain, name, sf, fn.RegName)
	if errors.Is(err, store.ErrComplete) || errors.Is(err, store.ErrProtected) {
		return 0, false, fmt.Errorf("%w: %w", ErrExists, err)
	}
	if err != nil {
		return 0, false, fmt.Errorf("begin upload: %w", err)
	}
	s.forget(id)
	started = true
	s.opt.Observer.UploadStarted()
	// Told before anything else learns of the recording (Attach may
	// already attach a CDR to it).
	kind := events.Added
	if replaced {
		kind = events.Replaced
	}
	s.publish(kind, id)
	s.opt.Attach(ctx, id)
	user := fn.RegName // the owner BeginUpload recorded
	s.log.Info("upload started", "user", user, "id", id, "name", name, "replaced", replaced)

	size, sum, err := s.receive(ctx, id, body, q, rerr)
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			s.log.Warn("upload over the size limit", "user", user, "id", id, "name", name, "bytes", size)
			if derr := s.db.DeleteRecording(context.WithoutCancel(ctx), id); derr != nil {
				s.log.Error("drop oversized upload", "user", user, "id", id, "err", derr)
			}
			s.publish(events.Deleted, id)
			return id, replaced, err
		}
		if size == 0 {
			// Nothing could be stored (the disk is full, say): keep no empty recording.
			s.log.Warn("upload failed before anything was stored", "user", user, "id", id, "name", name, "err", err)
			if derr := s.db.DeleteRecording(context.WithoutCancel(ctx), id); derr != nil {
				s.log.Error("drop empty upload", "user", user, "id", id, "err", derr)
			}
			s.publish(events.Deleted, id)
			return id, replaced, err
		}
		s.log.Warn("upload broke off", "user", user, "id", id, "name", name, "bytes", size, "err", err)
		if ferr := s.finish(context.WithoutCancel(ctx), id, store.StateIncomplete, size); ferr != nil {
			return id, replaced, errors.Join(err, ferr)
		}
		return id, replaced, err
	}
	if err := s.db.FinishUpload(ctx, id, store.StateReceiving, sum); err != nil {
		return id, replaced, fmt.Errorf("finish upload: %w", err)
	}
	s.log.Info("upload complete", "user", user, "id", id, "name", name, "bytes", size, "sha256", sum)
	s.opt.Attach(ctx, id)
	s.enqueue(id)
	return id, replaced, nil
}

// BufferedBytes is what the uploads being received hold in memory now, and
// the most they held at once since the service started.
func (s *Service) BufferedBytes() (now, peak int64) {
	return s.blocks.held.Load(), s.blocks.peak.Load()
}

// receive stores the body in chunks, reading it on the caller's goroutine
// into the upload's blocks (buffer.go). A chunk is stored when the upload
// holds its limit, or by the service's flusher once bytes have waited a
// FlushInterval, so that a crash loses at most about that much of a call
// being streamed even while the phone pauses. q holds the bytes read so
// far; rerr ended that read. receive releases q's blocks.
func (s *Service) receive(ctx context.Context, id int64, body io.Reader, q *pending, rerr error) (int64, string, error) {
	h := sha256.New()
	for _, p := range q.chunk() {
		h.Write(p)
	}
	u := newUpload(ctx, id, q)
	// The bytes already read wait from now on.
	u.due = time.Now().Add(s.flushAfter())
	s.flush.add(u)
	u.mu.Lock()
	defer func() {
		u.mu.Unlock()
		s.flush.remove(u)
		u.mu.Lock()
		u.wait()
		u.mu.Unlock()
		q.release()
	}()
	// store stores what q holds and waits for it.
	store := func() error {
		if err := u.wait(); err != nil {
			return err
		}
		if q.n > 0 {
			u.startStore(s.db, &s.chunks)
		}
		return u.wait()
	}
	limit := func() int {
		if s.blocks.held.Load() < s.opt.BufferBytes {
			return s.opt.ChunkBytes
		}
		return min(minChunk, s.opt.ChunkBytes)
	}
	for {
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				if err := store(); err != nil {
					return u.size, "", err
				}
				return u.size, hex.EncodeToString(h.Sum(nil)), nil
			}
			if err := store(); err != nil {
				return u.size, "", errors.Join(rerr, err)
			}
			return u.size, "", fmt.Errorf("read upload: %w", rerr)
		}
		if err := u.wait(); err != nil {
			return u.size, "", err
		}
		// The next read gets at most what keeps the chunk within ChunkBytes.
		if q.n >= s.opt.ChunkBytes {
			if err := store(); err != nil {
				return u.size, "", err
			}
		}
		q.reuse()
		b := q.room(s.opt.ChunkBytes - q.n)
		u.mu.Unlock()
		// A store the flusher starts now covers only what was received
		// before b: the read and the store do not meet.
		n, err := body.Read(b)
		h.Write(b[:n])
		u.mu.Lock()
		if werr := u.wait(); werr != nil {
			return u.size, "", werr
		}
		if q.n == 0 && n > 0 {
			u.due = time.Now().Add(s.flushAfter())
		}
		q.received(n)
		if u.size+int64(q.n) > s.opt.MaxUploadBytes {
			return u.size + int64(q.n), "", fmt.Errorf("%w (%d bytes)", ErrTooLarge, s.opt.MaxUploadBytes)
		}
		rerr = err
		if rerr == nil && q.n >= limit() {
			// Nothing is read while the chunk is stored: a writer that
			// falls behind holds this loop here, and the sender waits in
			// TCP rather than in memory.
			if err := store(); err != nil {
				return u.size, "", err
			}
		}
	}
}

// flushAfter is how long after its arrival a byte is due to be stored: the
// flusher, which looks every FlushInterval/flushSlices, then stores it
// within a FlushInterval.
func (s *Service) flushAfter() time.Duration {
	return s.opt.FlushInterval - s.opt.FlushInterval/flushSlices
}

// finish closes an upload that did not complete and queues its analysis.
func (s *Service) finish(ctx context.Context, id int64, state store.State, size int64) error {
	sum, err := s.captureSHA(ctx, id)
	if err != nil {
		return err
	}
	if err := s.db.FinishUpload(ctx, id, state, sum); err != nil {
		return fmt.Errorf("finish upload: %w", err)
	}
	s.opt.Attach(ctx, id)
	s.enqueue(id)
	return nil
}

func (s *Service) captureSHA(ctx context.Context, id int64) (string, error) {
	c, err := s.db.OpenCapture(ctx, id)
	if err != nil {
		return "", fmt.Errorf("open capture: %w", err)
	}
	defer c.Close()
	h := sha256.New()
	if _, err := io.Copy(h, c); err != nil {
		return "", fmt.Errorf("hash capture: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (s *Service) enqueue(id int64) {
	select {
	case s.jobs <- id:
	default:
		// The queue is full: analyse on the caller's goroutine rather than lose it.
		s.analyse(context.Background(), id)
	}
}

// opener re-opens the stored capture of recording id.
func (s *Service) opener(ctx context.Context, id int64) convert.Opener {
	return func() (io.ReadCloser, error) { return s.db.OpenCapture(ctx, id) }
}

// analyse decodes a stored capture once and records duration, codec,
// statistics and the waveform envelope; failures are recorded, not lost.
func (s *Service) analyse(ctx context.Context, id int64) {
	start := s.opt.Now()
	rec, err := s.db.Recording(ctx, id)
	if err != nil && ctx.Err() != nil {
		return // shutting down: Run analyses it at the next start
	}
	if err != nil {
		s.convLog.Error("analyse: load recording", "id", id, "err", err)
		return
	}
	state := store.StateReady
	if rec.State == store.StateIncomplete {
		state = store.StateIncomplete
	}
	res := store.Analysis{State: state}
	a, err := convert.Analyze(s.opener(ctx, id), s.opt.Media)
	var cps *media.Checkpoints
	if err == nil {
		// The one render of the analysis draws the waveform and records
		// the checkpoints from which playback ranges start.
		env := media.Envelope(envelopePoints, a.Samples)
		if cps, err = convert.RenderCheckpoints(ctx, a, s.opener(ctx, id), env, 0); err == nil {
			res.Envelope = env.Bytes()
		}
	}
	if err != nil && ctx.Err() != nil {
		return // shutting down, not a bad capture: leave it for the next start
	}
	if errors.Is(err, store.ErrUnreadable) {
		// Not a bad capture: the key file is missing or another one. The
		// recording stays as it is until the right key is back.
		s.convLog.Error("analyse: capture unreadable with the configured key", "user", rec.Owner, "id", id, "err", err)
		return
	}
	if err != nil {
		res.State, res.Reason = store.StateFailed, failureReason(err)
	} else {
		res.Codec = codecs(a)
		res.DurationMS = a.DurationMS()
		res.Stats, _ = json.Marshal(report{Streams: a.Streams, Warnings: a.Warnings})
		s.remember(id, cached{sha: rec.SHA256, a: a, cps: cps})
	}
	if err == nil {
		// Stored first, so that a recording is never ready without them.
		s.storeCheckpoints(context.WithoutCancel(ctx), id, rec.SHA256, a, cps)
	}
	if err := s.db.SetAnalysis(context.WithoutCancel(ctx), id, res); err != nil {
		s.convLog.Error("analyse: store result", "user", rec.Owner, "id", id, "err", err)
		return
	}
	s.opt.Observer.Converted(s.opt.Now().Sub(start), string(res.State))
	s.convLog.Info("converted", "user", rec.Owner, "id", id, "state", res.State, "reason", res.Reason,
		"codec", res.Codec, "duration_ms", res.DurationMS, "took", s.opt.Now().Sub(start))
	s.publish(events.StateChanged, id)
}

const envelopePoints = 400

// report is the JSON stored as a recording's statistics.
type report struct {
	Streams  []media.StreamStats `json:"streams"`
	Warnings []string            `json:"warnings,omitempty"`
}

func failureReason(err error) string {
	switch {
	case errors.Is(err, media.ErrUnsupportedCodec):
		return "unsupported codec" + codecName(err)
	case errors.Is(err, media.ErrNoRTP):
		return "no RTP audio in capture"
	}
	return err.Error()
}

// codecName extracts the name after "unsupported codec" from an error chain.
func codecName(err error) string {
	msg := err.Error()
	const key = "unsupported codec"
	for i := 0; i+len(key) <= len(msg); i++ {
		if msg[i:i+len(key)] == key {
			return msg[i+len(key):]
		}
	}
	return ""
}

func codecs(a *media.Analysis) string {
	seen := map[string]bool{}
	out := ""
	for _, st := range a.Streams {
		if st.Codec == "" || seen[st.Codec] {
			continue
		}
		seen[st.Codec] = true
		if out != "" {
			out += "/"
		}
		out += st.Codec
	}
	return out
}

func (s *Service) remember(id int64, c cached) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rememberLocked(id, c)
}

func (s *Service) rememberLocked(id int64, c cached) {
	if _, ok := s.cache[id]; !ok {
		s.order = append(s.order, id)
	}
	s.cache[id] = c
	for len(s.order) > s.opt.CacheEntries {
		delete(s.cache, s.order[0])
		s.order = s.order[1:]
	}
	// The checkpoints' budget: the oldest entries lose theirs first.
	total := 0
	for _, e := range s.cache {
		total += e.cps.Size()
	}
	for _, old := range s.order {
		if total <= s.opt.CheckpointBytes {
			break
		}
		if e := s.cache[old]; e.cps != nil && old != id {
			total -= e.cps.Size()
			e.cps = nil
			s.cache[old] = e
		}
	}
}

func (s *Service) forget(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.cache, id)
}

// Prepared is a recording ready to be rendered to WAV.
type Prepared struct {
	Analysis *media.Analysis
	// Checkpoints, when not nil, let a range start near its first byte
	// (convert.WriteWAVRangeCheckpoints).
	Checkpoints *media.Checkpoints
	Open        convert.Opener
	pool        *convert.Pool
	fromStart   *atomic.Int64
	log         *slog.Logger
	id          int64
}

// WriteWAVRange writes bytes [off, off+length) of the WAV
// (convert.WriteWAVRangeCheckpoints): from the last checkpoint before the
// range when there is one, else rendered from the start, which the
// service counts (RendersFromStart).
func (p Prepared) WriteWAVRange(ctx context.Context, w io.Writer, off, length int64) error {
	resumed := convert.Resumable(p.Analysis, p.Checkpoints, off, length)
	opens := 0
	open := func() (io.ReadCloser, error) {
		// A render opens the capture once; a second open is the render
		// from the start after a checkpoint that did not resume.
		opens++
		if opens > 1 && p.log != nil {
			p.log.Warn("render checkpoint did not resume: rendering from the start", "id", p.id, "offset", off)
		}
		if (!resumed || opens > 1) && p.fromStart != nil {
			p.fromStart.Add(1)
		}
		return p.Open()
	}
	return convert.WriteWAVRangeCheckpoints(ctx, p.Analysis, p.Checkpoints, open, w, off, length)
}

// RendersFromStart is how many renders began at the start of a capture
// since New: playback ranges without a usable checkpoint and the renders
// that record checkpoints (the analyses' own renders not counted).
func (s *Service) RendersFromStart() int64 { return s.fromStart.Load() }

// PlaybackAnalyses is how many captures Prepare analysed since New: those
// neither cached nor with a usable render plan stored with their analysis.
func (s *Service) PlaybackAnalyses() int64 { return s.analyses.Load() }

// Size is the WAV file's length in bytes.
func (p Prepared) Size() int64 { return convert.WAVSize(p.Analysis) }

// Prepare takes the analysis of rec's stored capture for rendering from
// the cache, else from the render plan stored with its checkpoints, else
// analyses the capture again. A failed recording returns its failure.
//
// The render checkpoints come from the cache, else from the store (where
// the analysis put them); only when neither has them (a recording
// analysed before they were stored, or stored ones that are damaged) are
// they recorded again, in the background.
func (s *Service) Prepare(ctx context.Context, rec store.Recording) (Prepared, error) {
	s.mu.Lock()
	c, ok := s.cache[rec.ID]
	s.mu.Unlock()
	open := s.opener(ctx, rec.ID)
	p := Prepared{Open: open, pool: s.renders, fromStart: &s.fromStart, log: s.convLog, id: rec.ID}
	switch {
	case !ok || c.sha != rec.SHA256:
		var err error
		if c, err = s.restore(ctx, rec, open); err != nil {
			return Prepared{}, err
		}
		s.remember(rec.ID, c)
		if c.cps == nil {
			s.checkpointLater(rec.ID, c)
		}
	case c.cps == nil && !c.pending:
		// Its checkpoints left the cache (its budget): read them again.
		c.cps = s.loadCheckpoints(ctx, rec, c.a)
		s.remember(rec.ID, c)
		if c.cps == nil {
			s.checkpointLater(rec.ID, c)
		}
	}
	p.Analysis, p.Checkpoints = c.a, c.cps
	return p, nil
}

// restore prepares rec after a cache miss: with the analysis and the
// render checkpoints stored with it when the set and its plan are usable,
// without reading the capture. Otherwise the capture is analysed again
// (counted: PlaybackAnalyses); stored checkpoints that still fit that
// analysis are kept and stored again, in the background, with its plan
// (they were stored before plans were, or with a plan that is unusable).
// cps is nil when no usable checkpoints are stored.
func (s *Service) restore(ctx context.Context, rec store.Recording, open convert.Opener) (cached, error) {
	set, err := s.storedCheckpoints(ctx, rec)
	if err != nil {
		s.unusable(ctx, rec, err)
		set = nil
	}
	if set != nil && set.Plan != nil {
		a, err := media.ParsePlan(set.Plan, s.opt.Media)
		if err == nil && !set.Matches(a) {
			err = errors.New("it does not fit its checkpoints")
		}
		if err == nil {
			return cached{sha: rec.SHA256, a: a, cps: set}, nil
		}
		if ctx.Err() == nil {
			s.convLog.Warn("stored render plan unusable: analysing the capture again and storing the plan again",
				"user", rec.Owner, "id", rec.ID, "err", err)
		}
	}
	s.analyses.Add(1)
	a, err := convert.Analyze(open, s.opt.Media)
	if err != nil {
		return cached{}, err
	}
	if set != nil && !set.Matches(a) {
		s.unusable(ctx, rec, errors.New("recorded for another analysis of the capture"))
		set = nil
	}
	c := cached{sha: rec.SHA256, a: a, cps: set}
	if set != nil {
		s.storeLater(rec.ID, c)
	}
	return c, nil
}

// storedCheckpoints reads the render checkpoints stored with rec's
// analysis: nil without error when there are none.
func (s *Service) storedCheckpoints(ctx context.Context, rec store.Recording) (*media.Checkpoints, error) {
	if rec.SHA256 == "" {
		return nil, nil
	}
	b, err := s.db.Checkpoints(ctx, rec.ID, rec.SHA256)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return media.ParseCheckpoints(b)
}

// unusable logs that rec's stored checkpoints cannot be used.
func (s *Service) unusable(ctx context.Context, rec store.Recording, err error) {
	if ctx.Err() == nil {
		s.convLog.Warn("stored render checkpoints unusable: rendering from the start and recording them again",
			"user", rec.Owner, "id", rec.ID, "err", err)
	}
}

// loadCheckpoints reads the stored render checkpoints of rec's analysis a:
// nil when none are stored, or when they are unusable (logged: ranges
// render from the start until they are recorded again).
func (s *Service) loadCheckpoints(ctx context.Context, rec store.Recording, a *media.Analysis) *media.Checkpoints {
	cps, err := s.storedCheckpoints(ctx, rec)
	if err == nil && cps != nil && !cps.Matches(a) {
		err = errors.New("recorded for another analysis of the capture")
	}
	if err != nil {
		s.unusable(ctx, rec, err)
		return nil
	}
	return cps
}

// storeCheckpoints stores cps, recorded from the capture with SHA-256 sha,
// with recording id's analysis a and a's render plan; a failure only costs
// later renders (or analyses).
func (s *Service) storeCheckpoints(ctx context.Context, id int64, sha string, a *media.Analysis, cps *media.Checkpoints) {
	if cps == nil || sha == "" {
		return
	}
	set := *cps
	plan, err := a.MarshalPlan()
	if err != nil {
		s.convLog.Warn("render plan not stored: playback after a restart analyses the capture", "id", id, "err", err)
	}
	set.Plan = plan
	b, err := set.MarshalBinary()
	if err == nil {
		err = s.db.SetCheckpoints(ctx, id, sha, b)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrState) && ctx.Err() == nil {
		s.convLog.Warn("store render checkpoints", "id", id, "err", err)
	}
}

// storeLater stores c's checkpoints again with the plan of its analysis,
// in the background: nothing when Run is not running (the next restart
// tries again).
func (s *Service) storeLater(id int64, c cached) {
	s.mu.Lock()
	ctx := s.runCtx
	s.mu.Unlock()
	if ctx == nil {
		return
	}
	go func() {
		s.storeCheckpoints(ctx, id, c.sha, c.a, c.cps)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.checkpointed != nil {
			s.checkpointed <- id
		}
	}()
}

// checkpointLater records the render checkpoints of a cached analysis that
// has none (analysed again after a restart, or whose checkpoints left the
// cache) in the background, through the render pool: until they are there
// its ranges render from the start. Nothing happens when the pool is full
// or Run is not running; the next playback tries again.
func (s *Service) checkpointLater(id int64, c cached) {
	s.mu.Lock()
	ctx := s.runCtx
	cur, ok := s.cache[id]
	if ctx == nil || !ok || cur.a != c.a || cur.pending || cur.cps != nil {
		s.mu.Unlock()
		return
	}
	cur.pending = true
	s.cache[id] = cur
	s.mu.Unlock()
	go func() {
		cps := s.renderCheckpoints(ctx, id, c.a)
		if cps != nil {
			s.storeCheckpoints(ctx, id, c.sha, c.a, cps)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if cur, ok := s.cache[id]; ok && cur.a == c.a { // not replaced meanwhile
			cur.pending = false
			if cps != nil {
				cur.cps = cps
			}
			s.rememberLocked(id, cur)
		}
		if s.checkpointed != nil {
			s.checkpointed <- id
		}
	}()
}

// renderCheckpoints renders a's capture once, through the render pool,
// for its checkpoints; nil when the pool is full or the render fails.
func (s *Service) renderCheckpoints(ctx context.Context, id int64, a *media.Analysis) *media.Checkpoints {
	rctx, release, err := s.renders.Acquire(ctx)
	if err != nil {
		return nil
	}
	defer release()
	s.fromStart.Add(1)
	cps, err := convert.RenderCheckpoints(rctx, a, s.opener(rctx, id), discardPCM{}, 0)
	if err != nil {
		if ctx.Err() == nil {
			s.convLog.Warn("render checkpoints", "id", id, "err", err)
		}
		return nil
	}
	return cps
}

// discardPCM drops rendered audio.
type discardPCM struct{}

func (discardPCM) WriteFrames([]int16) error { return nil }
