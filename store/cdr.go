package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// CDR kinds.
const (
	CDRKindPBX     = "pbx"     // an XML <cdr> of the PBX
	CDRKindGateway = "gateway" // a key/value record of a gateway
)

// Bounds on stored CDRs.
const (
	MaxCDRRawLen    = 1 << 20 // bytes of one raw record
	maxCDRConfs     = 64      // conference ids one record may be indexed under
	maxCDRsPerConf  = 1000    // records CDRsByConf returns at most
	maxRecsPerConf  = 1000    // recordings RecordingsByConf returns at most
	DefaultCDRLimit = 100
)

// NewCDR is a call detail record to store: the raw text as received, its
// parsed form (JSON) and the conference ids it is indexed under.
type NewCDR struct {
	Kind    string // CDRKindPBX or CDRKindGateway
	Domain  string // the domain of the request path it arrived on
	Raw     string
	Parsed  []byte
	ConfIDs []string // lower-case conference ids (32 hex digits)
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

func checkConfID(c string) error {
	if len(c) != 32 || strings.Trim(c, "0123456789abcdef") != "" {
		return fmt.Errorf("conference id %.40q is not 32 lower-case hex digits: %w", c, ErrInvalid)
	}
	return nil
}

// AddCDRs stores records in one transaction and returns their ids.
func (db *DB) AddCDRs(ctx context.Context, recs []NewCDR) ([]int64, error) {
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
	ids := make([]int64, 0, len(recs))
	err := db.write(ctx, func(tx *sql.Tx) error {
		ids = ids[:0]
		now := db.nowMS()
		for _, c := range recs {
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO cdrs (kind, received_at, domain, raw, parsed)
				VALUES (?, ?, ?, ?, ?) RETURNING id`, c.Kind, now, c.Domain, c.Raw, c.Parsed).Scan(&id); err != nil {
				return err
			}
			for _, conf := range c.ConfIDs {
				if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO cdr_confs (conf_id, cdr_id) VALUES (?, ?)`,
					conf, id); err != nil {
					return err
				}
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: add CDRs: %w", err)
	}
	return ids, nil
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
// case), oldest first, at most 1000.
func (db *DB) CDRsByConf(ctx context.Context, conf string) ([]StoredCDR, error) {
	conf = strings.ToLower(conf)
	return db.queryCDRs(ctx, "CDRs of conference "+conf, `SELECT `+cdrCols+` FROM cdrs c
		WHERE c.id IN (SELECT cdr_id FROM cdr_confs WHERE conf_id = ?) ORDER BY c.id LIMIT ?`, conf, maxCDRsPerConf)
}

// CDRs lists stored records newest first: limit of them (0 means 100, at
// most 500) with an id below beforeID (0: from the newest).
func (db *DB) CDRs(ctx context.Context, beforeID int64, limit int) ([]StoredCDR, error) {
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
	return db.queryCDRs(ctx, "CDRs", `SELECT `+cdrCols+` FROM cdrs c WHERE c.id < ? ORDER BY c.id DESC LIMIT ?`,
		beforeID, limit)
}

// PruneCDRs deletes records received before t and returns how many.
func (db *DB) PruneCDRs(ctx context.Context, before time.Time) (int64, error) {
	return db.deleteCount(ctx, "prune CDRs", `DELETE FROM cdrs WHERE received_at < ?`, before.UnixMilli())
}

// RecordingsByConf lists the recordings (without stats and envelope) whose
// file name carries conference id conf (any case), oldest first.
func (db *DB) RecordingsByConf(ctx context.Context, conf string) (_ []Recording, err error) {
	conf = strings.ToLower(conf)
	out, err := db.queryRecordings(ctx, `SELECT `+recColsLight+` FROM recordings WHERE conf_id = ? ORDER BY id LIMIT ?`,
		conf, maxRecsPerConf)
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
			updated_at = ? WHERE id = ?`, owner, NameKey(owner), source, searchText(owner, pn, pnum, reg), db.nowMS(), id)
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
