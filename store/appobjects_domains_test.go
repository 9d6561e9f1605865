package store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// TestAppObjectsPerDomain: the same name in several domains; a lookup
// takes the domain's own object, else the one of every domain; without a
// domain, the one of every domain, else the only one of that name.
func TestAppObjectsPerDomain(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()
	for _, o := range []AppObject{
		{Domain: "a.example", Name: "recordings", Access: []string{"alice"}},
		{Domain: "b.example", Name: "Recordings", Access: []string{"bob"}},
		{Domain: "a.example", Name: "only-a", Access: []string{"1"}},
		{Name: "shared", Access: []string{"2"}},
		{Domain: "b.example", Name: "shared", Access: []string{"3"}},
	} {
		if _, err := db.CreateAppObject(ctx, o); err != nil {
			t.Fatalf("create %+v: %v", o, err)
		}
	}
	if _, err := db.CreateAppObject(ctx, AppObject{Domain: "A.EXAMPLE", Name: "RECORDINGS"}); !errors.Is(err, ErrExists) {
		t.Fatalf("a name taken in its domain (other case): %v", err)
	}
	for _, c := range []struct {
		domain, name string
		wantDomain   string // of the object found
		wantAccess   string
		err          error
	}{
		{"a.example", "recordings", "a.example", "alice", nil},
		{"A.Example", "RECORDINGS", "a.example", "alice", nil},
		{"b.example", "recordings", "b.example", "bob", nil},
		{"c.example", "recordings", "", "", ErrNotFound},
		{"", "recordings", "", "", ErrAmbiguous},
		{"", "only-a", "a.example", "1", nil},
		{"b.example", "only-a", "", "", ErrNotFound},
		{"a.example", "shared", "", "2", nil},
		{"b.example", "shared", "b.example", "3", nil},
		{"", "shared", "", "2", nil},
	} {
		o, err := db.AppObjectIn(ctx, c.domain, c.name)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%q in %q: %+v %v, want %v", c.name, c.domain, o, err, c.err)
			}
			continue
		}
		if err != nil || o.Domain != c.wantDomain || !slices.Equal(o.Access, []string{c.wantAccess}) {
			t.Errorf("%q in %q: %+v %v, want of %q with access %q", c.name, c.domain, o, err, c.wantDomain, c.wantAccess)
		}
	}
	if all, _ := db.AppObjectsIn(ctx, "a.example"); len(all) != 3 {
		t.Errorf("the objects a.example's users may use: %+v", all)
	}
	if all, _ := db.AppObjects(ctx); len(all) != 5 {
		t.Errorf("all objects: %+v", all)
	}
	// Changes and deletes name the domain exactly.
	if err := db.UpdateAppObject(ctx, AppObject{Domain: "b.example", Name: "recordings", Access: []string{"bert"}}); err != nil {
		t.Fatal(err)
	}
	if o, _ := db.AppObjectIn(ctx, "a.example", "recordings"); !slices.Equal(o.Access, []string{"alice"}) {
		t.Errorf("A's object after B's changed: %+v", o)
	}
	if err := db.UpdateAppObject(ctx, AppObject{Name: "recordings"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("update of an object of every domain that does not exist: %v", err)
	}
	if err := db.DeleteAppObject(ctx, "", "recordings"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete without the domain: %v", err)
	}
	if err := db.DeleteAppObject(ctx, "a.example", "recordings"); err != nil {
		t.Fatal(err)
	}
	if o, err := db.AppObjectIn(ctx, "b.example", "recordings"); err != nil || !slices.Equal(o.Access, []string{"bert"}) {
		t.Errorf("B's object after A's was deleted: %+v %v", o, err)
	}
}

