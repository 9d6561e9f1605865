package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"recordings/settings"
)

const (
	confA = "e89277f0e909d31192e80090331032dd"
	confB = "bbbb0000e909d31192e80090331032dd"
)

func TestCDRStoreAndIndex(t *testing.T) {
	t.Parallel()
	db, clk := openTest(t)
	ctx := context.Background()
	added, err := db.AddCDRs(ctx, []NewCDR{
		{Kind: CDRKindPBX, Domain: "d", Raw: "<cdr a/>", Parsed: []byte(`{"a":1}`), ConfIDs: []string{confA, confB}},
		{Kind: CDRKindGateway, Raw: "event=A:Call&ref=" + confA, ConfIDs: []string{confA}},
	})
	if err != nil || len(added) != 2 || added[0].ID == 0 || added[1].ID == 0 || len(added[0].Confs) != 2 {
		t.Fatalf("add: %+v %v", added, err)
	}
	ids := []int64{added[0].ID, added[1].ID}
	got, err := db.CDRsByConf(ctx, "E89277F0E909D31192E80090331032DD")
	if err != nil || len(got) != 2 || got[0].Raw != "<cdr a/>" || string(got[0].Parsed) != `{"a":1}` ||
		!slices.Equal(got[0].ConfIDs, []string{confB, confA}) && !slices.Equal(got[0].ConfIDs, []string{confA, confB}) ||
		got[1].Kind != CDRKindGateway || !got[0].ReceivedAt.Equal(clk.Now().Truncate(time.Millisecond)) {
		t.Fatalf("by conf A: %+v %v", got, err)
	}
	if got, _ := db.CDRsByConf(ctx, confB); len(got) != 1 || got[0].ID != ids[0] {
		t.Fatalf("by conf B: %+v", got)
	}
	if all, _ := db.CDRs(ctx, 0, 0); len(all) != 2 || all[0].ID != ids[1] {
		t.Fatalf("list: %+v", all)
	}
	for _, bad := range []NewCDR{
		{Kind: "x", Raw: "a"},
		{Kind: CDRKindPBX, Raw: ""},
		{Kind: CDRKindPBX, Raw: "a", ConfIDs: []string{"nothex"}},
		{Kind: CDRKindPBX, Raw: "a", ConfIDs: []string{"E89277F0E909D31192E80090331032DD"}},
	} {
		if _, err := db.AddCDRs(ctx, []NewCDR{bad}); !errors.Is(err, ErrInvalid) {
			t.Errorf("add %+v: %v, want ErrInvalid", bad, err)
		}
	}
	clk.Advance(time.Hour)
	if n, err := db.PruneCDRs(ctx, clk.Now()); err != nil || n != 2 {
		t.Fatalf("prune: %d %v", n, err)
	}
	if got, _ := db.CDRsByConf(ctx, confA); len(got) != 0 {
		t.Fatalf("index survived prune: %+v", got)
	}
}

