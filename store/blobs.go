package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"

	"recordings/internal/sealed"
)

// Blobs is an object store that holds completed captures: an
// S3-compatible bucket (package s3blob). The SQLite chunk table is the
// other capture store, the default; it is also the spool every upload is
// written to first (at least once a second, as before), and a completed
// capture is shipped to the object store afterwards (ShipCaptures), copied,
// read back and verified by its SHA-256 before the recording is switched
// over in one transaction and its chunks are removed.
//
// An object holds a capture in segments of a fixed plaintext size (the
// recording's blob_seg): in clear, the capture's bytes as they are; with a
// data key, each segment sealed on its own (package sealed), so a range
// read fetches and decrypts only the segments it touches.
type Blobs interface {
	// Location is the store's URL, e.g. s3://bucket/prefix; recordings
	// remember it, and the resolver given in Options finds the store
	// again from it.
	Location() string
	// Put writes object key with exactly size bytes from r.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// ReadAt reads len(p) bytes of object key at offset off; fewer only
	// with an error (io.ErrUnexpectedEOF past its end).
	ReadAt(ctx context.Context, key string, p []byte, off int64) (int, error)
	// Delete removes object key; a missing object is not an error.
	Delete(ctx context.Context, key string) error
	// List calls fn for each object in the store.
	List(ctx context.Context, fn func(key string, size int64) error) error
	// Check reports whether the store can be reached and the bucket exists.
	Check(ctx context.Context) error
}

// BlobResolver returns the object store at a location (a Blobs.Location).
type BlobResolver func(location string) (Blobs, error)

// ErrUnreadable: a capture is encrypted and its data key cannot be
// unwrapped with the configured master key (none, or another one). The
// capture and its key are kept: with the right key it reads again.
var ErrUnreadable = errors.New("store: capture unreadable: encrypted under a master key that is not configured")

// BlobSegment is the plaintext size of an object's segments: a seek reads
// at most one segment (plus the sealing overhead) from the object store.
const BlobSegment = 64 << 10

func migrateBlobStore(ctx context.Context, tx *sql.Tx) error {
	return execAll(ctx, tx,
		// Where a capture is: blob_key = '' in the chunks table (the
		// default store and the spool), else object blob_key of the store
		// at blob_loc, in segments of blob_seg plaintext bytes.
		`ALTER TABLE recordings ADD COLUMN blob_loc TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE recordings ADD COLUMN blob_key TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE recordings ADD COLUMN blob_seg INTEGER NOT NULL DEFAULT 0`,
		// Captures waiting to be shipped (or migrated back) are found
		// without a scan.
		`CREATE INDEX recordings_blob ON recordings (blob_key, id)`,
		// A recording's data key, wrapped by the master key named master
		// (sealed.Key.ID). The master key itself is never stored.
		`CREATE TABLE capture_keys (
			recording_id INTEGER PRIMARY KEY REFERENCES recordings (id) ON DELETE CASCADE,
			master       TEXT NOT NULL,
			wrapped      BLOB NOT NULL
		)`,
		`CREATE INDEX capture_keys_master ON capture_keys (master)`,
		// Objects to delete from their stores: queued in the same
		// transaction that stops a recording from using them, removed by
		// CollectBlobGarbage (retried while the store is unreachable).
		`CREATE TABLE blob_garbage (
			loc TEXT NOT NULL,
			key TEXT NOT NULL,
			PRIMARY KEY (loc, key)
		)`,
		`CREATE TRIGGER recordings_blob_deleted AFTER DELETE ON recordings WHEN old.blob_key <> ''
		BEGIN INSERT OR IGNORE INTO blob_garbage (loc, key) VALUES (old.blob_loc, old.blob_key); END`,
		`CREATE TRIGGER recordings_blob_moved AFTER UPDATE OF blob_key ON recordings
		WHEN old.blob_key <> '' AND (old.blob_key <> new.blob_key OR old.blob_loc <> new.blob_loc)
		BEGIN INSERT OR IGNORE INTO blob_garbage (loc, key) VALUES (old.blob_loc, old.blob_key); END`,
		// Where completed captures go: '' or 'sqlite' keeps them in the
		// chunks table, an object store's location ships them there. The
		// service sets it at start from its configuration, and
		// migrate-captures while the service runs.
		`CREATE TABLE capture_target (
			id     INTEGER PRIMARY KEY CHECK (id = 1),
			target TEXT NOT NULL
		)`,
	)
}

