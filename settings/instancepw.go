package settings

import (
	"context"
	"crypto/rand"
	"maps"
	"strings"

	"recordings/internal/invalid"
)

// The instance password is shown to the administrators once (docs/pbx.md,
// Instance password): from the moment it is generated or set until an
// administrator confirms having copied it. KeyAppPasswordUnseen holds, in
// that time, a token naming that password; the admin API shows the password
// only while the token is set and takes it back (AckAppPassword) to hide
// it. A token names one password: a confirmation of an older one does not
// hide a newer one.

// KeyAppPasswordUnseen is the token of an instance password not yet
// confirmed by an administrator ("" : none; the password is not shown).
const KeyAppPasswordUnseen = "instance_password_unseen"

// maxUnseenToken bounds the token's length.
const maxUnseenToken = 64

// newUnseenToken names a newly set instance password.
func newUnseenToken() string { return rand.Text()[:16] }

// validateUnseen checks a token: "" or letters and digits.
func validateUnseen(value string) (string, error) {
	v := strings.TrimSpace(value)
	if len(v) > maxUnseenToken || strings.ContainsFunc(v, func(r rune) bool {
		return (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') && (r < '0' || r > '9')
	}) {
		return "", invalid.New(KeyAppPasswordUnseen, "%.20q is not a token of the instance password", value)
	}
	return v, nil
}

// withUnseen serialises the writes of the instance password with their
// confirmations, and gives a new password a new token (unless changes set
// one); Set calls it first and unlock when done.
func (s *Service) withUnseen(changes map[string]string) (out map[string]string, unlock func()) {
	_, pw := changes[KeyAppPassword]
	_, tok := changes[KeyAppPasswordUnseen]
	if !pw && !tok {
		return changes, func() {}
	}
	s.pwMu.Lock()
	if pw && !tok {
		changes = maps.Clone(changes)
		changes[KeyAppPasswordUnseen] = newUnseenToken()
	}
	return changes, s.pwMu.Unlock
}

// AppPasswordShown returns the instance password and its token while an
// administrator has not confirmed it (ok false otherwise, and always for a
// password given at start-up, which the administrator knows).
func (s *Service) AppPasswordShown() (password, token string, ok bool) {
	if s.FixedBy(KeyAppPassword) != "" {
		return "", "", false
	}
	v := s.Values()
	if v.AppPassword == "" || v.AppPasswordUnseen == "" {
		return "", "", false
	}
	return v.AppPassword, v.AppPasswordUnseen, true
}

// AckAppPassword records that an administrator (by) has copied the
// instance password named by token: from then on it is not shown. It
// reports whether it hid one; a token of an older password hides nothing
// (the newer one stays shown).
func (s *Service) AckAppPassword(ctx context.Context, by, token string) (bool, error) {
	if token == "" {
		return false, invalid.New("token", "the token of the instance password shown is required")
	}
	s.pwMu.Lock()
	defer s.pwMu.Unlock()
	if cur := s.Values().AppPasswordUnseen; cur == "" || cur != token {
		return false, nil
	}
	return true, s.set(ctx, by, map[string]string{KeyAppPasswordUnseen: ""})
}

// GenerateAppPassword gives the instance a new generated password
// (GenerateSecret) as done by by and returns it; it is shown until
// confirmed, like one set by hand.
func (s *Service) GenerateAppPassword(ctx context.Context, by string) (string, error) {
	pw := GenerateSecret()
	if err := s.Set(ctx, by, map[string]string{KeyAppPassword: pw}); err != nil {
		return "", err
	}
	return pw, nil
}
