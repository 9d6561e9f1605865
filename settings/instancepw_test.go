package settings

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// TestAppPasswordShownOnce: a password generated at the first start, set
// or generated later is shown with a token until AckAppPassword gets that
// token; an older token hides nothing; a password fixed at start-up is
// never shown.
func TestAppPasswordShownOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, s, _, _ := setup(t)
	if err := s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := s.AppPasswordShown(); ok {
		t.Fatal("shown before there is one")
	}
	gen, err := s.EnsureCredentials(ctx, "start-up")
	if err != nil {
		t.Fatal(err)
	}
	pw, tok1, ok := s.AppPasswordShown()
	if !ok || pw != gen[KeyAppPassword] || tok1 == "" || db.get(KeyAppPasswordUnseen) != tok1 {
		t.Fatalf("generated at start: %q %q %v", pw, tok1, ok)
	}
	if _, err := s.AckAppPassword(ctx, "root", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("no token: %v", err)
	}
	if hid, err := s.AckAppPassword(ctx, "root", "OTHER"); hid || err != nil {
		t.Errorf("a wrong token: %v %v", hid, err)
	}
	if hid, err := s.AckAppPassword(ctx, "root", tok1); !hid || err != nil {
		t.Fatalf("its token: %v %v", hid, err)
	}
	if _, _, ok := s.AppPasswordShown(); ok || s.AppPassword() != pw {
		t.Fatalf("after the confirmation: shown %v, password %q", ok, s.AppPassword())
	}

	newPW, err := s.GenerateAppPassword(ctx, "root")
	if err != nil || len(newPW) < 16 || newPW == pw {
		t.Fatalf("generate: %q %v", newPW, err)
	}
	_, tok2, ok := s.AppPasswordShown()
	if !ok || tok2 == tok1 {
		t.Fatalf("generated: token %q (old %q), shown %v", tok2, tok1, ok)
	}
	if err := s.SetAppPassword(ctx, "root", "by-hand-pw"); err != nil {
		t.Fatal(err)
	}
	shown, tok3, _ := s.AppPasswordShown()
	if hid, _ := s.AckAppPassword(ctx, "root", tok2); hid || shown != "by-hand-pw" || tok3 == tok2 {
		t.Errorf("an older token hid the newer password (%v), shown %q", hid, shown)
	}
	if err := s.Set(ctx, "root", map[string]string{KeyAppPasswordUnseen: "bad token!"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("a malformed token stored: %v", err)
	}

	// Confirmations and new passwords at once: the last password set is
	// shown until its own token is confirmed.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { _, _ = s.AckAppPassword(ctx, "root", tok3) })
		wg.Go(func() { _ = s.SetAppPassword(ctx, "root", "racing-pw") })
	}
	wg.Wait()
	if p, tok, ok := s.AppPasswordShown(); !ok || p != "racing-pw" || tok == tok3 {
		t.Errorf("after the race: %q %q %v", p, tok, ok)
	}

	// Fixed at start-up: never shown, not generated.
	_, f, _, _ := setup(t)
	if err := f.Fix(KeyAppPassword, "from-env-pw", "RECORDINGS_INSTANCE_PASSWORD"); err != nil {
		t.Fatal(err)
	}
	if err := f.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := f.AppPasswordShown(); ok {
		t.Error("a fixed password shown")
	}
	if _, err := f.GenerateAppPassword(ctx, "root"); !errors.Is(err, ErrInvalid) {
		t.Errorf("generating a fixed password: %v", err)
	}
}