// SQLiteTarget is the capture target of the chunk store.
const SQLiteTarget = "sqlite"

// SetCaptureTarget records where completed captures go: SQLiteTarget or an
// object store's location.
func (db *DB) SetCaptureTarget(ctx context.Context, target string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO capture_target (id, target) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET target = excluded.target`, target)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set capture target: %w", err)
	}
	return nil
}

// CaptureTarget is where completed captures go (SQLiteTarget by default).
func (db *DB) CaptureTarget(ctx context.Context) (string, error) {
	var t string
	err := db.r.QueryRowContext(ctx, `SELECT target FROM capture_target WHERE id = 1`).Scan(&t)
	switch {
	case errors.Is(err, sql.ErrNoRows) || (err == nil && t == ""):
		return SQLiteTarget, nil
	case err != nil:
		return "", fmt.Errorf("store: capture target: %w", err)
	}
	return t, nil
}

// blobCache resolves and remembers object stores by location.
type blobCache struct {
	resolve BlobResolver
	mu      sync.Mutex
	stores  map[string]Blobs
}

func (c *blobCache) get(loc string) (Blobs, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b, ok := c.stores[loc]; ok {
		return b, nil
	}
	if c.resolve == nil {
		return nil, fmt.Errorf("store: captures in %s, but no object store is configured", loc)
	}
	b, err := c.resolve(loc)
	if err != nil {
		return nil, fmt.Errorf("store: object store %s: %w", loc, err)
	}
	if c.stores == nil {
		c.stores = map[string]Blobs{}
	}
	c.stores[loc] = b
	return b, nil
}

// AddBlobs makes an object store known by its location (the service's
// configured one, say), so that it is not resolved again.
func (db *DB) AddBlobs(b Blobs) {
	db.blobs.mu.Lock()
	defer db.blobs.mu.Unlock()
	if db.blobs.stores == nil {
		db.blobs.stores = map[string]Blobs{}
	}
	db.blobs.stores[b.Location()] = b
}

// MasterKeyID names the configured master key ("" when none).
func (db *DB) MasterKeyID() string {
	if db.master == nil {
		return ""
	}
	return db.master.ID()
}

// dataKey returns recording id's data key: nil when its capture is in
// clear, ErrUnreadable when it cannot be unwrapped.
func (db *DB) dataKey(ctx context.Context, q querier, id int64) (*sealed.Key, error) {
	var (
		master  string
		wrapped []byte
	)
	err := q.QueryRowContext(ctx, `SELECT master, wrapped FROM capture_keys WHERE recording_id = ?`, id).Scan(&master, &wrapped)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return db.unwrap(id, master, wrapped)
}

func (db *DB) unwrap(id int64, master string, wrapped []byte) (*sealed.Key, error) {
	if db.master == nil {
		return nil, fmt.Errorf("%w (no key file configured; the capture's key is wrapped by master key %s)", ErrUnreadable, master)
	}
	if master != db.master.ID() {
		return nil, fmt.Errorf("%w (its key is wrapped by master key %s, the configured one is %s)", ErrUnreadable, master, db.master.ID())
	}
	k, err := db.master.Unwrap(wrapped, id)
	if err != nil {
		return nil, fmt.Errorf("%w: data key of recording %d: %w", ErrUnreadable, id, err)
	}
	return k, nil
}

// newDataKey makes a data key for recording id and stores it wrapped by the
// master key, replacing any older one; with no master key it removes any
// older one and returns nil (the capture is stored in clear).
func (db *DB) newDataKey(ctx context.Context, tx *sql.Tx, id int64) (*sealed.Key, error) {
	if db.master == nil {
		_, err := tx.ExecContext(ctx, `DELETE FROM capture_keys WHERE recording_id = ?`, id)
		return nil, err
	}
	dk, err := sealed.NewDataKey()
	if err != nil {
		return nil, err
	}
	w, err := db.master.Wrap(dk, id)
	if err != nil {
		return nil, err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO capture_keys (recording_id, master, wrapped) VALUES (?, ?, ?)
		ON CONFLICT (recording_id) DO UPDATE SET master = excluded.master, wrapped = excluded.wrapped`, id, db.master.ID(), w)
	return dk, err
}

