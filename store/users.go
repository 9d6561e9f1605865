package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"recordings/internal/invalid"
	"recordings/pbx"
)

// Role is a user's authority in the web UI.
type Role string

// Roles.
const (
	RoleUser  Role = "user"
	RoleAdmin Role = "admin"
)

const (
	maxUserName    = 64
	maxPasswordLen = 72 // bcrypt's limit, in bytes
	maxMACs        = 64
)

// User is an account of the web UI and, by name, the owner of recordings.
type User struct {
	ID          int64
	Name        string // unique in its normalised form (NameKey)
	DisplayName string
	E164        string   // phone number, e.g. "+4970311234567"; may be empty
	Role        Role     // RoleUser or RoleAdmin; empty means RoleUser on create
	MACs        []string // phones' MAC addresses, 12 lower-case hex digits
	CreatedAt   time.Time
	// HasPassword is false for PBX-only users, who cannot log in locally.
	// It is read-only: set passwords with CreateUser or SetPassword.
	HasPassword bool
	// PasswordAt is when the password was last set (zero: before this was
	// recorded, or none). Read-only.
	PasswordAt time.Time
	// Disabled accounts cannot sign in by any path (read-only here:
	// SetUserDisabled).
	Disabled bool

	// AppObject is the account's default app object (SetUserAppObject):
	// its access list applies to sign-ins that name no app object.
	AppObject string
	// Licensed: the account holds an App(innovaphone-recorder) licence
	// (read-only here: SetUserLicensed).
	Licensed bool

	// Replicated from the PBX (PbxTableUsers; read-only here, see
	// pbxusers.go): PBXGUID is the PBX object's guid ("" for a local
	// account), CN and DN its common and display names, PBXDeleted that
	// the PBX deleted it (its recordings stay).
	PBXGUID    string
	CN, DN     string
	PBXDeleted bool
	// Domain is the domain of the PBX that replicated the account; ""
	// for every other account, which belongs to every domain (domains.go).
	Domain string

	// The sign-in, filled by SessionUser and Authenticate (zero elsewhere):
	// Via is the app object whose access list applies ("" none), Sees the
	// owner names its access list adds to the user's own recordings, and
	// ViaDomain the domain of that app object: Sees opens recordings of
	// that domain only ("": of every domain).
	Via       string
	Sees      []string
	ViaDomain string
}

// normalizeMAC is pbx.NormalizeMAC refusing as an *invalid.Error (field
// "macs"), so that callers of the store see one kind of refusal.
func normalizeMAC(mac string) (string, error) {
	m, err := pbx.NormalizeMAC(mac)
	if err != nil {
		return "", invalid.New("macs", "%v", err)
	}
	return m, nil
}

// checkUser validates u and returns it normalised.
func checkUser(u User) (User, error) {
	u.Name = strings.TrimSpace(u.Name)
	if err := checkText("name", u.Name, maxUserName, true); err != nil {
		return u, err
	}
	if err := checkText("display_name", u.DisplayName, maxFieldLen, false); err != nil {
		return u, err
	}
	if u.E164 != "" {
		digits := strings.TrimPrefix(u.E164, "+")
		if len(digits) == 0 || len(digits) > 20 || strings.Trim(digits, "0123456789") != "" {
			return u, invalid.New("e164", "%.40q is not a phone number: digits with an optional leading +, at most 20", u.E164)
		}
	}
	switch u.Role {
	case "":
		u.Role = RoleUser
	case RoleUser, RoleAdmin:
	default:
		return u, invalid.New("role", "%.20q is not %q or %q", u.Role, RoleUser, RoleAdmin)
	}
	if err := checkText("domain", u.Domain, maxDomain, false); err != nil {
		return u, err
	}
	if len(u.MACs) > maxMACs {
		return u, invalid.New("macs", "at most %d MAC addresses, not %d", maxMACs, len(u.MACs))
	}
	macs := make([]string, 0, len(u.MACs))
	for _, m := range u.MACs {
		n, err := normalizeMAC(m)
		if err != nil {
			return u, err
		}
		macs = append(macs, n)
	}
	slices.Sort(macs)
	u.MACs = slices.Compact(macs)
	return u, nil
}

