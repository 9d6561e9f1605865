package store

import (
	"context"
	"strings"
	"testing"

	"recordings/internal/invalid"
	"recordings/settings"
)

// TestInvalidInput: input a user sent is refused with an *invalid.Error
// naming the field, with a message that needs no "store: " cut off.
func TestInvalidInput(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	if _, err := db.CreateUser(ctx, User{Name: "lic"}, ""); err != nil {
		t.Fatal(err)
	}
	if err := db.SetSettings(ctx, map[string]string{settings.KeyLicenceCount: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetUserLicensed(ctx, "lic", true); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, User{Name: "other"}, ""); err != nil {
		t.Fatal(err)
	}
	second := func(_ any, err error) error { return err }
	third := func(_ any, _ any, err error) error { return err }
	for _, tc := range []struct {
		name  string
		err   error
		field string
	}{
		{"empty user name", second(db.CreateUser(ctx, User{Name: " "}, "")), "name"},
		{"display name with a newline", second(db.CreateUser(ctx, User{Name: "d", DisplayName: "a\nb"}, "")), "display_name"},
		{"bad number", second(db.CreateUser(ctx, User{Name: "e", E164: "12a"}, "")), "e164"},
		{"bad role", second(db.CreateUser(ctx, User{Name: "r", Role: "root"}, "")), "role"},
		{"bad MAC", second(db.CreateUser(ctx, User{Name: "m", MACs: []string{"xyz"}}, "")), "macs"},
		{"long password", second(db.CreateUser(ctx, User{Name: "p"}, strings.Repeat("x", 73))), "password"},
		{"app object type", second(db.CreateAppObject(ctx, AppObject{Name: "x", Type: "boss"})), "type"},
		{"app object access", second(db.CreateAppObject(ctx, AppObject{Name: "x", Access: []string{""}})), "access"},
		{"negative limit", third(db.ListRecordings(ctx, ListFilter{Limit: -1})), "limit"},
		{"forged cursor", third(db.ListRecordings(ctx, ListFilter{Cursor: "!!"})), "cursor"},
		{"query", third(db.ListRecordings(ctx, ListFilter{Query: "a\x00"})), "query"},
		{"recording name", third(db.BeginUpload(ctx, "d", "", FileName{}, "")), "name"},
		{"licences below assigned", db.SetSettings(ctx, map[string]string{settings.KeyLicenceCount: "0"}), "licence_count"},
		{"no licence left", db.SetUserLicensed(ctx, "other", true), "licensed"},
	} {
		e, ok := invalid.As(tc.err)
		if !ok {
			t.Errorf("%s: %v is not an *invalid.Error", tc.name, tc.err)
			continue
		}
		if e.Field != tc.field || e.Message == "" || strings.Contains(e.Message, "store:") {
			t.Errorf("%s: field %q message %q; want field %q and a clean message", tc.name, e.Field, e.Message, tc.field)
		}
		if !strings.HasPrefix(tc.err.Error(), "store: ") {
			t.Errorf("%s: %q lost the store's context", tc.name, tc.err)
		}
	}
}
