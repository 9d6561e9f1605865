package settings

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"recordings/internal/invalid"
)

// TestTypedSetters: every typed setter goes through Set: validated
// (refusals are *invalid.Error for the key), stored, logged with who did
// it (secrets masked) and applied, running the hooks.
func TestTypedSetters(t *testing.T) {
	ctx := context.Background()
	db, s, _, out := setup(t)
	var changed [][]string
	s.OnChange(func(_ context.Context, c []string) { changed = append(changed, c) })
	if err := s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if d, set := s.NoCDRGrace(); d != DefaultNoCDRGrace || set {
		t.Errorf("NoCDRGrace unset = %v, %v", d, set)
	}
	if n, set := s.LicenceCount(); n != 0 || set {
		t.Errorf("LicenceCount unset = %d, %v", n, set)
	}

	for _, step := range []struct {
		name string
		err  error
	}{
		{"cdr user", s.SetCDRUser(ctx, "root", " pbx ")},
		{"cdr password", s.SetCDRPassword(ctx, "root", "cdr-secret")},
		{"app password", s.SetAppPassword(ctx, "root", "app-secret")},
		{"grace", s.SetNoCDRGrace(ctx, "root", 10*time.Minute)},
		{"licences", s.SetLicenceCount(ctx, "root", 5)},
	} {
		if step.err != nil {
			t.Fatalf("%s: %v", step.name, step.err)
		}
	}
	if u, p := s.CDRCredentials(); u != "pbx" || p != "cdr-secret" {
		t.Errorf("CDRCredentials = %q, %q", u, p)
	}
	if s.AppPassword() != "app-secret" {
		t.Errorf("AppPassword = %q", s.AppPassword())
	}
	if d, set := s.NoCDRGrace(); d != 10*time.Minute || !set || db.get(KeyNoCDRGrace) != "600" {
		t.Errorf("NoCDRGrace = %v, %v (stored %q)", d, set, db.get(KeyNoCDRGrace))
	}
	if n, set := s.LicenceCount(); n != 5 || !set {
		t.Errorf("LicenceCount = %d, %v", n, set)
	}
	want := [][]string{{}, {KeyCDRUser}, {KeyCDRPassword}, {KeyAppPassword, KeyAppPasswordUnseen}, {KeyNoCDRGrace}, {KeyLicenceCount}}
	if !slices.EqualFunc(changed, want, slices.Equal) {
		t.Errorf("hooks saw %q, want %q", changed, want)
	}
	log := out.String()
	for _, w := range []string{"user=root key=cdr_user value=pbx", "key=nocdr_grace_seconds value=600",
		"category=License user=root key=licence_count value=5", "key=instance_password value=(changed)"} {
		if !strings.Contains(log, w) {
			t.Errorf("log lacks %q:\n%s", w, log)
		}
	}
	if strings.Contains(log, "secret") {
		t.Errorf("a password was logged:\n%s", log)
	}

	// Refusals: by Validate, or by the store's licence check.
	db.assigned = 3
	for _, tc := range []struct {
		name, field string
		err         error
	}{
		{"user with a colon", KeyCDRUser, s.SetCDRUser(ctx, "root", "a:b")},
		{"password with a newline", KeyAppPassword, s.SetAppPassword(ctx, "root", "a\nb")},
		{"grace too long", KeyNoCDRGrace, s.SetNoCDRGrace(ctx, "root", 8*24*time.Hour)},
		{"grace not whole seconds", KeyNoCDRGrace, s.SetNoCDRGrace(ctx, "root", 1500*time.Millisecond)},
		{"negative licences", KeyLicenceCount, s.SetLicenceCount(ctx, "root", -1)},
		{"licences below assigned", KeyLicenceCount, s.SetLicenceCount(ctx, "root", 2)},
	} {
		e, ok := invalid.As(tc.err)
		if !ok || e.Field != tc.field || !errors.Is(tc.err, ErrInvalid) {
			t.Errorf("%s: %v, want an *invalid.Error for %s", tc.name, tc.err, tc.field)
		}
	}
	if n, _ := s.LicenceCount(); n != 5 {
		t.Errorf("licence count %d after refused changes", n)
	}

	// Clearing removes the setting: licences are no longer enforced.
	if err := s.ClearLicenceCount(ctx, "root"); err != nil {
		t.Fatal(err)
	}
	if _, set := s.LicenceCount(); set {
		t.Error("licence count still configured after ClearLicenceCount")
	}
	if _, ok := db.m[KeyLicenceCount]; ok {
		t.Error("licence count still stored")
	}

	// A store failure is returned, nothing is logged as changed.
	db.fail = errDiskFull
	before := out.String()
	if err := s.SetCDRUser(ctx, "root", "other"); !errors.Is(err, errDiskFull) {
		t.Errorf("store failure: %v", err)
	}
	if out.String() != before {
		t.Errorf("a failed change was logged:\n%s", strings.TrimPrefix(out.String(), before))
	}
}
