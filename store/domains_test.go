package store

import (
	"context"
	"testing"

	"recordings/pbx"
)

// The PBX of one domain decides about its own domain only: its users are
// accounts of its domain, its load marks none of another domain's users
// deleted, it cannot take a name another domain's user holds, its licence
// answer changes only accounts of its domain (or of none) and its purge
// deletes only its domain's recordings.
func TestDomainScopedPBXUsersAndLicences(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()
	put := func(domain string, gen int64, users ...pbx.PbxUser) []PBXChange {
		t.Helper()
		ch, err := db.PutPBXUsersIn(ctx, domain, gen, users)
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	genA, _ := db.NextPBXLoad(ctx)
	put("a.example", genA, pbx.PbxUser{GUID: "ga", H323: "alice"})
	genB := genA + 1
	ch := put("b.example", genB, pbx.PbxUser{GUID: "gb", H323: "bob"}, pbx.PbxUser{GUID: "gx", H323: "Alice"})
	if ch[0].Refused != nil || ch[1].Refused == nil {
		t.Fatalf("B's rows: %+v", ch)
	}
	if _, err := db.CreateUser(ctx, User{Name: "local"}, ""); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct{ name, domain, guid string }{
		{"alice", "a.example", "ga"}, {"bob", "b.example", "gb"}, {"local", "", ""},
	} {
		if u, err := db.User(ctx, want.name); err != nil || u.Domain != want.domain || u.PBXGUID != want.guid {
			t.Fatalf("%s: %+v %v", want.name, u, err)
		}
	}
	// B's load (the newer) ends: A's alice is not B's to delete.
	if dels, err := db.FinishPBXLoadIn(ctx, "B.EXAMPLE", genB); err != nil || len(dels) != 0 {
		t.Fatalf("finish B's load: %+v %v", dels, err)
	}
	// A's next load without alice marks her deleted, and not bob.
	if dels, err := db.FinishPBXLoadIn(ctx, "a.example", genB+1); err != nil || len(dels) != 1 || dels[0].Name != "alice" {
		t.Fatalf("finish A's load: %+v %v", dels, err)
	}

	if n, err := db.SetLicensedByPBXIn(ctx, "a.example", map[string]bool{"bob": true, "local": true}); err != nil || n != 1 {
		t.Fatalf("A's licences: %d %v", n, err)
	}
	if u, _ := db.User(ctx, "bob"); u.Licensed {
		t.Fatal("A's PBX licensed B's bob")
	}
	data := randBytes(1, 100)
	inA := upload(t, db, "a.example", "1.pcap", "bob", data)
	inB := upload(t, db, "b.example", "1.pcap", "bob", data)
	deleted, _, err := db.PurgeOwnersIn(ctx, "A.example", []string{"bob"})
	if err != nil || len(deleted) != 1 || deleted[0].ID != inA {
		t.Fatalf("A's purge: %+v %v", deleted, err)
	}
	if _, err := db.Recording(ctx, inB); err != nil {
		t.Fatalf("B's recording after A's purge: %v", err)
	}
}
