package store

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

const kelvinKim = "\u212Aim" // "Kim" with the Kelvin sign K (U+212A)

func TestNameKey(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ a, b string }{
		{"kim", kelvinKim}, {"kim", "KIM"}, {"müller", "MÜLLER"}, {"müller", "mu\u0308ller"}, // combining diaeresis
		{"strasse", "STRAẞE"}, {"fi", "\uFB01"}, {"a1", "a\uFF11"}, // fullwidth digit one
	} {
		if NameKey(c.a) != NameKey(c.b) || !SameName(c.a, c.b) {
			t.Errorf("NameKey(%q) = %q, NameKey(%q) = %q: want equal", c.a, NameKey(c.a), c.b, NameKey(c.b))
		}
	}
	for _, c := range []struct{ a, b string }{{"kim", "kimi"}, {"kim", "k1m"}, {"anna", "anna "}} {
		if SameName(c.a, c.b) {
			t.Errorf("SameName(%q, %q) = true", c.a, c.b)
		}
	}
	// Go's EqualFold and SQLite's NOCASE disagree on exactly this pair; the
	// key does not.
	if !strings.EqualFold("kim", kelvinKim) || NameKey(kelvinKim) != "kim" {
		t.Errorf("NameKey(%q) = %q", kelvinKim, NameKey(kelvinKim))
	}
}

func TestCheckNewPassword(t *testing.T) {
	t.Parallel()
	for pw, ok := range map[string]bool{
		"": false, "short": false, "123456789": false, "1234567890": true,
		"äöüäöüäöüä":            true, // ten characters, twenty bytes
		strings.Repeat("x", 72): true, strings.Repeat("x", 73): false,
	} {
		err := CheckNewPassword(pw)
		if (err == nil) != ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("CheckNewPassword(%q) = %v, want ok=%v", pw, err, ok)
		}
	}
}

