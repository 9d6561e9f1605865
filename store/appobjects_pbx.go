package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
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

// SyncAppObjects makes the app-object rows of domain follow a complete
// list of the App objects domain's PBX holds: each listed object is
// updated (display name, type, guid, URL; its access list is kept) in
// domain's rows, else a row of every domain ("") of that name is taken
// over into domain (with its access list), else a row is created; every
// other row of domain, and of no domain, is marked PBXStateMissing and kept
// with its access list. Another domain's rows are left alone. Domain ""
// (a PBX of no known domain) syncs the rows of no domain. It returns how
// many rows it created and how many are missing.
func (db *DB) SyncAppObjects(ctx context.Context, domain string, objs []PBXAppObject) (created, missing int, err error) {
	clean := make([]PBXAppObject, 0, len(objs))
	for _, o := range objs {
		c, err := checkAppObject(AppObject{Domain: domain, Name: o.Name, DisplayName: o.Title, Type: o.Type})
		if err != nil {
			db.log.Warn("app objects: the PBX lists one the service cannot keep", "domain", clipName(domain),
				"name", clipName(o.Name), "err", err)
			continue
		}
		o.Name, o.Title, o.Type = c.Name, c.DisplayName, c.Type
		domain = c.Domain
		clean = append(clean, o)
	}
	names := make([]string, len(clean))
	for i, o := range clean {
		names[i] = o.Name
	}
	listed, err := json.Marshal(names)
	if err != nil {
		return 0, 0, fmt.Errorf("store: sync app objects with the PBX of %.64q: %w", domain, err)
	}
	now := db.nowMS()
	err = db.write(ctx, func(tx *sql.Tx) error {
		created, missing = 0, 0
		for _, o := range clean {
			res, err := tx.ExecContext(ctx, `UPDATE app_objects SET display_name = ?, type = ?, pbx_guid = ?, pbx_url = ?,
				pbx_state = ?, pbx_connected = ?, pbx_synced_at = ? WHERE domain = ? AND name = ?`,
				o.Title, o.Type, o.GUID, o.URL, PBXStatePresent, o.Connected, now, domain, o.Name)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				continue
			}
			if domain != "" {
				// A row of every domain (from before domains) becomes
				// this domain's, as accounts of no domain do when their
				// domain's PBX replicates them.
				res, err := tx.ExecContext(ctx, `UPDATE app_objects SET domain = ?, display_name = ?, type = ?, pbx_guid = ?,
					pbx_url = ?, pbx_state = ?, pbx_connected = ?, pbx_synced_at = ? WHERE domain = '' AND name = ?`,
					domain, o.Title, o.Type, o.GUID, o.URL, PBXStatePresent, o.Connected, now, o.Name)
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n > 0 {
					continue
				}
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO app_objects (domain, name, display_name, type, created_at,
				pbx_guid, pbx_url, pbx_state, pbx_connected, pbx_synced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				domain, o.Name, o.Title, o.Type, now, o.GUID, o.URL, PBXStatePresent, o.Connected, now); err != nil {
				return err
			}
			created++
		}
		res, err := tx.ExecContext(ctx, `UPDATE app_objects SET pbx_state = ?, pbx_connected = 0, pbx_synced_at = ?
			WHERE (domain = '' OR domain = ?) AND name NOT IN (SELECT value FROM json_each(?))`,
			PBXStateMissing, now, domain, string(listed))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		missing = int(n)
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("store: sync app objects with the PBX of %.64q: %w", domain, err)
	}
	return created, missing, nil
}

func clipName(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}
