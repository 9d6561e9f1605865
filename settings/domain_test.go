package settings

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// Per-domain settings: a domain's own PBX name and retention period apply
// to it, other domains use the instance-wide ones; clearing a domain's own
// value brings the instance-wide one back; only the PBX name and the
// retention period have per-domain values.
func TestPerDomainSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, s, _, _ := setup(t)
	if err := s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "admin", map[string]string{KeyDomain: "a.example,B.example,c.example"}); err != nil {
		t.Fatal(err)
	}
	if got := s.Problems(); !slices.Equal(got, []string{PBXNameMissing}) {
		t.Fatalf("no PBX name anywhere: problems %q", got)
	}
	err := s.Set(ctx, "admin", map[string]string{KeyRetentionDays: "90", DomainKey(KeyRetentionDays, "a.example"): "7",
		"pbx_name@B.EXAMPLE": " pbx-b ", DomainKey(KeyRetentionDays, "c.example"): "0"})
	if err != nil {
		t.Fatal(err)
	}
	if db.m["pbx_name@b.example"] != "pbx-b" {
		t.Fatalf("stored: %v", db.m)
	}
	v := s.Values()
	for _, c := range []struct {
		domain string
		want   DomainValues
	}{
		{"a.example", DomainValues{Domain: "a.example", RetentionDays: 7, RetentionSet: true, RetentionOwn: true}},
		{"A.Example", DomainValues{Domain: "A.Example", RetentionDays: 7, RetentionSet: true, RetentionOwn: true}},
		{"B.example", DomainValues{Domain: "B.example", PBXName: "pbx-b", PBXNameOwn: true, RetentionDays: 90, RetentionSet: true}},
		{"c.example", DomainValues{Domain: "c.example", RetentionDays: 0, RetentionSet: true, RetentionOwn: true}},
		{"d.example", DomainValues{Domain: "d.example", RetentionDays: 90, RetentionSet: true}},
		{"", DomainValues{RetentionDays: 90, RetentionSet: true}},
	} {
		if got := v.ForDomain(c.domain); got != c.want {
			t.Errorf("ForDomain(%q) = %+v, want %+v", c.domain, got, c.want)
		}
	}
	if got := s.Problems(); !slices.Equal(got, []string{PBXNameMissing + " for a.example", PBXNameMissing + " for c.example"}) {
		t.Fatalf("B named: problems %q", got)
	}
	if err := s.Set(ctx, "admin", map[string]string{KeyPBXName: "pbx", DomainKey(KeyRetentionDays, "a.example"): ""}); err != nil {
		t.Fatal(err)
	}
	v = s.Values()
	if a := v.ForDomain("a.example"); a.RetentionDays != 90 || a.RetentionOwn || a.PBXName != "pbx" || a.PBXNameOwn {
		t.Fatalf("a.example after clearing its own retention: %+v", a)
	}
	if _, ok := db.m["retention_days@a.example"]; ok {
		t.Fatal("a cleared per-domain value is still stored")
	}
	if got := s.Problems(); len(got) != 0 {
		t.Fatalf("every domain named: problems %q", got)
	}
	for _, bad := range []struct{ key, value string }{
		{"cdr_user@a.example", "x"},
		{"trace.UI@a.example", "debug"},
		{"retention_days@a.example", "-1"},
		{"retention_days@", "1"},
		{"pbx_name@a.example,b.example", "p"},
		{"pbx_name@a/b", "p"},
	} {
		if err := s.Set(ctx, "admin", map[string]string{bad.key: bad.value}); !errors.Is(err, ErrInvalid) {
			t.Errorf("Set(%q, %q) = %v, want ErrInvalid", bad.key, bad.value, err)
		}
	}
	if v2 := s.Values(); v2.ForDomain("a.example") != v.ForDomain("a.example") {
		t.Fatal("a refused change changed something")
	}
}
