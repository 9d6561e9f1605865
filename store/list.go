package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"recordings/internal/invalid"
	"recordings/store/listquery"
)

// List page sizes.
const (
	DefaultListLimit = 50
	MaxListLimit     = 500
	maxListOwners    = 1000
	maxQueryLen      = 256
)

// ListFilter selects recordings for ListRecordings. Results are newest
// first (by creation time, then id).
type ListFilter struct {
	// Owners restricts the result to recordings owned by these user names
	// (compared in their normalised form, NameKey);
	// nil means every owner, an empty non-nil slice matches nothing.
	Owners []string
	// Query is a case-insensitive substring of the owner, peer name, peer
	// number or registration name. Every character matches literally
	// (no wildcards).
	Query string
	// From (inclusive) and To (exclusive) bound the creation time; zero
	// means unbounded.
	From, To time.Time
	// Limit is the page size: 0 means DefaultListLimit, more than
	// MaxListLimit means MaxListLimit.
	Limit int
	// Cursor continues a previous listing with the same filter: pass the
	// cursor ListRecordings returned. Empty starts at the newest.
	Cursor string
	// Full also loads Stats and Envelope (heavier).
	Full bool
}

// ListRecordings returns one page of recordings matching f (without Stats
// and Envelope unless f.Full) and the cursor of the next page, which is
// empty on the last page. Pages are found by keyset, so deep pages cost the
// same as the first.
func (db *DB) ListRecordings(ctx context.Context, f ListFilter) (_ []Recording, next string, err error) {
	limit := f.Limit
	switch {
	case limit < 0:
		return nil, "", fmt.Errorf("store: list recordings: %w", invalid.New("limit", "must not be negative"))
	case limit == 0:
		limit = DefaultListLimit
	case limit > MaxListLimit:
		limit = MaxListLimit
	}
	if f.Owners != nil && len(f.Owners) == 0 {
		return nil, "", nil
	}
	if len(f.Owners) > maxListOwners {
		return nil, "", fmt.Errorf("store: list recordings: %w",
			invalid.New("owners", "at most %d, not %d", maxListOwners, len(f.Owners)))
	}
	if err := checkText("query", f.Query, maxQueryLen, false); err != nil {
		return nil, "", fmt.Errorf("store: list recordings: %w", err)
	}

	var (
		where []string
		args  []any
	)
	if f.Owners != nil {
		where = append(where, "owner_key IN (?"+strings.Repeat(", ?", len(f.Owners)-1)+")")
		for _, o := range f.Owners {
			args = append(args, NameKey(o))
		}
	}
	useFTS := false
	if f.Query != "" {
		q := strings.ToLower(f.Query)
		// instr, not LIKE: no character is a wildcard, and both sides are
		// lower-cased by Go (Unicode-aware).
		where = append(where, "instr(search, ?) > 0")
		args = append(args, q)
		// A query the trigram index finds in few rows is answered from
		// those rows; a common one by scanning the newest rows, which
		// finds a page of matches quickly.
		if db.ftsCap > 0 {
			match, err := db.ftsCandidates(ctx, q)
			if err != nil {
				return nil, "", fmt.Errorf("store: list recordings: %w", err)
			}
			if match != "" {
				useFTS = true
				where = append(where, "id IN (SELECT rowid FROM recordings_fts WHERE recordings_fts MATCH ?)")
				args = append(args, match)
			}
		}
	}
	if !f.From.IsZero() {
		where = append(where, "created_at >= ?")
		args = append(args, f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		where = append(where, "created_at < ?")
		args = append(args, f.To.UnixMilli())
	}
	if f.Cursor != "" {
		c, err := listquery.ParseCursor(f.Cursor)
		if err != nil {
			// The text names listquery's ErrMalformed ("malformed cursor").
			return nil, "", fmt.Errorf("store: list recordings: %w", invalid.New("cursor", "%v", err))
		}
		where = append(where, "(created_at, id) < (?, ?)")
		args = append(args, c.Created, c.ID)
	}
	cols := recColsLight
	if f.Full {
		cols = recColsFull
	}
	q := "SELECT " + cols + " FROM recordings"
	if useFTS {
		// Look the candidates up by id and sort them; walking an index
		// in order and probing each row against them would scan it all.
		q += " NOT INDEXED"
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY created_at DESC, id DESC LIMIT ?"
	args = append(args, limit+1)

	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("store: list recordings: %w", err)
	}
	defer closeOnErr(rows, &err)
	out := make([]Recording, 0, min(limit, 64))
	more := false
	for rows.Next() {
		if len(out) == limit {
			more = true
			break
		}
		r, err := scanRecording(rows, f.Full)
		if err != nil {
			return nil, "", fmt.Errorf("store: list recordings: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store: list recordings: %w", err)
	}
	if more {
		last := out[len(out)-1]
		next = listquery.Cursor{Created: toMS(last.CreatedAt), ID: last.ID}.String()
	}
	return out, next, nil
}

// ftsCandidates returns an FTS5 query for the trigram index that finds a
// superset of the rows containing q (the index keeps no positions; the
// caller re-checks), or "" if q has no trigram or too many rows may match
// (then scanning the newest rows finds a page sooner).
//
// FTS5 pays for every posting of every term in an AND, so a trigram found
// in nearly every row ("+49" in phone numbers) would make even a rare
// string slow. The trigrams are therefore counted first, each count
// stopping at a cap (and kept a while, see trigramStats), and only the
// rarest three are AND-ed.
func (db *DB) ftsCandidates(ctx context.Context, q string) (string, error) {
	ts := listquery.Trigrams(q)
	if len(ts) == 0 {
		return "", nil
	}
	countCap := 4 * db.ftsCap
	counts := make([]int, len(ts))
	now := db.now()
	var missing []int // indexes into ts of trigrams not in the cache
	for i, t := range ts {
		if n, ok := db.trigrams.get(t, now); ok {
			counts[i] = n
		} else {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		var sb strings.Builder
		sb.WriteString("SELECT ")
		args := make([]any, 0, len(missing)+1)
		args = append(args, countCap)
		dest := make([]any, len(missing))
		for j, i := range missing {
			if j > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "(SELECT count(*) FROM (SELECT 1 FROM recordings_fts WHERE recordings_fts MATCH ?%d LIMIT ?1))", j+2)
			args = append(args, listquery.FTSTerm(ts[i]))
			dest[j] = &counts[i]
		}
		if err := db.r.QueryRowContext(ctx, sb.String(), args...).Scan(dest...); err != nil {
			return "", fmt.Errorf("search index: count trigrams: %w", err)
		}
		for _, i := range missing {
			db.trigrams.put(ts[i], counts[i], now)
		}
	}
	order := make([]int, len(ts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return counts[a] - counts[b] })
	if counts[order[0]] >= countCap {
		return "", nil // every trigram is common
	}
	var terms []string
	for _, i := range order[:min(3, len(order))] {
		if counts[i] < countCap {
			terms = append(terms, listquery.FTSTerm(ts[i]))
		}
	}
	match := strings.Join(terms, " AND ")
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM recordings_fts
		WHERE recordings_fts MATCH ? LIMIT ?)`, match, db.ftsCap).Scan(&n); err != nil {
		return "", fmt.Errorf("search index: %w", err)
	}
	if n >= db.ftsCap {
		return "", nil
	}
	return match, nil
}
