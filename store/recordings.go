package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"recordings/internal/invalid"
	"recordings/internal/sealed"
	"recordings/store/listquery"
)

// State is where a recording is in its life, as stored in the database
// and shown by the API.
type State string

// Recording states.
const (
	// StateReceiving: the upload is in progress (SHA256 == "") or complete
	// and waiting for analysis (SHA256 != "").
	StateReceiving State = "receiving"
	// StateReady: analysed, playable.
	StateReady State = "ready"
	// StateFailed: stored but cannot be rendered (Reason says why).
	StateFailed State = "failed"
	// StateIncomplete: the upload was cut short; what arrived is kept.
	StateIncomplete State = "incomplete"
)

// Valid reports whether s is one of the recording states.
func (s State) Valid() bool {
	switch s {
	case StateReceiving, StateReady, StateFailed, StateIncomplete:
		return true
	}
	return false
}

// Bounds on what the store accepts.
const (
	MaxChunkSize = 256 << 10 // bytes per AppendChunk
	maxNameLen   = 1024      // domain, recording name
	maxFieldLen  = 256       // file-name parts, owner, peer fields, codec
	maxReasonLen = 1024
	maxBlobLen   = 4 << 20 // Stats, Envelope
)

// FileName is what the caller parsed out of an uploaded file's name.
type FileName struct {
	ConfID, MAC, Serial, RegName string
}

// Recording is one uploaded capture and what is known about it.
type Recording struct {
	ID     int64
	Domain string
	Name   string
	FileName
	State  State
	Reason string // why it failed, e.g. "unsupported codec opus"

	Size   int64  // bytes stored so far
	SHA256 string // lower-case hex, set when the upload completed
	Chunks int64  // number of stored chunks

	CreatedAt, UpdatedAt time.Time

	Codec      string
	DurationMS int64
	Stats      []byte // JSON from analysis; nil in list results
	Envelope   []byte // waveform peaks; nil in list results

	Protected bool
	Owner     string // user name owning the recording

	// From the PBX's call detail records (SetCDR); zero until then.
	Direction   string
	PeerName    string
	PeerNumber  string
	ConnectedAt time.Time
	CallMS      int64
	CDR         bool

	// NoCDR: no CDR arrived within the grace period (MarkNoCDR); cleared
	// when one attaches late.
	NoCDR bool
	// OwnerSource is the rule that decided Owner ("" = the file name's
	// registration name at upload, see pbx.OwnerSource for the others).
	OwnerSource string
	// OwnerDeleted: the owner is a user deleted on the PBX (read-only).
	OwnerDeleted bool
	// KeyID names the master key that wraps the capture's data key ("" =
	// stored in clear); see DB.Readable.
	KeyID string
}

// Readable reports whether the configured master key can read r's capture
// (always, for one stored in clear).
func (db *DB) Readable(r Recording) bool { return r.KeyID == "" || r.KeyID == db.MasterKeyID() }

// Uploaded reports whether the whole capture has arrived (FinishUpload was
// called with a checksum).
func (r *Recording) Uploaded() bool { return r.SHA256 != "" }

// Replaceable reports whether an upload of the same name may replace the
// recording: captures are written once, so only an upload that broke off
// (incomplete, or still receiving without its checksum when no upload of
// it is running) may be sent again, and never a protected one.
func (r *Recording) Replaceable() bool {
	return !r.Protected && (r.State == StateIncomplete || (r.State == StateReceiving && !r.Uploaded()))
}

// Analysis is the outcome of analysing a completed upload.
type Analysis struct {
	State      State // StateReady, StateFailed or StateIncomplete
	Reason     string
	Codec      string
	DurationMS int64
	Stats      []byte
	Envelope   []byte
}

// CDR is what the PBX's call detail record says about a recording's call.
type CDR struct {
	Direction   string // e.g. "in", "out"
	PeerName    string
	PeerNumber  string
	ConnectedAt time.Time
	CallMS      int64
}

