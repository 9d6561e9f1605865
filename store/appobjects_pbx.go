package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The app-object table as the cache of the App objects the PBX holds
// (PbxAdminApi GetAppObjects, read by pbxlink.AppObjects): each row keeps
// its access list (which the PBX knows nothing of) and, besides, what the
// PBX last said of it.

const appObjectsPBXMigration = "app objects cached from the PBX"

// PBX states of an app object.
const (
	PBXStateLocal   = ""        // never listed by a PBX (typed in, or no PBX yet)
	PBXStatePresent = "present" // in the PBX's last list
	PBXStateMissing = "missing" // listed once, or typed in, but not in the PBX's last list
)

func migrateAppObjectsPBX(ctx context.Context, tx *sql.Tx) error {
	return execAll(ctx, tx,
		`ALTER TABLE app_objects ADD COLUMN pbx_guid TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE app_objects ADD COLUMN pbx_url TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE app_objects ADD COLUMN pbx_state TEXT NOT NULL DEFAULT ''`, // a PBXState…
		`ALTER TABLE app_objects ADD COLUMN pbx_connected INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE app_objects ADD COLUMN pbx_synced_at INTEGER NOT NULL DEFAULT 0`,
	)
}

// PBXAppObject is one App object as the PBX lists it.
type PBXAppObject struct {
	Name      string // its SIP name (h323): the name the apps sign in through
	Title     string // display name
	Type      string // AppObjectUser or AppObjectAdmin, from the URL's file name
	GUID      string
	URL       string
	Connected bool // its AppWebsocket connection is up
}

// AppObjectPBX is what the PBX last said of an app object.
type AppObjectPBX struct {
	State     string // PBXState…
	GUID, URL string
	Connected bool
	SyncedAt  time.Time // the list that said it; zero when never
}

// SyncAppObjects makes the app-object table follow a complete list of the
// PBX's App objects: each listed object is created or updated (display
// name, type, guid, URL; its access list is kept), every other row is
// marked PBXStateMissing and kept with its access list. It returns how many
// rows it created and how many are missing.
func (db *DB) SyncAppObjects(ctx context.Context, objs []PBXAppObject) (created, missing int, err error) {
	clean := make([]PBXAppObject, 0, len(objs))
	for _, o := range objs {
		c, err := checkAppObject(AppObject{Name: o.Name, DisplayName: o.Title, Type: o.Type})
		if err != nil {
			db.log.Warn("app objects: the PBX lists one the service cannot keep", "name", clipName(o.Name), "err", err)
			continue
		}
		o.Name, o.Title, o.Type = c.Name, c.DisplayName, c.Type
		clean = append(clean, o)
	}
	names := make([]string, len(clean))
	for i, o := range clean {
		names[i] = o.Name
	}
	listed, err := json.Marshal(names)
	if err != nil {
		return 0, 0, fmt.Errorf("store: sync app objects with the PBX: %w", err)
	}
	now := db.nowMS()
	err = db.write(ctx, func(tx *sql.Tx) error {
		created, missing = 0, 0
		for _, o := range clean {
			res, err := tx.ExecContext(ctx, `UPDATE app_objects SET display_name = ?, type = ?, pbx_guid = ?, pbx_url = ?,
				pbx_state = ?, pbx_connected = ?, pbx_synced_at = ? WHERE name = ?`,
				o.Title, o.Type, o.GUID, o.URL, PBXStatePresent, o.Connected, now, o.Name)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO app_objects (name, display_name, type, created_at, pbx_guid,
				pbx_url, pbx_state, pbx_connected, pbx_synced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				o.Name, o.Title, o.Type, now, o.GUID, o.URL, PBXStatePresent, o.Connected, now); err != nil {
				return err
			}
			created++
		}
		res, err := tx.ExecContext(ctx, `UPDATE app_objects SET pbx_state = ?, pbx_connected = 0, pbx_synced_at = ?
			WHERE name NOT IN (SELECT value FROM json_each(?))`, PBXStateMissing, now, string(listed))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		missing = int(n)
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("store: sync app objects with the PBX: %w", err)
	}
	return created, missing, nil
}

// AppObjectsPBX returns what the PBX last said of each app object, by
// lower-cased name.
func (db *DB) AppObjectsPBX(ctx context.Context) (_ map[string]AppObjectPBX, err error) {
	rows, err := db.r.QueryContext(ctx, `SELECT name, pbx_state, pbx_guid, pbx_url, pbx_connected, pbx_synced_at FROM app_objects`)
	if err != nil {
		return nil, fmt.Errorf("store: app objects on the PBX: %w", err)
	}
	defer closeOnErr(rows, &err)
	out := map[string]AppObjectPBX{}
	for rows.Next() {
		var (
			name string
			p    AppObjectPBX
			at   int64
		)
		if err := rows.Scan(&name, &p.State, &p.GUID, &p.URL, &p.Connected, &at); err != nil {
			return nil, fmt.Errorf("store: app objects on the PBX: %w", err)
		}
		if at > 0 {
			p.SyncedAt = fromMS(at)
		}
		out[strings.ToLower(name)] = p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: app objects on the PBX: %w", err)
	}
	return out, nil
}

func clipName(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}
