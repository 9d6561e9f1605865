package store

import (
	"context"
	"database/sql"
	"fmt"

	"recordings/pbx"
)

// migrateCDRFacts makes stored CDRs facts parsed once: each record's
// parsed column becomes its facts (pbx.CDR.Facts: the parsed record without
// its raw text, which the raw column keeps), parsed here once from the raw
// text, and each conference index entry learns the record's quality and
// size, by which the per-conference caps keep the better records. A
// conference holding more than MaxCDRsPerConf records keeps its best ones.
// A stored record that no longer parses keeps its raw text for the admin's
// list, without facts or index.
func migrateCDRFacts(ctx context.Context, tx *sql.Tx) error {
	if err := execAll(ctx, tx,
		`ALTER TABLE cdr_confs ADD COLUMN quality INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE cdr_confs ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0`,
	); err != nil {
		return err
	}
	var last int64
	for {
		n, next, err := migrateCDRFactsBatch(ctx, tx, last)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		last = next
	}
	// Beyond the cap, the best records of a conference stay.
	rows, err := tx.QueryContext(ctx, `DELETE FROM cdr_confs WHERE (conf_id, cdr_id) IN (
			SELECT conf_id, cdr_id FROM (SELECT conf_id, cdr_id, row_number() OVER (
				PARTITION BY conf_id ORDER BY quality DESC, cdr_id) AS n FROM cdr_confs) WHERE n > ?)
		RETURNING cdr_id`, MaxCDRsPerConf)
	if err != nil {
		return fmt.Errorf("cap conferences: %w", err)
	}
	var dropped []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("cap conferences: %w", err)
		}
		dropped = append(dropped, id)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("cap conferences: %w", err)
	}
	for _, id := range dropped {
		if _, err := tx.ExecContext(ctx, `DELETE FROM cdrs WHERE id = ?
			AND NOT EXISTS (SELECT 1 FROM cdr_confs WHERE cdr_id = ?)`, id, id); err != nil {
			return fmt.Errorf("cap conferences: %w", err)
		}
	}
	return nil
}

// migrateCDRFactsBatch converts the records after id after, a batch at a
// time so that the raw texts held in memory stay bounded.
func migrateCDRFactsBatch(ctx context.Context, tx *sql.Tx, after int64) (n int, last int64, err error) {
	type row struct {
		id        int64
		kind, raw string
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, kind, raw FROM cdrs WHERE id > ? ORDER BY id LIMIT 256`, after)
	if err != nil {
		return 0, 0, fmt.Errorf("read CDRs: %w", err)
	}
	var batch []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.kind, &r.raw); err != nil {
			rows.Close()
			return 0, 0, fmt.Errorf("read CDRs: %w", err)
		}
		batch = append(batch, r)
	}
	if err := rows.Close(); err != nil {
		return 0, 0, fmt.Errorf("read CDRs: %w", err)
	}
	for _, r := range batch {
		facts, quality, ok := parseStoredCDR(r.kind, r.raw)
		if !ok {
			if _, err := tx.ExecContext(ctx, `UPDATE cdrs SET parsed = NULL WHERE id = ?`, r.id); err != nil {
				return 0, 0, fmt.Errorf("CDR %d: %w", r.id, err)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM cdr_confs WHERE cdr_id = ?`, r.id); err != nil {
				return 0, 0, fmt.Errorf("CDR %d: %w", r.id, err)
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE cdrs SET parsed = ? WHERE id = ?`, facts, r.id); err != nil {
			return 0, 0, fmt.Errorf("CDR %d: %w", r.id, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE cdr_confs SET quality = ?, bytes = ? WHERE cdr_id = ?`,
			quality, len(r.raw), r.id); err != nil {
			return 0, 0, fmt.Errorf("CDR %d: %w", r.id, err)
		}
	}
	if len(batch) == 0 {
		return 0, 0, nil
	}
	return len(batch), batch[len(batch)-1].id, nil
}

// parseStoredCDR parses one stored record (one <cdr> or one gateway
// record) into its facts and quality.
func parseStoredCDR(kind, raw string) (facts []byte, quality int, ok bool) {
	var err error
	switch kind {
	case CDRKindPBX:
		var cs []pbx.CDR
		if cs, err = pbx.ParseCDRs([]byte(raw)); err != nil || len(cs) != 1 {
			return nil, 0, false
		}
		facts, err = cs[0].Facts()
		quality = cs[0].Quality()
	case CDRKindGateway:
		var gs []pbx.GatewayCDR
		if gs, err = pbx.ParseGatewayCDR([]byte(raw)); err != nil || len(gs) != 1 {
			return nil, 0, false
		}
		facts, err = gs[0].Facts()
		quality = gs[0].Quality()
	default:
		return nil, 0, false
	}
	return facts, quality, err == nil
}