// recCols are the columns scanRecording reads, blobs last.
const recColsLight = `id, domain, name, conf_id, mac, serial, reg_name, state, reason,
	size, nchunks, sha256, created_at, updated_at, codec, duration_ms, protected, owner,
	direction, peer_name, peer_number, connected_at, call_ms, cdr, no_cdr, owner_source,
	` + ownerDeletedSQL + `,
	coalesce((SELECT master FROM capture_keys WHERE recording_id = recordings.id), '')`

// The analysis blobs live in their own table so that recordings rows stay
// small: lists and searches never read past a waveform.
const recColsFull = recColsLight + `,
	(SELECT stats FROM recording_blobs WHERE recording_id = recordings.id),
	(SELECT envelope FROM recording_blobs WHERE recording_id = recordings.id)`

type scanner interface{ Scan(dest ...any) error }

func scanRecording(s scanner, full bool) (Recording, error) {
	var (
		r                 Recording
		created, updated  int64
		connected         sql.NullInt64
		protected, hasCDR bool
		noCDR             bool
	)
	dest := []any{&r.ID, &r.Domain, &r.Name, &r.ConfID, &r.MAC, &r.Serial, &r.RegName,
		&r.State, &r.Reason, &r.Size, &r.Chunks, &r.SHA256, &created, &updated, &r.Codec,
		&r.DurationMS, &protected, &r.Owner, &r.Direction, &r.PeerName, &r.PeerNumber,
		&connected, &r.CallMS, &hasCDR, &noCDR, &r.OwnerSource, &r.OwnerDeleted, &r.KeyID}
	if full {
		dest = append(dest, &r.Stats, &r.Envelope)
	}
	if err := s.Scan(dest...); err != nil {
		return Recording{}, err
	}
	r.CreatedAt, r.UpdatedAt = fromMS(created), fromMS(updated)
	if connected.Valid {
		r.ConnectedAt = fromMS(connected.Int64)
	}
	r.Protected, r.CDR, r.NoCDR = protected, hasCDR, noCDR
	return r, nil
}

// searchText is the text ListFilter.Query is matched against
// (listquery.SearchText: folded names, the number's key), one field per
// line so a match cannot span two of them.
func (db *DB) searchText(owner, peerName, peerNumber, regName string) string {
	return listquery.SearchText(db.plan, owner, peerName, peerNumber, regName)
}

// checkText accepts printable UTF-8 of at most maxLen bytes, and an empty
// s only when not required; it refuses with an *invalid.Error for field.
func checkText(field, s string, maxLen int, required bool) error {
	if required && s == "" {
		return invalid.New(field, "must not be empty")
	}
	if len(s) > maxLen {
		return invalid.New(field, "at most %d bytes, not %d", maxLen, len(s))
	}
	if !utf8.ValidString(s) {
		return invalid.New(field, "not valid UTF-8")
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return invalid.New(field, "control character %U is not allowed", c)
		}
	}
	return nil
}

func checkFileName(fn FileName, owner string) error {
	for _, f := range []struct {
		what, v string
	}{{"conf_id", fn.ConfID}, {"mac", fn.MAC}, {"serial", fn.Serial}, {"reg_name", fn.RegName}, {"owner", owner}} {
		if err := checkText(f.what, f.v, maxFieldLen, false); err != nil {
			return err
		}
	}
	return nil
}

