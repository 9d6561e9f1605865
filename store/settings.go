package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"

	"recordings/settings"
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

// SetSetting stores a setting, replacing any previous value. The store
// checks no value but the licence count (against the licences assigned);
// settings.Service validates them all and is the writer to use.
func (db *DB) SetSetting(ctx context.Context, key, value string) error {
	if err := checkSetting(key, value); err != nil {
		return fmt.Errorf("store: set setting: %w", err)
	}
	if err := db.write(ctx, func(tx *sql.Tx) error { return putSetting(ctx, tx, key, value) }); err != nil {
		return fmt.Errorf("store: set setting: %w", err)
	}
	return nil
}

// SetSettings applies changes in one transaction, all or none: a key with
// an empty value is removed, the others are stored. It is what
// settings.Service writes through.
func (db *DB) SetSettings(ctx context.Context, changes map[string]string) error {
	keys := slices.Sorted(maps.Keys(changes))
	for _, k := range keys {
		if err := checkSetting(k, changes[k]); err != nil {
			return fmt.Errorf("store: set settings: %w", err)
		}
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		for _, k := range keys {
			var err error
			if changes[k] == "" {
				_, err = tx.ExecContext(ctx, `DELETE FROM settings WHERE key = ?`, k)
			} else {
				err = putSetting(ctx, tx, k, changes[k])
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: set settings: %w", err)
	}
	return nil
}

func checkSetting(key, value string) error {
	if err := checkText("key", key, maxFieldLen, true); err != nil {
		return err
	}
	if len(value) > maxBlobLen {
		return fmt.Errorf("setting %s: value of %d bytes: %w", key, len(value), ErrInvalid)
	}
	return nil
}

// putSetting stores one setting inside a write, refusing a licence count
// below the licences assigned. Its errors name the key (an *invalid.Error
// names it as its field).
func putSetting(ctx context.Context, tx *sql.Tx, key, value string) error {
	if key == settings.KeyLicenceCount {
		if err := checkLicenceCount(ctx, tx, value); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value); err != nil {
		return fmt.Errorf("%s: %w", key, err)
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
