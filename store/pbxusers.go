package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"recordings/pbx"
)

// Users replicated from the PBX (PbxTableUsers) are accounts like the
// local ones, in the same users table, so that one name is one owner: a
// replicated user is the account of its h323 name, marked with the PBX
// object's guid (users.pbx_guid, unique). Its display name, number and
// device MACs come from the PBX and follow it; it needs no password (it
// signs in through the PBX, AppLogin) and is listed with the others. The
// first time the replication delivers a guid, an account of the same name
// that has no guid yet — a local account, one an AppLogin created, the
// bootstrap admin — becomes that user: it keeps its id, password, role,
// app object and licence, and takes the PBX's data. A user deleted on the
// PBX stays, marked pbx_deleted, with its recordings: it loses its devices
// and the sessions of a PBX-only account end, but a local password it has
// keeps working (the bootstrap admin must not be locked out by the PBX).
//
// Each connection of the PBX loads the whole table once (a load, numbered
// by users.pbx_gen); the users a completed load did not deliver are
// marked deleted (FinishPBXLoad).

const pbxUsersMigration = "PBX-replicated users: guid, cn, dn, deleted flag, load generation"

// migratePBXUsers adds the replicated users' columns to users.
func migratePBXUsers(ctx context.Context, tx *sql.Tx) error {
	return execAll(ctx, tx,
		`ALTER TABLE users ADD COLUMN pbx_guid TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE users ADD COLUMN pbx_cn TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE users ADD COLUMN pbx_dn TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE users ADD COLUMN pbx_deleted INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE users ADD COLUMN pbx_gen INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE users ADD COLUMN pbx_at INTEGER NOT NULL DEFAULT 0`,
		`CREATE UNIQUE INDEX users_pbx_guid ON users (pbx_guid) WHERE pbx_guid <> ''`,
		// The names a replicated user had before the PBX renamed it, so
		// that recordings made under an old name follow the user
		// (DirectoryUser).
		`CREATE TABLE pbx_former_names (
			name_key TEXT PRIMARY KEY,
			user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE
		)`,
		`CREATE INDEX pbx_former_names_user ON pbx_former_names (user_id)`,
		// RecordingIDsToReresolve looks recordings up by device and by
		// registration name for every changed user (each user of a first
		// load): without these, each look-up read every recording.
		`CREATE INDEX recordings_mac ON recordings (mac)`,
		`CREATE INDEX recordings_reg_name ON recordings (reg_name COLLATE NOCASE)`,
	)
}

// PBXChange is what storing one replicated row (or a deletion) changed.
type PBXChange struct {
	GUID    string
	Name    string // the account's name now
	OldName string // its name before ("" when the account is new)
	// MACs are the account's devices now, OldMACs before; Moved are MACs
	// taken from other accounts.
	MACs, OldMACs, Moved []string
	Created              bool // a new account
	Linked               bool // an account of the same name without guid became the PBX user
	Revived              bool // a user marked deleted is back
	Deleted              bool // marked deleted
	// Refused says why the row was not (fully) applied; the rest of the
	// batch was.
	Refused error
}

// Reresolve reports whether recordings may have another owner now: the
// user is new, back, renamed, or has other devices.
func (c PBXChange) Reresolve() bool {
	return !c.Deleted && (c.Created || c.Linked || c.Revived || !SameName(c.Name, c.OldName) ||
		!slices.Equal(c.MACs, c.OldMACs))
}

// NextPBXLoad numbers a new full load of the PBX's user table.
func (db *DB) NextPBXLoad(ctx context.Context) (int64, error) {
	var gen int64
	if err := db.r.QueryRowContext(ctx, `SELECT coalesce(max(pbx_gen), 0) + 1 FROM users`).Scan(&gen); err != nil {
		return 0, fmt.Errorf("store: next PBX load: %w", err)
	}
	return gen, nil
}

// PutPBXUsers stores replicated users (rows of load gen, or live changes
// while it runs) in one transaction, in order, and returns what each one
// changed. Rows that are not plain users are refused (a caller deletes
// them with DeletePBXUser). A rename onto the name of a local account (one
// without guid) is refused: the user keeps its old name; the rest of its
// row is stored.
func (db *DB) PutPBXUsers(ctx context.Context, gen int64, users []pbx.PbxUser) ([]PBXChange, error) {
	return db.PutPBXUsersIn(ctx, "", gen, users)
}