// BeginUpload starts storing a capture as recording (domain, name) in
// StateReceiving. If that recording exists and is Replaceable (a cut
// upload sent again) it is replaced: its chunks are deleted and the row
// reset, keeping its id, and replaced is true. A complete recording (ready,
// failed, or received and waiting for its analysis) is never replaced
// (ErrComplete), nor a protected one (ErrProtected). The caller makes sure
// no upload of the same name is running (ingest does).
func (db *DB) BeginUpload(ctx context.Context, domain, name string, fn FileName, owner string) (id int64, replaced bool, err error) {
	if err := checkText("domain", domain, maxNameLen, true); err != nil {
		return 0, false, fmt.Errorf("store: begin upload: %w", err)
	}
	if err := checkText("name", name, maxNameLen, true); err != nil {
		return 0, false, fmt.Errorf("store: begin upload: %w", err)
	}
	if err := checkFileName(fn, owner); err != nil {
		return 0, false, fmt.Errorf("store: begin upload %s/%s: %w", domain, name, err)
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		now := db.nowMS()
		search := db.searchText(owner, "", "", fn.RegName)
		var old Recording
		err := tx.QueryRowContext(ctx, `SELECT id, protected, state, sha256 FROM recordings WHERE domain = ? AND name = ?`,
			domain, name).Scan(&id, &old.Protected, &old.State, &old.SHA256)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			replaced = false
			if err := tx.QueryRowContext(ctx, `INSERT INTO recordings
				(domain, name, conf_id, mac, serial, reg_name, state, created_at, updated_at, owner, owner_key, search, call_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				domain, name, fn.ConfID, fn.MAC, fn.Serial, fn.RegName, StateReceiving, now, now, owner, NameKey(owner), search, now,
			).Scan(&id); err != nil {
				return err
			}
			_, err := db.newDataKey(ctx, tx, id)
			return err
		case err != nil:
			return err
		case old.Protected:
			return ErrProtected
		case !old.Replaceable():
			return ErrComplete
		}
		replaced = true
		if _, err := tx.ExecContext(ctx, `DELETE FROM chunks WHERE recording_id = ?`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM recording_blobs WHERE recording_id = ?`, id); err != nil {
			return err
		}
		if err := dropCheckpoints(ctx, tx, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE recordings SET
			conf_id = ?, mac = ?, serial = ?, reg_name = ?, state = ?, reason = '', size = 0,
			nchunks = 0, sha256 = '', created_at = ?, updated_at = ?, codec = '', duration_ms = 0,
			protected = 0, owner = ?, owner_key = ?, direction = '', peer_name = '',
			peer_number = '', connected_at = NULL, call_ms = 0, cdr = 0, no_cdr = 0, owner_source = '', search = ?,
			blob_loc = '', blob_key = '', blob_seg = 0, call_at = ?, num_key = ''
			WHERE id = ?`,
			fn.ConfID, fn.MAC, fn.Serial, fn.RegName, StateReceiving, now, now, owner, NameKey(owner), search, now, id)
		if err != nil {
			return err
		}
		_, err = db.newDataKey(ctx, tx, id)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("store: begin upload %s/%s: %w", domain, name, err)
	}
	return id, replaced, nil
}

// Domains returns up to n domains recordings were uploaded and CDRs posted
// to, most used first.
func (db *DB) Domains(ctx context.Context, n int) (_ []string, err error) {
	rows, err := db.r.QueryContext(ctx, `SELECT domain FROM (SELECT domain FROM recordings
		UNION ALL SELECT domain FROM cdrs WHERE domain <> '') GROUP BY domain ORDER BY count(*) DESC, domain LIMIT ?`, n)
	if err != nil {
		return nil, fmt.Errorf("store: domains: %w", err)
	}
	defer closeOnErr(rows, &err)
	var out []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, fmt.Errorf("store: domains: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: domains: %w", err)
	}
	return out, nil
}

// History reports whether the database has received any upload and any
// CDR: an installation in use, as opposed to a fresh one.
func (db *DB) History(ctx context.Context) (recordings, cdrs bool, err error) {
	err = db.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM recordings), EXISTS (SELECT 1 FROM cdrs)`).Scan(
		&recordings, &cdrs)
	if err != nil {
		return false, false, fmt.Errorf("store: history: %w", err)
	}
	return recordings, cdrs, nil
}

// recordingState explains why an update matched no row: ErrNotFound, or
// ErrState with the recording's state.
func recordingState(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id int64) error {
	var (
		state State
		sum   string
	)
	err := q.QueryRowContext(ctx, `SELECT state, sha256 FROM recordings WHERE id = ?`, id).Scan(&state, &sum)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ErrNotFound
	case err != nil:
		return err
	case state == StateReceiving && sum != "":
		return fmt.Errorf("%w: upload already finished", ErrState)
	}
	return fmt.Errorf("%w: state %q", ErrState, state)
}

// AppendChunk stores the next piece of an upload that is still receiving.
// Chunks are at most MaxChunkSize bytes; an empty chunk is a no-op.
func (db *DB) AppendChunk(ctx context.Context, id int64, data []byte) error {
	return db.AppendChunkParts(ctx, id, data)
}

