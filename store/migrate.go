package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// migration moves the schema from version i to i+1 (i = its index).
type migration struct {
	name string
	up   func(ctx context.Context, tx *sql.Tx) error
}

// migrations is append-only: never edit or reorder a released entry.
var migrations = []migration{
	{"initial schema", migrateInitial},
	{"trigram index for recording search", migrateSearchIndex},
	{"pbx integration: CDRs, app objects, licences", migratePBX}, // pbxint.go
	{"case-insensitive owner index", migrateOwnerNocase},
	{"analysis blobs in their own table", migrateBlobs},
	{"CDR facts parsed once, per-conference caps", migrateCDRFacts},           // cdrfacts.go
	{peopleMigration, migratePeople},                                          // migrate_people.go
	{pbxUsersMigration, migratePBXUsers},                                      // pbxusers.go
	{"captures in object storage, per-recording data keys", migrateBlobStore}, // blobs.go
	{searchKeysMigration, migrateSearchKeys},                                  // migrate_search.go
	{auditMigration, migrateAudit},                                            // audit.go
	{appObjectsPBXMigration, migrateAppObjectsPBX},                            // appobjects_pbx.go
	{domainsMigration, migrateDomains},                                        // domains.go
	{"render checkpoints stored with the analysis", migrateCheckpoints},       // checkpoints.go
	{appObjectsDomainsMigration, migrateAppObjectsDomains},                    // appobjects_domains.go
	{auditDomainMigration, migrateAuditDomain},                                // audit.go
}

// SchemaVersion is the schema version this program creates and understands.
func SchemaVersion() int { return len(migrations) }

// migrate brings the database to target (0 or out of range: SchemaVersion),
// one transaction per step (see migrateSteps in migrate_progress.go).
func (db *DB) migrate(ctx context.Context, target int) error {
	if target <= 0 || target > len(migrations) {
		target = len(migrations)
	}
	return db.migrateSteps(ctx, migrations, target, time.Second)
}

// execAll runs each statement in order.
func execAll(ctx context.Context, tx *sql.Tx, stmts ...string) error {
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			first, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
			return fmt.Errorf("%s: %w", first, err)
		}
	}
	return nil
}

func migrateInitial(ctx context.Context, tx *sql.Tx) error {
	return execAll(ctx, tx,
		`CREATE TABLE recordings (
			id           INTEGER PRIMARY KEY,
			domain       TEXT NOT NULL,
			name         TEXT NOT NULL,
			conf_id      TEXT NOT NULL DEFAULT '',
			mac          TEXT NOT NULL DEFAULT '',
			serial       TEXT NOT NULL DEFAULT '',
			reg_name     TEXT NOT NULL DEFAULT '',
			state        TEXT NOT NULL,
			reason       TEXT NOT NULL DEFAULT '',
			size         INTEGER NOT NULL DEFAULT 0,
			nchunks      INTEGER NOT NULL DEFAULT 0,
			sha256       TEXT NOT NULL DEFAULT '',
			created_at   INTEGER NOT NULL,
			updated_at   INTEGER NOT NULL,
			codec        TEXT NOT NULL DEFAULT '',
			duration_ms  INTEGER NOT NULL DEFAULT 0,
			stats        BLOB,
			envelope     BLOB,
			protected    INTEGER NOT NULL DEFAULT 0,
			owner        TEXT NOT NULL DEFAULT '',
			direction    TEXT NOT NULL DEFAULT '',
			peer_name    TEXT NOT NULL DEFAULT '',
			peer_number  TEXT NOT NULL DEFAULT '',
			connected_at INTEGER,
			call_ms      INTEGER NOT NULL DEFAULT 0,
			cdr          INTEGER NOT NULL DEFAULT 0,
			-- lower-cased owner, peer name, peer number and registration
			-- name, separated by newlines: the text ListFilter.Query searches
			search       TEXT NOT NULL DEFAULT '',
			UNIQUE (domain, name)
		)`,
		// Newest-first listing (rowid = id is the implicit last column) and
		// the Query filter evaluated on the index before touching the row.
		`CREATE INDEX recordings_created ON recordings (created_at, id, search)`,
		`CREATE INDEX recordings_owner ON recordings (owner, created_at, id)`,
		`CREATE INDEX recordings_state ON recordings (state)`,
		`CREATE TABLE chunks (
			recording_id INTEGER NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
			seq          INTEGER NOT NULL,
			off          INTEGER NOT NULL,
			data         BLOB NOT NULL,
			PRIMARY KEY (recording_id, seq)
		)`,
		`CREATE UNIQUE INDEX chunks_off ON chunks (recording_id, off)`,
		`CREATE TABLE users (
			id            INTEGER PRIMARY KEY,
			name          TEXT NOT NULL UNIQUE COLLATE NOCASE,
			display_name  TEXT NOT NULL DEFAULT '',
			e164          TEXT NOT NULL DEFAULT '',
			role          TEXT NOT NULL,
			password_hash TEXT NOT NULL DEFAULT '',
			created_at    INTEGER NOT NULL
		)`,
		`CREATE TABLE user_macs (
			mac     TEXT PRIMARY KEY,
			user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE
		)`,
		`CREATE INDEX user_macs_user ON user_macs (user_id)`,
		`CREATE TABLE sessions (
			token_hash BLOB PRIMARY KEY,
			user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			created_at INTEGER NOT NULL,
			expires_at INTEGER NOT NULL
		)`,
		`CREATE INDEX sessions_user ON sessions (user_id)`,
		`CREATE INDEX sessions_expires ON sessions (expires_at)`,
		`CREATE TABLE settings (
			key   TEXT PRIMARY KEY,
			value TEXT NOT NULL
		)`,
		`CREATE TABLE logs (
			id           INTEGER PRIMARY KEY,
			time         INTEGER NOT NULL,
			level        INTEGER NOT NULL,
			category     TEXT NOT NULL DEFAULT '',
			user         TEXT NOT NULL DEFAULT '',
			recording_id INTEGER NOT NULL DEFAULT 0,
			message      TEXT NOT NULL,
			attrs        BLOB
		)`,
		`CREATE INDEX logs_user ON logs (user, id) WHERE user <> ''`,
		`CREATE INDEX logs_category ON logs (category, id)`,
		`CREATE INDEX logs_recording ON logs (recording_id, id) WHERE recording_id <> 0`,
		`CREATE INDEX logs_time ON logs (time)`,
	)
}

