package settings

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"recordings/applog"
	"recordings/internal/invalid"
	"recordings/internal/testutil"
)

// Serves follows the compatibility rule: with no domain configured every
// domain is served; else the configured ones, in any case, each answered
// in its configured spelling.
func TestValuesServes(t *testing.T) {
	t.Parallel()
	none := Values{}
	if d, ok := none.ServedDomain("any.example"); !ok || d != "any.example" || none.DefaultDomain() != "" {
		t.Fatalf("no domain configured: %q %v", d, ok)
	}
	two := Values{Domain: "a.example,B.example", Domains: []string{"a.example", "B.example"}}
	for _, c := range []struct {
		in, want string
		ok       bool
	}{{"a.example", "a.example", true}, {"A.EXAMPLE", "a.example", true}, {"b.example", "B.example", true},
		{"c.example", "", false}, {"", "", false}} {
		if d, ok := two.ServedDomain(c.in); d != c.want || ok != c.ok || two.Serves(c.in) != c.ok {
			t.Errorf("ServedDomain(%q) = %q %v, want %q %v", c.in, d, ok, c.want, c.ok)
		}
	}
	if two.DefaultDomain() != "a.example" {
		t.Fatalf("default domain %q", two.DefaultDomain())
	}
}

// manyDomains lists n distinct domains.
func manyDomains(n int) string {
	var ds []string
	for i := range n {
		ds = append(ds, strconv.Itoa(i)+".example")
	}
	return strings.Join(ds, ",")
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		key, in, want string
		ok            bool
	}{
		{KeyPBXName, "  pbx.example.com ", "pbx.example.com", true},
		{KeyPBXName, "", "", true},
		{KeyPBXName, "a\x07b", "", false},
		{KeyPBXName, strings.Repeat("p", 129), "", false},
		{KeyPBXName, "\xff", "", false},
		{KeyDomain, " example.com ", "example.com", true},
		{KeyDomain, "", "", true},
		{KeyDomain, "a/b", "", false},
		{KeyDomain, "api", "", false},
		{KeyDomain, "ex ample", "", false},
		{KeyDomain, strings.Repeat("d", 254), "", false},
		{KeyDomain, " b.example, a.example ,,b.example", "b.example,a.example", true}, // order kept: the first is the default
		{KeyDomain, "a.example,api", "", false},
		{KeyDomain, "a.example,a/b", "", false},
		{KeyDomain, strings.Repeat("x.example,", MaxDomains) + "y.example", "x.example,y.example", true},
		{KeyDomain, manyDomains(MaxDomains + 1), "", false},
		{KeyDomain, manyDomains(MaxDomains), manyDomains(MaxDomains), true},
		{KeyDomain, strings.Repeat("d", 200) + "," + strings.Repeat("e", 200), "", false},
		{KeyPBXSeen, "b.example, a.example,a.example", "a.example,b.example", true},
		{KeyPBXSeen, "-", "-", true},
		{KeyPBXSeen, "a%2F", "", false},
		{KeyPBXSeen, strings.Repeat("d", 200) + "," + strings.Repeat("e", 200), strings.Repeat("d", 200), true},
		{KeyRetentionDays, "0", "0", true},
		{KeyRetentionDays, " 30 ", "30", true},
		{KeyRetentionDays, "11000", "11000", true},
		{KeyRetentionDays, "11001", "", false},
		{KeyRetentionDays, "-1", "", false},
		{KeyRetentionDays, "1.5", "", false},
		{KeyRetentionDays, "ten", "", false},
		{KeyLogRetentionDays, "7", "7", true},
		{KeyLicenceCount, "25", "25", true},
		{KeyLicenceCount, "-2", "", false},
		{KeyLicenceCount, "1000001", "", false},
		{KeyCDRUser, "pbx", "pbx", true},
		{KeyCDRUser, "a:b", "", false},
		{KeyCDRPassword, " secret with spaces ", " secret with spaces ", true},
		{KeyCDRPassword, "new\nline", "", false},
		{KeyAppPassword, "pw", "pw", true},
		{KeyNoCDRGrace, "600", "600", true},
		{KeyNoCDRGrace, "604801", "", false},
		{KeyCDRUser, strings.Repeat("u", 257), "", false},
		{"trace.Converting", "DEBUG", "debug", true},
		{"trace.UI", "off", "off", true},
		{"trace.UI", "loud", "", false},
		{"trace.UI", "INFO+2", "", false},
		{"trace.Sound", "debug", "", false},
		{"trace.System", "debug", "", false},
		{"colour", "blue", "", false},
	} {
		got, err := Validate(tc.key, tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("Validate(%q, %q) = %q, %v; want %q ok=%v", tc.key, tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("Validate(%q, %q): error %v is not ErrInvalid", tc.key, tc.in, err)
		}
		if e, ok := invalid.As(err); err != nil && (!ok || e.Field != tc.key || strings.Contains(e.Message, tc.key)) {
			t.Errorf("Validate(%q, %q): error %#v, want an *invalid.Error for field %q", tc.key, tc.in, err, tc.key)
		}
	}
	if CanonicalKey("trace.call information") != "trace.Call Information" || CanonicalKey("pbx_name") != "pbx_name" {
		t.Error("CanonicalKey")
	}
}

