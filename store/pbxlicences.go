package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Licences from the PBX: with a PBX connected, the PBX decides who holds
// the App(innovaphone-recorder) licence (PbxAdminApi CheckAppLic, a user's
// AppLogin info.unlicensed); the users' licensed flag mirrors its answers
// and the typed-in licence count does not apply.

// maxOwners bounds RecordingOwners.
const maxOwners = 100_000

// SetLicensedByPBX sets the licensed flag of the accounts named in lic
// (name → holds the licence) as the PBX answered; names without an account
// are skipped. It returns how many accounts changed.
func (db *DB) SetLicensedByPBX(ctx context.Context, lic map[string]bool) (changed int64, err error) {
	return db.SetLicensedByPBXIn(ctx, "", lic)
}

// SetLicensedByPBXIn is SetLicensedByPBX for the PBX of domain: only
// accounts of that domain or of none change ("": every account).
func (db *DB) SetLicensedByPBXIn(ctx context.Context, domain string, lic map[string]bool) (changed int64, err error) {
	err = db.write(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `UPDATE users SET licensed = ? WHERE name_key = ? AND licensed <> ?
			AND (? = '' OR domain = '' OR domain = ? COLLATE NOCASE)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for name, on := range lic {
			res, err := st.ExecContext(ctx, on, NameKey(name), on, domain, domain)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			changed += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: set licences from the PBX: %w", err)
	}
	return changed, nil
}

// RecordingOwners lists the owners of recordings, one name per normalised
// name (at most 100000).
func (db *DB) RecordingOwners(ctx context.Context) (_ []string, err error) {
	return db.RecordingOwnersIn(ctx, "")
}

// RecordingOwnersIn is RecordingOwners of the recordings of domain (in any
// case; "": of every domain).
func (db *DB) RecordingOwnersIn(ctx context.Context, domain string) (_ []string, err error) {
	rows, err := db.r.QueryContext(ctx, `SELECT min(owner) FROM recordings WHERE owner <> ''
		AND (? = '' OR domain = ? COLLATE NOCASE) GROUP BY owner_key
		ORDER BY owner_key LIMIT ?`, domain, domain, maxOwners)
	if err != nil {
		return nil, fmt.Errorf("store: recording owners: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			return nil, fmt.Errorf("store: recording owners: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: recording owners: %w", err)
	}
	return out, nil
}

// PurgedRecording names a recording a licence purge deleted.
type PurgedRecording struct {
	ID     int64
	Domain string
	Name   string
	Owner  string
}

// purged is a recording a licence purge deleted: its audit facts and name.
type purged struct {
	e    AuditEntry
	name string
}

// PurgeOwners deletes the recordings (not protected ones) of the given
// owners, compared by their normalised names, and returns what it deleted
// and how many protected ones it kept.
func (db *DB) PurgeOwners(ctx context.Context, owners []string) (deleted []PurgedRecording, keptProtected int64, err error) {
	return db.PurgeOwnersIn(ctx, "", owners)
}

// PurgeOwnersIn is PurgeOwners for the recordings uploaded under domain
// (any case; "": every domain): one domain's PBX never decides about
// another domain's recordings.
func (db *DB) PurgeOwnersIn(ctx context.Context, domain string, owners []string) (deleted []PurgedRecording, keptProtected int64, err error) {
	if len(owners) == 0 {
		return nil, 0, nil
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		deleted, keptProtected = nil, 0
		for _, o := range owners {
			gone, err := queryAll(ctx, tx, `DELETE FROM recordings WHERE owner_key = ? AND protected = 0
				AND (? = '' OR domain = ? COLLATE NOCASE)
				RETURNING id, owner, peer_name, peer_number, domain, name`, func(rows *sql.Rows) (purged, error) {
				var p purged
				return p, rows.Scan(&p.e.RecordingID, &p.e.Owner, &p.e.PeerName, &p.e.PeerNumber, &p.e.Domain, &p.name)
			}, NameKey(o), domain, domain)
			if err != nil {
				return err
			}
			entries := make([]AuditEntry, 0, len(gone))
			for _, p := range gone {
				deleted = append(deleted, PurgedRecording{ID: p.e.RecordingID, Domain: p.e.Domain, Name: p.name, Owner: p.e.Owner})
				entries = append(entries, p.e)
			}
			// The audit trail notes each deletion in the same transaction.
			if err := db.auditServiceDeletes(ctx, tx, AuditDeletedUnlicensed, entries); err != nil {
				return err
			}
			var kept int64
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM recordings WHERE owner_key = ? AND protected = 1
				AND (? = '' OR domain = ? COLLATE NOCASE)`, NameKey(o), domain, domain).Scan(&kept); err != nil {
				return err
			}
			keptProtected += kept
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: purge recordings of unlicensed owners: %w", err)
	}
	return deleted, keptProtected, nil
}