// PutPBXUsersIn is PutPBXUsers for the PBX of domain: the accounts it
// stores belong to domain, and a user of another domain's PBX keeps its
// name (the row naming it is refused). Domain "" leaves the accounts'
// domains as they are.
func (db *DB) PutPBXUsersIn(ctx context.Context, domain string, gen int64, users []pbx.PbxUser) ([]PBXChange, error) {
	var out []PBXChange
	err := db.write(ctx, func(tx *sql.Tx) error {
		out = make([]PBXChange, 0, len(users))
		st := &stmtCache{tx: tx}
		defer st.close()
		for _, u := range users {
			c, err := db.putPBXUser(ctx, st, domain, gen, u)
			if err != nil {
				return fmt.Errorf("guid %s: %w", u.GUID, err)
			}
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: put PBX users: %w", err)
	}
	return out, nil
}

// stmtCache prepares each statement of a transaction once (a batch of
// rows runs the same few statements over and over).
type stmtCache struct {
	tx *sql.Tx
	m  map[string]*sql.Stmt
}

func (c *stmtCache) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := c.m[query]; ok {
		return s, nil
	}
	s, err := c.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[query] = s
	return s, nil
}

func (c *stmtCache) exec(ctx context.Context, query string, args ...any) error {
	s, err := c.stmt(ctx, query)
	if err == nil {
		_, err = s.ExecContext(ctx, args...)
	}
	return err
}

// queryRow runs query and scans its one row into dest (sql.ErrNoRows if
// none).
func (c *stmtCache) queryRow(ctx context.Context, query string, args []any, dest ...any) error {
	s, err := c.stmt(ctx, query)
	if err != nil {
		return err
	}
	return s.QueryRowContext(ctx, args...).Scan(dest...)
}

func (c *stmtCache) close() {
	for _, s := range c.m {
		_ = s.Close()
	}
}

type acct struct {
	id      int64
	name    string
	guid    string
	dup     int64
	deleted bool
	hasPW   bool
	domain  string
}

func (c *stmtCache) acct(ctx context.Context, cond string, arg any) (acct, bool, error) {
	var a acct
	err := c.queryRow(ctx, `SELECT id, name, pbx_guid, name_dup, pbx_deleted, password_hash <> '', domain
		FROM users WHERE `+cond, []any{arg}, &a.id, &a.name, &a.guid, &a.dup, &a.deleted, &a.hasPW, &a.domain)
	if errors.Is(err, sql.ErrNoRows) {
		return acct{}, false, nil
	}
	return a, err == nil, err
}

func (db *DB) putPBXUser(ctx context.Context, st *stmtCache, domain string, gen int64, u pbx.PbxUser) (PBXChange, error) {
	c := PBXChange{GUID: u.GUID, Name: u.H323}
	if !u.IsUser() || u.GUID == "" {
		c.Refused = fmt.Errorf("%w: not a user object (guid %q, pseudo %q)", ErrInvalid, u.GUID, u.Pseudo)
		return c, nil
	}
	if err := checkText("name", u.H323, maxUserName, true); err != nil {
		c.Refused = err
		return c, nil
	}
	e164 := u.E164
	if e164 != "" {
		if _, err := checkUser(User{Name: u.H323, E164: e164}); err != nil {
			e164 = "" // a PBX number the accounts do not take (e.g. with '*'): not stored
		}
	}
	display := u.Name()
	if checkText("display_name", display, maxFieldLen, false) != nil {
		display = ""
	}
	now := db.nowMS()
	key := NameKey(u.H323)

	// (pbx_guid <> '' lets SQLite use the partial index users_pbx_guid.)
	self, found, err := st.acct(ctx, `pbx_guid = ? AND pbx_guid <> ''`, u.GUID)
	if err != nil {
		return c, err
	}
	holder, held, err := st.acct(ctx, `name_key = ? AND name_dup = 0`, key)
	if err != nil {
		return c, err
	}
	if held && found && holder.id == self.id {
		held = false // its own name
	}
	if held && holder.guid != "" && domain != "" && holder.domain != "" && !strings.EqualFold(holder.domain, domain) {
		// Another domain's replicated user holds the name: names are
		// unique in the instance, and one domain's PBX never takes an
		// account from another's.
		c.Refused = fmt.Errorf("%w: %q is the name of a user of domain %.64q", ErrExists, u.H323, holder.domain)
		if !found {
			return c, nil
		}
		c.Name = self.name
		held = false
		key = NameKey(self.name)
	}
	// displace moves a replicated user of another guid off the name: the
	// PBX gave the name to this one (that one was deleted, or renamed and
	// its own update names it again). It is renamed <name>~<id> (names
	// are unique); recordings owned under the name go with the name.
	displace := func(a acct) error {
		moved := fmt.Sprintf("%s~%d", a.name, a.id)
		return st.exec(ctx, `UPDATE users SET name = ?, name_key = ?, name_dup = 0, pbx_at = ? WHERE id = ?`,
			moved, NameKey(moved), now, a.id)
	}
	var id int64
	switch {
	case found:
		id, c.OldName, c.Revived = self.id, self.name, self.deleted
		rename := `name = ?, name_key = ?, name_dup = 0,`
		args := []any{c.Name, key}
		if held {
			if holder.guid == "" {
				c.Refused = fmt.Errorf("%w: rename of %q to %q: a local account has that name; delete or rename one of them",
					ErrExists, self.name, u.H323)
				c.Name, rename, args = self.name, "", nil
			} else if err := displace(holder); err != nil {
				return c, err
			}
		}
		if rename != "" && !SameName(self.name, c.Name) {
			if err := st.exec(ctx, `INSERT INTO pbx_former_names (name_key, user_id) VALUES (?, ?)
				ON CONFLICT (name_key) DO UPDATE SET user_id = excluded.user_id`, NameKey(self.name), id); err != nil {
				return c, err
			}
		}
		if err := st.exec(ctx, `UPDATE users SET `+rename+` display_name = ?, e164 = ?,
			pbx_cn = ?, pbx_dn = ?, pbx_deleted = 0, pbx_gen = ?, pbx_at = ? WHERE id = ?`,
			append(args, display, e164, u.CN, u.DN, gen, now, id)...); err != nil {
			return c, err
		}
	case held && holder.guid == "":
		id, c.OldName, c.Linked = holder.id, holder.name, true
		// The PBX's spelling of the name (the same key) from now on.
		if err := st.exec(ctx, `UPDATE users SET name = ?, pbx_guid = ?, display_name = ?, e164 = ?,
			pbx_cn = ?, pbx_dn = ?, pbx_deleted = 0, pbx_gen = ?, pbx_at = ? WHERE id = ?`,
			u.H323, u.GUID, display, e164, u.CN, u.DN, gen, now, id); err != nil {
			return c, err
		}
	default:
		if held {
			if err := displace(holder); err != nil {
				return c, err
			}
		}
		c.Created = true
		if err := st.queryRow(ctx, `INSERT INTO users (name, name_key, display_name, e164, role, password_hash,
			password_at, created_at, pbx_guid, pbx_cn, pbx_dn, pbx_gen, pbx_at)
			VALUES (?, ?, ?, ?, ?, '', 0, ?, ?, ?, ?, ?, ?) RETURNING id`,
			[]any{u.H323, key, display, e164, string(RoleUser), now, u.GUID, u.CN, u.DN, gen, now}, &id); err != nil {
			return c, err
		}
	}
	if domain != "" {
		if err := st.exec(ctx, `UPDATE users SET domain = ? WHERE id = ? AND domain <> ?`, domain, id, domain); err != nil {
			return c, err
		}
	}
	if c.OldMACs, err = st.macsOf(ctx, id); err != nil {
		return c, err
	}
	c.MACs = c.OldMACs
	if u.HasDevices {
		macs := make([]string, 0, len(u.MACs))
		for _, m := range u.MACs {
			if n, err := normalizeMAC(m); err == nil && len(macs) < maxMACs {
				macs = append(macs, n)
			}
		}
		slices.Sort(macs)
		macs = slices.Compact(macs)
		if !slices.Equal(macs, c.OldMACs) {
			if c.Moved, err = st.setPBXMACs(ctx, id, c.OldMACs, macs); err != nil {
				return c, err
			}
			c.MACs = macs
		}
	}
	if c.Created {
		c.OldName = ""
	}
	return c, nil
}

// setPBXMACs gives account id the devices macs instead of old and returns
// the MACs it took from other accounts: the PBX is the authority on
// devices.
func (c *stmtCache) setPBXMACs(ctx context.Context, id int64, old, macs []string) (moved []string, err error) {
	for _, m := range old {
		if !slices.Contains(macs, m) {
			if err := c.exec(ctx, `DELETE FROM user_macs WHERE mac = ?`, m); err != nil {
				return nil, err
			}
		}
	}
	for _, m := range macs {
		if slices.Contains(old, m) {
			continue
		}
		var other int64
		err := c.queryRow(ctx, `DELETE FROM user_macs WHERE mac = ? RETURNING user_id`, []any{m}, &other)
		switch {
		case err == nil:
			moved = append(moved, m)
		case !errors.Is(err, sql.ErrNoRows):
			return nil, err
		}
		if err := c.exec(ctx, `INSERT INTO user_macs (mac, user_id) VALUES (?, ?)`, m, id); err != nil {
			return nil, err
		}
	}
	return moved, nil
}

func (c *stmtCache) macsOf(ctx context.Context, id int64) ([]string, error) {
	s, err := c.stmt(ctx, `SELECT mac FROM user_macs WHERE user_id = ? ORDER BY mac`)
	if err != nil {
		return nil, err
	}
	return macRows(s.QueryContext(ctx, id))
}

func macsOf(ctx context.Context, tx *sql.Tx, id int64) ([]string, error) {
	return macRows(tx.QueryContext(ctx, `SELECT mac FROM user_macs WHERE user_id = ? ORDER BY mac`, id))
}

func macRows(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	macs := []string{}
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return nil, err
		}
		macs = append(macs, m)
	}
	return macs, rows.Err()
}

