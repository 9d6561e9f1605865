package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"recordings/settings"
)

// auditDomains maps each entry's label to its domain: its peer name, or,
// without one (the uploads here have none), its action and domain.
func auditDomains(t *testing.T, db *DB, domain string) map[string]string {
	t.Helper()
	entries, _, err := db.Audit(context.Background(), AuditFilter{Domain: domain, Limit: MaxListLimit})
	if err != nil {
		t.Fatalf("audit of %q: %v", domain, err)
	}
	out := map[string]string{}
	for _, e := range entries {
		k := e.PeerName
		if k == "" {
			k = e.Action + " " + e.Domain
		}
		if _, dup := out[k]; dup {
			t.Fatalf("two entries labelled %q", k)
		}
		out[k] = e.Domain
	}
	return out
}

func mkDomainUser(t *testing.T, db *DB, name, domain string) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.CreateUser(ctx, User{Name: name, Role: RoleUser}, ""); err != nil {
		t.Fatal(err)
	}
	if domain != "" {
		if _, err := db.SetUserDomain(ctx, name, domain); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMigrateAuditDomain upgrades a database whose audit entries have no
// domain: an entry takes its recording's domain while the recording
// exists, else its owner's account's, else none.
func TestMigrateAuditDomain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rec.db")
	db, err := OpenOptions(ctx, path, nil, Options{migrateTo: versionBefore(t, auditDomainMigration), BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct{ name, domain string }{{"amy", "a.example"}, {"bea", "b.example"}, {"root", ""}} {
		mkDomainUser(t, db, u.name, u.domain)
	}
	recA := upload(t, db, "a.example", "a.pcap", "amy", randBytes(1, 100))
	recB := upload(t, db, "B.example", "b.pcap", "bea", randBytes(2, 100))
	cases := []struct {
		label     string
		recording int64
		owner, by string
		want      string
	}{
		{"recording of a", recA, "amy", "root", "a.example"},
		// The recording decides while it exists, not its owner's account.
		{"amy's recording of b", recB, "amy", "amy", "B.example"},
		{"gone, owned by amy", 9001, "AMY", "root", "a.example"},
		{"gone, owned by bea", 9002, "bea", "amy", "b.example"},
		// The actor's account no longer places an entry.
		{"gone, acted on by amy", 9003, "", "amy", ""},
		{"gone, owned by root", 9004, "root", "", ""},
		{"gone, owner unknown", 9005, "zed", "amy", ""},
	}
	for i, c := range cases {
		if _, err := db.w.ExecContext(ctx, `INSERT INTO audit (at, action, recording_id, owner, owner_key, peer_name,
			by_user, by_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, 1000+i, AuditDeleted, c.recording, c.owner, NameKey(c.owner),
			c.label, c.by, NameKey(c.by)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, path, testLogger(t))
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	defer db.Close()
	all := auditDomains(t, db, "")
	if len(all) != len(cases) {
		t.Fatalf("after the upgrade: %d entries, want %d: %v", len(all), len(cases), all)
	}
	for _, c := range cases {
		if got, ok := all[c.label]; !ok || got != c.want {
			t.Errorf("%s: domain %q (found %v), want %q", c.label, got, ok, c.want)
		}
	}
	for domain, want := range map[string][]string{
		"A.EXAMPLE": {"recording of a", "gone, owned by amy"},
		"b.example": {"amy's recording of b", "gone, owned by bea"},
		"c.example": nil,
	} {
		got := auditDomains(t, db, domain)
		if len(got) != len(want) {
			t.Errorf("%q: %v, want %q", domain, got, want)
		}
		for _, l := range want {
			if _, ok := got[l]; !ok {
				t.Errorf("%q: %q missing from %v", domain, l, got)
			}
		}
	}
}

// TestAuditDomain: every writer (the API's entries, retention, both
// licence purges) records the recording's domain, and the
// entries stay that domain's once the recording is gone, whoever owned it
// or acted on it.
func TestAuditDomain(t *testing.T) {
	t.Parallel()
	db, clk := openTest(t)
	ctx := context.Background()
	for _, u := range []struct{ name, domain string }{{"amy", "a.example"}, {"bea", "b.example"}, {"root", ""}} {
		mkDomainUser(t, db, u.name, u.domain)
	}
	recA := upload(t, db, "a.example", "a.pcap", "amy", randBytes(1, 100))
	// amy's phone uploaded under b.example: the recording is b's.
	recB := upload(t, db, "b.example", "b.pcap", "amy", randBytes(2, 100))
	old := upload(t, db, "b.example", "old.pcap", "amy", randBytes(3, 100))
	if err := db.SetAnalysis(ctx, old, Analysis{State: StateReady, Codec: "PCMA"}); err != nil {
		t.Fatal(err)
	}
	for _, e := range []AuditEntry{
		{Action: AuditListened, RecordingID: recA, Owner: "amy", By: "bea", PeerName: "a listened", Domain: "a.example"},
		{Action: AuditDownloaded, RecordingID: recB, Owner: "amy", By: "amy", PeerName: "b downloaded", Domain: "b.example"},
		// No domain given: the recording's.
		{Action: AuditProtected, RecordingID: recB, Owner: "amy", By: "root", PeerName: "b protected"},
		// No domain given and no recording: none.
		{Action: AuditUnprotected, RecordingID: 9999, Owner: "amy", By: "amy", PeerName: "nothing"},
	} {
		if err := db.AddAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	// The API writes a deletion after the recording is gone, with the
	// domain it had.
	if err := db.DeleteRecording(ctx, recB); err != nil {
		t.Fatal(err)
	}
	if err := db.AddAudit(ctx, AuditEntry{Action: AuditDeleted, RecordingID: recB, Owner: "amy", By: "amy",
		PeerName: "b deleted", Domain: "b.example"}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	if got, err := db.DeleteExpired(ctx, []int64{old}, Before(clk.Now())); err != nil || len(got) != 1 {
		t.Fatalf("retention: %v, %v", got, err)
	}
	// The licence purges: of a domain's PBX (amy's recording of a.example;
	// the entries about it stay a.example's), and of the typed-in count.
	if got, _, err := db.PurgeOwnersIn(ctx, "a.example", []string{"amy"}); err != nil || len(got) != 1 || got[0].ID != recA {
		t.Fatalf("purge of a.example: %+v, %v", got, err)
	}
	upload(t, db, "c.example", "c.pcap", "zed", randBytes(4, 100))
	if err := db.SetSettings(ctx, map[string]string{settings.KeyLicenceCount: "5"}); err != nil {
		t.Fatal(err)
	}
	if n, _, err := db.PurgeUnlicensed(ctx); err != nil || n != 1 {
		t.Fatalf("purge of the unlicensed: %d, %v", n, err)
	}

	for _, c := range []struct {
		domain string
		want   map[string]string // peer name → domain
	}{
		{"", map[string]string{"a listened": "a.example", "b downloaded": "b.example", "b protected": "b.example",
			"nothing": "", "b deleted": "b.example", "deleted_by_retention b.example": "b.example",
			"deleted_unlicensed a.example": "a.example", "deleted_unlicensed c.example": "c.example"}},
		{"a.example", map[string]string{"a listened": "a.example", "deleted_unlicensed a.example": "a.example"}},
		// amy (of a.example) owned and acted on b's recordings: they stay b's.
		{"B.EXAMPLE", map[string]string{"b downloaded": "b.example", "b protected": "b.example",
			"b deleted": "b.example", "deleted_by_retention b.example": "b.example"}},
		{"c.example", map[string]string{"deleted_unlicensed c.example": "c.example"}},
		{"d.example", map[string]string{}},
	} {
		got := auditDomains(t, db, c.domain)
		if len(got) != len(c.want) {
			t.Errorf("%q: %v, want %v", c.domain, got, c.want)
			continue
		}
		for k, v := range c.want {
			if g, ok := got[k]; !ok || g != v {
				t.Errorf("%q: entry %q has domain %q (found %v), want %q", c.domain, k, g, ok, v)
			}
		}
	}
	// The filter combines with the others.
	entries, _, err := db.Audit(ctx, AuditFilter{Domain: "b.example", Action: AuditDeletedByRetention})
	if err != nil || len(entries) != 1 || entries[0].RecordingID != old {
		t.Errorf("b's retention deletions: %+v, %v", entries, err)
	}
}
