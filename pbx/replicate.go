package pbx

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// The replication of the PBX's user table (innovaphone PbxTableUsers on the
// Replication protocol), as pure logic: the service's side (the replicator)
// is UserReplicator, the rows are PbxUser. The transport (the App-object
// connection) and the storage are the caller's.
//
// Replicator → PBX: ReplicateStart{add,del,columns,pseudo}, ReplicateNext.
// PBX → replicator: ReplicateStartResult{columns}, ReplicateNextResult{columns}
// (one row; without columns: the end of the table), and, while the
// replication runs, ReplicateAdd/ReplicateUpdate/ReplicateDel{columns}.

// ReplicationAPI is the api id of the PBX's user table.
const ReplicationAPI = "PbxTableUsers"

// Replication message types.
const (
	MTReplicateStart       = "ReplicateStart"
	MTReplicateStartResult = "ReplicateStartResult"
	MTReplicateNext        = "ReplicateNext"
	MTReplicateNextResult  = "ReplicateNextResult"
	MTReplicateAdd         = "ReplicateAdd"
	MTReplicateUpdate      = "ReplicateUpdate"
	MTReplicateDel         = "ReplicateDel"
)

// ErrMalformedRow marks a replication message or row that cannot be used.
var ErrMalformedRow = errors.New("malformed replication row")

// Limits of a replicated user row.
const (
	maxGUIDLen  = 64
	maxH323Len  = 64
	maxTextLen  = 256
	maxDevices  = 64
	maxRowBytes = 1 << 20
)

// PbxUser is one user object of the PBX as replicated: the columns the
// service asks for.
type PbxUser struct {
	GUID   string // the row key: the object's globally unique id
	H323   string // user name: the owner key of recordings
	CN     string // common (long) name
	DN     string // display name
	E164   string // phone number as configured (not checked)
	Pseudo string // "" for a user; other object types (trunk, waiting, …) are not users
	// MACs are the devices' hardware ids that are MAC addresses,
	// normalised (NormalizeMAC), sorted, without duplicates; other hardware
	// ids (softphones, apps) are left out.
	MACs []string
	// HasDevices: the row carried the devices column (a row without it
	// leaves the stored devices alone).
	HasDevices bool
}

// IsUser reports whether the object is a plain user (not a trunk, waiting
// queue or other pseudo object).
func (u PbxUser) IsUser() bool { return u.Pseudo == "" }

// Name is how the user is shown: the display name, else the common name.
func (u PbxUser) Name() string {
	if u.DN != "" {
		return u.DN
	}
	return u.CN
}

// UserColumns is the columns object the replicator sends in ReplicateStart:
// guid, h323, cn, dn, e164, pseudo, and the devices sub-table with hw. The
// service updates nothing on the PBX, so no column asks for "update".
func UserColumns() map[string]any {
	return map[string]any{
		"guid": struct{}{}, "h323": struct{}{}, "cn": struct{}{}, "dn": struct{}{}, "e164": struct{}{},
		"pseudo":  struct{}{},
		"devices": map[string]any{"columns": map[string]any{"hw": struct{}{}}},
	}
}

// ReplicateStart is the message that starts (or restarts) the replication.
type ReplicateStart struct {
	API     string         `json:"api"`
	MT      string         `json:"mt"`
	Src     string         `json:"src,omitempty"`
	Add     bool           `json:"add"`
	Del     bool           `json:"del"`
	Columns map[string]any `json:"columns"`
	// Pseudo lists the object types wanted ("" = plain users); the
	// replicator also drops other rows itself.
	Pseudo []string `json:"pseudo"`
}

// ReplicateNext asks for the next row of the initial load.
type ReplicateNext struct {
	API string `json:"api"`
	MT  string `json:"mt"`
	Src string `json:"src,omitempty"`
}