func (db *DB) hashPassword(password string) (string, error) {
	if password == "" {
		return "", nil
	}
	if len(password) > maxPasswordLen {
		return "", invalid.New("password", "at most %d bytes", maxPasswordLen)
	}
	cost := db.cost
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// setMACs replaces the MAC addresses of user id.
func setMACs(ctx context.Context, tx *sql.Tx, id int64, macs []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM user_macs WHERE user_id = ?`, id); err != nil {
		return err
	}
	for _, m := range macs {
		_, err := tx.ExecContext(ctx, `INSERT INTO user_macs (mac, user_id) VALUES (?, ?)`, m, id)
		if isUnique(err) {
			return fmt.Errorf("MAC address %s belongs to another user: %w", m, ErrExists)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// CreateUser adds a user, of domain u.Domain ("" every domain; the caller
// checks that the instance serves it). An empty password makes a PBX-only
// user who cannot log in locally. A taken name (or MAC) fails with
// ErrExists.
func (db *DB) CreateUser(ctx context.Context, u User, password string) (User, error) {
	u, err := checkUser(u)
	if err != nil {
		return User{}, fmt.Errorf("store: create user: %w", err)
	}
	hash, err := db.hashPassword(password)
	if err != nil {
		return User{}, fmt.Errorf("store: create user %s: %w", u.Name, err)
	}
	now := db.nowMS()
	pwAt := int64(0)
	if hash != "" {
		pwAt = now
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		// name_key is unique (with name_dup 0): a name that differs from
		// an existing one only in case or look-alike characters is taken.
		err := tx.QueryRowContext(ctx, `INSERT INTO users (name, name_key, display_name, e164, role, password_hash,
			password_at, created_at, domain) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			u.Name, NameKey(u.Name), u.DisplayName, u.E164, string(u.Role), hash, pwAt, now, u.Domain).Scan(&u.ID)
		if isUnique(err) {
			return ErrExists
		}
		if err != nil {
			return err
		}
		return setMACs(ctx, tx, u.ID, u.MACs)
	})
	if err != nil {
		return User{}, fmt.Errorf("store: create user %s: %w", u.Name, err)
	}
	u.CreatedAt = fromMS(now)
	u.HasPassword = hash != ""
	u.PasswordAt = fromMS(pwAt)
	return u, nil
}

// userByName is the SQL of the id of the account named name, and its
// arguments: the account whose normalised name is NameKey(name), preferring
// among accounts of an older schema whose names collide (name_dup, see
// migratePeople) the one spelled exactly as given, else the oldest.
func userByName(name string) (string, []any) {
	return `(SELECT id FROM users WHERE name_key = ? ORDER BY name = ? COLLATE BINARY DESC, name_dup LIMIT 1)`,
		[]any{NameKey(name), name}
}