type querier interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// captureLoc is where a recording's capture is and how to read it.
type captureLoc struct {
	size     int64
	sha      string
	state    State
	loc, key string
	seg      int64
	dk       *sealed.Key
}

func (l captureLoc) inBlob() bool { return l.key != "" }

// locate reads where recording id's capture is. A key error is returned
// with the location filled in.
func (db *DB) locate(ctx context.Context, q querier, id int64) (captureLoc, error) {
	var (
		l       captureLoc
		master  sql.NullString
		wrapped []byte
	)
	err := q.QueryRowContext(ctx, `SELECT r.size, r.sha256, r.state, r.blob_loc, r.blob_key, r.blob_seg, k.master, k.wrapped
		FROM recordings r LEFT JOIN capture_keys k ON k.recording_id = r.id WHERE r.id = ?`, id).
		Scan(&l.size, &l.sha, &l.state, &l.loc, &l.key, &l.seg, &master, &wrapped)
	if errors.Is(err, sql.ErrNoRows) {
		return l, ErrNotFound
	}
	if err != nil {
		return l, err
	}
	if master.Valid {
		if l.dk, err = db.unwrap(id, master.String, wrapped); err != nil {
			return l, err
		}
	}
	return l, nil
}

// objectSize is the length of an object holding size plaintext bytes in
// segments of seg, sealed or not.
func objectSize(size, seg int64, sealedSegs bool) int64 {
	if !sealedSegs || size == 0 {
		return size
	}
	n := (size + seg - 1) / seg
	return size + n*sealed.Overhead
}

// CaptureStats counts where captures are, for health and the admin status.
type CaptureStats struct {
	Target     string `json:"target"`      // where completed captures go
	InDatabase int64  `json:"in_database"` // captures in the chunk table
	InObjects  int64  `json:"in_objects"`  // captures in an object store
	// Pending: complete captures in the chunk table waiting to be shipped
	// to an object-store target.
	Pending int64 `json:"pending"`
	// Encrypted captures, and those of them whose key the configured master
	// key cannot unwrap (no key file, or another key).
	Encrypted  int64 `json:"encrypted"`
	Unreadable int64 `json:"unreadable"`
	// Garbage: objects of deleted or moved captures not yet removed.
	Garbage int64 `json:"garbage"`
}