// TouchPBXUsers counts the users guids as delivered by load gen without
// changing their data (their rows were refused, but they exist).
func (db *DB) TouchPBXUsers(ctx context.Context, gen int64, guids []string) error {
	if len(guids) == 0 {
		return nil
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		for _, g := range guids {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET pbx_gen = ? WHERE pbx_guid = ? AND pbx_guid <> ''`, gen, g); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: touch PBX users: %w", err)
	}
	return nil
}

// DeletePBXUser marks the user of guid deleted on the PBX; found is false
// when no account has that guid (or it is deleted already).
func (db *DB) DeletePBXUser(ctx context.Context, guid string) (c PBXChange, found bool, err error) {
	err = db.write(ctx, func(tx *sql.Tx) error {
		var cs []PBXChange
		cs, err = db.markPBXDeleted(ctx, tx, `pbx_guid = ? AND pbx_guid <> '' AND pbx_deleted = 0`, guid)
		if len(cs) == 1 {
			c, found = cs[0], true
		}
		return err
	})
	if err != nil {
		return PBXChange{}, false, fmt.Errorf("store: delete PBX user %.64q: %w", guid, err)
	}
	return c, found, nil
}

// FinishPBXLoad marks deleted every replicated user that load gen did not
// deliver (nor touch) and returns them.
func (db *DB) FinishPBXLoad(ctx context.Context, gen int64) ([]PBXChange, error) {
	return db.FinishPBXLoadIn(ctx, "", gen)
}

// FinishPBXLoadIn is FinishPBXLoad for the PBX of domain: only users of
// that domain, or of none (replicated before domains), are marked deleted;
// another domain's users are not this PBX's to delete. Domain "": all.
func (db *DB) FinishPBXLoadIn(ctx context.Context, domain string, gen int64) ([]PBXChange, error) {
	var out []PBXChange
	err := db.write(ctx, func(tx *sql.Tx) (err error) {
		out, err = db.markPBXDeleted(ctx, tx, `pbx_guid <> '' AND pbx_deleted = 0 AND pbx_gen < ?
			AND (? = '' OR domain = '' OR domain = ? COLLATE NOCASE)`, gen, domain, domain)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: finish PBX load %d: %w", gen, err)
	}
	return out, nil
}

// markPBXDeleted marks the accounts matching cond deleted: their devices
// go, and so do the sessions of those without a local password.
func (db *DB) markPBXDeleted(ctx context.Context, tx *sql.Tx, cond string, args ...any) ([]PBXChange, error) {
	type del struct {
		id         int64
		guid, name string
		hasPW      bool
	}
	rows, err := tx.QueryContext(ctx, `UPDATE users SET pbx_deleted = 1, pbx_at = ? WHERE `+cond+`
		RETURNING id, pbx_guid, name, password_hash <> ''`, append([]any{db.nowMS()}, args...)...)
	if err != nil {
		return nil, err
	}
	var dels []del
	for rows.Next() {
		var d del
		if err := rows.Scan(&d.id, &d.guid, &d.name, &d.hasPW); err != nil {
			rows.Close()
			return nil, err
		}
		dels = append(dels, d)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	out := make([]PBXChange, 0, len(dels))
	for _, d := range dels {
		macs, err := macsOf(ctx, tx, d.id)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_macs WHERE user_id = ?`, d.id); err != nil {
			return nil, err
		}
		if !d.hasPW {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, d.id); err != nil {
				return nil, err
			}
		}
		out = append(out, PBXChange{GUID: d.guid, Name: d.name, OldName: d.name, OldMACs: macs, MACs: []string{},
			Deleted: true})
	}
	return out, nil
}