// TestAccessListsPerDomain: a sign-in through a domain's app object gets
// that object's list; numbers resolve to the accounts of the object's
// domain (or of none) only; the list opens the object's domain only.
func TestAccessListsPerDomain(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()
	mk := func(u User, domain string) User {
		t.Helper()
		c, err := db.CreateUser(ctx, u, "password1")
		if err != nil {
			t.Fatal(err)
		}
		if domain != "" {
			if _, err := db.w.ExecContext(ctx, `UPDATE users SET domain = ? WHERE id = ?`, domain, c.ID); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	anna := mk(User{Name: "anna"}, "a.example")
	mk(User{Name: "ahmed", E164: "201"}, "a.example")
	mk(User{Name: "bert", E164: "201"}, "b.example")
	mk(User{Name: "nora", E164: "201"}, "")
	local := mk(User{Name: "lou"}, "")
	for _, o := range []AppObject{
		{Domain: "a.example", Name: "recordings", Access: []string{"201"}},
		{Domain: "b.example", Name: "recordings", Access: []string{"201", "zed"}},
	} {
		if _, err := db.CreateAppObject(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name          string
		user          User
		viaDomain     string
		wantSees      []string
		wantViaDomain string
	}{
		{"A's user through A's object", anna, "a.example", []string{"201", "ahmed", "nora"}, "a.example"},
		{"A's user with no domain named: her domain's", anna, "", []string{"201", "ahmed", "nora"}, "a.example"},
		{"a local account through B's object", local, "b.example", []string{"201", "bert", "nora", "zed"}, "b.example"},
		{"a local account, no domain: ambiguous, nothing", local, "", nil, ""},
	} {
		tok, err := db.CreateAppSessionIn(ctx, c.user.ID, time.Hour, c.viaDomain, "recordings", "")
		if err != nil {
			t.Fatal(err)
		}
		su, err := db.SessionUser(ctx, tok)
		if err != nil || !slices.Equal(su.Sees, c.wantSees) || su.ViaDomain != c.wantViaDomain {
			t.Errorf("%s: sees %v in %q, %v; want %v in %q", c.name, su.Sees, su.ViaDomain, err, c.wantSees, c.wantViaDomain)
		}
	}
	// The default app object is looked up in the account's domain.
	if err := db.SetUserAppObject(ctx, "anna", "recordings"); err != nil {
		t.Fatal(err)
	}
	if u, err := db.Authenticate(ctx, "anna", "password1"); err != nil || u.ViaDomain != "a.example" || len(u.Sees) != 3 {
		t.Errorf("anna by password: %+v %v", u, err)
	}
	if err := db.SetUserAppObject(ctx, "lou", "recordings"); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("a local account's default named in two domains: %v", err)
	}
	if _, err := db.w.ExecContext(ctx, `UPDATE users SET app_object = 'recordings' WHERE name = 'lou'`); err != nil {
		t.Fatal(err)
	}
	tok, _ := db.CreateAppSessionIn(ctx, local.ID, time.Hour, "a.example", "recordings", "")
	if su, err := db.SessionUser(ctx, tok); err != nil || su.ViaDomain != "a.example" || len(su.Sees) != 3 {
		t.Errorf("a local account whose default has the same name, through A's: %+v %v", su, err)
	}
}

// TestSyncAppObjectsPerDomain: each domain's PBX list updates that domain's
// rows; a row of every domain (from before domains) is taken over by the
// first domain that lists it, with its access list; no domain's list marks
// another domain's rows missing.
func TestSyncAppObjectsPerDomain(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()
	if _, err := db.CreateAppObject(ctx, AppObject{Name: "recordings", Access: []string{"old"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateAppObject(ctx, AppObject{Name: "typed", Access: []string{"300"}}); err != nil {
		t.Fatal(err)
	}
	rec := func(guid string) PBXAppObject {
		return PBXAppObject{Name: "recordings", Title: "Recordings", Type: AppObjectUser, GUID: guid,
			URL: "https://x/d/recordings/innovaphone-recordings"}
	}
	steps := []struct {
		name             string
		domain           string
		pbx              []PBXAppObject
		created, missing int
		want             map[string]string // name[@domain] → state
	}{
		{"A lists recordings: takes over the old row", "a.example", []PBXAppObject{rec("ga")}, 0, 1,
			map[string]string{"recordings@a.example": PBXStatePresent, "typed": PBXStateMissing}},
		{"B lists recordings: a row of its own", "b.example", []PBXAppObject{rec("gb"),
			{Name: "rec-admin", Type: AppObjectAdmin, GUID: "gb2"}}, 2, 1,
			map[string]string{"recordings@a.example": PBXStatePresent, "recordings@b.example": PBXStatePresent,
				"rec-admin@b.example": PBXStatePresent, "typed": PBXStateMissing}},
		{"A's list is empty: only A's rows go missing", "a.example", nil, 0, 2,
			map[string]string{"recordings@a.example": PBXStateMissing, "recordings@b.example": PBXStatePresent,
				"rec-admin@b.example": PBXStatePresent, "typed": PBXStateMissing}},
		{"A lists it again", "A.EXAMPLE", []PBXAppObject{rec("ga2")}, 0, 1,
			map[string]string{"recordings@a.example": PBXStatePresent, "recordings@b.example": PBXStatePresent,
				"rec-admin@b.example": PBXStatePresent, "typed": PBXStateMissing}},
	}
	for _, st := range steps {
		created, missing, err := db.SyncAppObjects(ctx, st.domain, st.pbx)
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
			t.Errorf("%s: rows %v, want %v", st.name, got, st.want)
		}
		for n, s := range st.want {
			if got[n].State != s {
				t.Errorf("%s: %s is %q, want %q", st.name, n, got[n].State, s)
			}
		}
	}
	if o, err := db.AppObjectIn(ctx, "a.example", "recordings"); err != nil || !slices.Equal(o.Access, []string{"old"}) ||
		o.PBX.GUID != "ga2" {
		t.Errorf("A's recordings keeps the old access list: %+v %v", o, err)
	}
	if o, err := db.AppObjectIn(ctx, "b.example", "recordings"); err != nil || len(o.Access) != 0 || o.PBX.GUID != "gb" {
		t.Errorf("B's recordings: %+v %v", o, err)
	}
}

// TestMigrateAppObjectsDomains upgrades a database with app objects, access
// lists, a default app object and a session through an app object: every
// object becomes one of every domain and keeps its list, and the session
// keeps seeing what it saw.
func TestMigrateAppObjectsDomains(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rec.db")
	db, err := OpenOptions(ctx, path, nil, Options{migrateTo: versionBefore(t, appObjectsDomainsMigration), BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	u, err := db.CreateUser(ctx, User{Name: "anna", E164: "100"}, "password1")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO app_objects (name, display_name, type, created_at, pbx_guid, pbx_state) VALUES
			('recordings', 'Recordings', 'user', 1, 'g1', 'present'), ('Boss', '', 'admin', 2, '', '')`,
		`INSERT INTO app_object_access (app_object, pos, entry) VALUES ('recordings', 0, '100'), ('recordings', 1, 'ben'),
			('boss', 0, 'x')`,
		`UPDATE users SET app_object = 'recordings'`,
	} {
		if _, err := db.w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// A session through "recordings", as the old schema holds it.
	var raw [tokenBytes]byte
	raw[0] = 7
	tok := base64.RawURLEncoding.EncodeToString(raw[:])
	h := sha256.Sum256(raw[:])
	if _, err := db.w.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at, app_object, role,
		last_seen) VALUES (?, ?, ?, ?, 'recordings', '', ?)`, h[:], u.ID, db.nowMS(), db.nowMS()+3600_000, db.nowMS()); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = OpenOptions(ctx, path, nil, Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	all, err := db.AppObjects(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("after the upgrade: %+v %v", all, err)
	}
	for _, c := range []struct {
		name, typ string
		access    []string
		state     string
	}{{"Boss", AppObjectAdmin, []string{"x"}, ""}, {"recordings", AppObjectUser, []string{"100", "ben"}, PBXStatePresent}} {
		o, err := db.AppObjectIn(ctx, "any.example", c.name)
		if err != nil || o.Domain != "" || o.Type != c.typ || !slices.Equal(o.Access, c.access) || o.PBX.State != c.state {
			t.Errorf("%s after the upgrade: %+v %v", c.name, o, err)
		}
	}
	su, err := db.SessionUser(ctx, tok)
	if err != nil || su.Via != "recordings" || !slices.Equal(su.Sees, []string{"100", "anna", "ben"}) || su.ViaDomain != "" {
		t.Fatalf("the session after the upgrade: %+v %v", su, err)
	}
	if u, err := db.Authenticate(ctx, "anna", "password1"); err != nil || u.Via != "recordings" || len(u.Sees) != 3 {
		t.Fatalf("the default app object after the upgrade: %+v %v", u, err)
	}
	// Deleting an object cascades to its list.
	if err := db.DeleteAppObject(ctx, "", "boss"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM app_object_access`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("access rows after the delete: %d %v", n, err)
	}
}

// TestListOwnersInDomain: the owners of an access list of a domain's app
// object open that domain's recordings only; the account's own open every
// domain's.
func TestListOwnersInDomain(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()
	ids := map[string]int64{}
	for i, r := range []struct{ domain, owner string }{
		{"a.example", "lou"}, {"b.example", "lou"}, {"a.example", "ahmed"}, {"B.example", "ahmed"}, {"a.example", "zoe"},
	} {
		ids[r.owner+"@"+strings.ToLower(r.domain)] = upload(t, db, r.domain, fmt.Sprintf("%d.pcap", i), r.owner, randBytes(uint64(i), 100))
	}
	for _, c := range []struct {
		name string
		f    ListFilter
		want []string
	}{
		{"own and A's list", ListFilter{Owners: []string{"lou"}, OwnersIn: []string{"Ahmed"}, OwnersDomain: "A.EXAMPLE"},
			[]string{"lou@a.example", "lou@b.example", "ahmed@a.example"}},
		{"own and B's list", ListFilter{Owners: []string{"lou"}, OwnersIn: []string{"ahmed", "zoe"}, OwnersDomain: "b.example"},
			[]string{"lou@a.example", "lou@b.example", "ahmed@b.example"}},
		{"a list of every domain", ListFilter{Owners: []string{"lou"}, OwnersIn: []string{"zoe"}},
			[]string{"lou@a.example", "lou@b.example", "zoe@a.example"}},
		{"an account of A", ListFilter{Domain: "a.example", Owners: []string{"lou"}, OwnersIn: []string{"ahmed"}, OwnersDomain: "a.example"},
			[]string{"lou@a.example", "ahmed@a.example"}},
	} {
		recs, _, err := db.ListRecordings(ctx, c.f)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var got []int64
		for _, r := range recs {
			got = append(got, r.ID)
		}
		var want []int64
		for _, k := range c.want {
			want = append(want, ids[k])
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v (%v)", c.name, got, want, c.want)
		}
		if n, exact, err := db.CountRecordings(ctx, c.f); err != nil || n != len(want) || !exact {
			t.Errorf("%s: count %d %v %v", c.name, n, exact, err)
		}
	}
}
