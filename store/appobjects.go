package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"recordings/internal/invalid"
)

// App object types: the PBX app object a user signs in through decides
// whether the session is a user's or an administrator's.
const (
	AppObjectUser  = "user"
	AppObjectAdmin = "admin"
)

const (
	maxAppObjectName = 64
	maxAccessEntries = 500
	maxAccessEntry   = 64
)

// AppObject is an app object of the PBX (as the PBX Manager plugin
// creates them): a name the apps sign in through and an access list of
// extensions whose recordings its users may see besides their own.
type AppObject struct {
	Name        string // unique, case-insensitive
	DisplayName string
	Type        string   // AppObjectUser or AppObjectAdmin; empty means user on create
	Access      []string // extensions: numbers (e164) or user names (h323), in order
	CreatedAt   time.Time
}

func checkAppObject(o AppObject) (AppObject, error) {
	o.Name = strings.TrimSpace(o.Name)
	if err := checkText("name", o.Name, maxAppObjectName, true); err != nil {
		return o, err
	}
	if err := checkText("display_name", o.DisplayName, maxFieldLen, false); err != nil {
		return o, err
	}
	switch o.Type {
	case "":
		o.Type = AppObjectUser
	case AppObjectUser, AppObjectAdmin:
	default:
		return o, invalid.New("type", "%.20q is not %q or %q", o.Type, AppObjectUser, AppObjectAdmin)
	}
	if len(o.Access) > maxAccessEntries {
		return o, invalid.New("access", "at most %d entries, not %d", maxAccessEntries, len(o.Access))
	}
	acc := make([]string, 0, len(o.Access))
	for _, e := range o.Access {
		e = strings.TrimSpace(e)
		if err := checkText("access", e, maxAccessEntry, true); err != nil {
			return o, err
		}
		if !slices.ContainsFunc(acc, func(x string) bool { return SameName(x, e) }) {
			acc = append(acc, e)
		}
	}
	o.Access = acc
	return o, nil
}

func setAccess(ctx context.Context, tx *sql.Tx, name string, acc []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM app_object_access WHERE app_object = ?`, name); err != nil {
		return err
	}
	for i, e := range acc {
		if _, err := tx.ExecContext(ctx, `INSERT INTO app_object_access (app_object, pos, entry) VALUES (?, ?, ?)`,
			name, i, e); err != nil {
			return err
		}
	}
	return nil
}

// CreateAppObject adds an app object; a taken name fails with ErrExists.
func (db *DB) CreateAppObject(ctx context.Context, o AppObject) (AppObject, error) {
	o, err := checkAppObject(o)
	if err != nil {
		return AppObject{}, fmt.Errorf("store: create app object: %w", err)
	}
	now := db.nowMS()
	err = db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO app_objects (name, display_name, type, created_at) VALUES (?, ?, ?, ?)`,
			o.Name, o.DisplayName, o.Type, now)
		if isUnique(err) {
			return ErrExists
		}
		if err != nil {
			return err
		}
		return setAccess(ctx, tx, o.Name, o.Access)
	})
	if err != nil {
		return AppObject{}, fmt.Errorf("store: create app object %s: %w", o.Name, err)
	}
	o.CreatedAt = fromMS(now)
	return o, nil
}

// UpdateAppObject replaces the display name, type and access list of the
// app object named o.Name.
func (db *DB) UpdateAppObject(ctx context.Context, o AppObject) error {
	o, err := checkAppObject(o)
	if err != nil {
		return fmt.Errorf("store: update app object: %w", err)
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		var name string
		err := tx.QueryRowContext(ctx, `UPDATE app_objects SET display_name = ?, type = ? WHERE name = ? RETURNING name`,
			o.DisplayName, o.Type, o.Name).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return setAccess(ctx, tx, name, o.Access)
	})
	if err != nil {
		return fmt.Errorf("store: update app object %s: %w", o.Name, err)
	}
	return nil
}

