package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Render checkpoints (media.Checkpoints in their stored form) are derived
// data kept with the analysis, so that a seek into a long call after a
// restart or a cache eviction starts from the nearest checkpoint instead of
// rendering the call from its start. They hold decoder states and payload
// bytes of the call, so a recording whose capture is encrypted has them
// sealed with its data key (one sealed piece at offset checkpointsOff,
// which no piece of a capture has). They are dropped with the recording
// (ON DELETE CASCADE), when an upload replaces it, and when its capture
// becomes encrypted (ShipCapture, UnshipCapture): the service records them
// again, sealed, at the next playback.

// checkpointsOff is the "offset" a sealed checkpoint set is authenticated
// with: negative, so that it can never be taken for a piece of the capture.
const checkpointsOff = -1

// maxCheckpointsLen bounds a stored checkpoint set.
const maxCheckpointsLen = 256 << 20

// ErrCheckpointsUnreadable: a sealed checkpoint set does not open with
// the recording's data key (damaged, or moved from another recording).
var ErrCheckpointsUnreadable = errors.New("store: stored render checkpoints unreadable")

func migrateCheckpoints(ctx context.Context, tx *sql.Tx) error {
	return execAll(ctx, tx,
		// sha256 is the capture's the checkpoints were recorded from;
		// sealed tells whether data is sealed with the recording's data key.
		`CREATE TABLE recording_checkpoints (
			recording_id INTEGER PRIMARY KEY REFERENCES recordings (id) ON DELETE CASCADE,
			sha256       TEXT NOT NULL,
			sealed       INTEGER NOT NULL,
			data         BLOB NOT NULL
		)`,
	)
}

// SetCheckpoints stores data, the render checkpoints recorded from the
// capture of recording id whose SHA-256 is sha, replacing any stored ones;
// sealed with the recording's data key when its capture is encrypted. A
// recording whose capture changed meanwhile (replaced) is left alone
// (ErrState).
func (db *DB) SetCheckpoints(ctx context.Context, id int64, sha string, data []byte) error {
	if len(data) == 0 || len(data) > maxCheckpointsLen {
		return fmt.Errorf("store: set checkpoints of %d: %d bytes: %w", id, len(data), ErrInvalid)
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		var cur string
		err := tx.QueryRowContext(ctx, `SELECT sha256 FROM recordings WHERE id = ?`, id).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if cur == "" || cur != sha {
			return fmt.Errorf("%w: capture changed since its checkpoints were recorded", ErrState)
		}
		// The key is read in the same transaction that stores the
		// checkpoints, so that a capture encrypted meanwhile never gets
		// checkpoints in clear.
		dk, err := db.dataKey(ctx, tx, id)
		if err != nil {
			return err
		}
		stored := data
		if dk != nil {
			if stored, err = dk.SealTo(nil, data, id, checkpointsOff); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO recording_checkpoints (recording_id, sha256, sealed, data) VALUES (?, ?, ?, ?)
			ON CONFLICT (recording_id) DO UPDATE SET sha256 = excluded.sha256, sealed = excluded.sealed, data = excluded.data`,
			id, sha, dk != nil, stored)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set checkpoints of %d: %w", id, err)
	}
	return nil
}

// Checkpoints returns the stored render checkpoints of recording id,
// recorded from the capture whose SHA-256 is sha: ErrNotFound when there
// are none for that capture, ErrUnreadable when the capture's key is not
// available, ErrCheckpointsUnreadable when the sealed set does not open.
func (db *DB) Checkpoints(ctx context.Context, id int64, sha string) ([]byte, error) {
	var (
		stored  string
		sealed  bool
		data    []byte
		master  sql.NullString
		wrapped []byte
	)
	err := db.r.QueryRowContext(ctx, `SELECT c.sha256, c.sealed, c.data, k.master, k.wrapped
		FROM recording_checkpoints c LEFT JOIN capture_keys k ON k.recording_id = c.recording_id
		WHERE c.recording_id = ?`, id).Scan(&stored, &sealed, &data, &master, &wrapped)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("store: checkpoints of %d: %w", id, ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("store: checkpoints of %d: %w", id, err)
	case stored != sha:
		return nil, fmt.Errorf("store: checkpoints of %d: recorded from another capture: %w", id, ErrNotFound)
	case !sealed && master.Valid:
		// In clear from before the capture was encrypted: not to be used.
		return nil, fmt.Errorf("store: checkpoints of %d: stored in clear for an encrypted capture: %w", id, ErrNotFound)
	case !sealed:
		return data, nil
	case !master.Valid:
		return nil, fmt.Errorf("store: checkpoints of %d: sealed, but the recording has no data key: %w", id, ErrCheckpointsUnreadable)
	}
	dk, err := db.unwrap(id, master.String, wrapped)
	if err != nil {
		return nil, fmt.Errorf("store: checkpoints of %d: %w", id, err)
	}
	plain, err := dk.OpenTo(nil, data, id, checkpointsOff)
	if err != nil {
		return nil, fmt.Errorf("store: checkpoints of %d: %w: %w", id, ErrCheckpointsUnreadable, err)
	}
	return plain, nil
}

// dropCheckpoints removes recording id's stored checkpoints in tx.
func dropCheckpoints(ctx context.Context, tx *sql.Tx, id int64) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM recording_checkpoints WHERE recording_id = ?`, id)
	return err
}
