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
	maxObjectDomain  = 256
)

// AppObject is an app object of the PBX (as the PBX Manager plugin
// creates them): a name the apps sign in through and an access list of
// extensions whose recordings its users may see besides their own.
//
// An app object belongs to one domain, the domain of the PBX that holds it
// (docs/pbx.md, Domains), or to none ("": every domain; every object from
// before domains, and those typed in without one). Its name is unique
// within its domain: each domain's PBX may hold a "recordings".
type AppObject struct {
	Domain      string // "" for every domain
	Name        string // unique in its domain, case-insensitive
	DisplayName string
	Type        string   // AppObjectUser or AppObjectAdmin; empty means user on create
	Access      []string // extensions: numbers (e164) or user names (h323), in order
	CreatedAt   time.Time
	// PBX is what the PBX last said of it (appobjects_pbx.go); read-only.
	PBX AppObjectPBX

	id int64
}

func checkAppObject(o AppObject) (AppObject, error) {
	o.Name = strings.TrimSpace(o.Name)
	o.Domain = strings.TrimSpace(o.Domain)
	if err := checkText("name", o.Name, maxAppObjectName, true); err != nil {
		return o, err
	}
	if err := checkText("domain", o.Domain, maxObjectDomain, false); err != nil {
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

func setAccess(ctx context.Context, tx *sql.Tx, id int64, acc []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM app_object_access WHERE object_id = ?`, id); err != nil {
		return err
	}
	for i, e := range acc {
		if _, err := tx.ExecContext(ctx, `INSERT INTO app_object_access (object_id, pos, entry) VALUES (?, ?, ?)`,
			id, i, e); err != nil {
			return err
		}
	}
	return nil
}

// appObjectLabel names an app object in messages: its name, and its domain
// when it has one.
func appObjectLabel(domain, name string) string {
	if domain == "" {
		return fmt.Sprintf("%.64q", name)
	}
	return fmt.Sprintf("%.64q of domain %.64q", name, domain)
}

// CreateAppObject adds an app object to o.Domain; a name taken in that
// domain fails with ErrExists.
func (db *DB) CreateAppObject(ctx context.Context, o AppObject) (AppObject, error) {
	o, err := checkAppObject(o)
	if err != nil {
		return AppObject{}, fmt.Errorf("store: create app object: %w", err)
	}
	now := db.nowMS()
	err = db.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO app_objects (domain, name, display_name, type, created_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, o.Domain, o.Name, o.DisplayName, o.Type, now).Scan(&o.id)
		if isUnique(err) {
			return ErrExists
		}
		if err != nil {
			return err
		}
		return setAccess(ctx, tx, o.id, o.Access)
	})
	if err != nil {
		return AppObject{}, fmt.Errorf("store: create app object %s: %w", appObjectLabel(o.Domain, o.Name), err)
	}
	o.CreatedAt = fromMS(now)
	return o, nil
}

// UpdateAppObject replaces the display name, type and access list of the
// app object named o.Name in o.Domain (exactly that domain's: "" is the
// object of every domain, not a search).
func (db *DB) UpdateAppObject(ctx context.Context, o AppObject) error {
	o, err := checkAppObject(o)
	if err != nil {
		return fmt.Errorf("store: update app object: %w", err)
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `UPDATE app_objects SET display_name = ?, type = ? WHERE domain = ? AND name = ?
			RETURNING id`, o.DisplayName, o.Type, o.Domain, o.Name).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return setAccess(ctx, tx, id, o.Access)
	})
	if err != nil {
		return fmt.Errorf("store: update app object %s: %w", appObjectLabel(o.Domain, o.Name), err)
	}
	return nil
}

// DeleteAppObject deletes the app object name of domain (exactly that
// domain's); accounts whose default app object no longer names any object
// they could use lose it, and sessions signed in through it keep only
// their own recordings.
func (db *DB) DeleteAppObject(ctx context.Context, domain, name string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM app_objects WHERE domain = ? AND name = ?`, domain, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET app_object = '' WHERE app_object = ? COLLATE NOCASE
			AND NOT EXISTS (SELECT 1 FROM app_objects o WHERE o.name = users.app_object
				AND (o.domain = '' OR users.domain = '' OR o.domain = users.domain))`, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete app object %s: %w", appObjectLabel(domain, name), err)
	}
	return nil
}

// ErrAmbiguous: an app object was looked up without a domain, and several
// domains have one of that name. It wraps ErrNotFound.
var ErrAmbiguous = fmt.Errorf("named in several domains (give the domain): %w", ErrNotFound)

// resolveAppObject finds the app object name as seen from domain: that
// domain's own, else the one of every domain (""). Seen from no domain
// (""), it is the one of every domain, else the only one of that name in
// any domain (ErrAmbiguous when several domains have one).
func resolveAppObject(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, domain, name string) (id int64, objDomain string, err error) {
	query := `SELECT id, domain FROM app_objects WHERE name = ? AND (domain = ? OR domain = '')
		ORDER BY domain = '' LIMIT 1`
	args := []any{name, domain}
	if domain == "" {
		query = `SELECT id, domain FROM app_objects WHERE name = ? ORDER BY domain <> '', id LIMIT 2`
		args = []any{name}
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, "", err
	}
	defer closeOnErr(rows, &err)
	type hit struct {
		id     int64
		domain string
	}
	var hits []hit
	for rows.Next() {
		var h hit
		if err := rows.Scan(&h.id, &h.domain); err != nil {
			return 0, "", err
		}
		hits = append(hits, h)
	}
	if err := rows.Err(); err != nil {
		return 0, "", err
	}
	switch {
	case len(hits) == 0:
		return 0, "", ErrNotFound
	case len(hits) == 1 || hits[0].domain == "":
		return hits[0].id, hits[0].domain, nil
	}
	return 0, "", ErrAmbiguous
}

const appObjectCols = `id, domain, name, display_name, type, created_at, pbx_state, pbx_guid, pbx_url, pbx_connected,
	pbx_synced_at`

func scanAppObject(s scanner) (AppObject, error) {
	var (
		o      AppObject
		at, sy int64
	)
	if err := s.Scan(&o.id, &o.Domain, &o.Name, &o.DisplayName, &o.Type, &at, &o.PBX.State, &o.PBX.GUID, &o.PBX.URL,
		&o.PBX.Connected, &sy); err != nil {
		return AppObject{}, err
	}
	o.CreatedAt = fromMS(at)
	if sy > 0 {
		o.PBX.SyncedAt = fromMS(sy)
	}
	return o, nil
}

func (db *DB) loadAccess(ctx context.Context, id int64) (_ []string, err error) {
	rows, err := db.r.QueryContext(ctx, `SELECT entry FROM app_object_access WHERE object_id = ? ORDER BY pos`, id)
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

// AppObjectByName returns one app object (case-insensitive name) seen from
// no domain: the object of every domain of that name, else the only one of
// that name (AppObjectIn).
func (db *DB) AppObjectByName(ctx context.Context, name string) (AppObject, error) {
	return db.AppObjectIn(ctx, "", name)
}

// AppObjectIn returns the app object name as seen from domain: domain's
// own, else the one of every domain. Seen from no domain (""), it is the
// one of every domain, else the only one of that name (ErrAmbiguous, which
// is an ErrNotFound, when several domains have one).
func (db *DB) AppObjectIn(ctx context.Context, domain, name string) (AppObject, error) {
	o, err := func() (AppObject, error) {
		id, _, err := resolveAppObject(ctx, db.r, domain, name)
		if err != nil {
			return AppObject{}, err
		}
		o, err := scanAppObject(db.r.QueryRowContext(ctx, `SELECT `+appObjectCols+` FROM app_objects WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			err = ErrNotFound // deleted in between
		}
		if err != nil {
			return AppObject{}, err
		}
		o.Access, err = db.loadAccess(ctx, o.id)
		return o, err
	}()
	if err != nil {
		return AppObject{}, fmt.Errorf("store: app object %s: %w", appObjectLabel(domain, name), err)
	}
	return o, nil
}

