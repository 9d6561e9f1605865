package store

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"recordings/pbx"
)

func putPBX(t *testing.T, db *DB, gen int64, users ...pbx.PbxUser) []PBXChange {
	t.Helper()
	cs, err := db.PutPBXUsers(context.Background(), gen, users)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func pu(guid, h323 string, macs ...string) pbx.PbxUser {
	return pbx.PbxUser{GUID: guid, H323: h323, CN: h323 + " long", DN: h323 + " dn", E164: "20" + guid,
		MACs: macs, HasDevices: true}
}

// TestMigratePBXUsers upgrades a database of the previous schema with a
// local account and checks the account stays as it was, local.
func TestMigratePBXUsers(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rec.db")
	ctx := context.Background()
	db, err := OpenOptions(ctx, path, nil, Options{migrateTo: versionBefore(t, pbxUsersMigration)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.ExecContext(ctx, `INSERT INTO users (name, name_key, role, password_hash, created_at)
		VALUES ('alice', 'alice', 'admin', 'x', 1)`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, path, nil)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	defer db.Close()
	u, err := db.User(ctx, "alice")
	if err != nil || u.PBXGUID != "" || u.PBXDeleted || !u.HasPassword || u.Role != RoleAdmin {
		t.Fatalf("local account after upgrade: %+v, %v", u, err)
	}
	// The guid is unique among replicated users, "" is not.
	if _, err := db.w.ExecContext(ctx, `UPDATE users SET pbx_guid = 'g' WHERE name = 'alice'`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.ExecContext(ctx, `INSERT INTO users (name, name_key, role, created_at, pbx_guid)
		VALUES ('bob', 'bob', 'user', 1, 'g')`); !isUnique(err) {
		t.Errorf("second user with guid g: %v", err)
	}
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestPBXUsersLoad(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()
	local, err := db.CreateUser(ctx, User{Name: "Alice", Role: RoleAdmin, MACs: []string{"009033000001"}}, "s3cret-password")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, User{Name: "carol"}, "pw-of-carol"); err != nil {
		t.Fatal(err)
	}
	gen, err := db.NextPBXLoad(ctx)
	if err != nil || gen != 1 {
		t.Fatalf("NextPBXLoad = %d, %v", gen, err)
	}
	cs := putPBX(t, db, gen,
		pu("g1", "alice", "00:90:33:00:00:02"), // links the local account of the same name
		pu("g2", "bob", "009033000003"),
		pbx.PbxUser{GUID: "g3", H323: "trunk", Pseudo: "trunk"},
	)
	if !cs[0].Linked || cs[0].Created || cs[0].Name != "alice" || cs[0].OldName != "Alice" || !slices.Equal(cs[0].OldMACs, []string{"009033000001"}) ||
		!slices.Equal(cs[0].MACs, []string{"009033000002"}) || !cs[0].Reresolve() {
		t.Errorf("link: %+v", cs[0])
	}
	if !cs[1].Created || cs[1].OldName != "" || !cs[1].Reresolve() {
		t.Errorf("create: %+v", cs[1])
	}
	if cs[2].Refused == nil {
		t.Errorf("pseudo object stored: %+v", cs[2])
	}
	alice, err := db.User(ctx, "ALICE")
	if err != nil || alice.ID != local.ID || alice.PBXGUID != "g1" || !alice.HasPassword || alice.Role != RoleAdmin ||
		alice.DisplayName != "alice dn" || alice.CN != "alice long" || alice.E164 != "20g1" && alice.E164 != "" {
		t.Errorf("linked account: %+v, %v", alice, err)
	}
	bob, err := db.UserByMAC(ctx, "00-90-33-00-00-03")
	if err != nil || bob.Name != "bob" || bob.HasPassword || bob.PBXGUID != "g2" || bob.Role != RoleUser {
		t.Errorf("replicated user by MAC: %+v, %v", bob, err)
	}
	if u, err := db.PBXUserByGUID(ctx, "g2"); err != nil || u.ID != bob.ID {
		t.Errorf("by guid: %+v, %v", u, err)
	}
	if _, err := db.PBXUserByGUID(ctx, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("by empty guid: %v", err)
	}
	// The same rows again change nothing.
	for _, c := range putPBX(t, db, gen, pu("g1", "alice", "009033000002"), pu("g2", "bob", "009033000003")) {
		if c.Reresolve() {
			t.Errorf("unchanged row: %+v", c)
		}
	}
	// The admin cannot edit what the PBX manages, but may change the role.
	bob.MACs = []string{"009033000009"}
	if err := db.UpdateUser(ctx, bob); !errors.Is(err, ErrInvalid) {
		t.Errorf("edit of a replicated user's MACs: %v", err)
	}
	bob, _ = db.User(ctx, "bob")
	bob.Role = RoleAdmin
	if err := db.UpdateUser(ctx, bob); err != nil {
		t.Errorf("role of a replicated user: %v", err)
	}

	// Next connection: bob vanished, alice is there; a touched (refused)
	// row counts as present.
	gen2, _ := db.NextPBXLoad(ctx)
	if gen2 != 2 {
		t.Fatalf("second load %d", gen2)
	}
	putPBX(t, db, gen2, pu("g1", "alice", "009033000002"))
	dels, err := db.FinishPBXLoad(ctx, gen2)
	if err != nil || len(dels) != 1 || dels[0].GUID != "g2" || !dels[0].Deleted ||
		!slices.Equal(dels[0].OldMACs, []string{"009033000003"}) || dels[0].Reresolve() {
		t.Fatalf("FinishPBXLoad = %+v, %v", dels, err)
	}
	bob, err = db.User(ctx, "bob")
	if err != nil || !bob.PBXDeleted || len(bob.MACs) != 0 {
		t.Errorf("deleted user: %+v, %v", bob, err)
	}
	if _, err := db.UserByMAC(ctx, "009033000003"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a deleted user's device still found: %v", err)
	}
	if carol, err := db.User(ctx, "carol"); err != nil || carol.PBXDeleted {
		t.Errorf("local account touched by the load: %+v, %v", carol, err)
	}
	if again, err := db.FinishPBXLoad(ctx, gen2); err != nil || len(again) != 0 {
		t.Errorf("second finish: %+v, %v", again, err)
	}
	// bob comes back.
	cs = putPBX(t, db, gen2, pu("g2", "bob"))
	if !cs[0].Revived || !cs[0].Reresolve() {
		t.Errorf("revived: %+v", cs[0])
	}
	gen3, _ := db.NextPBXLoad(ctx)
	putPBX(t, db, gen3, pu("g1", "alice"))
	if err := db.TouchPBXUsers(ctx, gen3, []string{"g2"}); err != nil {
		t.Fatal(err)
	}
	if dels, err := db.FinishPBXLoad(ctx, gen3); err != nil || len(dels) != 0 {
		t.Errorf("finish after touch: %+v, %v", dels, err)
	}
	// A live deletion.
	c, found, err := db.DeletePBXUser(ctx, "g2")
	if err != nil || !found || c.Name != "bob" {
		t.Errorf("DeletePBXUser = %+v, %v, %v", c, found, err)
	}
	if _, found, err := db.DeletePBXUser(ctx, "g2"); err != nil || found {
		t.Errorf("second DeletePBXUser found %v, %v", found, err)
	}
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestPBXUsersMovesAndRenames(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()
	if _, err := db.CreateUser(ctx, User{Name: "dora", MACs: []string{"0090330000dd"}}, "pw-of-dora"); err != nil {
		t.Fatal(err)
	}
	putPBX(t, db, 1, pu("g1", "alice", "0090330000aa"), pu("g2", "bob", "0090330000bb"))
	// A device moves from alice to bob (bob's update first), and dora's
	// typed-in MAC is taken by the PBX's bob.
	cs := putPBX(t, db, 1, pu("g2", "bob", "0090330000bb", "0090330000aa", "0090330000dd"))
	if !slices.Equal(cs[0].Moved, []string{"0090330000aa", "0090330000dd"}) || !cs[0].Reresolve() {
		t.Errorf("move: %+v", cs[0])
	}
	if u, err := db.UserByMAC(ctx, "0090330000aa"); err != nil || u.Name != "bob" {
		t.Errorf("moved device owner: %+v, %v", u, err)
	}
	if u, _ := db.User(ctx, "alice"); len(u.MACs) != 0 {
		t.Errorf("alice keeps %v", u.MACs)
	}
	// Rename alice → anna.
	cs = putPBX(t, db, 1, pu("g1", "anna"))
	if cs[0].OldName != "alice" || cs[0].Name != "anna" || !cs[0].Reresolve() {
		t.Errorf("rename: %+v", cs[0])
	}
	if _, err := db.User(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Errorf("old name still found: %v", err)
	}
	if u, err := db.DirectoryUser(ctx, "ALICE"); err != nil || u.Name != "anna" {
		t.Errorf("directory user of the old name: %+v, %v", u, err)
	}
	if u, err := db.DirectoryUser(ctx, "dora"); err != nil || u.Name != "dora" {
		t.Errorf("directory user of a local account: %+v, %v", u, err)
	}
	if _, err := db.DirectoryUser(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("directory user nobody: %v", err)
	}
	// A rename onto a local account's name is refused, the rest stored.
	cs = putPBX(t, db, 1, pbx.PbxUser{GUID: "g1", H323: "dora", DN: "Anna D", HasDevices: true, MACs: []string{"0090330000ee"}})
	if !errors.Is(cs[0].Refused, ErrExists) || cs[0].Name != "anna" {
		t.Errorf("rename onto a local account: %+v", cs[0])
	}
	if u, err := db.User(ctx, "anna"); err != nil || u.DisplayName != "Anna D" || !slices.Equal(u.MACs, []string{"0090330000ee"}) {
		t.Errorf("after refused rename: %+v, %v", u, err)
	}
	// Names swap between two PBX users: the first update displaces the
	// other, whose own update brings it back under its new name.
	putPBX(t, db, 1, pu("g2", "anna"))
	if u, err := db.User(ctx, "anna"); err != nil || u.PBXGUID != "g2" {
		t.Errorf("anna after swap: %+v, %v", u, err)
	}
	putPBX(t, db, 1, pu("g1", "bob"))
	for name, guid := range map[string]string{"anna": "g2", "bob": "g1"} {
		if u, err := db.User(ctx, name); err != nil || u.PBXGUID != guid || u.PBXDeleted {
			t.Errorf("%s after swap: %+v, %v", name, u, err)
		}
	}
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestRecordingsOfDeletedPBXUser(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()
	putPBX(t, db, 1, pu("g1", "alice", "0090330000aa"), pu("g2", "bob", "0090330000bb"))
	a := upload(t, db, "d", "a.pcap", "alice", []byte("x"))
	b := upload(t, db, "d", "b.pcap", "bob", []byte("y"))
	adm := upload(t, db, "d", "c.pcap", "", []byte("z"))
	if err := db.SetCallOwner(ctx, adm, "alice", OwnerByAdmin); err != nil {
		t.Fatal(err)
	}
	ids, err := db.RecordingIDsToReresolve(ctx, []string{"alice"}, nil)
	if err != nil || !slices.Equal(ids, []int64{a}) {
		t.Errorf("to re-resolve for alice = %v, %v; want [%d] (not the admin's)", ids, err, a)
	}
	if _, _, err := db.DeletePBXUser(ctx, "g1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DirectoryUser(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a deleted user in the directory: %v", err)
	}
	r, err := db.Recording(ctx, a)
	if err != nil || r.Owner != "alice" || !r.OwnerDeleted {
		t.Errorf("recording of a deleted user: %+v, %v", r, err)
	}
	if r, _ := db.Recording(ctx, b); r.OwnerDeleted {
		t.Error("bob's recording marked")
	}
	list, _, err := db.ListRecordings(ctx, ListFilter{Owners: []string{"alice"}})
	if err != nil || len(list) != 2 || !list[0].OwnerDeleted || !list[1].OwnerDeleted {
		t.Errorf("list of a deleted user's recordings: %+v, %v", list, err)
	}
	if ids, err := db.RecordingIDsToReresolve(ctx, []string{"alice"}, []string{"0090330000aa"}); err != nil || len(ids) != 0 {
		t.Errorf("a deleted user's recordings to re-resolve: %v, %v", ids, err)
	}
	if _, err := db.RecordingIDsToReresolve(ctx, nil, []string{"nomac"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad MAC: %v", err)
	}
}

// TestPBXUserQueryPlans: the look-ups of one replicated row use indexes
// (a full load must not scan the accounts once per row).
func TestPBXUserQueryPlans(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`SELECT id FROM users WHERE pbx_guid = ? AND pbx_guid <> ''`, []any{"g"}},
		{`SELECT id FROM users WHERE name_key = ? AND name_dup = 0`, []any{"k"}},
		{`UPDATE users SET pbx_gen = ? WHERE pbx_guid = ? AND pbx_guid <> ''`, []any{1, "g"}},
		{`DELETE FROM user_macs WHERE mac = ?`, []any{"m"}},
		{`SELECT mac FROM user_macs WHERE user_id = ? ORDER BY mac`, []any{1}},
		{`SELECT user_id FROM pbx_former_names WHERE name_key = ?`, []any{"k"}},
		{`SELECT id FROM recordings WHERE id IN (SELECT id FROM recordings WHERE reg_name = ? COLLATE NOCASE
			UNION SELECT id FROM recordings WHERE owner_key = ? UNION SELECT id FROM recordings WHERE mac = ?)
			AND owner_source <> ? AND NOT ` + ownerDeletedSQL + ` ORDER BY id DESC LIMIT ?`,
			[]any{"a", "a", "m1", OwnerByAdmin, 10}},
	} {
		rows, err := db.r.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q.sql, q.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if strings.Contains(p, "SCAN") {
			t.Errorf("%s: plan %q scans", q.sql, p)
		}
	}
}

// TestDeletedPBXOwner: an owner name is a deleted PBX user when its account
// is marked deleted, or when no account has it and the user the PBX renamed
// from it is deleted (then the user's name now is returned).
func TestDeletedPBXOwner(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()
	putPBX(t, db, 1, pu("g1", "alice"), pu("g2", "bob"), pu("g3", "carol"), pu("g4", "dora"))
	putPBX(t, db, 1, pu("g2", "bert"), pu("g4", "dana")) // renames
	for _, g := range []string{"g1", "g2"} {
		if _, _, err := db.DeletePBXUser(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.CreateUser(ctx, User{Name: "local", Role: RoleUser}, "pw-local-1234"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		owner, name string
		deleted     bool
	}{
		{"alice", "alice", true}, // deleted
		{"ALICE", "alice", true}, // names compare by key
		{"bob", "bert", true},    // renamed, then deleted
		{"bert", "bert", true},
		{"carol", "", false}, // live
		{"dora", "", false},  // renamed, live
		{"local", "", false},
		{"nobody", "", false},
		{"", "", false},
	} {
		name, deleted, err := db.DeletedPBXOwner(ctx, tc.owner)
		if err != nil || name != tc.name || deleted != tc.deleted {
			t.Errorf("DeletedPBXOwner(%q) = %q, %v, %v; want %q, %v", tc.owner, name, deleted, err, tc.name, tc.deleted)
		}
	}
}