// AppendChunkParts is AppendChunk for a chunk given in parts: the chunk
// stored is their concatenation, assembled in the writer's own buffer
// while it holds the write connection. An upload may so keep what it has
// received in small pieces; a thousand uploads waiting for the writer
// need no contiguous copy each.
func (db *DB) AppendChunkParts(ctx context.Context, id int64, parts ...[]byte) error {
	batch := [1]ChunkAppend{{ID: id, Parts: parts}}
	db.AppendChunks(ctx, batch[:])
	return batch[0].Err
}

// ChunkAppend is one upload's next chunk for AppendChunks, given in parts
// as to AppendChunkParts; Err is what became of it.
type ChunkAppend struct {
	ID    int64
	Parts [][]byte
	Err   error // set by AppendChunks: nil once stored
}

// AppendChunks stores several uploads' next chunks in one write
// transaction (a group commit), each exactly as AppendChunkParts would,
// and sets every entry's Err. An upload the store refuses (not found, no
// longer receiving, a chunk over MaxChunkSize) fails alone; the others
// are stored. When the transaction itself fails (a full disk, say), the
// entries are tried again one transaction each, so that every one gets
// its own error and none is lost for another's. One upload may have
// several entries; they are stored in order.
func (db *DB) AppendChunks(ctx context.Context, batch []ChunkAppend) {
	todo := 0
	for i := range batch {
		e := &batch[i]
		e.Err = nil
		n := partsLen(e.Parts)
		if n > MaxChunkSize {
			e.Err = fmt.Errorf("store: append chunk to recording %d: %d bytes, more than %d: %w",
				e.ID, n, MaxChunkSize, ErrInvalid)
		} else if n > 0 {
			todo++
		}
	}
	if todo == 0 {
		return
	}
	refused := make([]error, len(batch))
	err := db.write(ctx, func(tx *sql.Tx) error {
		clear(refused) // a retried transaction starts over
		for i, e := range batch {
			if e.Err != nil || partsLen(e.Parts) == 0 {
				continue
			}
			ok, err := db.appendChunk(ctx, tx, e.ID, e.Parts)
			if err != nil {
				return err
			}
			if !ok {
				refused[i] = recordingState(ctx, tx, e.ID)
			}
		}
		return nil
	})
	if err != nil && todo > 1 {
		// Find who the failure belongs to: one transaction each.
		for i := range batch {
			if e := &batch[i]; e.Err == nil && partsLen(e.Parts) > 0 {
				e.Err = db.appendChunkAlone(ctx, e.ID, e.Parts)
			}
		}
		return
	}
	for i := range batch {
		e := &batch[i]
		switch {
		case e.Err != nil || partsLen(e.Parts) == 0:
		case err != nil:
			e.Err = fmt.Errorf("store: append chunk to recording %d: %w", e.ID, err)
		case refused[i] != nil:
			e.Err = fmt.Errorf("store: append chunk to recording %d: %w", e.ID, refused[i])
		}
	}
}

// appendChunkAlone stores one chunk of at most MaxChunkSize bytes in a
// transaction of its own.
func (db *DB) appendChunkAlone(ctx context.Context, id int64, parts [][]byte) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		ok, err := db.appendChunk(ctx, tx, id, parts)
		if err == nil && !ok {
			err = recordingState(ctx, tx, id)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("store: append chunk to recording %d: %w", id, err)
	}
	return nil
}

func partsLen(parts [][]byte) int {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	return n
}

