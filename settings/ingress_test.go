package settings

import (
	"context"
	"errors"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"recordings/internal/invalid"
)

func TestParseNetworks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string // want "" with ok false: refused
		ok       bool
	}{
		{"", "", true},
		{"192.0.2.0/24", "192.0.2.0/24", true},
		{" 192.0.2.7 , 2001:db8::/32;10.0.0.0/8\n", "192.0.2.7, 2001:db8::/32, 10.0.0.0/8", true},
		{"192.0.2.7/32", "192.0.2.7", true},
		{"::ffff:192.0.2.7", "192.0.2.7", true},
		{"192.0.2.7 192.0.2.7", "192.0.2.7", true},
		{"192.0.2.1/24", "", false}, // host bits: did you mean 192.0.2.0/24?
		{"192.0.2.0/33", "", false},
		{"example.com", "", false},
		{"fe80::1%eth0", "", false},
		{"::ffff:192.0.2.0/120", "", false},
		{"0.0.0.0/0", "0.0.0.0/0", true}, // the admin's choice: everyone
	} {
		nets, err := ParseNetworks(tc.in)
		if tc.ok != (err == nil) {
			t.Errorf("ParseNetworks(%q) = %v, %v", tc.in, nets, err)
			continue
		}
		if err != nil {
			var ie *invalid.Error
			if !errors.As(err, &ie) || ie.Field != KeyAnonymousNets {
				t.Errorf("ParseNetworks(%q): error %v is not an invalid.Error for the key", tc.in, err)
			}
			continue
		}
		if got := FormatNetworks(nets); got != tc.want {
			t.Errorf("ParseNetworks(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if v, err := Validate(KeyAnonymousNets, tc.in); err != nil || v != tc.want {
			t.Errorf("Validate(%q) = %q, %v", tc.in, v, err)
		}
	}
	var many []string
	for i := range MaxAnonymousNets + 1 {
		many = append(many, netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}).String())
	}
	if _, err := ParseNetworks(strings.Join(many, ",")); err == nil {
		t.Fatal("more than MaxAnonymousNets accepted")
	}
}

// Passwords can be replaced, never cleared: an empty one would open the
// endpoint (or, for AppLogin, mean nothing the admin can see).
func TestPasswordsCannotBeCleared(t *testing.T) {
	t.Parallel()
	for _, k := range []string{KeyUploadPassword, KeyCDRPassword, KeyAppPassword} {
		if _, err := Validate(k, ""); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s cleared: %v", k, err)
		}
		if v, err := Validate(k, " a b "); err != nil || v != " a b " {
			t.Errorf("%s = %q, %v", k, v, err)
		}
	}
	if _, err := Validate(KeyUploadUser, "a:b"); err == nil {
		t.Error("upload user with ':' accepted")
	}
	if !Secret(KeyUploadPassword) || Secret(KeyUploadUser) {
		t.Error("Secret: upload password must be secret, the user not")
	}
}

func TestGenerateSecret(t *testing.T) {
	t.Parallel()
	a, b := GenerateSecret(), GenerateSecret()
	if len(a) < 16 || a == b || strings.Trim(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
		t.Fatalf("GenerateSecret = %q, %q", a, b)
	}
}

// A fresh installation gets every missing credential generated, nothing
// pending; values fixed at start-up are kept and cannot be changed.
func TestEnsureCredentialsFresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, s, _, out := setup(t)
	if err := s.Fix(KeyUploadPassword, "from-env", "RECORDINGS_UPLOAD_PASSWORD"); err != nil {
		t.Fatal(err)
	}
	if err := s.Fix(KeyCDRUser, "bad:user", "RECORDINGS_CDR_USER"); err == nil ||
		!strings.Contains(err.Error(), "RECORDINGS_CDR_USER") {
		t.Fatalf("an invalid fixed value: %v", err)
	}
	if err := s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	gen, err := s.EnsureCredentials(ctx, "start-up")
	if err != nil {
		t.Fatal(err)
	}
	keys := slices.Sorted(maps.Keys(gen))
	if want := []string{KeyCDRPassword, KeyCDRUser, KeyAppPassword}; !slices.Equal(keys, want) {
		t.Fatalf("generated %q, want %q", keys, want)
	}
	v := s.Values()
	if v.UploadPassword != "from-env" || v.UploadUser != "" || v.CDRUser != DefaultCDRUser ||
		v.CDRPassword != gen[KeyCDRPassword] || v.AppPassword != gen[KeyAppPassword] || len(v.Pending) != 0 {
		t.Fatalf("values: %+v", v)
	}
	if db.get(KeyUploadPassword) != "" || db.get(KeyCDRPassword) != gen[KeyCDRPassword] {
		t.Fatal("a fixed value was stored, or a generated one not")
	}
	if strings.Contains(out.String(), gen[KeyCDRPassword]) {
		t.Fatal("a generated password went to the settings log")
	}
	if err := s.Set(ctx, "admin", map[string]string{KeyUploadPassword: "other"}); !errors.Is(err, ErrInvalid) ||
		!strings.Contains(err.Error(), "RECORDINGS_UPLOAD_PASSWORD") {
		t.Fatalf("changing a fixed value: %v", err)
	}
	if s.FixedBy(KeyUploadPassword) != "RECORDINGS_UPLOAD_PASSWORD" || s.FixedBy(KeyCDRPassword) != "" {
		t.Fatal("FixedBy")
	}
	if got := s.Problems(); !slices.Equal(got, []string{PBXNameMissing}) {
		t.Fatalf("problems: %q", got)
	}
	// The next start generates nothing.
	if gen, err := s.EnsureCredentials(ctx, "start-up", PendingUpload, PendingCDR); err != nil || gen != nil {
		t.Fatalf("second start: %v, %v", gen, err)
	}
}

// At an upgrade, the generated upload and CDR credentials are problems
// until a device has used them.
func TestEnsureCredentialsUpgrade(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, s, _, _ := setup(t)
	if err := s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	// The old CDR setting: a user without password.
	if err := s.Set(ctx, "admin", map[string]string{KeyCDRUser: "pbx", KeyPBXName: "pbx1"}); err != nil {
		t.Fatal(err)
	}
	gen, err := s.EnsureCredentials(ctx, "start-up", PendingUpload, PendingCDR)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := gen[KeyCDRUser]; ok || gen[KeyUploadUser] != DefaultUploadUser {
		t.Fatalf("generated %v", gen)
	}
	v := s.Values()
	if v.CDRUser != "pbx" || !slices.Equal(v.Pending, []string{PendingCDR, PendingUpload}) {
		t.Fatalf("values: %+v", v)
	}
	if got := s.Problems(); !slices.Equal(got, []string{UploadCredentialsPending, CDRCredentialsPending}) {
		t.Fatalf("problems: %q", got)
	}
	if err := s.Used(ctx, PendingUpload); err != nil {
		t.Fatal(err)
	}
	if got := s.Problems(); !slices.Equal(got, []string{CDRCredentialsPending}) {
		t.Fatalf("problems after an upload: %q", got)
	}
	if err := s.Used(ctx, PendingCDR); err != nil {
		t.Fatal(err)
	}
	if got := s.Problems(); len(got) != 0 {
		t.Fatalf("problems after a CDR: %q", got)
	}
}
