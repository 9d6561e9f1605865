package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestUsers(t *testing.T) {
	t.Parallel()
	db, clk := openTest(t)
	ctx := context.Background()
	if n, err := db.UserCount(ctx); err != nil || n != 0 {
		t.Fatalf("UserCount of new database = %d, %v", n, err)
	}
	alice, err := db.CreateUser(ctx, User{Name: "alice", DisplayName: "Alice A.", E164: "+49701",
		Role: RoleAdmin, MACs: []string{"00:90:33:AA:BB:CC", "009033010203"}}, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if alice.ID == 0 || !alice.HasPassword || !alice.CreatedAt.Equal(clk.Now()) ||
		!slices.Equal(alice.MACs, []string{"009033010203", "009033aabbcc"}) {
		t.Errorf("CreateUser returned %+v", alice)
	}
	pbx, err := db.CreateUser(ctx, User{Name: "pbxonly"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if pbx.Role != RoleUser || pbx.HasPassword {
		t.Errorf("PBX-only user = %+v", pbx)
	}

	for _, c := range []struct {
		name string
		u    User
		pw   string
		want error
	}{
		{"duplicate", User{Name: "alice"}, "x", ErrExists},
		{"duplicate other case", User{Name: "ALICE"}, "x", ErrExists},
		{"MAC taken", User{Name: "bob", MACs: []string{"00-90-33-aa-bb-cc"}}, "x", ErrExists},
		{"empty name", User{Name: " "}, "x", ErrInvalid},
		{"long name", User{Name: strings.Repeat("a", 65)}, "x", ErrInvalid},
		{"bad role", User{Name: "r", Role: "root"}, "x", ErrInvalid},
		{"bad MAC", User{Name: "m", MACs: []string{"xyz"}}, "x", ErrInvalid},
		{"short MAC", User{Name: "m", MACs: []string{"0090"}}, "x", ErrInvalid},
		{"bad E164", User{Name: "e", E164: "12a"}, "x", ErrInvalid},
		{"long password", User{Name: "p"}, strings.Repeat("x", 73), ErrInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := db.CreateUser(ctx, c.u, c.pw); !errors.Is(err, c.want) {
				t.Errorf("CreateUser(%+v) = %v, want %v", c.u, err, c.want)
			}
		})
	}
	if _, err := db.User(ctx, "bob"); !errors.Is(err, ErrNotFound) {
		t.Errorf("failed CreateUser left a user behind: %v", err)
	}

	for _, c := range []struct {
		name, user, pw string
		ok             bool
	}{
		{"right", "alice", "s3cret", true},
		{"name case-insensitive", "Alice", "s3cret", true},
		{"wrong", "alice", "s3cret!", false},
		{"empty", "alice", "", false},
		{"unknown", "nobody", "s3cret", false},
		{"pbx-only", "pbxonly", "", false},
		{"too long", "alice", strings.Repeat("s", 100), false},
	} {
		t.Run("auth/"+c.name, func(t *testing.T) {
			u, err := db.Authenticate(ctx, c.user, c.pw)
			if c.ok && (err != nil || u.ID != alice.ID) {
				t.Errorf("Authenticate = %+v, %v; want alice", u, err)
			}
			if !c.ok && !errors.Is(err, ErrBadCredentials) {
				t.Errorf("Authenticate = %+v, %v; want ErrBadCredentials", u, err)
			}
		})
	}

	if err := db.SetPassword(ctx, "pbxonly", "now-local"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Authenticate(ctx, "pbxonly", "now-local"); err != nil {
		t.Errorf("login after SetPassword: %v", err)
	}
	if err := db.SetPassword(ctx, "nobody", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetPassword(unknown) = %v", err)
	}

	alice.DisplayName, alice.Role, alice.MACs = "Alice", RoleUser, []string{"0090330a0b0c"}
	if err := db.UpdateUser(ctx, alice); err != nil {
		t.Fatal(err)
	}
	got, err := db.User(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if got.DisplayName != "Alice" || got.Role != RoleUser || !slices.Equal(got.MACs, []string{"0090330a0b0c"}) ||
		got.E164 != "+49701" {
		t.Errorf("after UpdateUser: %+v", got)
	}
	if u, err := db.UserByMAC(ctx, "00:90:33:0A:0B:0C"); err != nil || u.ID != alice.ID {
		t.Errorf("UserByMAC = %+v, %v", u, err)
	}
	if _, err := db.UserByMAC(ctx, "009033aabbcc"); !errors.Is(err, ErrNotFound) {
		t.Errorf("UserByMAC(removed MAC) = %v", err)
	}
	if err := db.UpdateUser(ctx, User{ID: pbx.ID, Name: "alice"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateUser with mismatched id = %v, want ErrNotFound", err)
	}
	users, err := db.Users(ctx)
	if err != nil || len(users) != 2 || users[0].Name != "alice" || users[1].Name != "pbxonly" {
		t.Errorf("Users = %+v, %v", users, err)
	}
	if err := db.DeleteUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteUser(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second DeleteUser = %v", err)
	}
	if n, _ := db.UserCount(ctx); n != 1 {
		t.Errorf("UserCount = %d, want 1", n)
	}
	// Her MAC is free again.
	if _, err := db.CreateUser(ctx, User{Name: "bob", MACs: []string{"0090330a0b0c"}}, ""); err != nil {
		t.Errorf("reuse of a deleted user's MAC: %v", err)
	}
}

func TestSessions(t *testing.T) {
	t.Parallel()
	db, clk := openTest(t)
	ctx := context.Background()
	u, err := db.CreateUser(ctx, User{Name: "alice"}, "pw")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := db.CreateSession(ctx, u.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tok2, err := db.CreateSession(ctx, u.ID, 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 43 || tok == tok2 {
		t.Fatalf("tokens %q %q", tok, tok2)
	}
	var stored int
	if err := db.w.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE token_hash = ?`, tok).Scan(&stored); err != nil || stored != 0 {
		t.Errorf("token stored in clear (%d, %v)", stored, err)
	}
	for _, c := range []struct {
		name    string
		advance time.Duration
		token   string
		ok      bool
	}{
		{"fresh", 0, tok, true},
		{"almost expired", time.Hour - time.Millisecond, tok, true},
		{"expired", time.Millisecond, tok, false},
		{"longer one alive", 0, tok2, true},
		{"malformed", 0, "not-a-token", false},
		{"empty", 0, "", false},
		{"unknown", 0, strings.Repeat("A", 43), false},
		{"longer one expired", time.Hour, tok2, false},
	} {
		clk.Advance(c.advance)
		got, err := db.SessionUser(ctx, c.token)
		if c.ok && (err != nil || got.ID != u.ID) {
			t.Errorf("%s: SessionUser = %+v, %v", c.name, got, err)
		}
		if !c.ok && !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: SessionUser = %+v, %v; want ErrNotFound", c.name, got, err)
		}
	}
	if n, err := db.DeleteExpiredSessions(ctx); err != nil || n != 2 {
		t.Errorf("DeleteExpiredSessions = %d, %v; want 2", n, err)
	}

	tok3, err := db.CreateSession(ctx, u.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteSession(ctx, tok3); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SessionUser(ctx, tok3); !errors.Is(err, ErrNotFound) {
		t.Errorf("session alive after logout: %v", err)
	}
	if _, err := db.CreateSession(ctx, u.ID+100, time.Hour); !errors.Is(err, ErrNotFound) {
		t.Errorf("CreateSession(unknown user) = %v", err)
	}
	if _, err := db.CreateSession(ctx, u.ID, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("CreateSession(ttl 0) = %v", err)
	}
	tok4, _ := db.CreateSession(ctx, u.ID, time.Hour)
	if n, err := db.DeleteUserSessions(ctx, u.ID); err != nil || n != 1 {
		t.Errorf("DeleteUserSessions = %d, %v", n, err)
	}
	tok5, _ := db.CreateSession(ctx, u.ID, time.Hour)
	if err := db.DeleteUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	for _, tk := range []string{tok4, tok5} {
		if _, err := db.SessionUser(ctx, tk); !errors.Is(err, ErrNotFound) {
			t.Errorf("session alive after user deletion: %v", err)
		}
	}
}

func TestSettings(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	ctx := context.Background()
	if _, ok, err := db.Setting(ctx, "retention"); ok || err != nil {
		t.Fatalf("unset setting: %v, %v", ok, err)
	}
	for _, kv := range [][2]string{{"retention", "30d"}, {"retention", "90d"}, {"name", "Büro"}, {"empty", ""}} {
		if err := db.SetSetting(ctx, kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	all, err := db.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"retention": "90d", "name": "Büro", "empty": ""}
	if len(all) != len(want) {
		t.Errorf("Settings = %v, want %v", all, want)
	}
	for k, v := range want {
		if got, ok, _ := db.Setting(ctx, k); !ok || got != v || all[k] != v {
			t.Errorf("setting %s = %q (%v), all[%s] = %q; want %q", k, got, ok, k, all[k], v)
		}
	}
	if err := db.SetSetting(ctx, "", "x"); !errors.Is(err, ErrInvalid) {
		t.Errorf("SetSetting(empty key) = %v", err)
	}
	if err := db.DeleteSetting(ctx, "name"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.Setting(ctx, "name"); ok {
		t.Error("setting survives DeleteSetting")
	}
}
