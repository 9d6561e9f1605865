package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// Cutoff says which recordings are past their retention period: those
// created before Default, except in the domains Domains names, where the
// domain's own time applies. A zero time keeps recordings forever (zero
// Default: those of every domain not named).
type Cutoff struct {
	Default time.Time
	// Domains maps a domain (matched in any case) to its own cutoff.
	Domains map[string]time.Time
}

// Before is the cutoff of a single retention period for every domain.
func Before(t time.Time) Cutoff { return Cutoff{Default: t} }

// neverMS is a creation time no recording is older than.
const neverMS = math.MinInt64

func cutoffMS(t time.Time) int64 {
	if t.IsZero() {
		return neverMS
	}
	return t.UnixMilli()
}

// ms returns the cutoff in force for domain, in Unix milliseconds.
func (c Cutoff) ms(domain string) int64 {
	for d, t := range c.Domains {
		if strings.EqualFold(d, domain) {
			return cutoffMS(t)
		}
	}
	return cutoffMS(c.Default)
}

// Expired tells whether a recording of domain created at created is past
// the cutoff (the rule the store's queries apply).
func (c Cutoff) Expired(domain string, created time.Time) bool {
	return created.UnixMilli() < c.ms(domain)
}

// where is the SQL condition "the recording is past c" and its arguments:
// an upper bound (for the created_at index) and the domains' own cutoffs.
func (c Cutoff) where() (string, []any) {
	upper := cutoffMS(c.Default)
	domains := slices.Sorted(maps.Keys(c.Domains))
	for _, d := range domains {
		upper = max(upper, cutoffMS(c.Domains[d]))
	}
	if upper == neverMS {
		return "0", nil
	}
	if len(domains) == 0 {
		return "created_at < ?", []any{upper}
	}
	var b strings.Builder
	args := []any{upper}
	b.WriteString("(created_at < ? AND created_at < CASE lower(domain)")
	for _, d := range domains {
		b.WriteString(" WHEN ? THEN ?")
		args = append(args, strings.ToLower(d), cutoffMS(c.Domains[d]))
	}
	b.WriteString(" ELSE ? END)")
	return b.String(), append(args, cutoffMS(c.Default))
}

// Expired is a recording past the retention period, as ExpiredRecordings
// lists it.
type Expired struct {
	ID        int64
	Domain    string
	Name      string
	Owner     string
	Size      int64
	CreatedAt time.Time
}

// readableKey is true for a recording stored in clear or whose data key
// the master key named by the next parameter wraps.
const readableKey = `NOT EXISTS (SELECT 1 FROM capture_keys k WHERE k.recording_id = recordings.id AND k.master <> ?)`

// maxExpiredBatch bounds one ExpiredRecordings/DeleteExpired call.
const maxExpiredBatch = 1000

// ExpiredRecordings lists up to limit recordings past the cutoff that are
// neither protected nor still being received, oldest first. Encrypted
// recordings the configured master key cannot read are never listed: a
// wrong or missing key file must not make retention delete what it cannot
// read (they expire once the right key is back; an admin may still delete
// one by hand).
func (db *DB) ExpiredRecordings(ctx context.Context, before Cutoff, limit int) (_ []Expired, err error) {
	if limit <= 0 || limit > maxExpiredBatch {
		return nil, fmt.Errorf("store: expired recordings: limit %d outside 1–%d: %w", limit, maxExpiredBatch, ErrInvalid)
	}
	past, args := before.where()
	rows, err := db.r.QueryContext(ctx, `SELECT id, domain, name, owner, size, created_at FROM recordings
		WHERE `+past+` AND protected = 0 AND state <> ? AND `+readableKey+`
		ORDER BY created_at, id LIMIT ?`, append(args, StateReceiving, db.MasterKeyID(), limit)...)
	if err != nil {
		return nil, fmt.Errorf("store: expired recordings: %w", err)
	}
	defer closeOnErr(rows, &err)
	var out []Expired
	for rows.Next() {
		var (
			e  Expired
			ms int64
		)
		if err := rows.Scan(&e.ID, &e.Domain, &e.Name, &e.Owner, &e.Size, &ms); err != nil {
			return nil, fmt.Errorf("store: expired recordings: %w", err)
		}
		e.CreatedAt = fromMS(ms)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: expired recordings: %w", err)
	}
	return out, nil
}

