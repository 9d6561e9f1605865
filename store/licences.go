package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"recordings/internal/invalid"
	"recordings/settings"
)

// The number of App(innovaphone-recorder) licences is the setting
// settings.KeyLicenceCount. While it is not set, licences are not
// enforced: every recording is kept. Whoever writes it (SetSettings,
// SetSetting), the store refuses a count below the licences assigned.

// LicenceStatus is the licence situation the admin view shows.
type LicenceStatus struct {
	Configured bool  // a licence count is set: licences are enforced
	Count      int   // licences available
	Assigned   int   // accounts holding one
	ToPurge    int64 // recordings the next start-up deletes (owner without licence)
	Protected  int64 // recordings of owners without licence kept because protected
}

func (db *DB) licenceCount(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, bool, error) {
	var v string
	err := q.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, settings.KeyLicenceCount).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false, fmt.Errorf("setting %s = %.20q is not a count: %w", settings.KeyLicenceCount, v, ErrInvalid)
	}
	return n, true, nil
}

// checkLicenceCount refuses, inside a write, a licence count (as stored)
// below the number of licences assigned.
func checkLicenceCount(ctx context.Context, tx *sql.Tx, value string) error {
	n, err := strconv.Atoi(value)
	if err != nil || n < 0 || n > settings.MaxLicences {
		return invalid.New(settings.KeyLicenceCount, "%.20q is not a count from 0 to %d", value, settings.MaxLicences)
	}
	var assigned int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE licensed = 1`).Scan(&assigned); err != nil {
		return err
	}
	if n < assigned {
		return invalid.New(settings.KeyLicenceCount, "%d licences are assigned, more than %d: take some back first", assigned, n)
	}
	return nil
}

// SetUserLicensed assigns (on) or takes back the licence of an account.
// With a licence count configured, no more than that many can be assigned.
func (db *DB) SetUserLicensed(ctx context.Context, user string, on bool) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		if on {
			n, configured, err := db.licenceCount(ctx, tx)
			if err != nil {
				return err
			}
			var assigned int
			var already bool
			sel, args := userByName(user)
			if err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(max(id = `+sel+`), 0)
				FROM users WHERE licensed = 1`, args...).Scan(&assigned, &already); err != nil {
				return err
			}
			if configured && !already && assigned >= n {
				return invalid.New("licensed", "all %d licences are assigned", n)
			}
		}
		sel, args := userByName(user)
		res, err := tx.ExecContext(ctx, `UPDATE users SET licensed = ? WHERE id = `+sel, append([]any{on}, args...)...)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: set licence of %.64q: %w", user, err)
	}
	return nil
}

// unlicensedCond selects recordings whose owner holds no licence. Recordings
// without owner (no CDR, nobody known) are not attributed to anyone and are
// kept.
const unlicensedCond = `owner <> '' AND owner_key NOT IN (SELECT name_key FROM users WHERE licensed = 1)`

// Licences reports the licence situation.
func (db *DB) Licences(ctx context.Context) (LicenceStatus, error) {
	return db.LicencesIn(ctx, "")
}

// LicencesIn reports the licence situation as one domain (any case) sees
// it: the licence count (the instance's), the licences its accounts hold
// and its recordings the purge would delete or keep as protected; domain
// "" is the whole instance's.
func (db *DB) LicencesIn(ctx context.Context, domain string) (LicenceStatus, error) {
	var st LicenceStatus
	var err error
	st.Count, st.Configured, err = db.licenceCount(ctx, db.r)
	if err == nil {
		err = db.r.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE licensed = 1
			AND (? = '' OR domain = ? COLLATE NOCASE)`, domain, domain).Scan(&st.Assigned)
	}
	if err == nil && st.Configured {
		err = db.r.QueryRowContext(ctx, `SELECT coalesce(sum(protected = 0), 0), coalesce(sum(protected = 1), 0)
			FROM recordings WHERE `+unlicensedCond+` AND (? = '' OR domain = ? COLLATE NOCASE)`,
			domain, domain).Scan(&st.ToPurge, &st.Protected)
	}
	if err != nil {
		return LicenceStatus{}, fmt.Errorf("store: licences: %w", err)
	}
	return st, nil
}

// PurgeUnlicensed deletes the recordings of owners without a licence
// (not protected ones) when licences are enforced, and returns how many it
// deleted and how many protected ones it kept. Without a configured
// licence count it deletes nothing.
func (db *DB) PurgeUnlicensed(ctx context.Context) (deleted, keptProtected int64, err error) {
	err = db.write(ctx, func(tx *sql.Tx) error {
		_, configured, err := db.licenceCount(ctx, tx)
		if err != nil || !configured {
			return err
		}
		gone, err := queryAll(ctx, tx, `DELETE FROM recordings WHERE protected = 0 AND `+unlicensedCond+`
			RETURNING id, owner, peer_name, peer_number, domain`, scanGone)
		if err != nil {
			return err
		}
		deleted = int64(len(gone))
		// The audit trail notes each deletion in the same transaction.
		if err := db.auditServiceDeletes(ctx, tx, AuditDeletedUnlicensed, gone); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM recordings WHERE protected = 1 AND `+unlicensedCond).
			Scan(&keptProtected)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("store: purge unlicensed recordings: %w", err)
	}
	return deleted, keptProtected, nil
}
