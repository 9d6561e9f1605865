package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

const tokenBytes = 32

// DefaultSessionIdle ends a session unused for this long (Options.SessionIdle).
const DefaultSessionIdle = 8 * time.Hour

// touchEvery is how stale last_seen may get before a use of the session
// writes it again: the idle timeout is exact to this much, and a busy
// session costs one write per touchEvery, not one per request.
const touchEvery = time.Minute

// tokenHash is what the database keeps of a session token.
func tokenHash(token string) ([]byte, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != tokenBytes {
		return nil, false
	}
	h := sha256.Sum256(raw)
	return h[:], true
}

// CreateSession starts a login session for user userID lasting ttl and
// returns its token (43 base64url characters). Only the token's SHA-256 is
// stored. Besides ending after ttl, a session ends when unused for the idle
// timeout (Options.SessionIdle; each use through SessionUser slides it).
func (db *DB) CreateSession(ctx context.Context, userID int64, ttl time.Duration) (string, error) {
	return db.CreateAppSessionIn(ctx, userID, ttl, "", "", "")
}

// CreateAppSession is CreateSession for a sign-in through an app object
// (AppLogin): via names the app object whose access list applies (""
// means the user's default), and role, when set, replaces the account's
// role for this session (the admin app signs in an administrator). The app
// object is looked up seen from no domain; CreateAppSessionIn names the
// domain.
func (db *DB) CreateAppSession(ctx context.Context, userID int64, ttl time.Duration, via string, role Role) (string, error) {
	return db.CreateAppSessionIn(ctx, userID, ttl, "", via, role)
}

// CreateAppSessionIn is CreateAppSession through the app object via as
// seen from viaDomain (AppObjectIn): the domain of the PBX the sign-in
// came through.
func (db *DB) CreateAppSessionIn(ctx context.Context, userID int64, ttl time.Duration, viaDomain, via string, role Role) (string, error) {
	if err := checkText("app_object_domain", viaDomain, maxObjectDomain, false); err != nil {
		return "", fmt.Errorf("store: create session: %w", err)
	}
	if role != "" && role != RoleUser && role != RoleAdmin {
		return "", fmt.Errorf("store: create session: role %.20q: %w", role, ErrInvalid)
	}
	if err := checkText("app_object", via, maxFieldLen, false); err != nil {
		return "", fmt.Errorf("store: create session: %w", err)
	}
	if ttl <= 0 {
		return "", fmt.Errorf("store: create session: ttl %v: %w", ttl, ErrInvalid)
	}
	var raw [tokenBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("store: create session: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	h := sha256.Sum256(raw[:])
	now := db.now()
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at, app_object, role, last_seen,
			app_object_domain)
			SELECT ?, id, ?, ?, ?, ?, ?, ? FROM users WHERE id = ? AND disabled = 0`, h[:], now.UnixMilli(), now.Add(ttl).UnixMilli(),
			via, string(role), now.UnixMilli(), viaDomain, userID)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT changes()`).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("store: create session for user %d: %w", userID, err)
	}
	return token, nil
}

// SessionUser returns the user of a live session and counts this as a use
// of it (sliding its idle timeout); unknown, malformed, expired and idle
// tokens, and sessions of a disabled account, fail with ErrNotFound.
func (db *DB) SessionUser(ctx context.Context, token string) (User, error) {
	return db.sessionUser(ctx, token, true)
}

// CheckSession is SessionUser without counting a use: for checks the
// person did not cause (a websocket push).
func (db *DB) CheckSession(ctx context.Context, token string) (User, error) {
	return db.sessionUser(ctx, token, false)
}

func (db *DB) sessionUser(ctx context.Context, token string, touch bool) (User, error) {
	h, ok := tokenHash(token)
	if !ok {
		return User{}, fmt.Errorf("store: session: %w", ErrNotFound)
	}
	var (
		uid                  int64
		via, role, viaDomain string
		seen                 int64
	)
	now := db.nowMS()
	err := db.r.QueryRowContext(ctx, `SELECT user_id, app_object, role, last_seen, app_object_domain FROM sessions
		WHERE token_hash = ? AND expires_at > ? AND last_seen > ?`,
		h, now, now-db.idle.Milliseconds()).Scan(&uid, &via, &role, &seen, &viaDomain)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("store: session: %w", err)
	}
	u, _, err := db.user(ctx, `u.id = ?`, uid)
	if err == nil && u.Disabled {
		err = ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("store: session: %w", err)
	}
	if touch && now-seen >= touchEvery.Milliseconds() {
		err := db.write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen = max(last_seen, ?) WHERE token_hash = ?`, now, h)
			return err
		})
		if err != nil {
			return User{}, fmt.Errorf("store: session: %w", err)
		}
	}
	if role != "" {
		u.Role = Role(role)
	}
	if u, err = db.withAccess(ctx, u, viaDomain, via); err != nil {
		return User{}, fmt.Errorf("store: session: %w", err)
	}
	return u, nil
}

// DeleteSession ends a session (logout). Unknown tokens are not an error.
func (db *DB) DeleteSession(ctx context.Context, token string) error {
	h, ok := tokenHash(token)
	if !ok {
		return nil
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, h)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session of a user (e.g. after a password
// change) and returns how many there were.
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64) (int64, error) {
	return db.deleteCount(ctx, "delete sessions of user", `DELETE FROM sessions WHERE user_id = ?`, userID)
}

// SessionCount is the number of stored sessions, live or not yet removed.
func (db *DB) SessionCount(ctx context.Context) (int, error) {
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM sessions`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count sessions: %w", err)
	}
	return n, nil
}

// DeleteExpiredSessions removes expired and idle sessions and returns how
// many.
func (db *DB) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	now := db.nowMS()
	return db.deleteCount(ctx, "delete expired sessions", `DELETE FROM sessions WHERE expires_at <= ? OR last_seen <= ?`,
		now, now-db.idle.Milliseconds())
}

func (db *DB) deleteCount(ctx context.Context, what, query string, args ...any) (int64, error) {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: %s: %w", what, err)
	}
	return n, nil
}
