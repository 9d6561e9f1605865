// Package store is the SQLite persistence of the appliance: recordings and
// their captured audio (stored as received, in chunks), users, sessions,
// settings and the UI's log entries, all in one database file.
//
// One *sql.DB with a single connection does every write (so writers never
// contend for the SQLite write lock inside the process), and a second pool of
// query-only connections serves the reads; with WAL journaling readers do not
// block the writer and see every committed transaction.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"modernc.org/sqlite"

	"recordings/applog"
	"recordings/internal/invalid"
	"recordings/internal/sealed"
	"recordings/store/listquery"
)

// Errors returned by the store; test with errors.Is. Input the store
// refuses matches ErrInvalid (which is invalid.Err); where the input came
// from a user, the error is an *invalid.Error naming the field (the
// struct field in snake_case, e.g. "display_name") with a message fit to
// show them.
var (
	ErrNotFound       = errors.New("store: not found")
	ErrExists         = errors.New("store: already exists")
	ErrProtected      = errors.New("store: recording is protected")
	ErrBadCredentials = errors.New("store: bad credentials")
	ErrDisabled       = errors.New("store: account disabled")
	ErrSchemaTooNew   = errors.New("store: database schema is newer than this program")
	ErrState          = errors.New("store: operation not allowed in the recording's state")
	// ErrComplete: a capture of that name arrived completely; captures are
	// written once.
	ErrComplete = errors.New("store: a complete recording of this name exists")
	ErrInvalid  = invalid.Err
)

// SQLite result codes used to classify driver errors (from sqlite3.h).
const (
	sqliteBusy           = 5
	sqliteLocked         = 6
	sqliteConstraint     = 19
	sqliteConstraintPK   = 1555
	sqliteConstraintUniq = 2067
)

// Options tune Open; the zero value is the production configuration.
type Options struct {
	// Now is the clock used for every timestamp and for session expiry;
	// nil means time.Now.
	Now func() time.Time
	// ReadConns is the size of the read pool; 0 means max(4, GOMAXPROCS).
	ReadConns int
	// BcryptCost is the bcrypt work factor for new password hashes;
	// 0 means bcrypt.DefaultCost. Tests use bcrypt.MinCost.
	BcryptCost int
	// BusyTimeout is how long a statement waits for a lock held by another
	// connection or process before failing with SQLITE_BUSY; 0 means 5 s.
	BusyTimeout time.Duration
	// SessionIdle ends a session that was not used for this long (see
	// SessionUser); 0 means DefaultSessionIdle.
	SessionIdle time.Duration
	// BusyRetries is how many times a write transaction that failed with
	// SQLITE_BUSY (after BusyTimeout) is retried; 0 means 3,
	// negative means none.
	BusyRetries int

	// MasterKey, when set, encrypts new captures: each recording gets a
	// data key wrapped by it (package sealed). Captures whose key another
	// master key wraps are unreadable (ErrUnreadable) and kept.
	MasterKey *sealed.Key
	// Blobs finds the object store of a location recorded with a capture
	// (see Blobs); nil: only stores added with AddBlobs are known.
	Blobs BlobResolver
	// NumberPlan is how phone numbers are dialled where the PBX is (search
	// keys of numbers); zero means listquery.DefaultNumberPlan.
	NumberPlan listquery.NumberPlan

	// migrateTo stops migrations at this version (tests of upgrades); 0
	// means SchemaVersion.
	migrateTo int
}

// DB is the appliance's database. It is safe for concurrent use.
type DB struct {
	path  string
	w     *sql.DB // exactly one connection: every write goes through it
	r     *sql.DB // query-only pool
	log   *slog.Logger
	now   func() time.Time
	cost  int
	retry int
	busy  time.Duration
	idle  time.Duration // sessions' idle timeout

	// ftsCap: a query with fewer trigram-index candidates than this is
	// answered from the candidates (see ListRecordings); 0 disables.
	ftsCap int
	// trigrams caches trigram counts for the search plan.
	trigrams trigramStats
	// plan is the dialling plan phone numbers are keyed with.
	plan listquery.NumberPlan

	master *sealed.Key // nil: captures are stored in clear
	blobs  blobCache

	dummyOnce sync.Once
	dummyHash []byte
}

// Open opens (creating if needed) the database at path with the default Options.
func Open(ctx context.Context, path string, log *slog.Logger) (*DB, error) {
	return OpenOptions(ctx, path, log, Options{})
}

