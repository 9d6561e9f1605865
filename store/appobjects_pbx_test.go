package store

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestSyncAppObjects: the PBX's list creates and updates rows, keeps their
// access lists, and marks the rows it lacks without deleting them.
func TestSyncAppObjects(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()
	if _, err := db.CreateAppObject(ctx, AppObject{Name: "sales-rec", Type: AppObjectUser, Access: []string{"201", "bob"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateAppObject(ctx, AppObject{Name: "typed", Access: []string{"300"}}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name             string
		pbx              []PBXAppObject
		created, missing int
		want             map[string]string // lower-case name → state
	}{
		{"first list", []PBXAppObject{
			{Name: "Sales-Rec", Title: "Sales", Type: AppObjectUser, GUID: "g1", URL: "https://x/d/recordings/innovaphone-recordings", Connected: true},
			{Name: "rec-admin", Title: "Admin", Type: AppObjectAdmin, GUID: "g2", URL: "https://x/d/recordings/innovaphone-recordingsadmin"},
			{Name: "", Title: "bad"}, // skipped, not fatal
		}, 1, 1, map[string]string{"sales-rec": PBXStatePresent, "rec-admin": PBXStatePresent, "typed": PBXStateMissing}},
		{"admin object deleted on the PBX", []PBXAppObject{
			{Name: "sales-rec", Title: "Sales 2", Type: AppObjectUser, GUID: "g1"},
		}, 0, 2, map[string]string{"sales-rec": PBXStatePresent, "rec-admin": PBXStateMissing, "typed": PBXStateMissing}},
		{"back again", []PBXAppObject{
			{Name: "sales-rec", Title: "Sales 2", Type: AppObjectUser, GUID: "g1"},
			{Name: "rec-admin", Title: "Admin", Type: AppObjectAdmin, GUID: "g3"},
		}, 0, 1, map[string]string{"sales-rec": PBXStatePresent, "rec-admin": PBXStatePresent, "typed": PBXStateMissing}},
	}
	for _, st := range steps {
		created, missing, err := db.SyncAppObjects(ctx, "", st.pbx)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if created != st.created || missing != st.missing {
			t.Errorf("%s: created %d missing %d, want %d %d", st.name, created, missing, st.created, st.missing)
		}
		got, err := pbxStates(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(st.want) {
			t.Errorf("%s: %d rows, want %d", st.name, len(got), len(st.want))
		}
		for n, s := range st.want {
			if got[n].State != s {
				t.Errorf("%s: %s is %q, want %q", st.name, n, got[n].State, s)
			}
		}
	}
	o, err := db.AppObjectByName(ctx, "sales-rec")
	if err != nil {
		t.Fatal(err)
	}
	if o.DisplayName != "Sales 2" || !slices.Equal(o.Access, []string{"201", "bob"}) {
		t.Errorf("sales-rec after the syncs: %+v (access list must stay)", o)
	}
	p, _ := pbxStates(ctx, db)
	if p["rec-admin"].GUID != "g3" || p["rec-admin"].SyncedAt.IsZero() {
		t.Errorf("rec-admin: %+v", p["rec-admin"])
	}
	if _, err := db.AppObjectByName(ctx, "typed"); err != nil {
		t.Errorf("a row the PBX lacks is kept: %v", err)
	}
}

// pbxStates returns what the PBX last said of each app object, by
// lower-cased name (and "@domain" for an object of a domain).
func pbxStates(ctx context.Context, db *DB) (map[string]AppObjectPBX, error) {
	all, err := db.AppObjects(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]AppObjectPBX{}
	for _, o := range all {
		k := strings.ToLower(o.Name)
		if o.Domain != "" {
			k += "@" + strings.ToLower(o.Domain)
		}
		out[k] = o.PBX
	}
	return out, nil
}
