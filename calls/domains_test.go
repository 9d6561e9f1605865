package calls

import (
	"context"
	"testing"

	"recordings/pbx"
	"recordings/store"
)

// beginIn starts an upload of name under domain.
func beginIn(t testing.TB, db *store.DB, domain, name string) int64 {
	t.Helper()
	fn, err := pbx.ParseFileName(name)
	if err != nil {
		t.Fatal(err)
	}
	id, _, err := db.BeginUpload(context.Background(), domain, name,
		store.FileName{ConfID: fn.ConfID, MAC: fn.MAC, Serial: fn.Serial, RegName: fn.RegName}, fn.RegName)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// A CDR posted under one domain attaches to that domain's recording of
// the conference only, whichever comes first; one posted under no domain
// (the /api/ path) counts for every domain.
func TestCDRMatchesWithinItsDomain(t *testing.T) {
	t.Parallel()
	const name = "c2c2c2c2e909d31192e80090331032dd-009033060014-1--TRUNK.pcap"
	for _, tc := range []struct {
		name      string
		cdrDomain string
		cdrFirst  bool
		wantA     bool
		wantB     bool
	}{
		{"CDR under A after the uploads", "a.example", false, true, false},
		{"CDR under A before the uploads", "a.example", true, true, false},
		{"CDR under A spelt in capitals", "A.EXAMPLE", false, true, false},
		{"CDR under B", "b.example", false, false, true},
		{"CDR under no domain", "", false, true, true},
		{"CDR under another domain", "c.example", true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := openDB(t, nil)
			if _, err := db.CreateUser(ctx, store.User{Name: "carla"}, ""); err != nil {
				t.Fatal(err)
			}
			m := New(db, nil, Options{})
			post := func() {
				res, err := m.AddPBX(ctx, tc.cdrDomain, testXML(t, "trunk-in.xml"))
				if err != nil || res.Records == 0 {
					t.Fatalf("post CDR: %+v %v", res, err)
				}
			}
			if tc.cdrFirst {
				post()
			}
			a, b := beginIn(t, db, "a.example", name), beginIn(t, db, "b.example", name)
			m.Attach(ctx, a)
			m.Attach(ctx, b)
			if !tc.cdrFirst {
				post()
			}
			for _, c := range []struct {
				id   int64
				want bool
			}{{a, tc.wantA}, {b, tc.wantB}} {
				r, err := db.Recording(ctx, c.id)
				if err != nil {
					t.Fatal(err)
				}
				if r.CDR != c.want || (r.Owner == "carla") != c.want {
					t.Errorf("recording of %s: CDR %v owner %q, want CDR %v", r.Domain, r.CDR, r.Owner, c.want)
				}
			}
		})
	}
}