// CaptureStats counts captures by store and key state.
func (db *DB) CaptureStats(ctx context.Context) (CaptureStats, error) {
	var s CaptureStats
	var err error
	if s.Target, err = db.CaptureTarget(ctx); err != nil {
		return s, err
	}
	err = db.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM recordings WHERE blob_key = ''),
		(SELECT count(*) FROM recordings WHERE blob_key <> ''),
		(SELECT count(*) FROM recordings WHERE blob_key = '' AND state <> ? AND size > 0),
		(SELECT count(*) FROM capture_keys),
		(SELECT count(*) FROM capture_keys WHERE master <> ?),
		(SELECT count(*) FROM blob_garbage)`, StateReceiving, db.MasterKeyID()).
		Scan(&s.InDatabase, &s.InObjects, &s.Pending, &s.Encrypted, &s.Unreadable, &s.Garbage)
	if err != nil {
		return s, fmt.Errorf("store: capture stats: %w", err)
	}
	if s.Target == SQLiteTarget {
		s.Pending = 0
	}
	return s, nil
}

// objectName is a new object's key for recording id: random, so a capture
// shipped again never meets an older object waiting for deletion.
func objectName(id int64) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d-%s.cap", id, hex.EncodeToString(b[:])), nil
}

// segmentReader produces the object form of a plaintext capture: segments
// of seg bytes, each sealed with dk when it is set, and hashes the
// plaintext as it goes.
type segmentReader struct {
	src  io.Reader
	id   int64
	seg  int
	dk   *sealed.Key
	hash interface{ Write([]byte) (int, error) }

	off   int64
	plain []byte
	out   []byte
	err   error
}

func (s *segmentReader) Read(p []byte) (int, error) {
	for len(s.out) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		if cap(s.plain) < s.seg {
			s.plain = make([]byte, s.seg)
		}
		n, err := io.ReadFull(s.src, s.plain[:s.seg])
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			err = io.EOF
		}
		s.err = err
		if n == 0 {
			continue
		}
		s.hash.Write(s.plain[:n])
		if s.dk == nil {
			s.out = append(s.out[:0], s.plain[:n]...)
		} else {
			var serr error
			if s.out, serr = s.dk.SealTo(s.out[:0], s.plain[:n], s.id, s.off); serr != nil {
				s.err = serr
				return 0, serr
			}
		}
		s.off += int64(n)
	}
	n := copy(p, s.out)
	s.out = s.out[n:]
	return n, nil
}

// ShipCapture copies recording id's complete capture from the chunk table
// to the object store b, reads it back and checks its SHA-256, and then, in
// one transaction, points the recording at the object and removes its
// chunks. A capture stored in clear is encrypted on the way when a master
// key is configured. A recording that changed meanwhile (replaced,
// deleted) is left alone and the copy queued for deletion; shipped is
// false then.
func (db *DB) ShipCapture(ctx context.Context, id int64, b Blobs) (shipped bool, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("store: ship capture %d to %s: %w", id, b.Location(), err)
		}
	}()
	l, err := db.locate(ctx, db.r, id)
	if err != nil {
		return false, err
	}
	if l.inBlob() || l.state == StateReceiving || l.size == 0 {
		return false, nil
	}
	dk, newKey := l.dk, false
	var wrapped []byte
	if dk == nil && db.master != nil {
		if dk, err = sealed.NewDataKey(); err != nil {
			return false, err
		}
		if wrapped, err = db.master.Wrap(dk, id); err != nil {
			return false, err
		}
		newKey = true
	}
	name, err := objectName(id)
	if err != nil {
		return false, err
	}
	db.AddBlobs(b) // readers find the object's store by its location
	src, err := db.OpenCapture(ctx, id)
	if err != nil {
		return false, err
	}
	defer src.Close()
	if src.loc.inBlob() {
		return false, nil // shipped by someone else since
	}
	h := sha256.New()
	body := &segmentReader{src: src, id: id, seg: BlobSegment, dk: dk, hash: h}
	if err := b.Put(ctx, name, body, objectSize(l.size, BlobSegment, dk != nil)); err != nil {
		return false, err
	}
	discard := func() {
		if _, gerr := db.queueGarbage(context.WithoutCancel(ctx), b.Location(), name); gerr != nil {
			db.log.Error("store: queue unused object for deletion", "id", id, "key", name, "err", gerr)
		}
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if l.sha != "" && sum != l.sha {
		discard()
		return false, fmt.Errorf("capture read for shipping has SHA-256 %s, the recording's is %s", sum, l.sha)
	}
	// Read the object back, in large ranges, and check every segment.
	got, err := objectSHA(ctx, b, name, id, l.size, BlobSegment, dk)
	if err != nil {
		discard()
		return false, fmt.Errorf("verify object %s: %w", name, err)
	}
	if got != sum {
		discard()
		return false, fmt.Errorf("object %s reads back with SHA-256 %s, want %s", name, got, sum)
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE recordings SET blob_loc = ?, blob_key = ?, blob_seg = ?, nchunks = 0
			WHERE id = ? AND blob_key = '' AND size = ? AND sha256 = ? AND state <> ?`,
			b.Location(), name, BlobSegment, id, l.size, l.sha, StateReceiving)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errChanged
		}
		if newKey {
			if _, err := tx.ExecContext(ctx, `INSERT INTO capture_keys (recording_id, master, wrapped) VALUES (?, ?, ?)
				ON CONFLICT (recording_id) DO NOTHING`, id, db.master.ID(), wrapped); err != nil {
				return err
			}
			// The capture is encrypted now: its checkpoints, stored in
			// clear, go too (they are recorded again, sealed).
			if err := dropCheckpoints(ctx, tx, id); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM chunks WHERE recording_id = ?`, id)
		return err
	})
	if errors.Is(err, errChanged) {
		discard()
		return false, nil
	}
	if err != nil {
		discard()
		return false, err
	}
	return true, nil
}

// verifySegments is how many segments one read of objectSHA fetches.
const verifySegments = 64

// objectSHA reads an object holding size plaintext bytes of recording id
// in segments of seg (sealed with dk when set) and returns the plaintext's
// SHA-256; every sealed segment is authenticated on the way.
func objectSHA(ctx context.Context, b Blobs, key string, id, size, seg int64, dk *sealed.Key) (string, error) {
	h := sha256.New()
	stride := seg
	if dk != nil {
		stride += sealed.Overhead
	}
	total := objectSize(size, seg, dk != nil)
	buf := make([]byte, verifySegments*stride)
	var plain []byte
	for objOff, plainOff := int64(0), int64(0); objOff < total; {
		n := min(int64(len(buf)), total-objOff)
		if _, err := b.ReadAt(ctx, key, buf[:n], objOff); err != nil {
			return "", err
		}
		for p := buf[:n]; len(p) > 0; {
			m := min(int64(len(p)), stride)
			if dk == nil {
				h.Write(p[:m])
			} else {
				var err error
				if plain, err = dk.OpenTo(plain[:0], p[:m], id, plainOff); err != nil {
					return "", fmt.Errorf("segment at %d: %w", plainOff, err)
				}
				h.Write(plain)
			}
			plainOff += min(m, seg)
			p = p[m:]
		}
		objOff += n
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// errChanged: the recording changed while its capture was copied.
var errChanged = errors.New("recording changed while its capture was copied")

// UnshipCapture copies recording id's capture from its object store back
// into the chunk table (sealed with its data key, or with a new one when a
// master key is configured and it was in clear), checks its SHA-256, and
// switches the recording over in one transaction; the object is queued for
// deletion. Chunks left by an interrupted earlier attempt are replaced.
func (db *DB) UnshipCapture(ctx context.Context, id int64) (moved bool, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("store: move capture %d back to the database: %w", id, err)
		}
	}()
	src, err := db.OpenCapture(ctx, id)
	if err != nil {
		return false, err
	}
	defer src.Close()
	l := src.loc
	if !l.inBlob() || l.state == StateReceiving {
		return false, nil
	}
	dk, newKey := l.dk, false
	var wrapped []byte
	if dk == nil && db.master != nil {
		if dk, err = sealed.NewDataKey(); err != nil {
			return false, err
		}
		if wrapped, err = db.master.Wrap(dk, id); err != nil {
			return false, err
		}
		newKey = true
	}
	// still runs fn in a transaction only while the recording still points
	// at the object (readers use the object until the switch, so chunks
	// written before it are invisible to them).
	still := func(fn func(tx *sql.Tx) error) error {
		return db.write(ctx, func(tx *sql.Tx) error {
			var loc, key string
			err := tx.QueryRowContext(ctx, `SELECT blob_loc, blob_key FROM recordings WHERE id = ?`, id).Scan(&loc, &key)
			if errors.Is(err, sql.ErrNoRows) || (err == nil && (loc != l.loc || key != l.key)) {
				return errChanged
			}
			if err != nil {
				return err
			}
			return fn(tx)
		})
	}
	if err := still(func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM chunks WHERE recording_id = ?`, id)
		return err
	}); err != nil {
		if errors.Is(err, errChanged) {
			return false, nil
		}
		return false, err
	}
	h := sha256.New()
	var (
		seq, off int64
		buf      = make([]byte, MaxChunkSize)
	)
	const batchBytes = 4 << 20
	type chunk struct {
		n    int64
		data []byte
	}
	var pend []chunk
	flushC := func() error {
		if len(pend) == 0 {
			return nil
		}
		err := still(func(tx *sql.Tx) error {
			for _, c := range pend {
				if _, err := tx.ExecContext(ctx, `INSERT INTO chunks (recording_id, seq, off, data) VALUES (?, ?, ?, ?)`,
					id, seq, off, c.data); err != nil {
					return err
				}
				seq++
				off += c.n
			}
			return nil
		})
		pend = pend[:0]
		return err
	}
	var pendBytes int
	for {
		n, rerr := io.ReadFull(src, buf)
		if n > 0 {
			h.Write(buf[:n])
			data := append([]byte(nil), buf[:n]...)
			if dk != nil {
				if data, err = dk.SealTo(nil, buf[:n], id, off+int64(pendBytes)); err != nil {
					return false, err
				}
			}
			pend = append(pend, chunk{int64(n), data})
			pendBytes += n
			if pendBytes >= batchBytes {
				if err := flushC(); err != nil {
					return false, changedOK(err)
				}
				pendBytes = 0
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return false, rerr
		}
	}
	if err := flushC(); err != nil {
		return false, changedOK(err)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); off != l.size || (l.sha != "" && sum != l.sha) {
		return false, fmt.Errorf("copied %d bytes with SHA-256 %s, the recording has %d bytes with %s", off, sum, l.size, l.sha)
	}
	err = still(func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE recordings SET blob_loc = '', blob_key = '', blob_seg = 0, nchunks = ?
			WHERE id = ?`, seq, id); err != nil {
			return err
		}
		if newKey {
			if _, err := tx.ExecContext(ctx, `INSERT INTO capture_keys (recording_id, master, wrapped) VALUES (?, ?, ?)
				ON CONFLICT (recording_id) DO NOTHING`, id, db.master.ID(), wrapped); err != nil {
				return err
			}
			// Encrypted now: checkpoints stored in clear go (see ShipCapture).
			return dropCheckpoints(ctx, tx, id)
		}
		return nil
	})
	if errors.Is(err, errChanged) {
		return false, nil
	}
	return err == nil, err
}

func changedOK(err error) error {
	if errors.Is(err, errChanged) {
		return nil
	}
	return err
}

// CapturesToMove lists up to limit recordings with id > after whose
// complete capture is in the chunk table (toBlobs) or in an object store
// (!toBlobs), in id order.
func (db *DB) CapturesToMove(ctx context.Context, toBlobs bool, after int64, limit int) ([]int64, error) {
	q := `SELECT id FROM recordings WHERE blob_key = '' AND state <> ? AND size > 0 AND id > ? ORDER BY id LIMIT ?`
	if !toBlobs {
		q = `SELECT id FROM recordings WHERE blob_key <> '' AND state <> ? AND id > ? ORDER BY id LIMIT ?`
	}
	ids, err := queryIDs(ctx, db.r, q, StateReceiving, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: captures to move: %w", err)
	}
	return ids, nil
}

// queueGarbage queues an object for deletion.
func (db *DB) queueGarbage(ctx context.Context, loc, key string) (bool, error) {
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO blob_garbage (loc, key) VALUES (?, ?)`, loc, key)
		return err
	})
	return err == nil, err
}

