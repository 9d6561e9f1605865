package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// CDR kinds.
const (
	CDRKindPBX     = "pbx"     // an XML <cdr> of the PBX
	CDRKindGateway = "gateway" // a key/value record of a gateway
)

// Bounds on stored CDRs. A conference keeps at most MaxCDRsPerConf records
// of at most MaxCDRBytesPerConf raw bytes in all: a PBX sends one record
// per object per call (a few per conference), a gateway one per call event
// (about 20 per conference in the samples), each a few hundred bytes to a
// few KiB. Beyond the caps the better records stay (see AddCDRs).
const (
	MaxCDRRawLen       = 1 << 20 // bytes of one raw record
	MaxCDRsPerConf     = 64      // records kept per conference
	MaxCDRBytesPerConf = 1 << 20 // raw bytes kept per conference
	maxCDRConfs        = 64      // conference ids one record may be indexed under
	maxRecsPerConf     = 64      // recordings RecordingsByConf returns at most (the newest)
	DefaultCDRLimit    = 100
)

// NewCDR is a call detail record to store: the raw text as received, its
// parsed facts (JSON, see pbx.CDR.Facts), how much it looks like a record
// of the PBX's own (pbx.CDR.Quality) and the conference ids it is indexed
// under.
type NewCDR struct {
	Kind    string // CDRKindPBX or CDRKindGateway
	Domain  string // the domain of the request path it arrived on
	Raw     string
	Parsed  []byte
	Quality int
	ConfIDs []string // lower-case conference ids (32 hex digits)
}

// AddedCDR says what AddCDRs did with one record.
type AddedCDR struct {
	ID int64 // 0: not stored
	// Confs are the conferences the record is indexed under now.
	Confs []string
	// Full are the conferences that already hold as many records (or
	// bytes) as they may, none of them worse than this one: the record is
	// not indexed there.
	Full []string
	// Duplicates are the conferences that hold the same record already.
	Duplicates []string
	// Evicted is how many worse records it displaced.
	Evicted int
}

// StoredCDR is a stored call detail record.
type StoredCDR struct {
	ID         int64
	Kind       string
	ReceivedAt time.Time
	Domain     string
	Raw        string
	Parsed     []byte
	ConfIDs    []string
}

// CDRFacts is the part of a stored record that matching reads.
type CDRFacts struct {
	ID     int64
	Kind   string
	Parsed []byte
}

func checkConfID(c string) error {
	if len(c) != 32 || strings.Trim(c, "0123456789abcdef") != "" {
		return fmt.Errorf("conference id %.40q is not 32 lower-case hex digits: %w", c, ErrInvalid)
	}
	return nil
}