// PBXUserByGUID returns the account replicated from the PBX object guid.
func (db *DB) PBXUserByGUID(ctx context.Context, guid string) (User, error) {
	u, _, err := db.user(ctx, `u.pbx_guid = ? AND u.pbx_guid <> ''`, guid)
	if err != nil {
		return User{}, fmt.Errorf("store: PBX user %.64q: %w", guid, err)
	}
	return u, nil
}

// maxDirRefresh bounds the recordings one directory change re-resolves.
const maxDirRefresh = 5000

// RecordingIDsToReresolve lists the newest recordings (at most 5000) whose
// owner may change after a directory change of the accounts named names
// (old and new names) or of the devices macs: made under one of the names
// or on one of the devices, or owned by one of the names, and whose owner
// neither an administrator gave (OwnerByAdmin) nor is a user deleted on the
// PBX (a deleted user's recordings stay).
func (db *DB) RecordingIDsToReresolve(ctx context.Context, names, macs []string) ([]int64, error) {
	if len(names) > 4 || len(macs) > 4*maxMACs {
		return nil, fmt.Errorf("store: recordings to re-resolve: %d names, %d MACs: %w", len(names), len(macs), ErrInvalid)
	}
	// One index look-up per name and device (recordings_reg_name,
	// recordings_owner, recordings_mac), the candidates then by rowid.
	var parts []string
	var args []any
	for _, n := range names {
		if n == "" {
			continue
		}
		parts = append(parts, `SELECT id FROM recordings WHERE reg_name = ? COLLATE NOCASE`,
			`SELECT id FROM recordings WHERE owner_key = ?`)
		args = append(args, n, NameKey(n))
	}
	for _, m := range macs {
		n, err := normalizeMAC(m)
		if err != nil {
			return nil, fmt.Errorf("store: recordings to re-resolve: %w", err)
		}
		parts = append(parts, `SELECT id FROM recordings WHERE mac = ?`)
		args = append(args, n)
	}
	if len(parts) == 0 {
		return nil, nil
	}
	q := `SELECT id FROM recordings WHERE id IN (` + strings.Join(parts, " UNION ") + `) AND owner_source <> ?
		AND NOT ` + ownerDeletedSQL + ` ORDER BY id DESC LIMIT ?`
	args = append(args, OwnerByAdmin, maxDirRefresh)
	ids, err := queryIDs(ctx, db.r, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: recordings to re-resolve: %w", err)
	}
	return ids, nil
}