// CollectBlobGarbage deletes up to limit objects of deleted, replaced or
// moved captures from their stores and returns how many it deleted. An
// object whose store cannot be reached stays queued.
func (db *DB) CollectBlobGarbage(ctx context.Context, limit int) (int, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT loc, key FROM blob_garbage LIMIT ?`, limit)
	if err != nil {
		return 0, fmt.Errorf("store: blob garbage: %w", err)
	}
	type obj struct{ loc, key string }
	var objs []obj
	for rows.Next() {
		var o obj
		if err := rows.Scan(&o.loc, &o.key); err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: blob garbage: %w", err)
		}
		objs = append(objs, o)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, fmt.Errorf("store: blob garbage: %w", err)
	}
	var (
		n    int
		errs []error
	)
	for _, o := range objs {
		b, err := db.blobs.get(o.loc)
		if err == nil {
			err = b.Delete(ctx, o.key)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("delete %s/%s: %w", o.loc, o.key, err))
			continue
		}
		err = db.write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `DELETE FROM blob_garbage WHERE loc = ? AND key = ?`, o.loc, o.key)
			return err
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	if len(errs) > 0 {
		return n, fmt.Errorf("store: blob garbage: %w", errors.Join(errs...))
	}
	return n, nil
}

// RotateKey rewraps every data key wrapped by oldKey with newKey, in
// batches (a stop leaves a consistent state; running it again continues).
// Captures are not rewritten. It returns how many keys it rewrapped.
func (db *DB) RotateKey(ctx context.Context, oldKey, newKey *sealed.Key) (int, error) {
	if oldKey.ID() == newKey.ID() {
		return 0, fmt.Errorf("store: rotate key: the new key is the old one: %w", ErrInvalid)
	}
	total := 0
	for {
		n := 0
		err := db.write(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT recording_id, wrapped FROM capture_keys WHERE master = ? LIMIT 500`, oldKey.ID())
			if err != nil {
				return err
			}
			type kw struct {
				id int64
				w  []byte
			}
			var ks []kw
			for rows.Next() {
				var k kw
				if err := rows.Scan(&k.id, &k.w); err != nil {
					rows.Close()
					return err
				}
				ks = append(ks, k)
			}
			if err := errors.Join(rows.Err(), rows.Close()); err != nil {
				return err
			}
			for _, k := range ks {
				dk, err := oldKey.Unwrap(k.w, k.id)
				if err != nil {
					return fmt.Errorf("recording %d: %w", k.id, err)
				}
				w, err := newKey.Wrap(dk, k.id)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `UPDATE capture_keys SET master = ?, wrapped = ? WHERE recording_id = ?`,
					newKey.ID(), w, k.id); err != nil {
					return err
				}
			}
			n = len(ks)
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("store: rotate key: %w", err)
		}
		total += n
		if n == 0 {
			return total, nil
		}
	}
}

// KeyMasters counts wrapped data keys by the master key that wraps them.
func (db *DB) KeyMasters(ctx context.Context) (map[string]int64, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT master, count(*) FROM capture_keys GROUP BY master`)
	if err != nil {
		return nil, fmt.Errorf("store: key masters: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var (
			m string
			n int64
		)
		if err := rows.Scan(&m, &n); err != nil {
			return nil, fmt.Errorf("store: key masters: %w", err)
		}
		out[m] = n
	}
	return out, rows.Err()
}

// BlobsAt returns the object store at location (added with AddBlobs or
// found by the resolver).
func (db *DB) BlobsAt(location string) (Blobs, error) { return db.blobs.get(location) }
