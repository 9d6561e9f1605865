package store

import (
	"context"
	"slices"
	"testing"
)

// The PBX's licence answers: flags of existing accounts follow them, the
// owners of recordings are listed once each, and a purge deletes exactly
// the named owners' unprotected recordings, naming each.
func TestPBXLicences(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()
	for _, n := range []string{"Anna", "ben"} {
		if _, err := db.CreateUser(ctx, User{Name: n}, ""); err != nil {
			t.Fatal(err)
		}
	}
	n, err := db.SetLicensedByPBX(ctx, map[string]bool{"anna": true, "ben": false, "ghost": true})
	if err != nil || n != 1 {
		t.Fatalf("set: %d %v", n, err)
	}
	if n, _ := db.SetLicensedByPBX(ctx, map[string]bool{"ANNA": true}); n != 0 {
		t.Fatalf("unchanged flag counted: %d", n)
	}
	if u, _ := db.User(ctx, "anna"); !u.Licensed {
		t.Fatal("anna not licensed")
	}
	data := randBytes(1, 100)
	a1 := upload(t, db, "d", "a1.pcap", "anna", data)
	b1 := upload(t, db, "d", "b1.pcap", "ben", data)
	b2 := upload(t, db, "d", "b2.pcap", "Ben", data)
	b3 := upload(t, db, "d", "b3.pcap", "ben", data)
	upload(t, db, "d", "x.pcap", "", data)
	if err := db.SetProtected(ctx, b3, true); err != nil {
		t.Fatal(err)
	}
	owners, err := db.RecordingOwners(ctx)
	if err != nil || len(owners) != 2 || NameKey(owners[0]) != NameKey("anna") || NameKey(owners[1]) != NameKey("ben") {
		t.Fatalf("owners: %q %v", owners, err)
	}
	if del, kept, err := db.PurgeOwners(ctx, nil); err != nil || del != nil || kept != 0 {
		t.Fatalf("purge of nobody: %v %d %v", del, kept, err)
	}
	del, kept, err := db.PurgeOwners(ctx, []string{"BEN", "nobody"})
	if err != nil || kept != 1 || len(del) != 2 {
		t.Fatalf("purge: %+v %d %v", del, kept, err)
	}
	ids := []int64{del[0].ID, del[1].ID}
	slices.Sort(ids)
	if !slices.Equal(ids, []int64{b1, b2}) || del[0].Domain != "d" || del[0].Owner == "" {
		t.Fatalf("deleted: %+v", del)
	}
	for id, want := range map[int64]bool{a1: true, b1: false, b2: false, b3: true} {
		if _, err := db.Recording(ctx, id); (err == nil) != want {
			t.Errorf("recording %d: %v, kept want %v", id, err, want)
		}
	}
}
