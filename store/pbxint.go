package store

import (
	"context"
	"database/sql"
)

// migratePBX adds what the PBX integration keeps: the CDRs as received
// with their conference-id index, app objects with their access lists,
// the licence flag and default app object of users, the app object and
// role a session was signed in with, and the NoCDR mark of recordings.
func migratePBX(ctx context.Context, tx *sql.Tx) error {
	return execAll(ctx, tx,
		`CREATE TABLE cdrs (
			id          INTEGER PRIMARY KEY,
			kind        TEXT NOT NULL,             -- 'pbx' (XML <cdr>) or 'gateway' (key/value record)
			received_at INTEGER NOT NULL,
			domain      TEXT NOT NULL DEFAULT '',
			raw         TEXT NOT NULL,             -- the record exactly as received
			parsed      BLOB                       -- JSON of the parsed record
		)`,
		`CREATE INDEX cdrs_received ON cdrs (received_at)`,
		`CREATE TABLE cdr_confs (
			conf_id TEXT NOT NULL,
			cdr_id  INTEGER NOT NULL REFERENCES cdrs (id) ON DELETE CASCADE,
			PRIMARY KEY (conf_id, cdr_id)
		) WITHOUT ROWID`,
		`CREATE INDEX cdr_confs_cdr ON cdr_confs (cdr_id)`,
		`CREATE INDEX recordings_conf ON recordings (conf_id)`,
		`CREATE TABLE app_objects (
			name         TEXT PRIMARY KEY COLLATE NOCASE,
			display_name TEXT NOT NULL DEFAULT '',
			type         TEXT NOT NULL,            -- 'user' or 'admin'
			created_at   INTEGER NOT NULL
		)`,
		`CREATE TABLE app_object_access (
			app_object TEXT NOT NULL COLLATE NOCASE REFERENCES app_objects (name) ON DELETE CASCADE ON UPDATE CASCADE,
			pos        INTEGER NOT NULL,
			entry      TEXT NOT NULL,              -- an extension: a number (e164) or a user name (h323)
			PRIMARY KEY (app_object, pos)
		)`,
		`ALTER TABLE users ADD COLUMN app_object TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE users ADD COLUMN licensed INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE sessions ADD COLUMN app_object TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE sessions ADD COLUMN role TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE recordings ADD COLUMN no_cdr INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE recordings ADD COLUMN owner_source TEXT NOT NULL DEFAULT ''`,
	)
}