// ownerDeletedSQL is true for a recording (table recordings, unaliased)
// whose owner is an account deleted on the PBX.
const ownerDeletedSQL = `EXISTS (SELECT 1 FROM users WHERE users.name_key = recordings.owner_key
	AND users.name_dup = 0 AND users.pbx_deleted = 1 AND recordings.owner_key <> '')`

// DirectoryUser is the account that owns recordings made under the name:
// the account of that name unless the PBX deleted it, else the replicated
// user who had that name before the PBX renamed it (unless deleted).
func (db *DB) DirectoryUser(ctx context.Context, name string) (User, error) {
	u, err := db.User(ctx, name)
	switch {
	case err == nil && !u.PBXDeleted:
		return u, nil
	case err == nil, errors.Is(err, ErrNotFound):
		u, _, err = db.user(ctx, `u.id = (SELECT user_id FROM pbx_former_names WHERE name_key = ?)
			AND u.pbx_deleted = 0 AND u.name_key <> ?`, NameKey(name), NameKey(name))
		if err == nil {
			return u, nil
		}
	}
	return User{}, fmt.Errorf("store: directory user %.64q: %w", name, err)
}

// DeletedPBXOwner tells whether owner, the owner name of a recording, is a
// user deleted on the PBX, and returns that user's name now: the account of
// that name if one has it, else the replicated user the PBX renamed from
// it. A recording of such a user stays the user's (a re-resolution that
// was queued before the deletion, or any later resolution, must not clear
// it); following a rename that happened before the deletion, it goes to
// the user's last name.
func (db *DB) DeletedPBXOwner(ctx context.Context, owner string) (name string, deleted bool, err error) {
	if owner == "" {
		return "", false, nil
	}
	key := NameKey(owner)
	err = db.r.QueryRowContext(ctx, `SELECT name, pbx_deleted FROM users WHERE name_key = ? AND name_dup = 0`,
		key).Scan(&name, &deleted)
	if errors.Is(err, sql.ErrNoRows) {
		err = db.r.QueryRowContext(ctx, `SELECT u.name, 1 FROM pbx_former_names f JOIN users u ON u.id = f.user_id
			WHERE f.name_key = ? AND u.pbx_deleted = 1 AND u.name_dup = 0`, key).Scan(&name, &deleted)
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("store: deleted owner %.64q: %w", owner, err)
	case !deleted:
		return "", false, nil
	}
	return name, true, nil
}
