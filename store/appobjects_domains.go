package store

import (
	"context"
	"database/sql"
)

// App objects per domain (docs/pbx.md, Domains): each row belongs to the
// domain of the PBX that holds it, or to none ("": every domain, as every
// row from before this migration does). The name is unique within its
// domain, so the table gets a row id for the access lists to follow, and a
// session keeps the domain its app object was resolved in.

const appObjectsDomainsMigration = "domains: app objects and access lists per domain"

func migrateAppObjectsDomains(ctx context.Context, tx *sql.Tx) error {
	return execAll(ctx, tx,
		`CREATE TABLE app_objects_d (
			id            INTEGER PRIMARY KEY,
			domain        TEXT NOT NULL DEFAULT '' COLLATE NOCASE, -- '': every domain
			name          TEXT NOT NULL COLLATE NOCASE,
			display_name  TEXT NOT NULL DEFAULT '',
			type          TEXT NOT NULL,                            -- 'user' or 'admin'
			created_at    INTEGER NOT NULL,
			pbx_guid      TEXT NOT NULL DEFAULT '',
			pbx_url       TEXT NOT NULL DEFAULT '',
			pbx_state     TEXT NOT NULL DEFAULT '',                 -- a PBXState…
			pbx_connected INTEGER NOT NULL DEFAULT 0,
			pbx_synced_at INTEGER NOT NULL DEFAULT 0,
			UNIQUE (domain, name)
		)`,
		`INSERT INTO app_objects_d (domain, name, display_name, type, created_at, pbx_guid, pbx_url, pbx_state,
			pbx_connected, pbx_synced_at)
			SELECT '', name, display_name, type, created_at, pbx_guid, pbx_url, pbx_state, pbx_connected, pbx_synced_at
			FROM app_objects ORDER BY name`,
		`CREATE TABLE app_object_access_d (
			object_id INTEGER NOT NULL REFERENCES app_objects_d (id) ON DELETE CASCADE,
			pos       INTEGER NOT NULL,
			entry     TEXT NOT NULL,              -- an extension: a number (e164) or a user name (h323)
			PRIMARY KEY (object_id, pos)
		) WITHOUT ROWID`,
		`INSERT INTO app_object_access_d (object_id, pos, entry)
			SELECT o.id, a.pos, a.entry FROM app_object_access a JOIN app_objects_d o ON o.name = a.app_object`,
		`DROP TABLE app_object_access`,
		`DROP TABLE app_objects`,
		// The access table's reference follows the rename.
		`ALTER TABLE app_objects_d RENAME TO app_objects`,
		`ALTER TABLE app_object_access_d RENAME TO app_object_access`,
		`CREATE INDEX app_objects_name ON app_objects (name)`,
		`ALTER TABLE sessions ADD COLUMN app_object_domain TEXT NOT NULL DEFAULT ''`,
	)
}