// A name that collides with an existing one after normalisation is
// refused; look-ups by any spelling reach the one account; owners are
// matched by the key in the list filter.
func TestNormalisedNames(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	kim, err := db.CreateUser(ctx, User{Name: "kim"}, "kim-password")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{kelvinKim, "KIM", "Kim"} {
		if _, err := db.CreateUser(ctx, User{Name: n}, "other-password"); !errors.Is(err, ErrExists) {
			t.Errorf("CreateUser(%q) = %v, want ErrExists", n, err)
		}
		if u, err := db.User(ctx, n); err != nil || u.ID != kim.ID {
			t.Errorf("User(%q) = %+v, %v; want kim", n, u, err)
		}
	}
	if n, _ := db.UserCount(ctx); n != 1 {
		t.Fatalf("%d users, want 1", n)
	}
	ids := map[string]int64{}
	for i, owner := range []string{"kim", "KIM", kelvinKim, "kimberly", ""} {
		ids[owner] = upload(t, db, "d", "r"+string(rune('a'+i)), owner, []byte("x"))
	}
	recs, _, err := db.ListRecordings(ctx, ListFilter{Owners: []string{"Kim"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]bool{}
	for _, r := range recs {
		got[r.ID] = true
	}
	if len(got) != 3 || !got[ids["kim"]] || !got[ids["KIM"]] || !got[ids[kelvinKim]] {
		t.Errorf("owner filter kim: %v, want the recordings of kim, KIM and %s", got, kelvinKim)
	}
}

// A database from before the normalised names holding two accounts whose
// names collide: both are kept, the younger is disabled (it cannot be
// enabled) and loses its sessions, look-ups are deterministic, and the
// recordings get their owner keys.
func TestMigratePeopleCollisions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.db")
	ctx := context.Background()
	clk := newClock()
	db, err := OpenOptions(ctx, path, nil, Options{migrateTo: peopleStep(), Now: clk.Now, BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("right-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	var kimID, lookID int64
	for _, u := range []struct {
		name string
		id   *int64
	}{{"kim", &kimID}, {kelvinKim, &lookID}} {
		if err := db.w.QueryRowContext(ctx, `INSERT INTO users (name, role, password_hash, created_at)
			VALUES (?, 'user', ?, 1) RETURNING id`, u.name, string(hash)).Scan(u.id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.w.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at)
		VALUES (x'01', ?, 1, 9999999999999)`, lookID); err != nil {
		t.Fatal(err)
	}
	rec := insertOldRecording(t, db, "r1", "KIM")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = OpenOptions(ctx, path, testLogger(t), Options{Now: clk.Now, BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	defer db.Close()
	kim, err := db.User(ctx, "KIM")
	if err != nil || kim.ID != kimID || kim.Disabled {
		t.Errorf("User(KIM) = %+v, %v; want kim, enabled", kim, err)
	}
	look, err := db.User(ctx, kelvinKim)
	if err != nil || look.ID != lookID || !look.Disabled {
		t.Errorf("User(%s) = %+v, %v; want the look-alike itself, disabled", kelvinKim, look, err)
	}
	if _, err := db.Authenticate(ctx, kelvinKim, "right-password"); !errors.Is(err, ErrDisabled) {
		t.Errorf("look-alike signs in: %v", err)
	}
	if _, err := db.Authenticate(ctx, "Kim", "right-password"); err != nil {
		t.Errorf("kim cannot sign in: %v", err)
	}
	var sessions int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE user_id = ?`, lookID).Scan(&sessions); err != nil || sessions != 0 {
		t.Errorf("look-alike kept %d sessions (%v)", sessions, err)
	}
	if err := db.SetUserDisabled(ctx, kelvinKim, false); !errors.Is(err, ErrInvalid) {
		t.Errorf("enabling the look-alike: %v, want refused", err)
	}
	if err := db.DeleteUser(ctx, kelvinKim); err != nil {
		t.Fatal(err)
	}
	if u, err := db.User(ctx, "kim"); err != nil || u.ID != kimID {
		t.Errorf("kim after deleting the look-alike: %+v, %v", u, err)
	}
	recs, _, err := db.ListRecordings(ctx, ListFilter{Owners: []string{"kim"}})
	if err != nil || len(recs) != 1 || recs[0].ID != rec {
		t.Errorf("owner filter after upgrade: %+v, %v", recs, err)
	}
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

// Sessions end after the idle timeout unless used, and after their TTL
// however used; a check that is no use (CheckSession) does not keep one.
func TestSessionIdle(t *testing.T) {
	db, clk := openTest(t)
	ctx := context.Background()
	u, err := db.CreateUser(ctx, User{Name: "anna"}, "anna-password")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := db.CreateSession(ctx, u.ID, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(DefaultSessionIdle - time.Minute)
	if _, err := db.SessionUser(ctx, tok); err != nil { // a use: slides the idle timeout
		t.Fatalf("used within the idle time: %v", err)
	}
	clk.Advance(DefaultSessionIdle - time.Minute)
	if _, err := db.CheckSession(ctx, tok); err != nil {
		t.Fatalf("checked within the idle time since the last use: %v", err)
	}
	clk.Advance(2 * time.Minute) // idle timeout since the last use: gone, the check did not count
	if _, err := db.SessionUser(ctx, tok); !errors.Is(err, ErrNotFound) {
		t.Fatalf("idle session: %v, want ErrNotFound", err)
	}
	if n, err := db.DeleteExpiredSessions(ctx); err != nil || n != 1 {
		t.Errorf("DeleteExpiredSessions = %d, %v; want the idle one", n, err)
	}
	// Used every hour, a session still ends at its TTL.
	tok, err = db.CreateSession(ctx, u.ID, 3*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		clk.Advance(time.Hour)
		if _, err := db.SessionUser(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Hour)
	if _, err := db.SessionUser(ctx, tok); !errors.Is(err, ErrNotFound) {
		t.Fatalf("session past its TTL: %v", err)
	}
}

// Everything that changes what an account may do ends its sessions:
// a new password, a role change, disabling; a disabled account signs in
// nowhere.
func TestAccountChangesEndSessions(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	u, err := db.CreateUser(ctx, User{Name: "anna", Role: RoleAdmin}, "anna-password")
	if err != nil {
		t.Fatal(err)
	}
	alive := func() bool {
		t.Helper()
		var n int
		if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE user_id = ?`, u.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	session := func() string {
		t.Helper()
		tok, err := db.CreateSession(ctx, u.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for _, c := range []struct {
		name   string
		change func() error
		ends   bool
	}{
		{"display name", func() error { return db.UpdateUser(ctx, User{Name: "anna", DisplayName: "A", Role: RoleAdmin}) }, false},
		{"role", func() error { return db.UpdateUser(ctx, User{Name: "ANNA", Role: RoleUser}) }, true},
		{"password", func() error { return db.SetPassword(ctx, "anna", "new-password-1") }, true},
		{"disable", func() error { return db.SetUserDisabled(ctx, "anna", true) }, true},
	} {
		tok := session()
		if err := c.change(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if alive() == c.ends {
			t.Errorf("%s: sessions alive %v, want %v", c.name, !c.ends, !c.ends)
		}
		if _, err := db.SessionUser(ctx, tok); (err == nil) == c.ends {
			t.Errorf("%s: SessionUser = %v", c.name, err)
		}
	}
	if _, err := db.CreateSession(ctx, u.ID, time.Hour); !errors.Is(err, ErrNotFound) {
		t.Errorf("session for a disabled account: %v", err)
	}
	if _, err := db.Authenticate(ctx, "anna", "new-password-1"); !errors.Is(err, ErrDisabled) {
		t.Errorf("disabled account signs in: %v", err)
	}
	if _, err := db.Authenticate(ctx, "anna", "wrong-password"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("disabled account, wrong password: %v (must not tell it is disabled)", err)
	}
	if _, err := db.ActiveUser(ctx, u.ID); !errors.Is(err, ErrDisabled) {
		t.Errorf("ActiveUser of a disabled account: %v", err)
	}
	if err := db.SetUserDisabled(ctx, "anna", false); err != nil {
		t.Fatal(err)
	}
	if a, err := db.Authenticate(ctx, "anna", "new-password-1"); err != nil || a.PasswordAt.IsZero() {
		t.Errorf("enabled again: %+v, %v", a, err)
	}
}

// The recordings of a deleted account stay and go, in one move, to
// another owner; the search text follows; nothing else changes.
func TestReassignRecordings(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	if _, err := db.CreateUser(ctx, User{Name: "bob"}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, User{Name: "carol"}, ""); err != nil {
		t.Fatal(err)
	}
	b1 := upload(t, db, "d", "b1", "bob", []byte("x"))
	b2 := upload(t, db, "d", "b2", "BOB", []byte("x"))
	c1 := upload(t, db, "d", "c1", "carol", []byte("x"))
	if err := db.SetCDR(ctx, b1, CDR{Direction: "in", PeerName: "Zoe Zander", PeerNumber: "+4971"}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteUser(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	ids, err := db.ReassignRecordings(ctx, "bob", "carol")
	if err != nil || len(ids) != 2 {
		t.Fatalf("ReassignRecordings = %v, %v; want b1 and b2", ids, err)
	}
	for _, id := range []int64{b1, b2} {
		r, err := db.Recording(ctx, id)
		if err != nil || r.Owner != "carol" || r.OwnerSource != OwnerByAdmin {
			t.Errorf("recording %d: %+v, %v", id, r, err)
		}
	}
	if r, _ := db.Recording(ctx, c1); r.OwnerSource == OwnerByAdmin {
		t.Errorf("carol's own recording was touched: %+v", r)
	}
	recs, _, err := db.ListRecordings(ctx, ListFilter{Owners: []string{"carol"}, Query: "zoe"})
	if err != nil || len(recs) != 1 || recs[0].ID != b1 {
		t.Errorf("search after the move: %+v, %v", recs, err)
	}
	var search string
	if err := db.r.QueryRowContext(ctx, `SELECT search FROM recordings WHERE id = ?`, b1).Scan(&search); err != nil ||
		search != db.searchText("carol", "Zoe Zander", "+4971", "bob") {
		t.Errorf("search text after the move: %q, %v", search, err)
	}
	if ids, err := db.ReassignRecordings(ctx, "bob", "carol"); err != nil || len(ids) != 0 {
		t.Errorf("second move: %v, %v", ids, err)
	}
	if _, err := db.ReassignRecordings(ctx, "bob", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("move to nobody: %v", err)
	}
}
