package store

import (
	"context"
	"database/sql"
	"fmt"

	"recordings/store/listquery"
)

const searchKeysMigration = "search keys: folded names, number keys, call time"

// migrateSearchKeys recomputes every recording's search text with the
// folding and number rules of listquery (accents, umlauts, number
// prefixes), and adds
//
//   - recordings.call_at, the call's time: the CDR's connected time, else
//     the capture's start (created_at); the list orders, pages and filters
//     by it (index recordings_call, which replaces recordings_created as
//     the covering index of the list; recordings_created keeps a slim
//     (created_at) for retention and NoCDR marking);
//   - recordings.num_key, the key of the other party's number when it is
//     written with a prefix (listquery.StoredNumberKey), indexed, so that a
//     number search that matches few rows is answered from the index.
//
// The trigram index is rebuilt once at the end instead of row by row.
func migrateSearchKeys(ctx context.Context, tx *sql.Tx) error {
	if err := execAll(ctx, tx,
		`ALTER TABLE recordings ADD COLUMN call_at INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE recordings ADD COLUMN num_key TEXT NOT NULL DEFAULT ''`,
		`DROP TRIGGER recordings_fts_update`,
		`DROP INDEX recordings_created`,
		`DROP INDEX recordings_owner`,
		`UPDATE recordings SET call_at = coalesce(connected_at, created_at)`,
	); err != nil {
		return err
	}
	plan := listquery.DefaultNumberPlan
	upd, err := tx.PrepareContext(ctx, `UPDATE recordings SET search = ?, num_key = ? WHERE id = ?`)
	if err != nil {
		return err
	}
	defer upd.Close()
	type rec struct {
		id                       int64
		owner, pn, pnum, regName string
	}
	// In pages by id, so that memory stays small and no read is open
	// while the page is written.
	for last := int64(0); ; {
		page, err := queryAll(ctx, tx, fmt.Sprintf(`SELECT id, owner, peer_name, peer_number, reg_name
			FROM recordings WHERE id > %d ORDER BY id LIMIT 10000`, last), func(rows *sql.Rows) (rec, error) {
			var r rec
			return r, rows.Scan(&r.id, &r.owner, &r.pn, &r.pnum, &r.regName)
		})
		if err != nil {
			return fmt.Errorf("read recordings: %w", err)
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			if _, err := upd.ExecContext(ctx, listquery.SearchText(plan, r.owner, r.pn, r.pnum, r.regName),
				listquery.StoredNumberKey(plan, r.pnum), r.id); err != nil {
				return fmt.Errorf("search key of %d: %w", r.id, err)
			}
		}
		last = page[len(page)-1].id
	}
	return execAll(ctx, tx,
		`CREATE TRIGGER recordings_fts_update AFTER UPDATE OF search ON recordings BEGIN
			INSERT INTO recordings_fts (recordings_fts, rowid, search) VALUES ('delete', old.id, old.search);
			INSERT INTO recordings_fts (rowid, search) VALUES (new.id, new.search);
		END`,
		`INSERT INTO recordings_fts (recordings_fts) VALUES ('rebuild')`,
		`CREATE INDEX recordings_call ON recordings (call_at, id, search)`,
		`CREATE INDEX recordings_owner ON recordings (owner_key, call_at, id, search)`,
		`CREATE INDEX recordings_created ON recordings (created_at)`,
		`CREATE INDEX recordings_num ON recordings (num_key, call_at, owner_key) WHERE num_key <> ''`,
	)
}