// UpdateUser changes the display name, phone number, role and MAC
// addresses of the user named u.Name (names do not change: they own
// recordings). If u.ID is set it must be that user's id. A change of role
// ends the user's sessions.
func (db *DB) UpdateUser(ctx context.Context, u User) error {
	u, err := checkUser(u)
	if err != nil {
		return fmt.Errorf("store: update user: %w", err)
	}
	sel, args := userByName(u.Name)
	err = db.write(ctx, func(tx *sql.Tx) error {
		var (
			id                  int64
			role, dn, e164, gid string
			pbxDeleted          bool
		)
		err := tx.QueryRowContext(ctx, `SELECT id, role, display_name, e164, pbx_guid, pbx_deleted FROM users
			WHERE id = `+sel+` AND (? = 0 OR id = ?)`,
			append(args, u.ID, u.ID)...).Scan(&id, &role, &dn, &e164, &gid, &pbxDeleted)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if gid != "" && !pbxDeleted {
			// The PBX's replication owns these; a change here would be
			// undone by its next update.
			macs, err := macsOf(ctx, tx, id)
			if err != nil {
				return err
			}
			switch {
			case u.DisplayName != dn:
				return invalid.New("display_name", "the PBX manages this user: change the name there")
			case u.E164 != e164:
				return invalid.New("e164", "the PBX manages this user: change the number there")
			case !slices.Equal(u.MACs, macs):
				return invalid.New("macs", "the PBX manages this user's devices: change them there")
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET display_name = ?, e164 = ?, role = ? WHERE id = ?`,
			u.DisplayName, u.E164, string(u.Role), id); err != nil {
			return err
		}
		if role != string(u.Role) {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
				return err
			}
		}
		return setMACs(ctx, tx, id, u.MACs)
	})
	if err != nil {
		return fmt.Errorf("store: update user %s: %w", u.Name, err)
	}
	return nil
}

// SetPassword replaces a user's password; an empty one turns local login
// off. It ends every session of the user (someone who knew the old
// password may hold one). It does not check the password policy: callers
// that take a password from a person check CheckNewPassword first.
func (db *DB) SetPassword(ctx context.Context, name, password string) error {
	hash, err := db.hashPassword(password)
	if err != nil {
		return fmt.Errorf("store: set password of %s: %w", name, err)
	}
	sel, args := userByName(name)
	return db.updateUserEndSessions(ctx, "set password of "+name,
		`UPDATE users SET password_hash = ?, password_at = ? WHERE id = `+sel+` RETURNING id`,
		append([]any{hash, db.nowMS()}, args...)...)
}

// updateUserEndSessions runs an UPDATE of one user that returns its id and
// deletes the user's sessions in the same transaction; no such user is
// ErrNotFound.
func (db *DB) updateUserEndSessions(ctx context.Context, what, query string, args ...any) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, query, args...).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return nil
}

// SetUserDisabled disables (on) or enables an account. Disabling ends its
// sessions; a disabled account cannot sign in by any path. An account
// disabled because its name collides with an older one (see migratePeople)
// cannot be enabled.
func (db *DB) SetUserDisabled(ctx context.Context, name string, on bool) error {
	sel, args := userByName(name)
	if !on {
		err := db.write(ctx, func(tx *sql.Tx) error {
			var id, dup int64
			err := tx.QueryRowContext(ctx, `SELECT id, name_dup FROM users WHERE id = `+sel, args...).Scan(&id, &dup)
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			if err != nil {
				return err
			}
			if dup != 0 {
				return invalid.New("disabled", "the name collides with an older account's; delete one of them instead")
			}
			_, err = tx.ExecContext(ctx, `UPDATE users SET disabled = 0 WHERE id = ?`, id)
			return err
		})
		if err != nil {
			return fmt.Errorf("store: enable user %.64q: %w", name, err)
		}
		return nil
	}
	return db.updateUserEndSessions(ctx, fmt.Sprintf("disable user %.64q", name),
		`UPDATE users SET disabled = 1 WHERE id = `+sel+` RETURNING id`, args...)
}

// dummy is a hash compared against when the user is unknown, so that
// Authenticate takes about as long either way.
func (db *DB) dummy() []byte {
	db.dummyOnce.Do(func() {
		cost := db.cost
		if cost == 0 {
			cost = bcrypt.DefaultCost
		}
		h, err := bcrypt.GenerateFromPassword([]byte("no such user, no such password"), cost)
		if err != nil {
			db.log.Error("store: make dummy hash", "err", err)
		}
		db.dummyHash = h
	})
	return db.dummyHash
}

// Authenticate checks a local login. Unknown users, PBX-only users and
// wrong passwords all fail with ErrBadCredentials after a bcrypt compare;
// a disabled account with the right password fails with ErrDisabled.
func (db *DB) Authenticate(ctx context.Context, name, password string) (User, error) {
	sel, args := userByName(name)
	u, hash, err := db.user(ctx, `u.id = `+sel, args...)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return User{}, fmt.Errorf("store: authenticate %.64q: %w", name, err)
	}
	if err != nil || hash == "" || len(password) > maxPasswordLen {
		_ = bcrypt.CompareHashAndPassword(db.dummy(), []byte(password))
		return User{}, ErrBadCredentials
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return User{}, ErrBadCredentials
	}
	if u.Disabled {
		return User{}, ErrDisabled
	}
	if u, err = db.withAccess(ctx, u, "", ""); err != nil {
		return User{}, fmt.Errorf("store: authenticate %.64q: %w", name, err)
	}
	return u, nil
}

const userCols = `u.id, u.name, u.display_name, u.e164, u.role, u.password_hash, u.created_at, u.app_object, u.licensed,
	(SELECT group_concat(mac, ',') FROM (SELECT mac FROM user_macs WHERE user_id = u.id ORDER BY mac)),
	u.disabled, u.password_at, u.pbx_guid, u.pbx_cn, u.pbx_dn, u.pbx_deleted,
	u.domain`

func scanUser(s scanner) (User, string, error) {
	var (
		u       User
		hash    string
		role    string
		created int64
		macs    sql.NullString
		pwAt    int64
	)
	if err := s.Scan(&u.ID, &u.Name, &u.DisplayName, &u.E164, &role, &hash, &created, &u.AppObject, &u.Licensed, &macs,
		&u.Disabled, &pwAt, &u.PBXGUID, &u.CN, &u.DN, &u.PBXDeleted,
		&u.Domain); err != nil {
		return User{}, "", err
	}
	u.PasswordAt = fromMS(pwAt)
	u.Role = Role(role)
	u.CreatedAt = fromMS(created)
	u.HasPassword = hash != ""
	if macs.Valid && macs.String != "" {
		u.MACs = strings.Split(macs.String, ",")
	}
	return u, hash, nil
}

// user loads one user matching cond (a WHERE over alias u) and its hash.
func (db *DB) user(ctx context.Context, cond string, args ...any) (User, string, error) {
	u, hash, err := scanUser(db.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users u WHERE `+cond, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, "", ErrNotFound
	}
	return u, hash, err
}

// User returns the user with this name, compared in its normalised form
// (NameKey).
func (db *DB) User(ctx context.Context, name string) (User, error) {
	sel, args := userByName(name)
	u, _, err := db.user(ctx, `u.id = `+sel, args...)
	if err != nil {
		return User{}, fmt.Errorf("store: user %.64q: %w", name, err)
	}
	return u, nil
}

// UserByID returns the user with this id.
func (db *DB) UserByID(ctx context.Context, id int64) (User, error) {
	u, _, err := db.user(ctx, `u.id = ?`, id)
	if err != nil {
		return User{}, fmt.Errorf("store: user %d: %w", id, err)
	}
	return u, nil
}

// UserByMAC returns the user one of whose phones has this MAC address.
func (db *DB) UserByMAC(ctx context.Context, mac string) (User, error) {
	m, err := normalizeMAC(mac)
	if err != nil {
		return User{}, fmt.Errorf("store: user by MAC: %w", err)
	}
	u, _, err := db.user(ctx, `u.id = (SELECT user_id FROM user_macs WHERE mac = ?)`, m)
	if err != nil {
		return User{}, fmt.Errorf("store: user by MAC %s: %w", m, err)
	}
	return u, nil
}

// Users lists every user by name.
func (db *DB) Users(ctx context.Context) (_ []User, err error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+userCols+` FROM users u ORDER BY u.name`)
	if err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	defer closeOnErr(rows, &err)
	var out []User
	for rows.Next() {
		u, _, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("store: users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	return out, nil
}

// UserCount is the number of users (0 means first-run setup).
func (db *DB) UserCount(ctx context.Context) (int, error) {
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count users: %w", err)
	}
	return n, nil
}

// DeleteUser deletes a user with its sessions and MAC addresses; its
// recordings keep the owner name (ReassignRecordings gives them another).
func (db *DB) DeleteUser(ctx context.Context, name string) error {
	sel, args := userByName(name)
	return db.updateOne(ctx, fmt.Sprintf("delete user %.64q", name), `DELETE FROM users WHERE id = `+sel, args...)
}

// ActiveUser returns the account with this id as signed in without a
// session (HTTP Basic): its own role and default app object's access list.
// A deleted account is ErrNotFound, a disabled one ErrDisabled.
func (db *DB) ActiveUser(ctx context.Context, id int64) (User, error) {
	u, _, err := db.user(ctx, `u.id = ?`, id)
	if err == nil && u.Disabled {
		err = ErrDisabled
	}
	if err == nil {
		u, err = db.withAccess(ctx, u, "", "")
	}
	if err != nil {
		return User{}, fmt.Errorf("store: user %d: %w", id, err)
	}
	return u, nil
}
