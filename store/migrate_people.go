package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// migratePeople adds what the account rules need:
//
//   - users.name_key, the account name in the form every comparison uses
//     (NameKey), unique together with users.name_dup. name_dup is 0 except
//     for accounts of an older schema whose names collide after
//     normalisation: the oldest keeps 0, each younger one gets its own id
//     and is disabled (the look-alike is the attack: it would see the
//     other's recordings). Both stay, nothing is renamed or lost, and every
//     look-up is deterministic (userByName: the account spelled exactly as
//     given, else the oldest). Each start logs such pairs
//     (warnNameCollisions) until an administrator deletes one; the younger
//     cannot be enabled again;
//   - users.disabled and users.password_at (when the password was last set;
//     HTTP Basic websockets compare it to notice a changed password);
//   - recordings.owner_key, NameKey of the owner, which the list filter and
//     the owner index use instead of SQLite's NOCASE;
//   - sessions.last_seen for the idle timeout.
func migratePeople(ctx context.Context, tx *sql.Tx) error {
	if err := execAll(ctx, tx,
		`ALTER TABLE users ADD COLUMN name_key TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE users ADD COLUMN name_dup INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE users ADD COLUMN password_at INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE recordings ADD COLUMN owner_key TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE sessions ADD COLUMN last_seen INTEGER NOT NULL DEFAULT 0`,
		`UPDATE sessions SET last_seen = created_at`,
	); err != nil {
		return err
	}
	// Users, oldest first: the oldest of colliding names keeps the key.
	type user struct {
		id   int64
		name string
	}
	users, err := queryAll(ctx, tx, `SELECT id, name FROM users ORDER BY id`, func(rows *sql.Rows) (user, error) {
		var u user
		return u, rows.Scan(&u.id, &u.name)
	})
	if err != nil {
		return fmt.Errorf("read users: %w", err)
	}
	taken := map[string]bool{}
	for _, u := range users {
		k := NameKey(u.name)
		var dup int64
		if taken[k] {
			dup = u.id
		}
		taken[k] = true
		if _, err := tx.ExecContext(ctx, `UPDATE users SET name_key = ?, name_dup = ?, disabled = (? <> 0) WHERE id = ?`,
			k, dup, dup, u.id); err != nil {
			return fmt.Errorf("name key of user %d: %w", u.id, err)
		}
	}
	// Owners: one key per distinct spelling, applied in one pass.
	owners, err := queryAll(ctx, tx, `SELECT DISTINCT owner FROM recordings WHERE owner <> ''`, func(rows *sql.Rows) (string, error) {
		var o string
		return o, rows.Scan(&o)
	})
	if err != nil {
		return fmt.Errorf("read owners: %w", err)
	}
	if err := execAll(ctx, tx, `CREATE TEMP TABLE owner_keys (owner TEXT PRIMARY KEY, k TEXT NOT NULL)`); err != nil {
		return err
	}
	for _, o := range owners {
		if _, err := tx.ExecContext(ctx, `INSERT INTO owner_keys (owner, k) VALUES (?, ?)`, o, NameKey(o)); err != nil {
			return fmt.Errorf("owner key: %w", err)
		}
	}
	return execAll(ctx, tx,
		`DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE disabled = 1)`,
		`UPDATE recordings SET owner_key = (SELECT k FROM owner_keys WHERE owner_keys.owner = recordings.owner)
			WHERE owner <> ''`,
		`DROP TABLE owner_keys`,
		`CREATE UNIQUE INDEX users_name_key ON users (name_key, name_dup)`,
		`DROP INDEX recordings_owner`,
		`CREATE INDEX recordings_owner ON recordings (owner_key, created_at, id, search)`,
	)
}

// peopleStep is the index of migratePeople in migrations: a database at a
// version above it has the columns it adds.
func peopleStep() int {
	for i, m := range migrations {
		if m.name == peopleMigration {
			return i
		}
	}
	panic("store: migratePeople is not in migrations")
}

const peopleMigration = "accounts: normalised names, disabled accounts, idle sessions"

// queryAll runs query with args in tx and scans every row with scan.
func queryAll[T any](ctx context.Context, tx *sql.Tx, query string, scan func(*sql.Rows) (T, error), args ...any) (_ []T, err error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer closeOnErr(rows, &err)
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// warnNameCollisions logs, at every start, the accounts whose names
// collide after normalisation (possible only in a database from before
// migratePeople; the younger of each pair was disabled then).
func (db *DB) warnNameCollisions(ctx context.Context) error {
	rows, err := db.w.QueryContext(ctx, `SELECT d.name, o.name FROM users d
		JOIN users o ON o.name_key = d.name_key AND o.name_dup = 0 WHERE d.name_dup <> 0 ORDER BY d.id`)
	if err != nil {
		return fmt.Errorf("store: account name collisions: %w", err)
	}
	var pairs []string
	func() {
		defer closeOnErr(rows, &err)
		for rows.Next() {
			var younger, older string
			if err = rows.Scan(&younger, &older); err != nil {
				return
			}
			pairs = append(pairs, fmt.Sprintf("%q (younger) and %q", younger, older))
		}
		err = rows.Err()
	}()
	if err != nil {
		return fmt.Errorf("store: account name collisions: %w", err)
	}
	if len(pairs) > 0 {
		db.log.Warn("store: account names that differ only in case or look-alike characters: "+
			"the younger of each pair is disabled and cannot be enabled; delete one of each pair "+
			"(and reassign its recordings), since recording owners are matched by the normalised name",
			"pairs", strings.Join(pairs, "; "))
	}
	return nil
}
