package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"recordings/applog"
	"recordings/internal/invalid"
)

// LogEntry is one line of the UI's log views: the record applog hands its
// sink, with ID assigned by the store (ignored on insert). applog owns the
// type and its bounds; the store is one of its sinks.
type LogEntry = applog.Record

var _ applog.Sink = (*DB)(nil)

// LogFilter selects log entries, newest first.
type LogFilter struct {
	User     string // only this user's entries, if set
	Category string // only this category, if set
	MinLevel string // only this level and above, if set
	// RecordingID, if set, selects the entries of one recording.
	RecordingID int64
	Limit       int   // 0 means 100, at most 1000
	Before      int64 // only entries with a smaller ID (paging), if set
	// Domain, if set, selects the entries about that domain (any case): of
	// its accounts or its recordings. Entries of the service itself (no
	// user, no recording) are left out.
	Domain string
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, invalid.New("level", "%.20q is not a log level", s)
	}
	return l, nil
}

// AddLogs stores entries in one transaction (applog.Sink). Entries beyond
// applog's bounds (MaxMessage, MaxAttrs, MaxField, MaxBatch) are refused.
func (db *DB) AddLogs(ctx context.Context, entries []LogEntry) error {
	if len(entries) == 0 {
		return nil
	}
	if len(entries) > applog.MaxBatch {
		return fmt.Errorf("store: add logs: %d entries, at most %d per batch: %w", len(entries), applog.MaxBatch, ErrInvalid)
	}
	levels := make([]slog.Level, len(entries))
	for i, e := range entries {
		l, err := parseLevel(e.Level)
		if err != nil {
			return fmt.Errorf("store: add logs: entry %d: %w", i, err)
		}
		levels[i] = l
		if len(e.Message) > applog.MaxMessage || len(e.Attrs) > applog.MaxAttrs ||
			len(e.Category) > applog.MaxField || len(e.User) > applog.MaxField {
			return fmt.Errorf("store: add logs: entry %d is oversized: %w", i, ErrInvalid)
		}
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO logs (time, level, category, user, recording_id, message, attrs)
			VALUES (?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		now := db.nowMS()
		for i, e := range entries {
			t := now
			if !e.Time.IsZero() {
				t = e.Time.UnixMilli()
			}
			if _, err := st.ExecContext(ctx, t, int64(levels[i]), e.Category, e.User, e.RecordingID,
				e.Message, e.Attrs); err != nil {
				return fmt.Errorf("entry %d: %w", i, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: add logs: %w", err)
	}
	return nil
}

// Logs returns log entries matching f, newest first; page with
// f.Before = the last entry's ID.
func (db *DB) Logs(ctx context.Context, f LogFilter) (_ []LogEntry, err error) {
	limit := f.Limit
	switch {
	case limit < 0:
		return nil, fmt.Errorf("store: logs: %w", invalid.New("limit", "must not be negative"))
	case limit == 0:
		limit = 100
	case limit > 1000:
		limit = 1000
	}
	var (
		where []string
		args  []any
	)
	if f.User != "" {
		where = append(where, "user = ?")
		args = append(args, f.User)
	}
	if f.Category != "" {
		where = append(where, "category = ?")
		args = append(args, f.Category)
	}
	if f.RecordingID != 0 {
		where = append(where, "recording_id = ?")
		args = append(args, f.RecordingID)
	}
	if f.MinLevel != "" {
		l, err := parseLevel(f.MinLevel)
		if err != nil {
			return nil, fmt.Errorf("store: logs: %w", err)
		}
		where = append(where, "level >= ?")
		args = append(args, int64(l))
	}
	if f.Domain != "" {
		where = append(where, `((user <> '' AND user IN (SELECT name FROM users WHERE domain = ? COLLATE NOCASE))
			OR (recording_id <> 0 AND recording_id IN (SELECT id FROM recordings WHERE domain = ? COLLATE NOCASE)))`)
		args = append(args, f.Domain, f.Domain)
	}
	if f.Before > 0 {
		where = append(where, "id < ?")
		args = append(args, f.Before)
	}
	q := `SELECT id, time, level, category, user, recording_id, message, attrs FROM logs`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: logs: %w", err)
	}
	defer closeOnErr(rows, &err)
	var out []LogEntry
	for rows.Next() {
		var (
			e     LogEntry
			t, lv int64
		)
		if err := rows.Scan(&e.ID, &t, &lv, &e.Category, &e.User, &e.RecordingID, &e.Message, &e.Attrs); err != nil {
			return nil, fmt.Errorf("store: logs: %w", err)
		}
		e.Time = fromMS(t)
		e.Level = slog.Level(lv).String()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: logs: %w", err)
	}
	return out, nil
}

// PruneLogs deletes entries older than before and returns how many.
func (db *DB) PruneLogs(ctx context.Context, before time.Time) (int64, error) {
	return db.deleteCount(ctx, "prune logs", `DELETE FROM logs WHERE time < ?`, before.UnixMilli())
}
