package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"recordings/internal/invalid"
)

// Audit actions: what someone did to a recording.
const (
	AuditListened           = "listened"
	AuditDownloaded         = "downloaded"
	AuditProtected          = "protected"
	AuditUnprotected        = "unprotected"
	AuditDeleted            = "deleted"
	AuditDeletedByRetention = "deleted_by_retention"
	// AuditDeletedUnlicensed: the licence purge deleted the recording, its
	// owner holding no licence (by the service, as retention).
	AuditDeletedUnlicensed = "deleted_unlicensed"
)

// AuditActions lists every action, in the order the apps offer them.
var AuditActions = []string{AuditListened, AuditDownloaded, AuditProtected, AuditUnprotected, AuditDeleted, AuditDeletedByRetention,
	AuditDeletedUnlicensed}

// AuditEntry is one line of the audit trail: who did what to which
// recording, with the recording's other party as it was then (the
// recording itself may be gone).
type AuditEntry struct {
	ID          int64
	At          time.Time
	Action      string
	RecordingID int64
	Owner       string // the recording's owner then
	PeerName    string
	PeerNumber  string
	By          string // account name; "" for the service itself (retention)
	ByName      string // its display name then
	// Domain is the recording's domain (recordings.domain). AddAudit
	// takes it from the recording while it exists if it is "".
	Domain string
}

const auditMigration = "audit trail"

// migrateAudit adds the audit trail: one row per action, looked up by actor,
// by the recording's owner (a user's activity: what they did and what others
// did to their recordings), by recording and by action, newest first.
func migrateAudit(ctx context.Context, tx *sql.Tx) error {
	return execAll(ctx, tx,
		`CREATE TABLE audit (
			id           INTEGER PRIMARY KEY,
			at           INTEGER NOT NULL,
			action       TEXT NOT NULL,
			recording_id INTEGER NOT NULL,
			owner        TEXT NOT NULL DEFAULT '',
			owner_key    TEXT NOT NULL DEFAULT '',
			peer_name    TEXT NOT NULL DEFAULT '',
			peer_number  TEXT NOT NULL DEFAULT '',
			by_user      TEXT NOT NULL DEFAULT '',
			by_key       TEXT NOT NULL DEFAULT '',
			by_name      TEXT NOT NULL DEFAULT ''
		)`,
		`CREATE INDEX audit_by ON audit (by_key, at, id)`,
		`CREATE INDEX audit_owner ON audit (owner_key, at, id)`,
		`CREATE INDEX audit_recording ON audit (recording_id, at, id)`,
		`CREATE INDEX audit_action ON audit (action, at, id)`,
		`CREATE INDEX audit_at ON audit (at, id)`,
	)
}

const auditDomainMigration = "domains: the domain of each audit entry"

// migrateAuditDomain gives each audit entry its recording's domain, so that
// an entry of a recording that is gone stays that domain's (docs/pbx.md,
// Domains). Existing entries take it from the recording while it exists,
// else from the owner's account, else none ("": shown to the
// administrators of every domain only).
func migrateAuditDomain(ctx context.Context, tx *sql.Tx) error {
	return execAll(ctx, tx,
		`ALTER TABLE audit ADD COLUMN domain TEXT NOT NULL DEFAULT '' COLLATE NOCASE`,
		`UPDATE audit SET domain = coalesce(
			(SELECT r.domain FROM recordings r WHERE r.id = audit.recording_id),
			(SELECT CASE WHEN count(DISTINCT u.domain) = 1 THEN max(u.domain) END FROM users u
				WHERE audit.owner_key <> '' AND u.name_key = audit.owner_key),
			'')`,
		`CREATE INDEX audit_domain ON audit (domain, at, id)`,
	)
}

// maxAuditBatch bounds the entries of one AddAudit call.
const maxAuditBatch = 1000

func validAction(a string) bool {
	for _, x := range AuditActions {
		if a == x {
			return true
		}
	}
	return false
}