// AddCDRs stores records in one transaction. Each record is indexed under
// each of its conferences unless the conference holds the same record
// already, or is full: MaxCDRsPerConf records or MaxCDRBytesPerConf raw
// bytes. A full conference takes a record only by dropping worse ones
// (lower Quality; among equals the newest goes first), and never drops one
// as good as the newcomer, so a flood of junk for a conference neither
// grows it without bound nor keeps out a better record arriving later. A
// record indexed under none of the conferences it names is not stored; one
// naming none is stored (for the admin's list) without an index. Records
// no conference keeps any more are deleted.
func (db *DB) AddCDRs(ctx context.Context, recs []NewCDR) ([]AddedCDR, error) {
	for i, c := range recs {
		if c.Kind != CDRKindPBX && c.Kind != CDRKindGateway {
			return nil, fmt.Errorf("store: add CDRs: record %d: kind %.20q: %w", i, c.Kind, ErrInvalid)
		}
		if c.Raw == "" || len(c.Raw) > MaxCDRRawLen || len(c.Parsed) > maxBlobLen {
			return nil, fmt.Errorf("store: add CDRs: record %d: raw text of %d bytes (1 to %d): %w",
				i, len(c.Raw), MaxCDRRawLen, ErrInvalid)
		}
		if err := checkText("domain", c.Domain, maxNameLen, false); err != nil {
			return nil, fmt.Errorf("store: add CDRs: record %d: %w", i, err)
		}
		if len(c.ConfIDs) > maxCDRConfs {
			return nil, fmt.Errorf("store: add CDRs: record %d: %d conference ids, at most %d: %w",
				i, len(c.ConfIDs), maxCDRConfs, ErrInvalid)
		}
		for _, conf := range c.ConfIDs {
			if err := checkConfID(conf); err != nil {
				return nil, fmt.Errorf("store: add CDRs: record %d: %w", i, err)
			}
		}
	}
	var out []AddedCDR
	err := db.write(ctx, func(tx *sql.Tx) error {
		out = make([]AddedCDR, len(recs))
		now := db.nowMS()
		for i, c := range recs {
			a, err := addCDR(ctx, tx, now, c)
			if err != nil {
				return err
			}
			out[i] = a
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: add CDRs: %w", err)
	}
	return out, nil
}

// confEntry is one record indexed under a conference.
type confEntry struct {
	cdr     int64
	quality int
	bytes   int64
}

// addCDR stores one record within AddCDRs' transaction.
func addCDR(ctx context.Context, tx *sql.Tx, now int64, c NewCDR) (AddedCDR, error) {
	var a AddedCDR
	size := int64(len(c.Raw))
	var evict []int64
	for _, conf := range slices.Compact(slices.Sorted(slices.Values(c.ConfIDs))) {
		var dup int
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM cdr_confs x JOIN cdrs c ON c.id = x.cdr_id
			WHERE x.conf_id = ? AND x.bytes = ? AND c.kind = ? AND c.raw = ?`, conf, size, c.Kind, c.Raw).Scan(&dup)
		if err != nil {
			return a, err
		}
		if dup > 0 {
			a.Duplicates = append(a.Duplicates, conf)
			continue
		}
		var (
			n     int
			total int64
			worst sql.NullInt64
		)
		if err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(bytes), 0), min(quality) FROM cdr_confs
			WHERE conf_id = ?`, conf).Scan(&n, &total, &worst); err != nil {
			return a, err
		}
		fits := n+1 <= MaxCDRsPerConf && total+size <= MaxCDRBytesPerConf
		if !fits && worst.Int64 >= int64(c.Quality) {
			a.Full = append(a.Full, conf) // nothing worse to displace
			continue
		}
		var kept []confEntry
		if !fits {
			if kept, err = confEntries(ctx, tx, conf); err != nil {
				return a, err
			}
		}
		// Worst first: lowest quality, and among equals the newest.
		slices.SortFunc(kept, func(x, y confEntry) int {
			return cmp.Or(cmp.Compare(x.quality, y.quality), cmp.Compare(y.cdr, x.cdr))
		})
		var drop []int64
		for _, e := range kept {
			if n+1 <= MaxCDRsPerConf && total+size <= MaxCDRBytesPerConf {
				break
			}
			if e.quality >= c.Quality {
				break
			}
			drop = append(drop, e.cdr)
			n, total = n-1, total-e.bytes
		}
		if n+1 > MaxCDRsPerConf || total+size > MaxCDRBytesPerConf {
			a.Full = append(a.Full, conf)
			continue
		}
		for _, id := range drop {
			if _, err := tx.ExecContext(ctx, `DELETE FROM cdr_confs WHERE conf_id = ? AND cdr_id = ?`, conf, id); err != nil {
				return a, err
			}
		}
		evict = append(evict, drop...)
		a.Evicted += len(drop)
		a.Confs = append(a.Confs, conf)
	}
	// Records that lost their last conference go.
	for _, id := range evict {
		if _, err := tx.ExecContext(ctx, `DELETE FROM cdrs WHERE id = ?
			AND NOT EXISTS (SELECT 1 FROM cdr_confs WHERE cdr_id = ?)`, id, id); err != nil {
			return a, err
		}
	}
	if len(a.Confs) == 0 && len(c.ConfIDs) > 0 {
		return a, nil
	}
	if err := tx.QueryRowContext(ctx, `INSERT INTO cdrs (kind, received_at, domain, raw, parsed)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, c.Kind, now, c.Domain, c.Raw, c.Parsed).Scan(&a.ID); err != nil {
		return a, err
	}
	for _, conf := range a.Confs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO cdr_confs (conf_id, cdr_id, quality, bytes) VALUES (?, ?, ?, ?)`,
			conf, a.ID, c.Quality, size); err != nil {
			return a, err
		}
	}
	return a, nil
}

