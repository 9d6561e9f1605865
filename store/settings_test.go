package store

import (
	"context"
	"errors"
	"maps"
	"testing"

	"recordings/internal/invalid"
	"recordings/settings"
)

// TestSetSettings: changes are stored all or none, an empty value removes
// the key, and the licence count cannot drop below the licences assigned
// whichever way it is written.
func TestSetSettings(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	if err := db.SetSettings(ctx, map[string]string{settings.KeyPBXName: "pbx", settings.KeyCDRUser: "cdr"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, User{Name: "anna"}, ""); err != nil {
		t.Fatal(err)
	}
	if err := db.SetSettings(ctx, map[string]string{settings.KeyLicenceCount: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetUserLicensed(ctx, "anna", true); err != nil {
		t.Fatal(err)
	}
	err := db.SetSettings(ctx, map[string]string{settings.KeyCDRUser: "", settings.KeyLicenceCount: "0", settings.KeyPBXName: "other"})
	if e, ok := invalid.As(err); !ok || e.Field != settings.KeyLicenceCount {
		t.Fatalf("licence count below assigned: %v", err)
	}
	want := map[string]string{settings.KeyPBXName: "pbx", settings.KeyCDRUser: "cdr", settings.KeyLicenceCount: "1"}
	if got, err := db.Settings(ctx); err != nil || !maps.Equal(got, want) {
		t.Fatalf("after a refused batch: %v %v, want %v", got, err, want)
	}
	if err := db.SetSetting(ctx, settings.KeyLicenceCount, "0"); !errors.Is(err, ErrInvalid) {
		t.Errorf("SetSetting below assigned: %v", err)
	}
	if err := db.SetSettings(ctx, map[string]string{settings.KeyCDRUser: "", settings.KeyLicenceCount: "2"}); err != nil {
		t.Fatal(err)
	}
	want = map[string]string{settings.KeyPBXName: "pbx", settings.KeyLicenceCount: "2"}
	if got, _ := db.Settings(ctx); !maps.Equal(got, want) {
		t.Errorf("settings %v, want %v", got, want)
	}
}
