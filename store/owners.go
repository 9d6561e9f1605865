package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"recordings/store/listquery"
)

// OwnerByAdmin is the owner source (Recording.OwnerSource) of recordings an
// administrator gave to their owner (ReassignRecordings): call data that
// arrives later does not take them away again.
const OwnerByAdmin = "admin"

// maxReassign bounds the recordings one ReassignRecordings moves, so that
// one write transaction stays short; the caller repeats until none is left.
const maxReassign = 5000

// ReassignRecordings gives at most 5000 recordings owned by from (compared
// in its normalised form: any account, existing or deleted) to the owner
// to, with owner source OwnerByAdmin, and returns their ids; fewer than
// 5000 means none is left. from may not be empty; to may be any name of at
// most 256 bytes (an account of that name need not exist).
func (db *DB) ReassignRecordings(ctx context.Context, from, to string) (_ []int64, err error) {
	return db.ReassignRecordingsIn(ctx, "", from, to)
}

// ReassignRecordingsIn is ReassignRecordings for the recordings of domain
// (any case) only; "" is every domain's.
func (db *DB) ReassignRecordingsIn(ctx context.Context, domain, from, to string) (_ []int64, err error) {
	to = strings.TrimSpace(to)
	if err := checkText("from", from, maxFieldLen, true); err != nil {
		return nil, fmt.Errorf("store: reassign recordings: %w", err)
	}
	if err := checkText("to", to, maxFieldLen, true); err != nil {
		return nil, fmt.Errorf("store: reassign recordings: %w", err)
	}
	var ids []int64
	err = db.write(ctx, func(tx *sql.Tx) (err error) {
		// search begins with the lower-cased owner up to the first newline
		// (searchText; names hold no control characters): replace that part.
		ids, err = queryIDs(ctx, tx, `UPDATE recordings SET owner = ?, owner_key = ?, owner_source = ?,
			search = ? || CASE WHEN instr(search, char(10)) > 0 THEN substr(search, instr(search, char(10))) ELSE '' END,
			updated_at = ?
			WHERE id IN (SELECT id FROM recordings WHERE owner_key = ? AND (? = '' OR domain = ? COLLATE NOCASE)
				ORDER BY id LIMIT ?) RETURNING id`,
			to, NameKey(to), OwnerByAdmin, listquery.Fold(to), db.nowMS(), NameKey(from), domain, domain, maxReassign)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: reassign recordings of %.64q: %w", from, err)
	}
	return ids, nil
}