// DecodeColumns decodes a columns value in either documented form: an
// object keyed by column name (the newest Replication.htm), or an array of
// columns (older revisions), where each element is an object of one or
// more column entries ({"h323":"alice"}), an object naming one column
// ({"name":"h323","value":"alice"} or, in a description,
// {"name":"h323","update":true}), or a bare column name (a description).
// null or absent gives nil.
func DecodeColumns(raw json.RawMessage) (map[string]json.RawMessage, error) {
	raw = json.RawMessage(strings.TrimSpace(string(raw)))
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	switch raw[0] {
	case '{':
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("%w: columns: %v", ErrMalformedRow, err)
		}
		return m, nil
	case '[':
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("%w: columns: %v", ErrMalformedRow, err)
		}
		m := make(map[string]json.RawMessage, len(list))
		for i, el := range list {
			if err := mergeColumn(m, el); err != nil {
				return nil, fmt.Errorf("%w: columns[%d]: %v", ErrMalformedRow, i, err)
			}
		}
		return m, nil
	}
	return nil, fmt.Errorf("%w: columns is neither an object nor an array", ErrMalformedRow)
}

// mergeColumn adds one element of the array form of columns to m.
func mergeColumn(m map[string]json.RawMessage, el json.RawMessage) error {
	var name string
	if json.Unmarshal(el, &name) == nil {
		if name == "" {
			return errors.New("empty column name")
		}
		m[name] = json.RawMessage(`{}`)
		return nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(el, &obj); err != nil || obj == nil {
		return errors.New("neither a column name nor an object")
	}
	if n, ok := obj["name"]; ok && json.Unmarshal(n, &name) == nil && name != "" && len(obj) <= 3 {
		if v, ok := obj["value"]; ok {
			m[name] = v
			return nil
		}
		if _, ok := obj["update"]; ok || len(obj) == 1 {
			m[name] = el
			return nil
		}
	}
	for k, v := range obj {
		m[k] = v
	}
	return nil
}

// DecodeUserRow decodes the columns of a row message (ReplicateNextResult,
// ReplicateAdd, ReplicateUpdate). It needs a guid and an h323 name; the
// other columns may be absent or null. Errors wrap ErrMalformedRow; when the
// guid itself could be read, it is returned with the error, so that the
// caller knows which stored user the refused row was about.
func DecodeUserRow(columns json.RawMessage) (PbxUser, error) {
	if len(columns) > maxRowBytes {
		return PbxUser{}, fmt.Errorf("%w: row of %d bytes, at most %d", ErrMalformedRow, len(columns), maxRowBytes)
	}
	m, err := DecodeColumns(columns)
	if err != nil {
		return PbxUser{}, err
	}
	if m == nil {
		return PbxUser{}, fmt.Errorf("%w: no columns", ErrMalformedRow)
	}
	var u PbxUser
	if u.GUID, err = textColumn(m, "guid", maxGUIDLen); err != nil {
		return PbxUser{}, err
	}
	if u.GUID == "" {
		return PbxUser{}, fmt.Errorf("%w: no guid", ErrMalformedRow)
	}
	fail := func(err error) (PbxUser, error) { return PbxUser{GUID: u.GUID}, err }
	if u.H323, err = textColumn(m, "h323", maxH323Len); err != nil {
		return fail(err)
	}
	if u.H323 == "" {
		return fail(fmt.Errorf("%w: guid %s: no h323 name", ErrMalformedRow, u.GUID))
	}
	if strings.TrimSpace(u.H323) != u.H323 {
		return fail(fmt.Errorf("%w: guid %s: h323 name %q has leading or trailing space", ErrMalformedRow, u.GUID, u.H323))
	}
	for _, c := range []struct {
		name string
		dst  *string
	}{{"cn", &u.CN}, {"dn", &u.DN}, {"e164", &u.E164}, {"pseudo", &u.Pseudo}} {
		if *c.dst, err = textColumn(m, c.name, maxTextLen); err != nil {
			return fail(fmt.Errorf("guid %s: %w", u.GUID, err))
		}
	}
	if raw, ok := m["devices"]; ok {
		if u.MACs, err = decodeDevices(raw); err != nil {
			return fail(fmt.Errorf("guid %s: %w", u.GUID, err))
		}
		u.HasDevices = true
	}
	return u, nil
}

// DecodeRowGUID reads the guid of a row message (ReplicateDel needs no
// more).
func DecodeRowGUID(columns json.RawMessage) (string, error) {
	m, err := DecodeColumns(columns)
	if err != nil {
		return "", err
	}
	g, err := textColumn(m, "guid", maxGUIDLen)
	if err != nil {
		return "", err
	}
	if g == "" {
		return "", fmt.Errorf("%w: no guid", ErrMalformedRow)
	}
	return g, nil
}

// textColumn reads a string column: absent or null is "", other JSON types
// and control characters are refused.
func textColumn(m map[string]json.RawMessage, name string, maxLen int) (string, error) {
	raw, ok := m[name]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%w: column %s is not a string", ErrMalformedRow, name)
	}
	if len(s) > maxLen {
		return "", fmt.Errorf("%w: column %s: %d bytes, at most %d", ErrMalformedRow, name, len(s), maxLen)
	}
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: column %s: not valid UTF-8", ErrMalformedRow, name)
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return "", fmt.Errorf("%w: column %s: control character %U", ErrMalformedRow, name, c)
		}
	}
	return s, nil
}