// AddAudit stores entries in one transaction (a zero At is now).
func (db *DB) AddAudit(ctx context.Context, entries ...AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	if len(entries) > maxAuditBatch {
		return fmt.Errorf("store: add audit: %d entries, at most %d: %w", len(entries), maxAuditBatch, ErrInvalid)
	}
	for _, e := range entries {
		if !validAction(e.Action) {
			return fmt.Errorf("store: add audit: %w", invalid.New("action", "unknown action %.32q", e.Action))
		}
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO audit (at, action, recording_id, owner, owner_key, peer_name,
			peer_number, by_user, by_key, by_name, domain) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
			coalesce(nullif(?, ''), (SELECT domain FROM recordings WHERE id = ?), ''))`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, e := range entries {
			at := e.At
			if at.IsZero() {
				at = db.now()
			}
			if _, err := st.ExecContext(ctx, at.UnixMilli(), e.Action, e.RecordingID, e.Owner, NameKey(e.Owner),
				e.PeerName, e.PeerNumber, e.By, NameKey(e.By), e.ByName, e.Domain, e.RecordingID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: add audit: %w", err)
	}
	return nil
}

// auditServiceDeletes notes, in tx, that the service deleted the recordings
// of gone (ID, owner, other party and domain as they were) for action:
// retention or the licence purge, by nobody.
func (db *DB) auditServiceDeletes(ctx context.Context, tx *sql.Tx, action string, gone []AuditEntry) error {
	if len(gone) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO audit (at, action, recording_id, owner, owner_key, peer_name, peer_number,
		domain) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	defer st.Close()
	now := db.nowMS()
	for _, e := range gone {
		if _, err := st.ExecContext(ctx, now, action, e.RecordingID, e.Owner, NameKey(e.Owner), e.PeerName, e.PeerNumber,
			e.Domain); err != nil {
			return fmt.Errorf("audit %s of recording %d: %w", action, e.RecordingID, err)
		}
	}
	return nil
}

// scanGone reads a deleted recording's audit facts from a DELETE …
// RETURNING id, owner, peer_name, peer_number, domain.
func scanGone(rows *sql.Rows) (AuditEntry, error) {
	var e AuditEntry
	return e, rows.Scan(&e.RecordingID, &e.Owner, &e.PeerName, &e.PeerNumber, &e.Domain)
}

// AuditFilter selects audit entries, newest first. Empty fields do not
// filter.
type AuditFilter struct {
	// Involving: entries by this account or about recordings it owned (a
	// user's activity). Excludes By and Owner.
	Involving string
	By        string // entries by this account
	Action    string
	Recording int64
	From, To  time.Time // bound At: From inclusive, To exclusive
	Cursor    string    // from a previous page's next
	Limit     int       // 0: 50; at most 500
	// Domain, if set, selects the entries about that domain's recordings
	// (any case), whether or not they still exist (audit.domain).
	Domain string
}

const auditCols = `id, at, action, recording_id, owner, peer_name, peer_number, by_user, by_name, domain`

// Audit returns a page of entries matching f, newest first (by time, then
// id: listening is written in batches, after the actions around it), and the cursor
// of the next page ("" on the last).
func (db *DB) Audit(ctx context.Context, f AuditFilter) (_ []AuditEntry, next string, err error) {
	limit := f.Limit
	switch {
	case limit < 0 || limit > MaxListLimit:
		return nil, "", fmt.Errorf("store: audit: %w", invalid.New("limit", "1 to %d", MaxListLimit))
	case limit == 0:
		limit = DefaultListLimit
	}
	if f.Action != "" && !validAction(f.Action) {
		return nil, "", fmt.Errorf("store: audit: %w", invalid.New("action", "one of %s", strings.Join(AuditActions, ", ")))
	}
	var (
		where []string
		args  []any
	)
	if f.Cursor != "" {
		// "<at ms>.<id>" of the last entry of the previous page.
		atS, idS, ok := strings.Cut(f.Cursor, ".")
		at, err1 := strconv.ParseInt(atS, 10, 64)
		id, err2 := strconv.ParseInt(idS, 10, 64)
		if !ok || err1 != nil || err2 != nil || id <= 0 {
			return nil, "", fmt.Errorf("store: audit: %w", invalid.New("cursor", "malformed cursor %.40q", f.Cursor))
		}
		where = append(where, "(at, id) < (?, ?)")
		args = append(args, at, id)
	}
	if f.By != "" {
		where = append(where, "by_key = ?")
		args = append(args, NameKey(f.By))
	}
	if f.Action != "" {
		where = append(where, "action = ?")
		args = append(args, f.Action)
	}
	if f.Recording != 0 {
		where = append(where, "recording_id = ?")
		args = append(args, f.Recording)
	}
	if !f.From.IsZero() {
		where = append(where, "at >= ?")
		args = append(args, f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		where = append(where, "at < ?")
		args = append(args, f.To.UnixMilli())
	}
	if f.Domain != "" {
		where = append(where, "domain = ?") // the column compares NOCASE
		args = append(args, f.Domain)
	}
	cond := func(extra string) string {
		w := append([]string{}, where...)
		if extra != "" {
			w = append(w, extra)
		}
		if len(w) == 0 {
			return ""
		}
		return " WHERE " + strings.Join(w, " AND ")
	}
	var (
		q     string
		qargs []any
	)
	if f.Involving != "" {
		// Two index walks merged: by the account, and about its recordings.
		k := NameKey(f.Involving)
		q = `SELECT * FROM (SELECT ` + auditCols + ` FROM audit` + cond("by_key = ?") + ` ORDER BY at DESC, id DESC LIMIT ?)
			UNION SELECT * FROM (SELECT ` + auditCols + ` FROM audit` + cond("owner_key = ?") + ` ORDER BY at DESC, id DESC LIMIT ?)
			ORDER BY at DESC, id DESC LIMIT ?`
		qargs = append(append(append(append(append(qargs, args...), k, limit+1), args...), k, limit+1), limit+1)
	} else {
		q = `SELECT ` + auditCols + ` FROM audit` + cond("") + ` ORDER BY at DESC, id DESC LIMIT ?`
		qargs = append(args, limit+1)
	}
	rows, err := db.r.QueryContext(ctx, q, qargs...)
	if err != nil {
		return nil, "", fmt.Errorf("store: audit: %w", err)
	}
	defer closeOnErr(rows, &err)
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Action, &e.RecordingID, &e.Owner, &e.PeerName, &e.PeerNumber, &e.By, &e.ByName, &e.Domain); err != nil {
			return nil, "", fmt.Errorf("store: audit: %w", err)
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store: audit: %w", err)
	}
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = strconv.FormatInt(toMS(last.At), 10) + "." + strconv.FormatInt(last.ID, 10)
	}
	return out, next, nil
}