// DeleteExpired deletes, in one transaction, those of ids that are still
// expired (past the cutoff, not protected, not being received: a
// recording protected since it was listed is kept) and returns the ids it
// deleted.
func (db *DB) DeleteExpired(ctx context.Context, ids []int64, before Cutoff) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > maxExpiredBatch {
		return nil, fmt.Errorf("store: delete expired: %d ids, at most %d: %w", len(ids), maxExpiredBatch, ErrInvalid)
	}
	past, args := before.where()
	args = append(args, StateReceiving, db.MasterKeyID())
	for _, id := range ids {
		args = append(args, id)
	}
	q := `DELETE FROM recordings WHERE ` + past + ` AND protected = 0 AND state <> ? AND ` + readableKey + `
		AND id IN (?` + strings.Repeat(",?", len(ids)-1) + `) RETURNING id, owner, peer_name, peer_number, domain`
	var deleted []int64
	err := db.write(ctx, func(tx *sql.Tx) (err error) {
		// The audit trail notes each deletion in the same transaction.
		gone, err := queryAll(ctx, tx, q, scanGone, args...)
		if err != nil {
			return err
		}
		deleted = deleted[:0]
		for _, e := range gone {
			deleted = append(deleted, e.RecordingID)
		}
		return db.auditServiceDeletes(ctx, tx, AuditDeletedByRetention, gone)
	})
	if err != nil {
		return nil, fmt.Errorf("store: delete expired: %w", err)
	}
	return deleted, nil
}

// IncrementalVacuumStep returns up to pages free pages to the file system in
// one short transaction and reports how many free pages are left; call it
// until that is 0, so that a large freelist never holds the write lock long.
func (db *DB) IncrementalVacuumStep(ctx context.Context, pages int) (left int64, err error) {
	if pages <= 0 {
		return 0, fmt.Errorf("store: incremental vacuum: %d pages: %w", pages, ErrInvalid)
	}
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: incremental vacuum: %w", err)
	}
	defer conn.Close()
	// PRAGMA takes no bound parameters; pages is an int.
	rows, err := conn.QueryContext(ctx, fmt.Sprintf(`PRAGMA incremental_vacuum(%d)`, pages))
	if err != nil {
		return 0, fmt.Errorf("store: incremental vacuum: %w", err)
	}
	for rows.Next() {
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, fmt.Errorf("store: incremental vacuum: %w", err)
	}
	if err := conn.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&left); err != nil {
		return 0, fmt.Errorf("store: incremental vacuum: %w", err)
	}
	return left, nil
}

// Checkpoint copies the write-ahead log back into the database file without
// waiting for readers (PRAGMA wal_checkpoint(PASSIVE)), which also truncates
// the file after a vacuum once every frame is copied.
func (db *DB) Checkpoint(ctx context.Context) error {
	var busy, logFrames, done int
	if err := db.w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &done); err != nil {
		return fmt.Errorf("store: checkpoint: %w", err)
	}
	return nil
}

// TrimExpired deletes, in one transaction, the last chunks of an expired
// recording (past the cutoff, not protected, not being received)
// totalling at most maxBytes, but at least one chunk, and returns the
// capture bytes left. Retention uses it to take a very large recording
// apart in short transactions before deleting its row; a recording that is
// no longer expired is left alone (kept false).
func (db *DB) TrimExpired(ctx context.Context, id int64, before Cutoff, maxBytes int64) (left int64, kept bool, err error) {
	err = db.write(ctx, func(tx *sql.Tx) error {
		var protected, readable bool
		var created int64
		var state State
		var blobKey, domain string
		err := tx.QueryRowContext(ctx, `SELECT protected, created_at, state, size, blob_key, domain, `+readableKey+`
			FROM recordings WHERE id = ?`, db.MasterKeyID(), id).
			Scan(&protected, &created, &state, &left, &blobKey, &domain, &readable)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if protected || created >= before.ms(domain) || state == StateReceiving || !readable {
			kept = true
			return nil
		}
		if blobKey != "" {
			// One object: queued for deletion (by the trigger) as the
			// recording lets go of it.
			left = 0
			_, err := tx.ExecContext(ctx, `UPDATE recordings SET blob_loc = '', blob_key = '', blob_seg = 0, size = 0, nchunks = 0
				WHERE id = ?`, id)
			return err
		}
		// The highest chunk numbers whose sizes sum to at most maxBytes.
		rows, err := tx.QueryContext(ctx, `SELECT seq, off, length(data) FROM chunks WHERE recording_id = ? ORDER BY seq DESC`, id)
		if err != nil {
			return err
		}
		var (
			from    int64 = -1
			fromOff int64
			bytes   int64
		)
		for rows.Next() {
			var seq, off, n int64
			if err := rows.Scan(&seq, &off, &n); err != nil {
				rows.Close()
				return err
			}
			if from >= 0 && bytes+n > maxBytes {
				break
			}
			from, fromOff, bytes = seq, off, bytes+n
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		if from < 0 {
			return nil // no chunks
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM chunks WHERE recording_id = ? AND seq >= ?`, id, from); err != nil {
			return err
		}
		left = fromOff // the capture's bytes before the first chunk deleted (chunks may be sealed)
		_, err = tx.ExecContext(ctx, `UPDATE recordings SET size = ?, nchunks = ? WHERE id = ?`, left, from, id)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("store: trim expired recording %d: %w", id, err)
	}
	return left, kept, nil
}
