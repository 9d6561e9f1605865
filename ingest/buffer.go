package ingest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"recordings/store"
)

// Upload buffering. A streamed upload holds what it has received but not
// yet stored in blocks of uploadBlock bytes from one pool shared by all
// uploads; the reader reads straight into them, and a chunk is stored from
// them in parts (store.AppendChunkParts), so nothing is copied or grown per
// upload. An upload stores a chunk once a FlushInterval passes or when it
// holds its limit: Options.ChunkBytes while all uploads together hold less
// than Options.BufferBytes, minChunk beyond. Nothing is read while its
// chunk waits for the writer: a sender faster than the writer waits in TCP
// (back-pressure) instead of in the service's memory. So an upload holds
// at most ChunkBytes + uploadBlock, and beyond the shared budget minChunk +
// uploadBlock: a phone's second of G.711 is about 23 kB, so a thousand
// calls hold some 25 to 35 MB, however slow the writer.

// uploadBlock is the unit of upload buffering.
const uploadBlock = 8 << 10

// minChunk is what an upload may always hold before it stores a chunk: a
// phone's second of two-way G.711 (about 23 kB), so that within the budget
// or beyond it a call is stored about once a FlushInterval, not in smaller
// pieces.
const minChunk = 24 << 10

// blockPool hands out upload blocks and counts the bytes uploads hold.
type blockPool struct {
	pool sync.Pool // of *[uploadBlock]byte
	held atomic.Int64
	peak atomic.Int64 // highest held, for tests and measurements
}

func (p *blockPool) get() []byte {
	n := p.held.Add(uploadBlock)
	for {
		peak := p.peak.Load()
		if n <= peak || p.peak.CompareAndSwap(peak, n) {
			break
		}
	}
	if b, ok := p.pool.Get().(*[uploadBlock]byte); ok {
		return b[:]
	}
	return new([uploadBlock]byte)[:]
}

// put returns a block got from get; b must be no longer in use.
func (p *blockPool) put(b []byte) {
	p.held.Add(-uploadBlock)
	p.pool.Put((*[uploadBlock]byte)(b[:uploadBlock]))
}

// pending is what one upload has received and not yet stored: full blocks
// (parts, the first possibly stored in part) and the block being read into.
type pending struct {
	pool   *blockPool
	parts  [][]byte // data not yet stored, in order, in the blocks of full
	full   [][]byte // blocks whose every byte is in parts or stored
	cur    []byte   // the block being filled
	fill   int      // bytes of cur received
	stored int      // bytes of cur already stored
	n      int      // bytes not yet stored
}

// room is where the next read goes: the free part of the current block,
// at most max bytes, after starting a new block when the current one is full.
func (q *pending) room(max int) []byte {
	if q.fill == len(q.cur) {
		if q.fill > q.stored {
			q.parts = append(q.parts, q.cur[q.stored:q.fill])
			q.full = append(q.full, q.cur)
		} else if q.cur != nil {
			q.pool.put(q.cur)
		}
		q.cur, q.fill, q.stored = q.pool.get(), 0, 0
	}
	return q.cur[q.fill:min(len(q.cur), q.fill+max)]
}

// received records n bytes read into room.
func (q *pending) received(n int) {
	q.fill += n
	q.n += n
}

// chunk returns the data not yet stored, in parts.
func (q *pending) chunk() [][]byte {
	if q.fill > q.stored {
		return append(q.parts, q.cur[q.stored:q.fill])
	}
	return q.parts
}

// markStored marks everything chunk returned as stored and releases the blocks
// it no longer needs. The current block stays: a read may be filling it.
func (q *pending) markStored() {
	for _, b := range q.full {
		q.pool.put(b)
	}
	clear(q.full)
	clear(q.parts)
	q.full, q.parts = q.full[:0], q.parts[:0]
	q.stored, q.n = q.fill, 0
}

// reuse starts the current block over once everything in it is stored; the
// caller makes sure no read is filling it.
func (q *pending) reuse() {
	if q.n == 0 {
		q.fill, q.stored = 0, 0
	}
}

// release returns every block; no read may be filling the current one.
func (q *pending) release() {
	for _, b := range q.full {
		q.pool.put(b)
	}
	q.full, q.parts = nil, nil
	if q.cur != nil {
		q.pool.put(q.cur)
		q.cur = nil
	}
}

// chunkWriter stores the uploads' chunks on a goroutine of its own, which
// runs while chunks wait and ends when none do. It stores all the chunks
// waiting when it looks, up to batchChunks of them and batchBytes, in one
// write transaction (store.AppendChunks, a group commit): the chunks that
// arrive while a transaction runs go together into the next, so an upload
// holds its blocks until the next commit rather than until its own turn
// behind every other upload's, and a thousand uploads cost a few commits
// a second instead of a thousand. The store has one write connection, so
// one goroutine loses nothing; and the SQLite driver's deep calls grow the
// stack of whichever goroutine runs them to tens of KiB, which the
// uploads' goroutines, waiting for their phones most of the time, would
// otherwise keep (a thousand uploads kept 40 MB of stacks).
type chunkWriter struct {
	mu      sync.Mutex
	queue   []*chunkReq
	running bool
	// batches and batched count the transactions and the chunks stored
	// in them, for tests and measurements.
	batches, batched atomic.Int64
}