// decodeDevices reads the devices sub-table (an array of rows, each in
// either columns form) and keeps the hardware ids that are MACs.
func decodeDevices(raw json.RawMessage) ([]string, error) {
	if string(raw) == "null" {
		return []string{}, nil
	}
	var rows []json.RawMessage
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, fmt.Errorf("%w: devices is not an array", ErrMalformedRow)
	}
	if len(rows) > maxDevices {
		return nil, fmt.Errorf("%w: %d devices, at most %d", ErrMalformedRow, len(rows), maxDevices)
	}
	macs := make([]string, 0, len(rows))
	for i, r := range rows {
		m, err := DecodeColumns(r)
		if err != nil {
			return nil, fmt.Errorf("devices[%d]: %w", i, err)
		}
		hw, err := textColumn(m, "hw", maxTextLen)
		if err != nil {
			return nil, fmt.Errorf("devices[%d]: %w", i, err)
		}
		if mac, err := NormalizeMAC(hw); err == nil {
			macs = append(macs, mac)
		}
	}
	slices.Sort(macs)
	return slices.Compact(macs), nil
}

// ReplicaState is where a UserReplicator stands.
type ReplicaState int

// Replicator states.
const (
	ReplicaIdle     ReplicaState = iota // not started, or stopped
	ReplicaStarting                     // ReplicateStart sent, waiting for its result
	ReplicaLoading                      // the initial load: ReplicateNext until the end of the table
	ReplicaLive                         // the table is loaded; live changes only
)

func (s ReplicaState) String() string {
	switch s {
	case ReplicaIdle:
		return "idle"
	case ReplicaStarting:
		return "starting"
	case ReplicaLoading:
		return "loading"
	case ReplicaLive:
		return "live"
	}
	return fmt.Sprintf("ReplicaState(%d)", int(s))
}

// ReplicaStep is what one message from the PBX asks of the caller, in this
// order: store Upserts (rows of users, current as of this message) and
// Deletes (guids of users gone from the PBX); then, if LoadDone, mark every
// stored PBX user that the load neither delivered nor Touched as deleted
// (unless SkipSweep); then send Send, if not nil.
type ReplicaStep struct {
	Upserts []PbxUser
	Deletes []string
	// Touched are guids of refused rows of the initial load: the users are
	// still on the PBX, their stored data stays as it is.
	Touched  []string
	Live     bool // the rows are live changes (not the initial load)
	LoadDone bool // the initial load is complete
	// SkipSweep: a refused row of the load had no readable guid, so the
	// users the load did not deliver may still exist: delete none.
	SkipSweep bool
	Send      any
	// Refused are the rows and messages that could not be used (each
	// wraps ErrMalformedRow); the caller logs them. Nothing is stored for
	// them.
	Refused []error
}

// UserReplicator is the replicator's protocol state for PbxTableUsers on
// one connection. It does no I/O and is not safe for concurrent use.
type UserReplicator struct {
	Src   string // the src of the replicator's requests ("" none)
	state ReplicaState
	// noGUID: a refused row of the current load had no readable guid.
	noGUID bool
	rows   int
}

// State is where the replication stands.
func (r *UserReplicator) State() ReplicaState { return r.state }

// Rows is how many rows the current initial load delivered so far.
func (r *UserReplicator) Rows() int { return r.rows }

// Start (re)starts the replication: send the returned ReplicateStart.
func (r *UserReplicator) Start() ReplicateStart {
	r.state, r.noGUID, r.rows = ReplicaStarting, false, 0
	return ReplicateStart{API: ReplicationAPI, MT: MTReplicateStart, Src: r.Src, Add: false, Del: false,
		Columns: UserColumns(), Pseudo: []string{""}}
}

