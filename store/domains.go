package store

import (
	"context"
	"database/sql"
	"strings"
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