// AppObjects lists every app object by name, then domain.
func (db *DB) AppObjects(ctx context.Context) ([]AppObject, error) {
	return db.AppObjectsIn(ctx, "")
}

// AppObjectsIn lists the app objects domain's users may sign in through,
// by name then domain: domain's own and those of every domain; "": all.
func (db *DB) AppObjectsIn(ctx context.Context, domain string) (_ []AppObject, err error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+appObjectCols+` FROM app_objects
		WHERE ? = '' OR domain = '' OR domain = ? ORDER BY name, domain`, domain, domain)
	if err != nil {
		return nil, fmt.Errorf("store: app objects: %w", err)
	}
	var out []AppObject
	func() {
		defer closeOnErr(rows, &err)
		for rows.Next() {
			var o AppObject
			if o, err = scanAppObject(rows); err != nil {
				return
			}
			out = append(out, o)
		}
		err = rows.Err()
	}()
	if err != nil {
		return nil, fmt.Errorf("store: app objects: %w", err)
	}
	for i := range out {
		if out[i].Access, err = db.loadAccess(ctx, out[i].id); err != nil {
			return nil, fmt.Errorf("store: app objects: %w", err)
		}
	}
	return out, nil
}

// SetUserAppObject sets the default app object of an account ("" for
// none); it must exist as seen from the account's domain (AppObjectIn).
func (db *DB) SetUserAppObject(ctx context.Context, user, appObject string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		sel, args := userByName(user)
		var domain string
		err := tx.QueryRowContext(ctx, `SELECT domain FROM users WHERE id = `+sel, args...).Scan(&domain)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %.64q: %w", user, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if appObject != "" {
			id, _, err := resolveAppObject(ctx, tx, domain, appObject)
			if err != nil {
				return fmt.Errorf("app object %s: %w", appObjectLabel(domain, appObject), err)
			}
			if err := tx.QueryRowContext(ctx, `SELECT name FROM app_objects WHERE id = ?`, id).Scan(&appObject); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET app_object = ? WHERE id = `+sel, append([]any{appObject}, args...)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set app object of %.64q: %w", user, err)
	}
	return nil
}

// AccessOwners is AccessOwnersIn seen from no domain.
func (db *DB) AccessOwners(ctx context.Context, name string) ([]string, error) {
	return db.AccessOwnersIn(ctx, "", name)
}

// AccessOwnersIn resolves the access list of app object name, as seen from
// domain (AppObjectIn), to the owner names of recordings it opens: each
// entry as a user name, plus the names of the accounts of the object's
// domain (or of none) whose number (e164) is the entry. An unknown app
// object opens nothing (nil, no error).
func (db *DB) AccessOwnersIn(ctx context.Context, domain, name string) ([]string, error) {
	if name == "" {
		return nil, nil
	}
	id, objDomain, err := resolveAppObject(ctx, db.r, domain, name)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: access list of %s: %w", appObjectLabel(domain, name), err)
	}
	out, err := db.accessOwners(ctx, id, objDomain)
	if err != nil {
		return nil, fmt.Errorf("store: access list of %s: %w", appObjectLabel(domain, name), err)
	}
	return out, nil
}

func (db *DB) accessOwners(ctx context.Context, id int64, objDomain string) (_ []string, err error) {
	rows, err := db.r.QueryContext(ctx, `SELECT a.entry FROM app_object_access a WHERE a.object_id = ?
		UNION SELECT u.name FROM users u JOIN app_object_access a ON a.object_id = ? AND a.entry = u.e164
		WHERE u.e164 <> '' AND (? = '' OR u.domain = '' OR u.domain = ? COLLATE NOCASE)`, id, id, objDomain, objDomain)
	if err != nil {
		return nil, err
	}
	defer closeOnErr(rows, &err)
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(out, func(x string) bool { return SameName(x, n) }) {
			out = append(out, n)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Sort(out)
	return out, nil
}

// withAccess fills the sign-in fields of u: via (an app object as seen from
// viaDomain, "": from the account's domain), else the account's default app
// object (as seen from the account's domain), and the owners its access list opens, in the
// object's domain (ViaDomain). Administrators see everything and get no
// list.
func (db *DB) withAccess(ctx context.Context, u User, viaDomain, via string) (User, error) {
	if via == "" || viaDomain == "" {
		viaDomain = u.Domain
	}
	if via == "" {
		via = u.AppObject
	}
	u.Via = via
	if u.Role == RoleAdmin || via == "" {
		return u, nil
	}
	id, objDomain, err := resolveAppObject(ctx, db.r, viaDomain, via)
	if errors.Is(err, ErrNotFound) {
		return u, nil // it opens nothing
	}
	if err != nil {
		return User{}, fmt.Errorf("access list of %s: %w", appObjectLabel(viaDomain, via), err)
	}
	sees, err := db.accessOwners(ctx, id, objDomain)
	if err != nil {
		return User{}, fmt.Errorf("access list of %s: %w", appObjectLabel(viaDomain, via), err)
	}
	u.Sees, u.ViaDomain = sees, objDomain
	return u, nil
}
