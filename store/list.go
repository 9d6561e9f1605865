package store

import (
	"context"
	"database/sql"
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

// Orders of a listing.
const (
	OrderNewest = "newest" // the default
	OrderOldest = "oldest"
)

// ListFilter selects recordings for ListRecordings and CountRecordings.
// Results are ordered by the call's time (the CDR's connected time, else
// the capture's start), then id: newest first unless Order is OrderOldest.
type ListFilter struct {
	// Owners restricts the result to recordings owned by these user names
	// (compared in their normalised form, NameKey);
	// nil means every owner, an empty non-nil slice matches nothing.
	Owners []string
	// Domain, when set, restricts the result to recordings uploaded under
	// that domain (any case): an account's domain (InDomain).
	Domain string
	// OwnersIn, with Owners set, adds the recordings of these owners
	// uploaded under OwnersDomain only (any case): the access list of a
	// domain's app object, used by an account of no domain. Without
	// OwnersDomain they join Owners.
	OwnersIn     []string
	OwnersDomain string
	// Query is what someone typed into the search field, read by
	// listquery.ParseQuery: words found in the owner, the other party's
	// name or the registration name whatever their accents and case, or a
	// phone number whatever its prefix form. Every character is literal
	// (no wildcards).
	Query string
	// From (inclusive) and To (exclusive) bound the call's time; zero
	// means unbounded.
	From, To time.Time
	// Order is OrderNewest ("" too) or OrderOldest.
	Order string
	// Limit is the page size: 0 means DefaultListLimit, more than
	// MaxListLimit means MaxListLimit.
	Limit int
	// Cursor continues a previous listing with the same filter and order:
	// pass the cursor ListRecordings returned. Empty starts at the
	// beginning.
	Cursor string
	// Full also loads Stats and Envelope (heavier).
	Full bool
}

// listPlan is the WHERE clause of a filter without its cursor.
type listPlan struct {
	where []string
	args  []any
	// candidates: a subquery names few enough rows that they are looked
	// up by id and sorted (NOT INDEXED) rather than found by walking the
	// call-time index.
	candidates bool
	// terms is the condition of the query's terms alone ("" without
	// terms), with termArgs; the count of a scanned search uses it.
	terms    string
	termArgs []any
	// base is the number of where entries that are not about the query.
	base int
	// numberOnly: the query is one phone number that few rows have; where
	// holds no term, and rows are found on the number index (numLo ≤
	// num_key < numHi), which covers the other filters, the order and the
	// count.
	numberOnly   bool
	numLo, numHi string
}

// numberIndexWhere is the condition that picks the number index's range.
const numberIndexWhere = "num_key <> '' AND num_key >= ? AND num_key < ?"

// plan checks f (without its cursor) and builds its WHERE clause; none
// reports a filter that matches nothing.
func (db *DB) listPlanFor(ctx context.Context, f ListFilter) (p listPlan, none bool, err error) {
	switch f.Order {
	case "", OrderNewest, OrderOldest:
	default:
		return p, false, invalid.New("order", "%q or %q, not %.32q", OrderNewest, OrderOldest, f.Order)
	}
	if f.Owners != nil && len(f.Owners) == 0 {
		return p, true, nil
	}
	if f.Owners != nil && f.OwnersDomain == "" && len(f.OwnersIn) > 0 {
		f.Owners, f.OwnersIn = append(slices.Clip(f.Owners), f.OwnersIn...), nil
	}
	if len(f.Owners)+len(f.OwnersIn) > maxListOwners {
		return p, false, invalid.New("owners", "at most %d, not %d", maxListOwners, len(f.Owners)+len(f.OwnersIn))
	}
	if err := checkText("query", f.Query, maxQueryLen, false); err != nil {
		return p, false, err
	}
	if f.Domain != "" {
		p.where = append(p.where, "domain = ? COLLATE NOCASE")
		p.args = append(p.args, f.Domain)
	}
	if f.Owners != nil {
		in := "owner_key IN (?" + strings.Repeat(", ?", len(f.Owners)-1) + ")"
		for _, o := range f.Owners {
			p.args = append(p.args, NameKey(o))
		}
		if len(f.OwnersIn) > 0 {
			in = "(" + in + " OR (owner_key IN (?" + strings.Repeat(", ?", len(f.OwnersIn)-1) + ") AND domain = ? COLLATE NOCASE))"
			for _, o := range f.OwnersIn {
				p.args = append(p.args, NameKey(o))
			}
			p.args = append(p.args, f.OwnersDomain)
		}
		p.where = append(p.where, in)
	}
	if !f.From.IsZero() {
		p.where = append(p.where, "call_at >= ?")
		p.args = append(p.args, f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		p.where = append(p.where, "call_at < ?")
		p.args = append(p.args, f.To.UnixMilli())
	}
	p.base = len(p.where)
	q := listquery.ParseQuery(f.Query, db.plan)
	if q.None {
		return p, true, nil
	}
	if len(q.Terms) == 0 {
		return p, false, nil
	}
	// instr, not LIKE: no character is a wildcard; both sides are folded
	// by Go (listquery).
	var conds []string
	for _, t := range q.Terms {
		var alts []string
		for _, a := range t.Alts {
			alts = append(alts, "instr(search, ?) > 0")
			p.termArgs = append(p.termArgs, a)
		}
		conds = append(conds, "("+strings.Join(alts, " OR ")+")")
	}
	p.terms = strings.Join(conds, " AND ")
	p.where = append(p.where, p.terms)
	p.args = append(p.args, p.termArgs...)

	// A number written with a prefix that few rows have is answered from
	// the number index.
	for _, t := range q.Terms {
		if t.Number == "" {
			continue
		}
		lo, hi := t.Number, t.Number+":" // ':' follows '9'
		var n int
		if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM recordings
			WHERE num_key <> '' AND num_key >= ? AND num_key < ? LIMIT ?)`, lo, hi, db.ftsCap).Scan(&n); err != nil {
			return p, false, fmt.Errorf("number index: %w", err)
		}
		if n < db.ftsCap && len(q.Terms) == 1 {
			p.numberOnly, p.numLo, p.numHi = true, lo, hi
			p.where = p.where[:p.base]
			p.args = p.args[:len(p.args)-len(p.termArgs)]
			return p, false, nil
		}
		if n < db.ftsCap {
			p.candidates = true
			p.where = append(p.where, "id IN (SELECT id FROM recordings WHERE num_key <> '' AND num_key >= ? AND num_key < ?)")
			p.args = append(p.args, lo, hi)
			return p, false, nil
		}
	}
	// A query the trigram index finds in few rows is answered from those
	// rows; a common one by scanning the newest rows, which finds a page
	// of matches quickly.
	if db.ftsCap > 0 {
		match, err := db.ftsCandidates(ctx, q.Terms)
		if err != nil {
			return p, false, err
		}
		if match != "" {
			p.candidates = true
			p.where = append(p.where, "id IN (SELECT rowid FROM recordings_fts WHERE recordings_fts MATCH ?)")
			p.args = append(p.args, match)
		}
	}
	return p, false, nil
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
	p, none, err := db.listPlanFor(ctx, f)
	if err != nil {
		return nil, "", fmt.Errorf("store: list recordings: %w", err)
	}
	if none {
		return nil, "", nil
	}
	oldest := f.Order == OrderOldest
	if f.Cursor != "" {
		c, err := listquery.ParseCursor(f.Cursor)
		if err != nil {
			// The text names listquery's ErrMalformed ("malformed cursor").
			return nil, "", fmt.Errorf("store: list recordings: %w", invalid.New("cursor", "%v", err))
		}
		if c.Oldest != oldest {
			return nil, "", fmt.Errorf("store: list recordings: %w",
				invalid.New("cursor", "belongs to a listing in the other order"))
		}
		if oldest {
			p.where = append(p.where, "(call_at, id) > (?, ?)")
		} else {
			p.where = append(p.where, "(call_at, id) < (?, ?)")
		}
		p.args = append(p.args, c.At, c.ID)
	}
	cols := recColsLight
	if f.Full {
		cols = recColsFull
	}
	order := " ORDER BY call_at DESC, id DESC LIMIT ?"
	if oldest {
		order = " ORDER BY call_at, id LIMIT ?"
	}
	if p.numberOnly {
		// The page's ids from the number index alone, then their rows.
		inner := "SELECT id FROM recordings INDEXED BY recordings_num WHERE " +
			strings.Join(append([]string{numberIndexWhere}, p.where...), " AND ") + order
		p.where = []string{"id IN (" + inner + ")"}
		p.args = append([]any{p.numLo, p.numHi}, p.args...)
		p.args = append(p.args, limit+1)
		p.candidates = true
	}
	q := "SELECT " + cols + ", call_at FROM recordings"
	if p.candidates {
		// Look the candidates up by id and sort them; walking an index
		// in order and probing each row against them would scan it all.
		q += " NOT INDEXED"
	}
	if len(p.where) > 0 {
		q += " WHERE " + strings.Join(p.where, " AND ")
	}
	q += order
	args := append(p.args, limit+1)

	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("store: list recordings: %w", err)
	}
	defer closeOnErr(rows, &err)
	out := make([]Recording, 0, min(limit, 64))
	more := false
	var lastAt int64
	for rows.Next() {
		if len(out) == limit {
			more = true
			break
		}
		r, at, err := scanListed(rows, f.Full)
		if err != nil {
			return nil, "", fmt.Errorf("store: list recordings: %w", err)
		}
		out = append(out, r)
		lastAt = at
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store: list recordings: %w", err)
	}
	if more {
		next = listquery.Cursor{At: lastAt, ID: out[len(out)-1].ID, Oldest: oldest}.String()
	}
	return out, next, nil
}

// scanListed scans a recording followed by its call_at.
func scanListed(rows *sql.Rows, full bool) (Recording, int64, error) {
	var at int64
	r, err := scanRecording(extraScanner{rows, &at}, full)
	return r, at, err
}

// extraScanner appends destinations to every Scan.
type extraScanner struct {
	s     scanner
	extra *int64
}

func (e extraScanner) Scan(dest ...any) error { return e.s.Scan(append(dest, e.extra)...) }

// Count caps: counting more rows than this (without a search) or looking
// at more rows than this for a search's count answers "at least" instead.
const (
	countCap    = 10000
	countWindow = 10000
)

// CountRecordings counts the recordings matching f (its Cursor, Order and
// Limit are ignored). exact is false when counting stopped early to stay
// fast: n is then a lower bound (at least n match). Without a search the
// count stops at 10,000; a search answered from an index (a rare name or
// number) is counted exactly; a search of common words counts the matches
// among the 10,000 newest rows of the other filters.
func (db *DB) CountRecordings(ctx context.Context, f ListFilter) (n int, exact bool, err error) {
	p, none, err := db.listPlanFor(ctx, f)
	if err != nil {
		return 0, false, fmt.Errorf("store: count recordings: %w", err)
	}
	if none {
		return 0, true, nil
	}
	where := func(w []string) string {
		if len(w) == 0 {
			return ""
		}
		return " WHERE " + strings.Join(w, " AND ")
	}
	switch {
	case p.numberOnly:
		err = db.r.QueryRowContext(ctx, "SELECT count(*) FROM recordings INDEXED BY recordings_num WHERE "+
			strings.Join(append([]string{numberIndexWhere}, p.where...), " AND "),
			append([]any{p.numLo, p.numHi}, p.args...)...).Scan(&n)
		exact = true
	case p.candidates:
		err = db.r.QueryRowContext(ctx, "SELECT count(*) FROM recordings NOT INDEXED"+where(p.where), p.args...).Scan(&n)
		exact = true
	case p.terms == "":
		err = db.r.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM recordings"+where(p.where)+" LIMIT ?)",
			append(p.args, countCap+1)...).Scan(&n)
		exact = n <= countCap
		n = min(n, countCap)
	default:
		var seen int
		args := append(append(slices.Clone(p.termArgs), p.args[:len(p.args)-len(p.termArgs)]...), countWindow)
		err = db.r.QueryRowContext(ctx, "SELECT count(*), coalesce(sum(m), 0) FROM (SELECT "+p.terms+" AS m FROM recordings"+
			where(p.where[:p.base])+" ORDER BY call_at DESC, id DESC LIMIT ?)", args...).Scan(&seen, &n)
		exact = seen < countWindow
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: count recordings: %w", err)
	}
	return n, exact, nil
}

// maxCountedTrigrams bounds the trigrams of one query that are counted.
const maxCountedTrigrams = 48

// ftsCandidates returns an FTS5 query for the trigram index that finds a
// superset of the rows matching terms (the index keeps no positions; the
// caller re-checks), or "" if no term has a rare enough trigram or too
// many rows may match (then scanning the newest rows finds a page sooner).
//
// FTS5 pays for every posting of every term in an AND, so a trigram found
// in nearly every row ("491" in phone numbers) would make even a rare
// string slow. The trigrams are therefore counted first, each count
// stopping at a cap (and kept a while, see trigramStats), and only those
// under the cap are used: each alternative of a term by its rarest three
// trigrams AND-ed, the alternatives OR-ed, the terms AND-ed.
func (db *DB) ftsCandidates(ctx context.Context, terms []listquery.Term) (string, error) {
	var all []string
	for _, t := range terms {
		for _, a := range t.Alts {
			for _, tg := range listquery.Trigrams(a) {
				if len(all) < maxCountedTrigrams && !slices.Contains(all, tg) {
					all = append(all, tg)
				}
			}
		}
	}
	if len(all) == 0 {
		return "", nil
	}
	countCap := 10 * db.ftsCap
	counts := make(map[string]int, len(all))
	now := db.now()
	var missing []string // trigrams not in the cache
	for _, t := range all {
		if n, ok := db.trigrams.get(t, now); ok {
			counts[t] = n
		} else {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		var sb strings.Builder
		sb.WriteString("SELECT ")
		args := make([]any, 0, len(missing)+1)
		args = append(args, countCap)
		got := make([]int, len(missing))
		dest := make([]any, len(missing))
		for j, t := range missing {
			if j > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "(SELECT count(*) FROM (SELECT 1 FROM recordings_fts WHERE recordings_fts MATCH ?%d LIMIT ?1))", j+2)
			args = append(args, listquery.FTSTerm(t))
			dest[j] = &got[j]
		}
		if err := db.r.QueryRowContext(ctx, sb.String(), args...).Scan(dest...); err != nil {
			return "", fmt.Errorf("search index: count trigrams: %w", err)
		}
		for j, t := range missing {
			counts[t] = got[j]
			db.trigrams.put(t, got[j], now)
		}
	}
	// Every term whose alternatives all have rare trigrams is looked up;
	// their groups are AND-ed (two common words are rare together).
	var groups []string
	for _, t := range terms {
		var alts []string
		for _, a := range t.Alts {
			ts := listquery.Trigrams(a)
			slices.SortStableFunc(ts, func(x, y string) int { return counts[x] - counts[y] })
			var use []string
			for _, tg := range ts[:min(3, len(ts))] {
				if n, ok := counts[tg]; ok && n < countCap {
					use = append(use, listquery.FTSTerm(tg))
				}
			}
			if len(use) == 0 {
				alts = nil // this alternative cannot be looked up: nor can the term
				break
			}
			alts = append(alts, "("+strings.Join(use, " AND ")+")")
		}
		if alts != nil {
			groups = append(groups, "("+strings.Join(alts, " OR ")+")")
		}
	}
	if len(groups) == 0 {
		return "", nil
	}
	best := strings.Join(groups, " AND ")
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM recordings_fts
		WHERE recordings_fts MATCH ? LIMIT ?)`, best, db.ftsCap).Scan(&n); err != nil {
		return "", fmt.Errorf("search index: %w", err)
	}
	if n >= db.ftsCap {
		return "", nil
	}
	return best, nil
}
