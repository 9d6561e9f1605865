package store

import (
	"context"
	"database/sql"
)

// queryRecordings runs query (which selects recColsLight) on the read pool
// and scans every row; the caller wraps the error with its context.
func (db *DB) queryRecordings(ctx context.Context, query string, args ...any) (_ []Recording, err error) {
	rows, err := db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer closeOnErr(rows, &err)
	var out []Recording
	for rows.Next() {
		r, err := scanRecording(rows, false)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// queryIDs runs query on q (a transaction or a pool) and collects the single
// int64 column of every row.
func queryIDs(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) (_ []int64, err error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer closeOnErr(rows, &err)
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