// appendChunk stores the concatenation of parts (not empty, at most
// MaxChunkSize bytes) as recording id's next chunk in tx. It reports false,
// having changed nothing, when the recording is not receiving; an error
// leaves tx to be rolled back.
func (db *DB) appendChunk(ctx context.Context, tx *sql.Tx, id int64, parts [][]byte) (bool, error) {
	n := partsLen(parts)
	var seq, off int64
	err := tx.QueryRowContext(ctx, `UPDATE recordings
		SET size = size + ?1, nchunks = nchunks + 1, updated_at = ?2
		WHERE id = ?3 AND state = ?4 AND sha256 = ''
		RETURNING nchunks - 1, size - ?1`, n, db.nowMS(), id, StateReceiving).Scan(&seq, &off)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var data []byte
	for _, p := range parts {
		if len(p) > 0 && data == nil {
			data = p
		} else if len(p) > 0 {
			data = nil
			break
		}
	}
	if data == nil {
		// Only write transactions run here, one at a time on the one
		// write connection, so the buffer is the writer's alone; the
		// driver has copied it once the statement ran.
		db.chunkBuf = db.chunkBuf[:0]
		for _, p := range parts {
			db.chunkBuf = append(db.chunkBuf, p...)
		}
		data = db.chunkBuf
	}
	stored := data
	dk, err := db.dataKey(ctx, tx, id)
	if err != nil {
		return false, err
	}
	if dk != nil {
		if stored, err = dk.SealTo(make([]byte, 0, sealed.SealedLen(len(data))), data, id, off); err != nil {
			return false, err
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO chunks (recording_id, seq, off, data) VALUES (?, ?, ?, ?)`,
		id, seq, off, stored)
	return err == nil, err
}

// FinishUpload ends an upload. With StateReceiving the capture is complete
// and waits for SetAnalysis; sha256hex (64 hex digits) is then required.
// With StateIncomplete (or StateFailed) the upload was cut short; the
// checksum may be empty. Only a recording still being received can finish.
func (db *DB) FinishUpload(ctx context.Context, id int64, state State, sha256hex string) error {
	if !state.Valid() || state == StateReady {
		return fmt.Errorf("store: finish upload %d: state %q: %w", id, state, ErrInvalid)
	}
	if state == StateReceiving && sha256hex == "" {
		return fmt.Errorf("store: finish upload %d: a complete upload needs its SHA-256: %w", id, ErrInvalid)
	}
	if sha256hex != "" {
		if b, err := hex.DecodeString(sha256hex); err != nil || len(b) != 32 {
			return fmt.Errorf("store: finish upload %d: SHA-256 %q is not 64 hex digits: %w", id, sha256hex, ErrInvalid)
		}
		sha256hex = strings.ToLower(sha256hex)
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE recordings SET state = ?, sha256 = ?, updated_at = ?
			WHERE id = ? AND state = ? AND sha256 = ''`, state, sha256hex, db.nowMS(), id, StateReceiving)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return recordingState(ctx, tx, id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: finish upload %d: %w", id, err)
	}
	return nil
}

// SetAnalysis records the analysis of a recording whose upload has ended
// (it may be repeated, e.g. after an upgrade of the analyser).
func (db *DB) SetAnalysis(ctx context.Context, id int64, a Analysis) error {
	if !a.State.Valid() || a.State == StateReceiving {
		return fmt.Errorf("store: set analysis of %d: state %q: %w", id, a.State, ErrInvalid)
	}
	if err := checkText("reason", a.Reason, maxReasonLen, false); err != nil {
		return fmt.Errorf("store: set analysis of %d: %w", id, err)
	}
	if err := checkText("codec", a.Codec, maxFieldLen, false); err != nil {
		return fmt.Errorf("store: set analysis of %d: %w", id, err)
	}
	if a.DurationMS < 0 || len(a.Stats) > maxBlobLen || len(a.Envelope) > maxBlobLen {
		return fmt.Errorf("store: set analysis of %d: negative duration or oversized stats/envelope: %w", id, ErrInvalid)
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE recordings SET state = ?, reason = ?, codec = ?,
			duration_ms = ?, updated_at = ?
			WHERE id = ? AND NOT (state = ? AND sha256 = '')`,
			a.State, a.Reason, a.Codec, a.DurationMS, db.nowMS(), id, StateReceiving)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if err := recordingState(ctx, tx, id); errors.Is(err, ErrNotFound) {
				return err
			}
			return fmt.Errorf("%w: upload still in progress", ErrState)
		}
		if a.Stats == nil && a.Envelope == nil {
			_, err = tx.ExecContext(ctx, `DELETE FROM recording_blobs WHERE recording_id = ?`, id)
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO recording_blobs (recording_id, stats, envelope) VALUES (?, ?, ?)
			ON CONFLICT (recording_id) DO UPDATE SET stats = excluded.stats, envelope = excluded.envelope`,
			id, a.Stats, a.Envelope)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set analysis of %d: %w", id, err)
	}
	return nil
}

