package store

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func confCount(t *testing.T, db *DB, conf string) (n int, bytes int64) {
	t.Helper()
	if err := db.r.QueryRowContext(context.Background(), `SELECT count(*), coalesce(sum(bytes), 0) FROM cdr_confs
		WHERE conf_id = ?`, conf).Scan(&n, &bytes); err != nil {
		t.Fatal(err)
	}
	return n, bytes
}

// A flood of junk for a conference stays within the caps, and a better
// record arriving after it is still taken (displacing junk); records as
// good as the ones kept are refused rather than displacing them.
func TestCDRConferenceCaps(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	junk := func(i int) NewCDR {
		return NewCDR{Kind: CDRKindPBX, Raw: fmt.Sprintf("<cdr n=%q/>", fmt.Sprint(i)), Quality: 0, ConfIDs: []string{confA}}
	}
	for i := range 1000 {
		if _, err := db.AddCDRs(ctx, []NewCDR{junk(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := confCount(t, db, confA); n != MaxCDRsPerConf {
		t.Fatalf("%d records kept for the conference, want the cap %d", n, MaxCDRsPerConf)
	}
	var stored int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM cdrs`).Scan(&stored); err != nil || stored != MaxCDRsPerConf {
		t.Fatalf("%d records stored, want %d (%v)", stored, MaxCDRsPerConf, err)
	}
	real := NewCDR{Kind: CDRKindPBX, Raw: "<cdr real/>", Parsed: []byte(`{}`), Quality: 6, ConfIDs: []string{confA, confB}}
	got, err := db.AddCDRs(ctx, []NewCDR{real})
	if err != nil || got[0].ID == 0 || len(got[0].Confs) != 2 || got[0].Evicted != 1 {
		t.Fatalf("the real record after the flood: %+v %v", got, err)
	}
	facts, err := db.CDRFactsByConf(ctx, "", confA)
	if err != nil || len(facts) != MaxCDRsPerConf || !slices.ContainsFunc(facts, func(f CDRFacts) bool { return f.ID == got[0].ID }) {
		t.Fatalf("facts of the conference: %d, %v", len(facts), err)
	}
	// The earliest junk stays (first come among equals), the newest went.
	if first, _ := db.CDRsByConf(ctx, confA); first[0].Raw != `<cdr n="0"/>` {
		t.Fatalf("oldest kept: %q", first[0].Raw)
	}
	// A sent-again record is no new record.
	dup, err := db.AddCDRs(ctx, []NewCDR{real})
	if err != nil || dup[0].ID != 0 || len(dup[0].Duplicates) != 2 {
		t.Fatalf("the same record again: %+v %v", dup, err)
	}
	// Fill the conference with good records: an equal one is refused and
	// stored nowhere, the good ones stay.
	for i := range MaxCDRsPerConf {
		if _, err := db.AddCDRs(ctx, []NewCDR{{Kind: CDRKindPBX, Raw: fmt.Sprintf("<cdr good=%q/>", fmt.Sprint(i)),
			Quality: 6, ConfIDs: []string{confA}}}); err != nil {
			t.Fatal(err)
		}
	}
	late, err := db.AddCDRs(ctx, []NewCDR{{Kind: CDRKindPBX, Raw: "<cdr late/>", Quality: 6, ConfIDs: []string{confA}}})
	if err != nil || late[0].ID != 0 || !slices.Equal(late[0].Full, []string{confA}) {
		t.Fatalf("an equal record into a full conference: %+v %v", late, err)
	}
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM cdrs WHERE raw LIKE '<cdr n=%'`).Scan(&stored); err != nil || stored != 0 {
		t.Fatalf("%d junk records left after better ones filled the conference (%v)", stored, err)
	}
	// The byte cap: few big records.
	big := strings.Repeat("x", MaxCDRBytesPerConf/4)
	for i := range 8 {
		if _, err := db.AddCDRs(ctx, []NewCDR{{Kind: CDRKindGateway, Raw: fmt.Sprint(i) + big, Quality: 1,
			ConfIDs: []string{confB}}}); err != nil {
			t.Fatal(err)
		}
	}
	if n, b := confCount(t, db, confB); b > MaxCDRBytesPerConf || n > 4 {
		t.Fatalf("conference B holds %d records of %d bytes", n, b)
	}
}

// The upgrade parses the stored CDRs once into facts and ranks them; a
// conference holding more than the cap keeps its best records.
func TestMigrateCDRFacts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.db")
	ctx := context.Background()
	db, err := OpenOptions(ctx, path, nil, Options{migrateTo: 5})
	if err != nil {
		t.Fatal(err)
	}
	real := `<cdr guid="a1" h323="anna" utc="1700003000"><user/><event msg="setup-from" time="0" conf="` + confA +
		`"/><event msg="rel-to" time="50"/></cdr>`
	ins := func(kind, raw, parsed string, confs ...string) {
		var id int64
		if err := db.w.QueryRowContext(ctx, `INSERT INTO cdrs (kind, received_at, raw, parsed) VALUES (?, 0, ?, ?)
			RETURNING id`, kind, raw, parsed).Scan(&id); err != nil {
			t.Fatal(err)
		}
		for _, c := range confs {
			if _, err := db.w.ExecContext(ctx, `INSERT INTO cdr_confs (conf_id, cdr_id) VALUES (?, ?)`, c, id); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range 100 {
		ins(CDRKindPBX, fmt.Sprintf(`<cdr><event msg="x" conf="%s"/><j n="%d"/></cdr>`, confA, i), `{"Raw":"old"}`, confA)
	}
	ins(CDRKindPBX, real, `{"Raw":"old"}`, confA)
	ins(CDRKindGateway, "event=A:Call&time=876&ref="+confB, "", confB)
	ins(CDRKindPBX, "<not xml", "", confB)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, path, nil)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	defer db.Close()
	if n, _ := confCount(t, db, confA); n != MaxCDRsPerConf {
		t.Fatalf("conference A keeps %d records", n)
	}
	facts, err := db.CDRFactsByConf(ctx, "", confA)
	if err != nil {
		t.Fatal(err)
	}
	last := facts[len(facts)-1]
	if strings.Contains(string(last.Parsed), "old") || !strings.Contains(string(last.Parsed), `"H323":"anna"`) {
		t.Fatalf("the real record's facts: %s", last.Parsed)
	}
	var q int
	if err := db.r.QueryRowContext(ctx, `SELECT quality FROM cdr_confs WHERE cdr_id = ?`, last.ID).Scan(&q); err != nil || q != 6 {
		t.Fatalf("the real record's quality: %d %v", q, err)
	}
	gw, err := db.CDRFactsByConf(ctx, "", confB)
	if err != nil || len(gw) != 1 || gw[0].Kind != CDRKindGateway || !strings.Contains(string(gw[0].Parsed), `"Event":"A:Call"`) {
		t.Fatalf("conference B: %+v %v", gw, err)
	}
	var stored int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM cdrs`).Scan(&stored); err != nil || stored != MaxCDRsPerConf+2 {
		t.Fatalf("%d records stored after the upgrade (%v)", stored, err)
	}
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}