// Bounds of one group commit: a transaction holds the write connection,
// which other writes (uploads beginning and ending, analyses) wait for.
const (
	batchChunks = 256
	batchBytes  = 4 << 20
)

// chunkReq is one upload's chunk to store; an upload reuses its request.
type chunkReq struct {
	ctx   context.Context
	id    int64
	parts [][]byte
	done  func(error) // called on the writer's goroutine once it is stored
}

// submit queues r without waiting; r.done tells when it is stored.
func (w *chunkWriter) submit(db *store.DB, r *chunkReq) {
	w.mu.Lock()
	w.queue = append(w.queue, r)
	if !w.running {
		w.running = true
		go w.run(db)
	}
	w.mu.Unlock()
}

func (w *chunkWriter) run(db *store.DB) {
	var (
		batch []*chunkReq
		items []store.ChunkAppend
	)
	for {
		w.mu.Lock()
		if len(w.queue) == 0 {
			w.running = false
			w.queue = nil
			w.mu.Unlock()
			return
		}
		n, size := 0, 0
		for n < len(w.queue) && n < batchChunks && (n == 0 || size < batchBytes) {
			for _, p := range w.queue[n].parts {
				size += len(p)
			}
			n++
		}
		batch = append(batch[:0], w.queue[:n]...)
		clear(w.queue[:n])
		w.queue = w.queue[n:]
		w.mu.Unlock()

		items = items[:0]
		for _, r := range batch {
			items = append(items, store.ChunkAppend{ID: r.id, Parts: r.parts})
		}
		// The uploads' contexts do not end (context.WithoutCancel): the
		// first one's serves them all.
		db.AppendChunks(batch[0].ctx, items)
		w.batches.Add(1)
		w.batched.Add(int64(n))
		for i, r := range batch {
			r.done(items[i].Err)
		}
		clear(batch)
		clear(items)
	}
}

// flushSlices is how finely the flusher divides a FlushInterval: it looks
// at the uploads every FlushInterval/flushSlices.
const flushSlices = 10

// flusher stores, for every upload being received, the bytes that have
// waited in memory for a FlushInterval (a phone that pauses, or sends less
// than a chunk a second), so that no upload needs a goroutine of its own
// besides its handler's, which blocks in the body's Read. One goroutine,
// running while uploads are received, looks at them every
// FlushInterval/flushSlices and hands the due ones' chunks to the
// chunkWriter without waiting for them.
type flusher struct {
	db       *store.DB
	w        *chunkWriter
	interval time.Duration

	mu   sync.Mutex
	ups  map[*upload]struct{}
	quit chan struct{} // closed when the last upload leaves; nil while none
}

func (f *flusher) add(u *upload) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ups == nil {
		f.ups = map[*upload]struct{}{}
	}
	f.ups[u] = struct{}{}
	if f.quit == nil {
		f.quit = make(chan struct{})
		go f.run(f.quit)
	}
}

// remove takes u off the flusher's list; once it returns, the flusher
// starts no store of u's (one it started may still be running).
func (f *flusher) remove(u *upload) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.ups, u)
	if len(f.ups) == 0 && f.quit != nil {
		close(f.quit)
		f.quit = nil
	}
}

func (f *flusher) run(quit <-chan struct{}) {
	tick := time.NewTicker(max(f.interval/flushSlices, time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-quit:
			return
		case now := <-tick.C:
			f.mu.Lock()
			for u := range f.ups {
				u.mu.Lock()
				if !u.storing && u.err == nil && u.q.n > 0 && !now.Before(u.due) {
					u.startStore(f.db, f.w)
				}
				u.mu.Unlock()
			}
			f.mu.Unlock()
		}
	}
}

// upload is one upload being received. Its handler's goroutine reads into
// q; a chunk is stored by the chunkWriter, started either by the handler
// (the upload holds its limit, or the body ended) or by the flusher (bytes
// waited a FlushInterval). While storing is set, q belongs to that store:
// the handler may still be reading into the free part of q's current block
// (which no chunk covers), but touches q's bookkeeping only once the store
// is done.
type upload struct {
	mu      sync.Mutex
	done    sync.Cond // signalled when a store ends; L is &mu
	q       *pending
	req     chunkReq
	storing bool
	n       int       // bytes of the chunk being stored
	size    int64     // bytes stored
	err     error     // a store that failed
	due     time.Time // when q's oldest unstored byte must be stored by
}

func newUpload(ctx context.Context, id int64, q *pending) *upload {
	u := &upload{q: q, req: chunkReq{ctx: context.WithoutCancel(ctx), id: id}}
	u.done.L = &u.mu
	u.req.done = u.stored
	return u
}

// startStore hands what q holds to the writer; u.mu is held, no store is
// running and q holds bytes.
func (u *upload) startStore(db *store.DB, w *chunkWriter) {
	u.storing, u.n = true, u.q.n
	u.req.parts = u.q.chunk()
	w.submit(db, &u.req)
}

// stored ends the store startStore began.
func (u *upload) stored(err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if err != nil {
		u.err = fmt.Errorf("store chunk: %w", err)
	} else {
		u.size += int64(u.n)
		u.q.markStored()
		u.due = time.Time{}
	}
	u.req.parts = nil
	u.storing = false
	u.done.Broadcast()
}

// wait waits, with u.mu held, until no store runs, and returns the error
// of a store that failed.
func (u *upload) wait() error {
	for u.storing {
		u.done.Wait()
	}
	return u.err
}
