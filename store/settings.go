package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Setting returns the value of a setting and whether it is set.
func (db *DB) Setting(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := db.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: setting %.64q: %w", key, err)
	}
	return v, true, nil
}

// SetSetting stores a setting, replacing any previous value.
func (db *DB) SetSetting(ctx context.Context, key, value string) error {
	if err := checkText("key", key, maxFieldLen, true); err != nil {
		return fmt.Errorf("store: set setting: %w", err)
	}
	if len(value) > maxBlobLen {
		return fmt.Errorf("store: set setting %s: value of %d bytes: %w", key, len(value), ErrInvalid)
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set setting %s: %w", key, err)
	}
	return nil
}

// DeleteSetting removes a setting; a missing one is not an error.
func (db *DB) DeleteSetting(ctx context.Context, key string) error {
	_, err := db.deleteCount(ctx, "delete setting "+key, `DELETE FROM settings WHERE key = ?`, key)
	return err
}

// Settings returns every setting.
func (db *DB) Settings(ctx context.Context) (_ map[string]string, err error) {
	rows, err := db.r.QueryContext(ctx, `SELECT key, value FROM settings`)
	if err != nil {
		return nil, fmt.Errorf("store: settings: %w", err)
	}
	defer closeOnErr(rows, &err)
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("store: settings: %w", err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: settings: %w", err)
	}
	return out, nil
}