// confEntries lists the records indexed under conf.
func confEntries(ctx context.Context, tx *sql.Tx, conf string) (_ []confEntry, err error) {
	rows, err := tx.QueryContext(ctx, `SELECT cdr_id, quality, bytes FROM cdr_confs WHERE conf_id = ?`, conf)
	if err != nil {
		return nil, err
	}
	defer closeOnErr(rows, &err)
	var out []confEntry
	for rows.Next() {
		var e confEntry
		if err := rows.Scan(&e.cdr, &e.quality, &e.bytes); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

const cdrCols = `c.id, c.kind, c.received_at, c.domain, c.raw, c.parsed,
	(SELECT group_concat(conf_id, ',') FROM (SELECT conf_id FROM cdr_confs WHERE cdr_id = c.id ORDER BY conf_id))`

func scanCDR(s scanner) (StoredCDR, error) {
	var (
		c     StoredCDR
		at    int64
		confs sql.NullString
	)
	if err := s.Scan(&c.ID, &c.Kind, &at, &c.Domain, &c.Raw, &c.Parsed, &confs); err != nil {
		return StoredCDR{}, err
	}
	c.ReceivedAt = fromMS(at)
	if confs.Valid && confs.String != "" {
		c.ConfIDs = strings.Split(confs.String, ",")
	}
	return c, nil
}

func (db *DB) queryCDRs(ctx context.Context, what, q string, args ...any) (_ []StoredCDR, err error) {
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer closeOnErr(rows, &err)
	var out []StoredCDR
	for rows.Next() {
		c, err := scanCDR(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}

// CDRsByConf returns the records indexed under conference id conf (any
// case), oldest first (at most MaxCDRsPerConf, the best ones).
func (db *DB) CDRsByConf(ctx context.Context, conf string) ([]StoredCDR, error) {
	conf = strings.ToLower(conf)
	return db.queryCDRs(ctx, "CDRs of conference "+conf, `SELECT `+cdrCols+` FROM cdrs c
		WHERE c.id IN (SELECT cdr_id FROM cdr_confs WHERE conf_id = ? ORDER BY quality DESC, cdr_id LIMIT ?)
		ORDER BY c.id`, conf, MaxCDRsPerConf)
}

// CDRFactsByConf returns the parsed facts of the records indexed under
// conference id conf (any case) that were posted under domain, oldest
// first: at most MaxCDRsPerConf, the best ones, whatever an older database
// still holds beyond the cap. A record posted under no domain (the /api/
// path) counts for every domain, and domain "" takes the records of every
// domain (docs/pbx.md, Domains).
func (db *DB) CDRFactsByConf(ctx context.Context, domain, conf string) (_ []CDRFacts, err error) {
	conf = strings.ToLower(conf)
	rows, err := db.r.QueryContext(ctx, `SELECT c.id, c.kind, c.parsed FROM cdrs c
		WHERE c.id IN (SELECT x.cdr_id FROM cdr_confs x JOIN cdrs d ON d.id = x.cdr_id
			WHERE x.conf_id = ? AND (? = '' OR d.domain = '' OR d.domain = ? COLLATE NOCASE)
			ORDER BY x.quality DESC, x.cdr_id LIMIT ?)
		ORDER BY c.id`, conf, domain, domain, MaxCDRsPerConf)
	if err != nil {
		return nil, fmt.Errorf("store: CDR facts of conference %s: %w", conf, err)
	}
	defer closeOnErr(rows, &err)
	var out []CDRFacts
	for rows.Next() {
		var f CDRFacts
		if err := rows.Scan(&f.ID, &f.Kind, &f.Parsed); err != nil {
			return nil, fmt.Errorf("store: CDR facts of conference %s: %w", conf, err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: CDR facts of conference %s: %w", conf, err)
	}
	return out, nil
}

// CDRs lists stored records newest first: limit of them (0 means 100, at
// most 500) with an id below beforeID (0: from the newest).
func (db *DB) CDRs(ctx context.Context, beforeID int64, limit int) ([]StoredCDR, error) {
	return db.CDRsIn(ctx, "", beforeID, limit)
}

// CDRsIn is CDRs of one domain (any case): the records posted under it,
// not those of another domain or of none; domain "" lists every record.
func (db *DB) CDRsIn(ctx context.Context, domain string, beforeID int64, limit int) ([]StoredCDR, error) {
	switch {
	case limit < 0:
		return nil, fmt.Errorf("store: CDRs: negative limit: %w", ErrInvalid)
	case limit == 0:
		limit = DefaultCDRLimit
	case limit > MaxListLimit:
		limit = MaxListLimit
	}
	if beforeID <= 0 {
		beforeID = 1<<63 - 1
	}
	return db.queryCDRs(ctx, "CDRs", `SELECT `+cdrCols+` FROM cdrs c WHERE c.id < ?
		AND (? = '' OR c.domain = ? COLLATE NOCASE) ORDER BY c.id DESC LIMIT ?`,
		beforeID, domain, domain, limit)
}

// PruneCDRs deletes records received before t and returns how many.
func (db *DB) PruneCDRs(ctx context.Context, before time.Time) (int64, error) {
	return db.deleteCount(ctx, "prune CDRs", `DELETE FROM cdrs WHERE received_at < ?`, before.UnixMilli())
}

// RecordingsByConf lists the recordings (without stats and envelope) whose
// file name carries conference id conf (any case), oldest first: the
// newest 64 (a call has a recording per phone and gateway that recorded
// it, a handful), of domain (any case; "" : every domain).
func (db *DB) RecordingsByConf(ctx context.Context, domain, conf string) (_ []Recording, err error) {
	conf = strings.ToLower(conf)
	out, err := db.queryRecordings(ctx, `SELECT `+recColsLight+` FROM recordings WHERE id IN
		(SELECT id FROM recordings WHERE conf_id = ? AND (? = '' OR domain = ? COLLATE NOCASE)
			ORDER BY id DESC LIMIT ?) ORDER BY id`,
		conf, domain, domain, maxRecsPerConf)
	if err != nil {
		return nil, fmt.Errorf("store: recordings of conference %s: %w", conf, err)
	}
	return out, nil
}

// SetCallOwner sets the owner of a recording and the rule that decided it.
func (db *DB) SetCallOwner(ctx context.Context, id int64, owner, source string) error {
	if err := checkText("owner", owner, maxFieldLen, false); err != nil {
		return fmt.Errorf("store: set owner of %d: %w", id, err)
	}
	if err := checkText("owner_source", source, maxFieldLen, false); err != nil {
		return fmt.Errorf("store: set owner of %d: %w", id, err)
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		var pn, pnum, reg string
		err := tx.QueryRowContext(ctx, `SELECT peer_name, peer_number, reg_name FROM recordings WHERE id = ?`,
			id).Scan(&pn, &pnum, &reg)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE recordings SET owner = ?, owner_key = ?, owner_source = ?, search = ?,
			updated_at = ? WHERE id = ?`, owner, NameKey(owner), source, db.searchText(owner, pn, pnum, reg), db.nowMS(), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set owner of %d: %w", id, err)
	}
	return nil
}

// MarkNoCDR marks every recording created before t that has no CDR yet as
// NoCDR and returns the ids it marked (each only once).
func (db *DB) MarkNoCDR(ctx context.Context, before time.Time) (_ []int64, err error) {
	var ids []int64
	err = db.write(ctx, func(tx *sql.Tx) (err error) {
		ids, err = queryIDs(ctx, tx, `UPDATE recordings SET no_cdr = 1
			WHERE cdr = 0 AND no_cdr = 0 AND created_at < ? RETURNING id`, before.UnixMilli())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: mark recordings without CDR: %w", err)
	}
	return ids, nil
}

// maxRefresh bounds how many recordings RecordingIDsByDevice returns.
const maxRefresh = 5000

// RecordingIDsByDevice lists the ids of the newest recordings (at most
// 5000) whose file name carries registration name regName (any case) or
// one of the MAC addresses macs: the ones whose owner may change when that
// account or its devices change.
func (db *DB) RecordingIDsByDevice(ctx context.Context, regName string, macs []string) (_ []int64, err error) {
	if len(macs) > 2*maxMACs { // an account's old and new devices
		return nil, fmt.Errorf("store: recordings by device: %d MACs, at most %d: %w", len(macs), 2*maxMACs, ErrInvalid)
	}
	q := `SELECT id FROM recordings WHERE (? <> '' AND reg_name = ? COLLATE NOCASE)`
	args := []any{regName, regName}
	for _, m := range macs {
		n, err := normalizeMAC(m)
		if err != nil {
			return nil, fmt.Errorf("store: recordings by device: %w", err)
		}
		q += ` OR mac = ?`
		args = append(args, n)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, maxRefresh)
	out, err := queryIDs(ctx, db.r, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: recordings by device: %w", err)
	}
	return out, nil
}