// OpenOptions opens (creating if needed) the database at path, migrates it to
// SchemaVersion and returns it. A database written by a newer program fails
// with ErrSchemaTooNew. It logs (migrations, retries) under applog.System.
func OpenOptions(ctx context.Context, path string, log *slog.Logger, opt Options) (*DB, error) {
	if path == "" {
		return nil, fmt.Errorf("store: open: empty path: %w", ErrInvalid)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db := &DB{path: abs, log: log.With("category", applog.System), now: opt.Now, cost: opt.BcryptCost, retry: opt.BusyRetries, ftsCap: 5000,
		master: opt.MasterKey, blobs: blobCache{resolve: opt.Blobs}, plan: opt.NumberPlan}
	if db.plan == (listquery.NumberPlan{}) {
		db.plan = listquery.DefaultNumberPlan
	} else if err := db.plan.Check(); err != nil {
		return nil, fmt.Errorf("store: open: number plan: %w: %w", err, ErrInvalid)
	}
	// The file holds password hashes, session tokens and the instance
	// password: it, its folder (when created here) and SQLite's side files
	// are private to the service's user (private.go).
	if err := makePrivateDir(filepath.Dir(abs), db.log); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := createFile(abs); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := tightenFiles(db.log, db.files()...); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if db.now == nil {
		db.now = time.Now
	}
	db.idle = opt.SessionIdle
	if db.idle <= 0 {
		db.idle = DefaultSessionIdle
	}
	db.busy = opt.BusyTimeout
	if db.busy <= 0 {
		db.busy = 5 * time.Second
	}
	if db.retry == 0 {
		db.retry = 3
	}
	if db.retry < 0 {
		db.retry = 0
	}

	// auto_vacuum must precede the first table; the driver applies _pragma
	// entries after busy_timeout in lexical order, so it runs before
	// journal_mode(WAL) materialises the file. On an existing database it is
	// a no-op unless the mode is unchanged.
	w, err := sql.Open("sqlite", dsn(abs, roleWriter, db.busy))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.w = w
	// The WAL and shared-memory files exist now; SQLite gives them the
	// database's mode, but one left by an older version may be wider.
	if err := tightenFiles(db.log, db.files()...); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := db.migrate(ctx, opt.migrateTo); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if opt.migrateTo == 0 || opt.migrateTo > peopleStep() {
		if err := db.warnNameCollisions(ctx); err != nil {
			w.Close()
			return nil, fmt.Errorf("store: open %s: %w", path, err)
		}
	}

	r, err := sql.Open("sqlite", dsn(abs, roleReader, db.busy))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	n := opt.ReadConns
	if n <= 0 {
		n = max(4, runtime.GOMAXPROCS(0))
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(5 * time.Minute)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("store: open %s: read pool: %w", path, err)
	}
	db.r = r
	return db, nil
}

// Connection roles, each with its own DSN.
const (
	roleWriter   = iota // the single writer
	roleReader          // the query-only read pool
	roleSnapshot        // a one-off connection for VACUUM INTO
)

func dsn(path string, role int, busy time.Duration) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	switch role {
	case roleWriter:
		q.Add("_pragma", "auto_vacuum(INCREMENTAL)")
		q.Set("_txlock", "immediate")
	case roleReader:
		q.Add("_pragma", "query_only(1)")
		q.Add("_pragma", "cache_size(-8000)")
	}
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	return u.String()
}

// Path is the absolute path of the database file.
func (db *DB) Path() string { return db.path }

// Close runs PRAGMA optimize and closes both connection pools.
func (db *DB) Close() error {
	var errs []error
	if db.w != nil {
		if _, err := db.w.Exec("PRAGMA optimize"); err != nil {
			db.log.Warn("store: optimize on close", "err", err)
		}
	}
	if db.r != nil {
		if err := db.r.Close(); err != nil {
			errs = append(errs, fmt.Errorf("store: close read pool: %w", err))
		}
	}
	if db.w != nil {
		if err := db.w.Close(); err != nil {
			errs = append(errs, fmt.Errorf("store: close writer: %w", err))
		}
	}
	return errors.Join(errs...)
}

// nowMS is the clock in unix milliseconds (UTC).
func (db *DB) nowMS() int64 { return db.now().UnixMilli() }

func fromMS(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func toMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// sqliteCode is the (extended) SQLite result code of err, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

func isBusy(err error) bool {
	c := sqliteCode(err) & 0xff
	return c == sqliteBusy || c == sqliteLocked
}

func isUnique(err error) bool {
	c := sqliteCode(err)
	return c == sqliteConstraintUniq || c == sqliteConstraintPK
}

// write runs fn in one IMMEDIATE transaction on the writer and commits it.
// A transaction that failed with SQLITE_BUSY (another process held the lock
// longer than busy_timeout) is retried with backoff.
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := db.writeOnce(ctx, fn)
		if err == nil || !isBusy(err) || attempt >= db.retry {
			return err
		}
		db.log.Warn("store: database busy, retrying", "attempt", attempt+1, "err", err)
		t := time.NewTimer(time.Duration(50<<attempt) * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (while retrying: %w)", err, ctx.Err())
		case <-t.C:
		}
	}
}

func (db *DB) writeOnce(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// closeOnErr closes c and joins its error into *err.
func closeOnErr(c io.Closer, err *error) {
	if cerr := c.Close(); cerr != nil && *err == nil {
		*err = cerr
	}
}
