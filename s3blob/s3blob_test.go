package s3blob

import (
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, bucket, prefix string
		ok                 bool
	}{
		{"s3://rec-bucket/site/one", "rec-bucket", "site/one", true},
		{"s3://rec.bucket", "rec.bucket", "", true},
		{"s3://rec-bucket/pre/", "rec-bucket", "pre", true},
		{"s3://ab/x", "", "", false},              // bucket too short
		{"s3://Rec/x", "", "", false},             // upper case
		{"s3://-rec/x", "", "", false},            // starts with a hyphen
		{"s3://rec-bucket/a//b", "", "", false},   // empty element
		{"s3://rec-bucket/a/../b", "", "", false}, // dot-dot
		{"s3://rec-bucket/a?b", "", "", false},
		{"http://rec-bucket/x", "", "", false},
		{"rec-bucket/x", "", "", false},
		{"s3://" + strings.Repeat("a", 64), "", "", false},
	}
	for _, c := range cases {
		b, p, err := ParseURL(c.in)
		if (err == nil) != c.ok || b != c.bucket || p != c.prefix {
			t.Errorf("ParseURL(%q) = %q, %q, %v", c.in, b, p, err)
		}
	}
}

func TestOpenEndpoint(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		ep string
		ok bool
	}{{"http://127.0.0.1:7070", true}, {"https://s3.example.com", true}, {"s3.example.com:9000", true},
		{"ftp://x", false}, {"http://host/path", false}} {
		_, err := Open("s3://bucket/p", Config{Endpoint: c.ep, AccessKey: "a", SecretKey: "s"})
		if (err == nil) != c.ok {
			t.Errorf("endpoint %q: %v", c.ep, err)
		}
	}
}

// FuzzParseURL: a location is accepted only in a form that parses back to
// itself.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"s3://rec-bucket/site/one", "s3://abc", "s3://a..b/../", "s3://rec/%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Canonical(s)
		if err != nil {
			return
		}
		again, err := Canonical(c)
		if err != nil || again != c {
			t.Fatalf("canonical %q of %q parses to %q, %v", c, s, again, err)
		}
		b, p, _ := ParseURL(c)
		if strings.ContainsAny(b, "/") || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
			t.Fatalf("%q: bucket %q prefix %q", s, b, p)
		}
	})
}
