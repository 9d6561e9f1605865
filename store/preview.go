package store

import (
	"context"
	"fmt"
	"time"
)

// Previews of settings that delete recordings: how many a change would
// delete, and a few of them, so that the admin app can ask before saving.

// maxPreviewExamples bounds the examples of a preview.
const maxPreviewExamples = 20

// Preview is what a change would delete.
type Preview struct {
	WouldDelete int64
	Examples    []Recording // oldest first, at most the number asked for
}

func (db *DB) preview(ctx context.Context, cond string, args []any, examples int) (Preview, error) {
	var p Preview
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM recordings WHERE `+cond, args...).Scan(&p.WouldDelete); err != nil {
		return p, err
	}
	examples = max(0, min(examples, maxPreviewExamples))
	if p.WouldDelete == 0 || examples == 0 {
		return p, nil
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+recColsLight+` FROM recordings WHERE `+cond+
		` ORDER BY created_at, id LIMIT ?`, append(args, examples)...)
	if err != nil {
		return p, err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRecording(rows, false)
		if err != nil {
			return p, err
		}
		p.Examples = append(p.Examples, r)
	}
	return p, rows.Err()
}

// PreviewRetention is what retention would delete with a limit of days
// (0: none): the recordings created before now − days that are neither
// protected nor still being received, and that the configured master key
// can read (ExpiredRecordings' rule: retention keeps what it cannot read).
func (db *DB) PreviewRetention(ctx context.Context, days int, examples int) (Preview, error) {
	if days <= 0 {
		return Preview{}, nil
	}
	before := db.now().Add(-time.Duration(days) * 24 * time.Hour)
	p, err := db.preview(ctx, `created_at < ? AND protected = 0 AND state <> ? AND `+readableKey,
		[]any{before.UnixMilli(), StateReceiving, db.MasterKeyID()}, examples)
	if err != nil {
		return Preview{}, fmt.Errorf("store: preview retention: %w", err)
	}
	return p, nil
}

// PreviewExpired is what retention would delete now under the cutoff (the
// same rule as ExpiredRecordings).
func (db *DB) PreviewExpired(ctx context.Context, cut Cutoff, examples int) (Preview, error) {
	past, args := cut.where()
	p, err := db.preview(ctx, past+` AND protected = 0 AND state <> ? AND `+readableKey,
		append(args, StateReceiving, db.MasterKeyID()), examples)
	if err != nil {
		return Preview{}, fmt.Errorf("store: preview retention: %w", err)
	}
	return p, nil
}

// PreviewUnlicensed is what the start-up purge would delete once licences
// are enforced (PurgeUnlicensed), whether or not they are now.
func (db *DB) PreviewUnlicensed(ctx context.Context, examples int) (Preview, error) {
	p, err := db.preview(ctx, `protected = 0 AND `+unlicensedCond, nil, examples)
	if err != nil {
		return Preview{}, fmt.Errorf("store: preview licences: %w", err)
	}
	return p, nil
}

// PreviewOwner is the unprotected recordings of an account name (in its
// normalised form) in domain (any case; "" every domain): what the
// start-up purge deletes once the account is gone while licences are
// enforced.
func (db *DB) PreviewOwner(ctx context.Context, domain, owner string, examples int) (Preview, error) {
	p, err := db.preview(ctx, `protected = 0 AND owner_key = ? AND (? = '' OR domain = ? COLLATE NOCASE)`,
		[]any{NameKey(owner), domain, domain}, examples)
	if err != nil {
		return Preview{}, fmt.Errorf("store: preview recordings of %.64q: %w", owner, err)
	}
	return p, nil
}

// OwnedRecordings counts the recordings owned by an account name (in its
// normalised form) in domain (any case; "" every domain) and how many of
// them are protected.
func (db *DB) OwnedRecordings(ctx context.Context, domain, owner string) (total, protected int64, err error) {
	err = db.r.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(protected), 0) FROM recordings
		WHERE owner_key = ? AND (? = '' OR domain = ? COLLATE NOCASE)`,
		NameKey(owner), domain, domain).Scan(&total, &protected)
	if err != nil {
		return 0, 0, fmt.Errorf("store: owned recordings of %.64q: %w", owner, err)
	}
	return total, protected, nil
}
