package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// CheckFile runs PRAGMA integrity_check on the database file at path without
// migrating or otherwise changing it (a read-only, query-only connection),
// and returns its schema version. It fails unless the check says ok; a file
// that is not a database fails too.
func CheckFile(ctx context.Context, path string) (version int, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return 0, fmt.Errorf("store: check %s: %w", path, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return 0, fmt.Errorf("store: check %s: %w", path, err)
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "query_only(1)")
	u := url.URL{Scheme: "file", Path: abs, RawQuery: q.Encode()}
	conn, err := sql.Open("sqlite", u.String())
	if err != nil {
		return 0, fmt.Errorf("store: check %s: %w", path, err)
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	if err := conn.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return 0, fmt.Errorf("store: check %s: %w", path, err)
	}
	rows, err := conn.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return version, fmt.Errorf("store: check %s: %w", path, err)
	}
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return version, fmt.Errorf("store: check %s: %w", path, err)
		}
		if s != "ok" && len(problems) < 20 {
			problems = append(problems, s)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return version, fmt.Errorf("store: check %s: %w", path, err)
	}
	if len(problems) > 0 {
		return version, fmt.Errorf("store: check %s: integrity check failed: %s", path, strings.Join(problems, "; "))
	}
	return version, nil
}
