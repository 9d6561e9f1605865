package store

import (
	"context"
	"slices"
	"testing"

	"recordings/settings"
)

// What an administrator of a domain is shown: that domain's CDRs, licence
// figures, audit entries (by the domain of their recording, gone or not)
// and log entries (of its accounts and recordings), in any case of the
// domain; "" shows the whole instance's.
func TestDomainViews(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()
	for _, u := range []struct{ name, domain string }{{"amy", "a.example"}, {"bea", "b.example"}, {"root", ""}} {
		if _, err := db.CreateUser(ctx, User{Name: u.name, Role: RoleUser}, ""); err != nil {
			t.Fatal(err)
		}
		if u.domain != "" {
			if _, err := db.SetUserDomain(ctx, u.name, u.domain); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.SetUserLicensed(ctx, u.name, true); err != nil {
			t.Fatal(err)
		}
	}
	recA := upload(t, db, "a.example", "a.pcap", "amy", randBytes(1, 100))
	recB := upload(t, db, "b.example", "b.pcap", "bea", randBytes(2, 100))
	if _, err := db.AddCDRs(ctx, []NewCDR{
		{Kind: CDRKindPBX, Domain: "a.example", Raw: "<cdr a/>", ConfIDs: []string{confA}},
		{Kind: CDRKindPBX, Domain: "b.example", Raw: "<cdr b/>", ConfIDs: []string{confB}},
		{Kind: CDRKindPBX, Raw: "<cdr none/>"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.AddAudit(ctx,
		AuditEntry{Action: AuditListened, RecordingID: recA, Owner: "amy", PeerName: "a1", By: "root"},
		AuditEntry{Action: AuditListened, RecordingID: recB, Owner: "bea", PeerName: "b1", By: "root"},
		// amy owned a recording of b.example (her phone uploaded there):
		// the recording's domain decides while it exists.
		AuditEntry{Action: AuditListened, RecordingID: recB, Owner: "amy", PeerName: "b2", By: "root"},
		// Of a recording that is gone, the domain it was written with
		// decides, not the accounts.
		AuditEntry{Action: AuditDeleted, RecordingID: 9999, Owner: "amy", PeerName: "a-gone", By: "root", Domain: "a.example"},
		AuditEntry{Action: AuditDeleted, RecordingID: 9998, Owner: "", PeerName: "b-gone-by-amy", By: "amy", Domain: "b.example"},
		AuditEntry{Action: AuditDeletedByRetention, RecordingID: 9997, Owner: "bea", PeerName: "b-gone", Domain: "b.example"},
		AuditEntry{Action: AuditDeletedByRetention, RecordingID: 9996, PeerName: "nobody-gone"},
	); err != nil {
		t.Fatal(err)
	}
	if err := db.AddLogs(ctx, []LogEntry{
		{Level: "INFO", User: "amy", Message: "a-user"},
		{Level: "INFO", User: "root", RecordingID: recA, Message: "a-rec"},
		{Level: "INFO", User: "bea", Message: "b-user"},
		{Level: "INFO", User: "root", RecordingID: recB, Message: "b-rec"},
		{Level: "INFO", Message: "service"},
		{Level: "INFO", User: "root", Message: "root"},
	}); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		domain            string
		cdrs, audit, logs []string
		assigned          int
	}{
		{"", []string{"<cdr none/>", "<cdr b/>", "<cdr a/>"}, []string{"nobody-gone", "b-gone", "b-gone-by-amy", "a-gone", "b2", "b1", "a1"},
			[]string{"root", "service", "b-rec", "b-user", "a-rec", "a-user"}, 3},
		{"a.example", []string{"<cdr a/>"}, []string{"a-gone", "a1"}, []string{"a-rec", "a-user"}, 1},
		{"B.Example", []string{"<cdr b/>"}, []string{"b-gone", "b-gone-by-amy", "b2", "b1"}, []string{"b-rec", "b-user"}, 1},
		{"c.example", nil, nil, nil, 0},
	} {
		cdrs, err := db.CDRsIn(ctx, c.domain, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		var raws []string
		for _, r := range cdrs {
			raws = append(raws, r.Raw)
		}
		if !slices.Equal(raws, c.cdrs) {
			t.Errorf("%q: CDRs %q, want %q", c.domain, raws, c.cdrs)
		}
		entries, _, err := db.Audit(ctx, AuditFilter{Domain: c.domain})
		if err != nil {
			t.Fatal(err)
		}
		var peers []string
		for _, e := range entries {
			peers = append(peers, e.PeerName)
		}
		if !slices.Equal(peers, c.audit) {
			t.Errorf("%q: audit %q, want %q", c.domain, peers, c.audit)
		}
		logs, err := db.Logs(ctx, LogFilter{Domain: c.domain})
		if err != nil {
			t.Fatal(err)
		}
		var msgs []string
		for _, l := range logs {
			msgs = append(msgs, l.Message)
		}
		if !slices.Equal(msgs, c.logs) {
			t.Errorf("%q: logs %q, want %q", c.domain, msgs, c.logs)
		}
		st, err := db.LicencesIn(ctx, c.domain)
		if err != nil || st.Assigned != c.assigned {
			t.Errorf("%q: licences %+v %v, want %d assigned", c.domain, st, err, c.assigned)
		}
	}

	// With licences enforced and bea's taken back, b.example's recording
	// is the one the purge would delete.
	if err := db.SetUserLicensed(ctx, "bea", false); err != nil {
		t.Fatal(err)
	}
	if err := db.SetSettings(ctx, map[string]string{settings.KeyLicenceCount: "5"}); err != nil {
		t.Fatal(err)
	}
	for d, want := range map[string]int64{"": 1, "a.example": 0, "b.example": 1} {
		if st, err := db.LicencesIn(ctx, d); err != nil || st.ToPurge != want || !st.Configured || st.Count != 5 {
			t.Errorf("%q: licences %+v %v, want %d to purge of 5", d, st, err, want)
		}
	}
}
