package pbxsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// SimUser is a user object of the simulated PBX.
type SimUser struct {
	GUID, H323, CN, DN, E164 string
	Pseudo                   string   // "" for a user; "trunk", "waiting", … for other objects
	Devices                  []string // the devices' hardware ids (MACs for phones)
	// Raw, when set, is sent as the row's columns instead of the fields
	// (a malformed row, for tests).
	Raw json.RawMessage
}

// UsersTable is the PBX's user table as PbxTableUsers publishes it on the
// Replication protocol: it answers ReplicateStart with the columns it has
// of those asked for, ReplicateNext with one row of the table as it was at
// the start (only the asked-for columns, and guid), and a ReplicateNextResult
// without columns at the end; Add, Update and Delete change the table and,
// while a replication runs, push ReplicateAdd/Update/Del with the start's
// src. It is safe for concurrent use.
type UsersTable struct {
	mu    sync.Mutex
	users []SimUser
	// the running replication
	send     func(msg any) error
	src      string
	cols     map[string]bool
	snapshot []SimUser
	cursor   int
	// ArrayColumns makes rows use the older array form of columns
	// ([{"guid":…},{"h323":…}]).
	ArrayColumns bool
	starts       int
}

var _ Handler = (*UsersTable)(nil)

// userColumns are the columns the table has (the devices sub-table with hw
// only).
var userColumns = []string{"guid", "h323", "cn", "dn", "e164", "pseudo", "devices"}

// NewUsersTable returns a table holding users.
func NewUsersTable(users ...SimUser) *UsersTable {
	return &UsersTable{users: slices.Clone(users)}
}

// Starts is how many ReplicateStart the table answered.
func (t *UsersTable) Starts() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.starts
}

// Users returns the table's users.
func (t *UsersTable) Users() []SimUser {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.users)
}

type replMsg struct {
	API     string `json:"api"`
	MT      string `json:"mt"`
	Src     string `json:"src,omitempty"`
	Columns any    `json:"columns,omitempty"`
}

// Serve implements Handler.
func (t *UsersTable) Serve(send func(msg any) error, mt, src string, raw json.RawMessage) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch mt {
	case "ReplicateStart":
		var req struct {
			Columns json.RawMessage `json:"columns"`
		}
		if err := json.Unmarshal(raw, &req); err != nil {
			return fmt.Errorf("ReplicateStart: %w", err)
		}
		asked, err := columnNames(req.Columns)
		if err != nil {
			return fmt.Errorf("ReplicateStart: %w", err)
		}
		t.send, t.src, t.cursor, t.snapshot = send, src, 0, slices.Clone(t.users)
		t.cols = map[string]bool{"guid": true}
		have := map[string]any{}
		for _, c := range userColumns {
			if asked[c] {
				t.cols[c] = true
				have[c] = struct{}{}
			}
		}
		t.starts++
		return send(replMsg{API: "PbxTableUsers", MT: "ReplicateStartResult", Src: src, Columns: have})
	case "ReplicateNext":
		if t.send == nil {
			return errors.New("ReplicateNext before ReplicateStart")
		}
		m := replMsg{API: "PbxTableUsers", MT: "ReplicateNextResult", Src: src}
		if t.cursor < len(t.snapshot) {
			m.Columns = t.row(t.snapshot[t.cursor])
			t.cursor++
		}
		return send(m)
	}
	return fmt.Errorf("PbxTableUsers: unknown message %q", mt)
}

// columnNames reads the columns of a ReplicateStart in either form.
func columnNames(raw json.RawMessage) (map[string]bool, error) {
	out := map[string]bool{}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err == nil {
		for k := range obj {
			out[k] = true
		}
		return out, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errors.New("columns is neither an object nor an array")
	}
	for _, el := range list {
		var name string
		if json.Unmarshal(el, &name) == nil {
			out[name] = true
			continue
		}
		var c struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(el, &c) == nil && c.Name != "" {
			out[c.Name] = true
		}
	}
	return out, nil
}

// row is the columns of u that the replication asked for.
func (t *UsersTable) row(u SimUser) any {
	if u.Raw != nil {
		return u.Raw
	}
	all := map[string]any{"guid": u.GUID, "h323": u.H323, "cn": u.CN, "dn": u.DN, "e164": u.E164, "pseudo": u.Pseudo}
	devs := make([]map[string]any, 0, len(u.Devices))
	for _, hw := range u.Devices {
		devs = append(devs, map[string]any{"hw": hw})
	}
	all["devices"] = devs
	if t.ArrayColumns {
		var out []map[string]any
		for _, c := range userColumns {
			if t.cols[c] {
				out = append(out, map[string]any{c: all[c]})
			}
		}
		return out
	}
	out := map[string]any{}
	for _, c := range userColumns {
		if t.cols[c] {
			out[c] = all[c]
		}
	}
	return out
}

// Reset implements Handler: the connection dropped, the replication ends.
func (t *UsersTable) Reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.send, t.snapshot, t.cols = nil, nil, nil
}

// push sends a live change while a replication runs (t.mu held).
func (t *UsersTable) push(mt string, columns any) error {
	if t.send == nil {
		return nil
	}
	return t.send(replMsg{API: "PbxTableUsers", MT: mt, Src: t.src, Columns: columns})
}

// Add adds a user (replacing one of the same guid) and pushes ReplicateAdd.
func (t *UsersTable) Add(u SimUser) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.put(u)
	return t.push("ReplicateAdd", t.row(u))
}

// Update changes the user of u.GUID (adding it if missing) and pushes
// ReplicateUpdate with the whole row.
func (t *UsersTable) Update(u SimUser) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.put(u)
	return t.push("ReplicateUpdate", t.row(u))
}

func (t *UsersTable) put(u SimUser) {
	for i := range t.users {
		if t.users[i].GUID == u.GUID {
			t.users[i] = u
			return
		}
	}
	t.users = append(t.users, u)
}

// Delete removes the user of guid and pushes ReplicateDel.
func (t *UsersTable) Delete(guid string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.users = slices.DeleteFunc(t.users, func(u SimUser) bool { return u.GUID == guid })
	return t.push("ReplicateDel", map[string]any{"guid": guid})
}

// Push sends an arbitrary message with the replication's src while one
// runs (a malformed change, for tests).
func (t *UsersTable) Push(mt string, columns json.RawMessage) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.push(mt, columns)
}
