package calls

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"recordings/pbx"
	"recordings/store"
)

// CDRs are facts about calls: a record naming an account's h323 with
// another number and name changes neither.
func TestCDRsNeverChangeAccounts(t *testing.T) {
	t.Parallel()
	db := openDB(t, nil)
	ctx := context.Background()
	for _, u := range []store.User{{Name: "carla", DisplayName: "Carla", E164: "999"}, {Name: "ben"}} {
		if _, err := db.CreateUser(ctx, u, ""); err != nil {
			t.Fatal(err)
		}
	}
	m := New(db, nil, Options{})
	if _, err := m.AddPBX(ctx, "d", testXML(t, "trunk-in.xml")); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][2]string{"carla": {"Carla", "999"}, "ben": {"", ""}} {
		u, err := db.User(ctx, name)
		if err != nil || u.DisplayName != want[0] || u.E164 != want[1] {
			t.Fatalf("%s after a CDR: %+v %v", name, u, err)
		}
	}
}

// 1,000 junk records for a conference, then the PBX's real ones: the real
// ones are kept and used, and the conference holds no more than the cap.
func TestJunkFloodThenRealCDR(t *testing.T) {
	t.Parallel()
	db := openDB(t, nil)
	ctx := context.Background()
	if _, err := db.CreateUser(ctx, store.User{Name: "carla"}, ""); err != nil {
		t.Fatal(err)
	}
	m := New(db, nil, Options{})
	const conf = "c2c2c2c2e909d31192e80090331032dd"
	id := begin(t, db, conf+"-009033060014-1--TRUNK.pcap")
	m.Attach(ctx, id)
	var refused int
	for i := range 1000 {
		junk := fmt.Sprintf(`<cdr h323="x%d"><event msg="junk" conf="%s"/></cdr>`, i, conf)
		res, err := m.AddPBX(ctx, "d", []byte(junk))
		if err != nil {
			t.Fatal(err)
		}
		refused += res.Refused
	}
	if refused != 1000-store.MaxCDRsPerConf {
		t.Fatalf("%d junk records refused, want %d", refused, 1000-store.MaxCDRsPerConf)
	}
	if r, _ := db.Recording(ctx, id); r.Owner != "TRUNK" || r.OwnerSource != "" {
		t.Fatalf("junk decided the owner: %+v", r)
	}
	res, err := m.AddPBX(ctx, "d", testXML(t, "trunk-in.xml"))
	if err != nil || res.Records != 4 || res.Refused != 0 {
		t.Fatalf("real CDRs: %+v %v", res, err)
	}
	r, err := db.Recording(ctx, id)
	if err != nil || r.Owner != "carla" || !r.CDR || r.OwnerSource != string(pbx.OwnerTrunkIn) {
		t.Fatalf("after the real CDRs: %+v %v", r, err)
	}
	stored, err := db.CDRFactsByConf(ctx, "", conf)
	if err != nil || len(stored) > store.MaxCDRsPerConf {
		t.Fatalf("%d records kept for the conference (%v)", len(stored), err)
	}
	// Sent again, they are not stored twice.
	if res, err := m.AddPBX(ctx, "d", testXML(t, "trunk-in.xml")); err != nil || res.Records != 0 || res.Duplicates != 4 {
		t.Fatalf("real CDRs again: %+v %v", res, err)
	}
}

// A request naming more conferences than a PBX ever does is refused whole.
func TestTooManyConferencesPerRequest(t *testing.T) {
	t.Parallel()
	m := New(openDB(t, nil), nil, Options{})
	var b strings.Builder
	for i := range MaxConfsPerRequest + 1 {
		fmt.Fprintf(&b, `<cdr><event msg="setup-to" conf="%032x"/></cdr>`, i)
	}
	if _, err := m.AddPBX(context.Background(), "d", []byte(b.String())); err == nil ||
		!strings.Contains(err.Error(), "conferences") {
		t.Fatalf("%d conferences in one request: %v", MaxConfsPerRequest+1, err)
	}
}
