package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"recordings/internal/invalid"
)

// Domains (docs/pbx.md, Domains): an account belongs to one domain, the
// domain of the PBX that replicated it (users.domain), or to none ("",
// every domain): local accounts, the bootstrap admin, accounts made by a
// user's AppLogin, and every account of a database from before domains.
// Names stay unique in the instance: a user that a second domain's PBX
// replicates under a name a user of another domain holds is refused (the
// row is not stored) rather than taking the name over.

const domainsMigration = "domains: the domain of PBX-replicated accounts"

func migrateDomains(ctx context.Context, tx *sql.Tx) error {
	return execAll(ctx, tx,
		`ALTER TABLE users ADD COLUMN domain TEXT NOT NULL DEFAULT ''`,
	)
}

// InDomain tells whether an account of domain userDomain sees things
// (recordings) of domain: an account of no domain sees every domain.
// Domains compare case-insensitively, as DNS names do.
func InDomain(userDomain, domain string) bool {
	return userDomain == "" || strings.EqualFold(userDomain, domain)
}

// maxDomain is the longest domain an account takes (a DNS name).
const maxDomain = 253

// SetUserDomain gives the account named name the domain domain ("": every
// domain) and reports whether it changed; the caller checks that the
// instance serves domain and that the admin may give it. A user replicated
// from the PBX (and not deleted there) belongs to the domain of its PBX:
// that is refused with an *invalid.Error, and nothing changes.
func (db *DB) SetUserDomain(ctx context.Context, name, domain string) (changed bool, err error) {
	if err := checkText("domain", domain, maxDomain, false); err != nil {
		return false, fmt.Errorf("store: set domain of %.64q: %w", name, err)
	}
	sel, args := userByName(name)
	err = db.write(ctx, func(tx *sql.Tx) error {
		var (
			id         int64
			old, guid  string
			pbxDeleted bool
		)
		err := tx.QueryRowContext(ctx, `SELECT id, domain, pbx_guid, pbx_deleted FROM users WHERE id = `+sel,
			args...).Scan(&id, &old, &guid, &pbxDeleted)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if old == domain {
			return nil
		}
		if guid != "" && !pbxDeleted {
			return invalid.New("domain", "the PBX manages this user: it belongs to the domain of its PBX")
		}
		changed = true
		_, err = tx.ExecContext(ctx, `UPDATE users SET domain = ? WHERE id = ?`, domain, id)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: set domain of %.64q: %w", name, err)
	}
	return changed, nil
}