func setup(t *testing.T) (*memStore, *Service, *applog.Levels, *testutil.LogBuffer) {
	t.Helper()
	db := &memStore{m: map[string]string{}}
	out := &testutil.LogBuffer{}
	levels := applog.NewLevels(slog.LevelInfo)
	return db, New(db, slog.New(slog.NewTextHandler(out, nil)), levels), levels, out
}

func TestSetApplies(t *testing.T) {
	ctx := context.Background()
	db, s, levels, out := setup(t)
	var changes [][]string
	s.OnChange(func(_ context.Context, changed []string) { changes = append(changes, changed) })
	if err := s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.Problems(); !slices.Equal(got, []string{PBXNameMissing}) {
		t.Errorf("Problems = %q", got)
	}
	v := s.Values()
	if v.RetentionDays != 0 || v.LogRetentionDays != DefaultLogRetentionDays || v.Trace[applog.UI] != "info" || v.LicenceSet {
		t.Errorf("defaults: %+v", v)
	}

	err := s.Set(ctx, "admin", map[string]string{
		"trace.converting": "debug", KeyPBXName: "pbx1", KeyRetentionDays: "90", KeyCDRPassword: "hunter2",
	})
	if err != nil {
		t.Fatal(err)
	}
	if levels.Level(applog.Converting) != slog.LevelDebug {
		t.Error("trace level not applied at once")
	}
	v = s.Values()
	if v.PBXName != "pbx1" || v.RetentionDays != 90 || v.Trace[applog.Converting] != "debug" || v.CDRPassword != "hunter2" {
		t.Errorf("after Set: %+v", v)
	}
	if len(s.Problems()) != 0 {
		t.Errorf("Problems after naming the PBX: %q", s.Problems())
	}
	if len(changes) != 2 || !slices.Equal(changes[1], []string{KeyCDRPassword, KeyPBXName, KeyRetentionDays, "trace.Converting"}) {
		t.Errorf("hooks saw %q", changes)
	}
	log := out.String()
	if !strings.Contains(log, "key=retention_days value=90") || !strings.Contains(log, "user=admin") {
		t.Errorf("change not logged:\n%s", log)
	}
	if strings.Contains(log, "hunter2") {
		t.Error("password logged")
	}

	// One bad value: nothing stored.
	err = s.Set(ctx, "admin", map[string]string{KeyPBXName: "pbx2", KeyRetentionDays: "99999"})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad retention: %v", err)
	}
	if got := db.get(KeyPBXName); got != "pbx1" {
		t.Errorf("pbx name %q stored although another value was rejected", got)
	}
}

// TestWatch: a value written straight into the database (by another
// writer) takes effect at the next tick, and a bad stored level falls back
// to the default instead of breaking logging. The fake timer also tells
// when Watch has finished a reload (it asks for the next tick), so that
// "no hook call" is checked after the reload, not after a guessed time.
func TestWatch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	db, s, levels, _ := setup(t)
	seen := make(chan []string, 4)
	s.OnChange(func(_ context.Context, changed []string) { seen <- changed })
	if err := s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	<-seen
	ticks := make(chan time.Time)
	waiting := make(chan struct{}, 4) // Watch waits for a tick
	done := make(chan error, 1)
	go func() {
		done <- s.Watch(ctx, time.Minute, func(time.Duration) <-chan time.Time {
			waiting <- struct{}{}
			return ticks
		})
	}()
	// tick wakes Watch and returns once it has reloaded and waits again.
	tick := func() {
		t.Helper()
		ticks <- time.Time{}
		select {
		case <-waiting:
		case <-time.After(30 * time.Second):
			t.Fatal("Watch did not come back to wait")
		}
	}
	<-waiting
	db.put("trace.Recording", "debug")
	tick()
	select {
	case c := <-seen:
		if !slices.Equal(c, []string{"trace.Recording"}) {
			t.Errorf("changed %q", c)
		}
	default:
		t.Fatal("change not picked up")
	}
	if levels.Level(applog.Recording) != slog.LevelDebug {
		t.Error("level not applied")
	}
	db.put("trace.Recording", "garbage")
	tick()
	select {
	case <-seen:
	default:
		t.Fatal("change to a bad level not picked up")
	}
	if levels.Level(applog.Recording) != slog.LevelInfo {
		t.Errorf("bad stored level gave %v, want the default INFO", levels.Level(applog.Recording))
	}
	// No change: no hook call.
	tick()
	select {
	case c := <-seen:
		t.Errorf("hook called without a change: %q", c)
	default:
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