// migrateSearchIndex adds a trigram full-text index over recordings.search,
// so that a rare ListFilter.Query finds its few rows without scanning them
// all, and lets owner-filtered searches test the search text on the index.
func migrateSearchIndex(ctx context.Context, tx *sql.Tx) error {
	return execAll(ctx, tx,
		// External content: the text stays in recordings.search only.
		// detail=none keeps the index small; candidates are re-checked
		// with instr() anyway.
		`CREATE VIRTUAL TABLE recordings_fts USING fts5 (search,
			content = 'recordings', content_rowid = 'id',
			tokenize = 'trigram case_sensitive 1', detail = 'none')`,
		`CREATE TRIGGER recordings_fts_insert AFTER INSERT ON recordings BEGIN
			INSERT INTO recordings_fts (rowid, search) VALUES (new.id, new.search);
		END`,
		`CREATE TRIGGER recordings_fts_delete AFTER DELETE ON recordings BEGIN
			INSERT INTO recordings_fts (recordings_fts, rowid, search) VALUES ('delete', old.id, old.search);
		END`,
		`CREATE TRIGGER recordings_fts_update AFTER UPDATE OF search ON recordings BEGIN
			INSERT INTO recordings_fts (recordings_fts, rowid, search) VALUES ('delete', old.id, old.search);
			INSERT INTO recordings_fts (rowid, search) VALUES (new.id, new.search);
		END`,
		`INSERT INTO recordings_fts (recordings_fts) VALUES ('rebuild')`,
		`DROP INDEX recordings_owner`,
		`CREATE INDEX recordings_owner ON recordings (owner, created_at, id, search)`,
	)
}

// migrateOwnerNocase rebuilds the owner index with the NOCASE collation
// that ListFilter.Owners compares with (owner names follow users.name), so
// the index serves owner-filtered listings again instead of a scan of every
// recording.
func migrateOwnerNocase(ctx context.Context, tx *sql.Tx) error {
	return execAll(ctx, tx,
		`DROP INDEX recordings_owner`,
		`CREATE INDEX recordings_owner ON recordings (owner COLLATE NOCASE, created_at, id, search)`,
	)
}

// migrateBlobs moves the analysis stats and waveform envelope out of the
// recordings rows: stored inline, ahead of the owner and call columns, a
// waveform of a few KiB spilled every row onto overflow pages that each
// list and search had to walk. Dropping the columns rewrites the table once.
func migrateBlobs(ctx context.Context, tx *sql.Tx) error {
	return execAll(ctx, tx,
		`CREATE TABLE recording_blobs (
			recording_id INTEGER PRIMARY KEY REFERENCES recordings (id) ON DELETE CASCADE,
			stats        BLOB,
			envelope     BLOB
		)`,
		`INSERT INTO recording_blobs (recording_id, stats, envelope)
			SELECT id, stats, envelope FROM recordings WHERE stats IS NOT NULL OR envelope IS NOT NULL`,
		`ALTER TABLE recordings DROP COLUMN stats`,
		`ALTER TABLE recordings DROP COLUMN envelope`,
	)
}
