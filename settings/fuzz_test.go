package settings

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzValidate: any key and value either fail with ErrInvalid or come back
// normalised, printable, within bounds, and stable under a second Validate.
func FuzzValidate(f *testing.F) {
	for _, seed := range [][2]string{
		{KeyPBXName, " pbx "}, {KeyRetentionDays, "30"}, {KeyRetentionDays, "-0"}, {KeyLogRetentionDays, "+7"},
		{KeyLicenceCount, "010"}, {KeyCDRUser, "u:p"}, {KeyCDRPassword, "pw"}, {KeyNoCDRGrace, "600"},
		{KeyReplicaURL, "file:///var/backups//db/"}, {KeyReplicaURL, "s3://bucket/a/../b/"},
		{KeyAppPasswordUnseen, "ABC234"}, {KeyAppPasswordUnseen, "a b"},
		{KeyDomain, " example.com "}, {KeyDomain, "a/b"}, {KeyDomain, "b.example, a.example,,B.example"}, {KeyPBXSeen, "b.example, a.example,a.example"},
		{"retention_days@A.example", "30"}, {"pbx_name@a.example", ""}, {"cdr_user@a.example", "x"}, {"pbx_name@a,b", "p"},
		{"trace.ui", "DEBUG"}, {"trace.Call Information", "Off"}, {"trace.", "info"}, {"x", "y"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		key = CanonicalKey(key)
		v, err := Validate(key, value)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate(%q, %q): %v is not ErrInvalid", key, value, err)
			}
			return
		}
		if !utf8.ValidString(v) || len(v) > MaxCredential {
			t.Fatalf("Validate(%q, %q) = %q: not valid UTF-8 or too long", key, value, v)
		}
		again, err := Validate(key, v)
		if err != nil || again != v {
			t.Fatalf("Validate(%q, %q) = %q, but again = %q, %v", key, value, v, again, err)
		}
	})
}

// FuzzParseReplicaURL: a replica URL is refused with ErrInvalid or parsed
// into a file URL with an absolute, clean folder or an S3 URL with a valid
// bucket, whose canonical form parses to the same target.
func FuzzParseReplicaURL(f *testing.F) {
	for _, seed := range []string{"file:///var/backups/rec", "file://localhost/x/../y/", "s3://bucket/a/b/",
		"s3://Bucket/x", "s3://b..c/x", "s3://bucket/../x", "file:rel", "s3://k:s@bucket/p", "s3://bucket?x=1", " file:///a ", "file:/000 #"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseReplicaURL(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseReplicaURL(%q): %v is not ErrInvalid", s, err)
			}
			return
		}
		switch u.Scheme {
		case "file":
			if len(u.Path) < 2 || u.Path[0] != '/' || u.Bucket != "" {
				t.Fatalf("ParseReplicaURL(%q) = %+v: not an absolute folder", s, u)
			}
		case "s3":
			if !validBucket(u.Bucket) {
				t.Fatalf("ParseReplicaURL(%q) = %+v: bad bucket", s, u)
			}
		default:
			t.Fatalf("ParseReplicaURL(%q) = %+v: scheme", s, u)
		}
		again, err := ParseReplicaURL(u.String())
		if err != nil || again != u {
			t.Fatalf("ParseReplicaURL(%q) = %+v, but its canonical form %q gives %+v, %v", s, u, u.String(), again, err)
		}
	})
}