func TestMarkNoCDRAndLateCDR(t *testing.T) {
	t.Parallel()
	db, clk := openTest(t)
	ctx := context.Background()
	id, _, err := db.BeginUpload(ctx, "d", "x.pcap", FileName{ConfID: confA}, "")
	if err != nil {
		t.Fatal(err)
	}
	if ids, _ := db.MarkNoCDR(ctx, clk.Now()); len(ids) != 0 {
		t.Fatalf("marked a fresh recording: %v", ids)
	}
	clk.Advance(time.Minute)
	if ids, _ := db.MarkNoCDR(ctx, clk.Now()); !slices.Equal(ids, []int64{id}) {
		t.Fatalf("mark: %v", ids)
	}
	if ids, _ := db.MarkNoCDR(ctx, clk.Now()); len(ids) != 0 {
		t.Fatalf("marked twice: %v", ids)
	}
	if r, _ := db.Recording(ctx, id); !r.NoCDR || r.CDR {
		t.Fatalf("after mark: %+v", r)
	}
	if err := db.SetCDR(ctx, id, CDR{Direction: "in"}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetCallOwner(ctx, id, "carla", "trunk-in"); err != nil {
		t.Fatal(err)
	}
	r, _ := db.Recording(ctx, id)
	if r.NoCDR || !r.CDR || r.Owner != "carla" || r.OwnerSource != "trunk-in" {
		t.Fatalf("after late CDR: %+v", r)
	}
	if recs, _ := db.RecordingsByConf(ctx, "", confA); len(recs) != 1 || recs[0].ID != id {
		t.Fatalf("by conf: %+v", recs)
	}
}

func TestAppObjectsAndAccess(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()
	for _, u := range []User{{Name: "anna", E164: "100"}, {Name: "Ben", E164: "101"}, {Name: "carla", E164: "102"}, {Name: "root", Role: RoleAdmin}} {
		if _, err := db.CreateUser(ctx, u, "password1"); err != nil {
			t.Fatal(err)
		}
	}
	o, err := db.CreateAppObject(ctx, AppObject{Name: "team", DisplayName: "Team", Access: []string{"101", " dave ", "DAVE"}})
	if err != nil || o.Type != AppObjectUser || !slices.Equal(o.Access, []string{"101", "dave"}) {
		t.Fatalf("create: %+v %v", o, err)
	}
	if _, err := db.CreateAppObject(ctx, AppObject{Name: "TEAM"}); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := db.CreateAppObject(ctx, AppObject{Name: "x", Type: "boss"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad type: %v", err)
	}
	if got, _ := db.AccessOwners(ctx, "Team"); !slices.Equal(got, []string{"101", "Ben", "dave"}) {
		t.Fatalf("access owners: %v", got)
	}
	if err := db.SetUserAppObject(ctx, "anna", "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown app object: %v", err)
	}
	if err := db.SetUserAppObject(ctx, "anna", "team"); err != nil {
		t.Fatal(err)
	}
	u, err := db.Authenticate(ctx, "anna", "password1")
	if err != nil || u.Via != "team" || !slices.Contains(u.Sees, "Ben") {
		t.Fatalf("authenticate: %+v %v", u, err)
	}
	// A session through another app object uses that one's list; the role
	// of the session replaces the account's.
	if _, err := db.CreateAppObject(ctx, AppObject{Name: "sup", Access: []string{"carla"}}); err != nil {
		t.Fatal(err)
	}
	tok, err := db.CreateAppSession(ctx, u.ID, time.Hour, "sup", RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	su, err := db.SessionUser(ctx, tok)
	if err != nil || su.Via != "sup" || su.Role != RoleAdmin {
		t.Fatalf("session user: %+v %v", su, err)
	}
	tok, _ = db.CreateAppSession(ctx, u.ID, time.Hour, "sup", "")
	if su, _ = db.SessionUser(ctx, tok); su.Role != RoleUser || !slices.Equal(su.Sees, []string{"carla"}) {
		t.Fatalf("session user: %+v", su)
	}
	if err := db.UpdateAppObject(ctx, AppObject{Name: "SUP", Access: []string{"100"}}); err != nil {
		t.Fatal(err)
	}
	if su, _ = db.SessionUser(ctx, tok); !slices.Equal(su.Sees, []string{"100", "anna"}) {
		t.Fatalf("after update: %+v", su)
	}
	if err := db.DeleteAppObject(ctx, "", "team"); err != nil {
		t.Fatal(err)
	}
	if u, _ := db.User(ctx, "anna"); u.AppObject != "" {
		t.Fatalf("default app object survived delete: %+v", u)
	}
	if all, _ := db.AppObjects(ctx); len(all) != 1 || all[0].Name != "sup" {
		t.Fatalf("list: %+v", all)
	}
}

func TestLicencesAndPurge(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()
	for _, n := range []string{"anna", "ben"} {
		if _, err := db.CreateUser(ctx, User{Name: n}, ""); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(name, owner string) int64 {
		id, _, err := db.BeginUpload(ctx, "d", name, FileName{ConfID: confA}, owner)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	a, b, b2, none, ghost := mk("1", "anna"), mk("2", "ben"), mk("3", "Ben"), mk("4", ""), mk("5", "ghost")
	if err := db.SetProtected(ctx, b2, true); err != nil {
		t.Fatal(err)
	}
	// Not configured: nothing is enforced.
	if st, _ := db.Licences(ctx); st.Configured || st.ToPurge != 0 {
		t.Fatalf("unconfigured: %+v", st)
	}
	if d, _, err := db.PurgeUnlicensed(ctx); err != nil || d != 0 {
		t.Fatalf("purge unconfigured: %d %v", d, err)
	}
	if err := db.SetSettings(ctx, map[string]string{settings.KeyLicenceCount: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetUserLicensed(ctx, "ANNA", true); err != nil {
		t.Fatal(err)
	}
	if err := db.SetUserLicensed(ctx, "anna", true); err != nil {
		t.Fatalf("re-assign: %v", err)
	}
	if err := db.SetUserLicensed(ctx, "ben", true); !errors.Is(err, ErrInvalid) {
		t.Fatalf("over count: %v", err)
	}
	if err := db.SetSettings(ctx, map[string]string{settings.KeyLicenceCount: "0"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("below assigned: %v", err)
	}
	st, err := db.Licences(ctx)
	if err != nil || st != (LicenceStatus{Configured: true, Count: 1, Assigned: 1, ToPurge: 2, Protected: 1}) {
		t.Fatalf("status: %+v %v", st, err)
	}
	d, k, err := db.PurgeUnlicensed(ctx)
	if err != nil || d != 2 || k != 1 {
		t.Fatalf("purge: %d %d %v", d, k, err)
	}
	for id, want := range map[int64]bool{a: true, b: false, b2: true, none: true, ghost: false} {
		if _, err := db.Recording(ctx, id); (err == nil) != want {
			t.Errorf("recording %d kept=%v, want %v", id, err == nil, want)
		}
	}
}