// DeleteAppObject deletes an app object; accounts that had it as their
// default lose it, and sessions signed in through it keep only their own
// recordings.
func (db *DB) DeleteAppObject(ctx context.Context, name string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM app_objects WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET app_object = '' WHERE app_object = ? COLLATE NOCASE`, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete app object %.64q: %w", name, err)
	}
	return nil
}

func (db *DB) loadAccess(ctx context.Context, name string) (_ []string, err error) {
	rows, err := db.r.QueryContext(ctx, `SELECT entry FROM app_object_access WHERE app_object = ? ORDER BY pos`, name)
	if err != nil {
		return nil, err
	}
	defer closeOnErr(rows, &err)
	out := []string{}
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// AppObjectByName returns one app object (case-insensitive name).
func (db *DB) AppObjectByName(ctx context.Context, name string) (AppObject, error) {
	var (
		o  AppObject
		at int64
	)
	err := db.r.QueryRowContext(ctx, `SELECT name, display_name, type, created_at FROM app_objects WHERE name = ?`,
		name).Scan(&o.Name, &o.DisplayName, &o.Type, &at)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err == nil {
		o.CreatedAt = fromMS(at)
		o.Access, err = db.loadAccess(ctx, o.Name)
	}
	if err != nil {
		return AppObject{}, fmt.Errorf("store: app object %.64q: %w", name, err)
	}
	return o, nil
}

// AppObjects lists every app object by name.
func (db *DB) AppObjects(ctx context.Context) (_ []AppObject, err error) {
	rows, err := db.r.QueryContext(ctx, `SELECT name, display_name, type, created_at FROM app_objects ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: app objects: %w", err)
	}
	var out []AppObject
	func() {
		defer closeOnErr(rows, &err)
		for rows.Next() {
			var (
				o  AppObject
				at int64
			)
			if err = rows.Scan(&o.Name, &o.DisplayName, &o.Type, &at); err != nil {
				return
			}
			o.CreatedAt = fromMS(at)
			out = append(out, o)
		}
		err = rows.Err()
	}()
	if err != nil {
		return nil, fmt.Errorf("store: app objects: %w", err)
	}
	for i := range out {
		if out[i].Access, err = db.loadAccess(ctx, out[i].Name); err != nil {
			return nil, fmt.Errorf("store: app objects: %w", err)
		}
	}
	return out, nil
}

// SetUserAppObject sets the default app object of an account ("" for
// none); it must exist.
func (db *DB) SetUserAppObject(ctx context.Context, user, appObject string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		if appObject != "" {
			err := tx.QueryRowContext(ctx, `SELECT name FROM app_objects WHERE name = ?`, appObject).Scan(&appObject)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("app object %.64q: %w", appObject, ErrNotFound)
			}
			if err != nil {
				return err
			}
		}
		sel, args := userByName(user)
		res, err := tx.ExecContext(ctx, `UPDATE users SET app_object = ? WHERE id = `+sel, append([]any{appObject}, args...)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("user %.64q: %w", user, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: set app object of %.64q: %w", user, err)
	}
	return nil
}

// AccessOwners resolves the access list of app object name to the owner
// names of recordings it opens: each entry as a user name, plus the names
// of the accounts whose number (e164) is the entry. An unknown app object
// opens nothing (nil, no error).
func (db *DB) AccessOwners(ctx context.Context, name string) (_ []string, err error) {
	if name == "" {
		return nil, nil
	}
	rows, err := db.r.QueryContext(ctx, `SELECT a.entry FROM app_object_access a WHERE a.app_object = ?
		UNION SELECT u.name FROM users u JOIN app_object_access a ON a.app_object = ? AND a.entry = u.e164
		WHERE u.e164 <> ''`, name, name)
	if err != nil {
		return nil, fmt.Errorf("store: access list of %.64q: %w", name, err)
	}
	defer closeOnErr(rows, &err)
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("store: access list of %.64q: %w", name, err)
		}
		if !slices.ContainsFunc(out, func(x string) bool { return SameName(x, n) }) {
			out = append(out, n)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: access list of %.64q: %w", name, err)
	}
	slices.Sort(out)
	return out, nil
}

// withAccess fills the sign-in fields of u: via, else the account's
// default app object, and the owners its access list opens. Administrators
// see everything and get no list.
func (db *DB) withAccess(ctx context.Context, u User, via string) (User, error) {
	if via == "" {
		via = u.AppObject
	}
	u.Via = via
	if u.Role == RoleAdmin || via == "" {
		return u, nil
	}
	sees, err := db.AccessOwners(ctx, via)
	if err != nil {
		return User{}, err
	}
	u.Sees = sees
	return u, nil
}
