package store

import (
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"recordings/internal/invalid"
)

// NameKey is the one form in which account names are compared: Unicode
// NFKC, full case folding, NFKC again (folding may leave text that is not
// normalised). "Kim" with the Kelvin sign U+212A, "KIM" and "kim" all have
// the key "kim"; so do "ﬁ" and "FI" the key "fi".
//
// Every comparison of account names goes through it: user look-ups by name
// (users.name_key), recording owners (recordings.owner_key, the list
// filter), access lists and the access rule of the HTTP layer. Neither
// Go's strings.EqualFold nor SQLite's NOCASE is used for names: the two
// fold differently (NOCASE folds ASCII only), which let a look-alike
// account pass one check and fail the other.
func NameKey(name string) string {
	// A Caser keeps state: one per call.
	return norm.NFKC.String(cases.Fold().String(norm.NFKC.String(name)))
}

// SameName reports whether a and b name the same account.
func SameName(a, b string) bool {
	if a == b {
		return true
	}
	return NameKey(a) == NameKey(b)
}

// MinPasswordLen is the shortest password a person may choose, in
// characters (bcrypt's limit, maxPasswordLen bytes, is the longest). Every path that takes a
// new password checks it with CheckNewPassword: creating a user, changing
// and resetting a password, create-admin and RECORDINGS_ADMIN_PASSWORD.
const MinPasswordLen = 10

// CheckNewPassword refuses a password a person may not choose, as an
// *invalid.Error for field "password".
func CheckNewPassword(pw string) error {
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return invalid.New("password", "at least %d characters", MinPasswordLen)
	case len(pw) > maxPasswordLen:
		return invalid.New("password", "at most %d bytes", maxPasswordLen)
	}
	return nil
}