// Stop forgets the replication (the connection ended).
func (r *UserReplicator) Stop() { r.state = ReplicaIdle }

func (r *UserReplicator) next() ReplicateNext {
	return ReplicateNext{API: ReplicationAPI, MT: MTReplicateNext, Src: r.Src}
}

// rowMsg is the body of every replication message the PBX sends.
type rowMsg struct {
	Columns json.RawMessage `json:"columns"`
}

// Handle takes one message of the api from the PBX (mt and the whole
// message raw) and says what to do. An error means the message was not a
// replication message in the current state (logged by the caller; the
// replication goes on).
func (r *UserReplicator) Handle(mt string, raw json.RawMessage) (ReplicaStep, error) {
	var m rowMsg
	if err := json.Unmarshal(raw, &m); err != nil {
		return ReplicaStep{}, fmt.Errorf("%w: %s: %v", ErrMalformedRow, mt, err)
	}
	switch mt {
	case MTReplicateStartResult:
		if r.state != ReplicaStarting {
			return ReplicaStep{}, fmt.Errorf("%s while %s", mt, r.state)
		}
		cols, err := DecodeColumns(m.Columns)
		if err != nil {
			return ReplicaStep{}, fmt.Errorf("%s: %w", mt, err)
		}
		// A publisher that lists no columns is taken to provide what was
		// asked; one that lists columns must offer the row key and name.
		if cols != nil {
			for _, need := range []string{"guid", "h323"} {
				if _, ok := cols[need]; !ok {
					r.state = ReplicaIdle
					return ReplicaStep{}, fmt.Errorf("%s: the PBX does not provide column %q: replication stopped", mt, need)
				}
			}
		}
		r.state = ReplicaLoading
		return ReplicaStep{Send: r.next()}, nil

	case MTReplicateNextResult:
		if r.state != ReplicaLoading {
			return ReplicaStep{}, fmt.Errorf("%s while %s", mt, r.state)
		}
		if isEmptyColumns(m.Columns) {
			r.state = ReplicaLive
			return ReplicaStep{LoadDone: true, SkipSweep: r.noGUID}, nil
		}
		st := ReplicaStep{Send: r.next()}
		r.rows++
		r.row(&st, m.Columns)
		return st, nil

	case MTReplicateAdd, MTReplicateUpdate:
		if r.state != ReplicaLoading && r.state != ReplicaLive {
			return ReplicaStep{}, fmt.Errorf("%s while %s", mt, r.state)
		}
		st := ReplicaStep{Live: true}
		r.row(&st, m.Columns)
		return st, nil

	case MTReplicateDel:
		if r.state != ReplicaLoading && r.state != ReplicaLive {
			return ReplicaStep{}, fmt.Errorf("%s while %s", mt, r.state)
		}
		g, err := DecodeRowGUID(m.Columns)
		if err != nil {
			return ReplicaStep{Live: true, Refused: []error{fmt.Errorf("%s: %w", mt, err)}}, nil
		}
		return ReplicaStep{Live: true, Deletes: []string{g}}, nil
	}
	return ReplicaStep{}, fmt.Errorf("unknown message %q", mt)
}

// row decodes one row into st: a user to store, an object that is not a
// user (deleted as a user), or a refusal.
func (r *UserReplicator) row(st *ReplicaStep, cols json.RawMessage) {
	u, err := DecodeUserRow(cols)
	switch {
	case err != nil && u.GUID == "":
		if !st.Live {
			r.noGUID = true
		}
		st.Refused = append(st.Refused, err)
	case err != nil:
		if !st.Live {
			st.Touched = append(st.Touched, u.GUID)
		}
		st.Refused = append(st.Refused, err)
	case !u.IsUser():
		st.Deletes = append(st.Deletes, u.GUID)
	default:
		st.Upserts = append(st.Upserts, u)
	}
}

// isEmptyColumns: absent, null, {} or [].
func isEmptyColumns(raw json.RawMessage) bool {
	switch strings.TrimSpace(string(raw)) {
	case "", "null", "{}", "[]":
		return true
	}
	return false
}