// SetCDR fills the recording's call-detail fields and marks it CDR-backed.
func (db *DB) SetCDR(ctx context.Context, id int64, c CDR) error {
	for _, f := range []struct{ what, v string }{
		{"direction", c.Direction}, {"peer_name", c.PeerName}, {"peer_number", c.PeerNumber}} {
		if err := checkText(f.what, f.v, maxFieldLen, false); err != nil {
			return fmt.Errorf("store: set CDR of %d: %w", id, err)
		}
	}
	if c.CallMS < 0 {
		return fmt.Errorf("store: set CDR of %d: negative call duration: %w", id, ErrInvalid)
	}
	var connected sql.NullInt64
	if !c.ConnectedAt.IsZero() {
		connected = sql.NullInt64{Int64: c.ConnectedAt.UnixMilli(), Valid: true}
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		var owner, reg string
		err := tx.QueryRowContext(ctx, `SELECT owner, reg_name FROM recordings WHERE id = ?`, id).Scan(&owner, &reg)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE recordings SET direction = ?, peer_name = ?, peer_number = ?,
			connected_at = ?4, call_ms = ?, cdr = 1, no_cdr = 0, search = ?, num_key = ?, updated_at = ?,
			call_at = coalesce(?4, created_at) WHERE id = ?`,
			c.Direction, c.PeerName, c.PeerNumber, connected, c.CallMS,
			db.searchText(owner, c.PeerName, c.PeerNumber, reg), listquery.StoredNumberKey(db.plan, c.PeerNumber), db.nowMS(), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set CDR of %d: %w", id, err)
	}
	return nil
}

// Recording returns one recording with its stats and envelope.
func (db *DB) Recording(ctx context.Context, id int64) (Recording, error) {
	r, err := scanRecording(db.r.QueryRowContext(ctx,
		`SELECT `+recColsFull+` FROM recordings WHERE id = ?`, id), true)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return Recording{}, fmt.Errorf("store: recording %d: %w", id, err)
	}
	return r, nil
}

// RecordingByName returns the recording stored as (domain, name).
func (db *DB) RecordingByName(ctx context.Context, domain, name string) (Recording, error) {
	r, err := scanRecording(db.r.QueryRowContext(ctx,
		`SELECT `+recColsFull+` FROM recordings WHERE domain = ? AND name = ?`, domain, name), true)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return Recording{}, fmt.Errorf("store: recording %s/%s: %w", domain, name, err)
	}
	return r, nil
}

// RecordingsInState lists the recordings in one state, oldest first, without
// stats and envelope; meant for the transient states after a restart.
func (db *DB) RecordingsInState(ctx context.Context, state State) (_ []Recording, err error) {
	if !state.Valid() {
		return nil, fmt.Errorf("store: recordings in state %q: %w", state, ErrInvalid)
	}
	out, err := db.queryRecordings(ctx, `SELECT `+recColsLight+` FROM recordings WHERE state = ? ORDER BY id`, state)
	if err != nil {
		return nil, fmt.Errorf("store: recordings in state %q: %w", state, err)
	}
	return out, nil
}

// SetProtected marks a recording as protected from deletion (or not).
func (db *DB) SetProtected(ctx context.Context, id int64, on bool) error {
	return db.updateOne(ctx, fmt.Sprintf("set protected of %d", id),
		`UPDATE recordings SET protected = ?, updated_at = ? WHERE id = ?`, on, db.nowMS(), id)
}

// DeleteRecording deletes a recording and its chunks; a protected one is
// refused with ErrProtected. Freed pages are returned to the file system by
// IncrementalVacuum.
func (db *DB) DeleteRecording(ctx context.Context, id int64) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		var protected bool
		err := tx.QueryRowContext(ctx, `SELECT protected FROM recordings WHERE id = ?`, id).Scan(&protected)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if protected {
			return ErrProtected
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM recordings WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete recording %d: %w", id, err)
	}
	return nil
}

// updateOne runs one UPDATE that must change exactly one row.
func (db *DB) updateOne(ctx context.Context, what, query string, args ...any) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return nil
}
