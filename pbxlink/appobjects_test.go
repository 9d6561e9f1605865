package pbxlink_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"recordings/internal/pbxsim"
	"recordings/pbxlink"
)

const base = "https://rec.example.com/example.com/recordings"

// syncs records the lists Synced got.
type syncs struct {
	mu    sync.Mutex
	lists [][]pbxlink.AppObject
	ch    chan struct{}
}

func (s *syncs) synced(_ context.Context, _ string, objs []pbxlink.AppObject) error {
	s.mu.Lock()
	s.lists = append(s.lists, objs)
	s.mu.Unlock()
	select {
	case s.ch <- struct{}{}:
	default:
	}
	return nil
}

func (s *syncs) last() []pbxlink.AppObject {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lists) == 0 {
		return nil
	}
	return s.lists[len(s.lists)-1]
}

func newAppObjects(t *testing.T, admin *pbxsim.AdminAPI) (*pbxlink.AppObjects, *syncs, *pbxsim.Pipe) {
	t.Helper()
	s := &syncs{ch: make(chan struct{}, 1)}
	ao := pbxlink.NewAppObjects(pbxlink.AppObjectsOptions{Synced: s.synced, Timeout: 10 * time.Second})
	p := pbxsim.NewPipe(context.Background(), pbxlink.PbxInfo{Domain: "example.com", APIs: []string{pbxlink.AdminAPI}},
		[]pbxlink.Client{ao}, map[string]pbxsim.Handler{pbxlink.AdminAPI: admin})
	t.Cleanup(p.Close)
	select { // the list read on connect
	case <-s.ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no list read on connect")
	}
	return ao, s, p
}

// TestAppObjectsLifecycle creates both App objects, assigns one to a
// template and a user, deletes one; the list handed to Synced follows
// every change.
func TestAppObjectsLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin := pbxsim.NewAdminAPI(pbxlink.Licence, 1)
	admin.AddObject("Std", "", true)
	admin.AddObject("Alice", "alice", false)
	ao, s, p := newAppObjects(t, admin)
	if got := s.last(); len(got) != 0 {
		t.Fatalf("first list: %v", got)
	}

	if err := ao.Save(ctx, "", pbxlink.AppObjectSpec{Name: "recordings", Title: "Recordings", Type: pbxlink.AppTypeUser,
		BaseURL: base, Password: "instance-password-1"}); err != nil {
		t.Fatal(err)
	}
	if err := ao.Save(ctx, "", pbxlink.AppObjectSpec{Name: "recordings-admin", Title: "Recordings Admin", Type: pbxlink.AppTypeAdmin,
		BaseURL: base + "/", Password: "ignored"}); err != nil {
		t.Fatal(err)
	}
	got := s.last()
	if len(got) != 2 {
		t.Fatalf("list after two creates: %+v", got)
	}
	user, _ := admin.ObjectByCN("Recordings")
	adm, _ := admin.ObjectByCN("Recordings Admin")
	checks := []struct {
		what      string
		got, want any
	}{
		{"user URL", user.AppURL(), base + "/innovaphone-recordings"},
		{"admin URL", adm.AppURL(), base + "/innovaphone-recordingsadmin"},
		{"user websocket", user.AppFlag("websocket"), true},
		{"user admin API", user.AppFlag("admin"), true},
		{"user tableusers", user.AppFlag("tableusers"), true},
		{"admin websocket", adm.AppFlag("websocket"), false},
		{"user password", user.Pwd, "instance-password-1"},
		{"admin password copied", adm.CopiedFrom, "recordings"},
		{"admin password", adm.Pwd, "instance-password-1"},
		{"user hidden", user.Hide, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
	types := map[string]string{}
	for _, o := range got {
		types[o.Name] = o.Type
	}
	if types["recordings"] != pbxlink.AppTypeUser || types["recordings-admin"] != pbxlink.AppTypeAdmin {
		t.Errorf("types: %v", types)
	}

	// A second create of a taken name changes nothing.
	n := admin.Requests("UpdateObject")
	err := ao.Save(ctx, "", pbxlink.AppObjectSpec{Name: "RECORDINGS", Title: "x", Type: pbxlink.AppTypeUser, BaseURL: base})
	if !errors.Is(err, pbxlink.ErrExists) || admin.Requests("UpdateObject") != n {
		t.Errorf("duplicate create: %v, %d UpdateObject (was %d)", err, admin.Requests("UpdateObject"), n)
	}

	// Assignment: to the template and to alice; again is a no-op; off.
	for _, cn := range []string{"Std", "Alice"} {
		if err := ao.Assign(ctx, "", cn, "recordings", true); err != nil {
			t.Fatal(err)
		}
	}
	if err := ao.Assign(ctx, "", "Alice", "recordings-admin", true); err != nil {
		t.Fatal(err)
	}
	n = admin.Requests("UpdateObject")
	if err := ao.Assign(ctx, "", "Std", "recordings", true); err != nil || admin.Requests("UpdateObject") != n {
		t.Errorf("assign twice: %v, %d UpdateObject (was %d)", err, admin.Requests("UpdateObject"), n)
	}
	if err := ao.Assign(ctx, "", "Alice", "recordings", false); err != nil {
		t.Fatal(err)
	}
	tm, _ := admin.ObjectByCN("Std")
	al, _ := admin.ObjectByCN("Alice")
	if tm.Apps != "recordings" || al.Apps != "recordings-admin" {
		t.Errorf("apps: template %q, alice %q", tm.Apps, al.Apps)
	}
	tps, err := ao.Templates(ctx, "")
	if err != nil || len(tps) != 1 || tps[0].CN != "Std" || !slices.Equal(tps[0].Apps, []string{"recordings"}) {
		t.Errorf("templates: %+v %v", tps, err)
	}
	if err := ao.Assign(ctx, "", "Nobody", "recordings", true); err == nil {
		t.Error("assign to an unknown object: no error")
	}

	// Delete the admin object.
	var guid string
	for _, o := range s.last() {
		if o.Name == "recordings-admin" {
			guid = o.GUID
		}
	}
	if err := ao.Delete(ctx, "", guid); err != nil {
		t.Fatal(err)
	}
	if got := s.last(); len(got) != 1 || got[0].Name != "recordings" {
		t.Errorf("after delete: %+v", got)
	}
	var pe *pbxlink.PBXError
	if err := ao.Delete(ctx, "", guid); !errors.As(err, &pe) {
		t.Errorf("delete again: %v, want the PBX's refusal", err)
	}

	// Disconnected: every operation fails at once, nothing is sent.
	p.Close()
	n = admin.Requests("UpdateObject")
	for _, err := range []error{
		ao.Save(ctx, "", pbxlink.AppObjectSpec{Name: "x", Type: pbxlink.AppTypeUser, BaseURL: base}),
		ao.Delete(ctx, "", guid),
		ao.Assign(ctx, "", "Std", "recordings", false),
		ao.Refresh(ctx, ""),
	} {
		if !errors.Is(err, pbxlink.ErrNotConnected) {
			t.Errorf("disconnected: %v", err)
		}
	}
	if admin.Requests("UpdateObject") != n || ao.State().Connected {
		t.Errorf("disconnected: %d UpdateObject (was %d), state %+v", admin.Requests("UpdateObject"), n, ao.State())
	}
}

func TestAppType(t *testing.T) {
	t.Parallel()
	for u, want := range map[string]string{
		base + "/innovaphone-recordings":          pbxlink.AppTypeUser,
		base + "/innovaphone-recordingsadmin":     pbxlink.AppTypeAdmin,
		base + "/innovaphone-recordingsadmin.htm": pbxlink.AppTypeAdmin,
		base + "/innovaphone-other":               "",
		"":                                        "",
		"not a url %%":                            "",
	} {
		if got := pbxlink.AppType(u); got != want {
			t.Errorf("%q: %q, want %q", u, got, want)
		}
	}
}

func TestSaveRefusesBadSpecs(t *testing.T) {
	t.Parallel()
	ao := pbxlink.NewAppObjects(pbxlink.AppObjectsOptions{})
	for _, s := range []pbxlink.AppObjectSpec{
		{Name: "", Type: pbxlink.AppTypeUser, BaseURL: base},
		{Name: "a b", Type: pbxlink.AppTypeUser, BaseURL: base},
		{Name: "ok", Type: "other", BaseURL: base},
		{Name: "ok", Type: pbxlink.AppTypeUser, BaseURL: "ftp://x"},
	} {
		if err := ao.Save(context.Background(), "", s); err == nil || errors.Is(err, pbxlink.ErrNotConnected) {
			t.Errorf("%+v: %v, want a refusal before any sending", s, err)
		}
	}
}

// FuzzParseAppObjects: any answer parses or fails cleanly, and every App
// object kept is one of the two apps'.
func FuzzParseAppObjects(f *testing.F) {
	f.Add([]byte(`{"mt":"GetAppObjectsResult","objects":[{"title":"R","url":"https://h/d/recordings/innovaphone-recordings","sip":"rec","guid":"g","connected":true}]}`))
	f.Add([]byte(`{"objects":[{"app":"sip:x@d","url":"https://h/innovaphone-recordingsadmin.htm"},{"url":"https://h/other"}]}`))
	f.Add([]byte(`{"objects":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		objs, err := pbxlink.ParseAppObjects(b)
		if err != nil {
			return
		}
		for _, o := range objs {
			if o.Type != pbxlink.AppTypeUser && o.Type != pbxlink.AppTypeAdmin {
				t.Fatalf("kept %+v", o)
			}
		}
	})
}

// TestAppObjectsPerDomain: one client on two domains' PBXes at once: each
// domain's list is read from, and each change sent to, its own PBX, and
// Synced learns whose list it is; without a domain, a request is refused
// while both are connected; one domain's PBX leaving leaves the other.
func TestAppObjectsPerDomain(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	type synced struct {
		domain string
		names  []string
	}
	got := make(chan synced, 16)
	ao := pbxlink.NewAppObjects(pbxlink.AppObjectsOptions{Timeout: 10 * time.Second,
		Synced: func(_ context.Context, domain string, objs []pbxlink.AppObject) error {
			var names []string
			for _, o := range objs {
				names = append(names, o.Name)
			}
			got <- synced{domain, names}
			return nil
		}})
	admins := map[string]*pbxsim.AdminAPI{}
	pipes := map[string]*pbxsim.Pipe{}
	for _, d := range []string{"a.example", "b.example"} {
		admins[d] = pbxsim.NewAdminAPI(pbxlink.Licence, 1)
		pipes[d] = pbxsim.NewPipe(ctx, pbxlink.PbxInfo{Domain: d, APIs: []string{pbxlink.AdminAPI}},
			[]pbxlink.Client{ao.ForDomain(d)}, map[string]pbxsim.Handler{pbxlink.AdminAPI: admins[d]})
		t.Cleanup(pipes[d].Close)
		if s := <-got; s.domain != d || len(s.names) != 0 {
			t.Fatalf("list read on %s's connect: %+v", d, s)
		}
	}
	if err := ao.Save(ctx, "", pbxlink.AppObjectSpec{Name: "recordings", Type: pbxlink.AppTypeUser, BaseURL: base}); !errors.Is(err, pbxlink.ErrInvalid) {
		t.Fatalf("a change naming no domain while two are connected: %v", err)
	}
	for _, d := range []string{"A.EXAMPLE", "b.example"} {
		if err := ao.Save(ctx, d, pbxlink.AppObjectSpec{Name: "recordings", Title: d, Type: pbxlink.AppTypeUser,
			BaseURL: "https://rec/" + d + "/recordings"}); err != nil {
			t.Fatalf("create on %s: %v", d, err)
		}
		if s := <-got; !strings.EqualFold(s.domain, d) || !slices.Equal(s.names, []string{"recordings"}) {
			t.Fatalf("list after the create on %s: %+v", d, s)
		}
	}
	for d, a := range admins {
		if n := a.Requests("UpdateObject"); n != 1 {
			t.Errorf("%s's PBX got %d UpdateObject, want 1", d, n)
		}
	}
	pipes["b.example"].Close()
	waitFor(t, ao, func() bool { return !ao.StateOf("b.example").Connected })
	if st := ao.StateOf("a.example"); !st.Connected || st.Objects != 1 {
		t.Fatalf("A after B left: %+v", st)
	}
	// One domain left: a request naming none goes to it.
	if err := ao.Refresh(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s.domain != "a.example" {
		t.Fatalf("refresh naming no domain: %+v", s)
	}
	if err := ao.Refresh(ctx, "b.example"); !errors.Is(err, pbxlink.ErrNotConnected) {
		t.Fatalf("refresh of the domain that left: %v", err)
	}
}

func waitFor(t *testing.T, ao *pbxlink.AppObjects, ok func() bool) {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		ch := ao.Changed()
		if ok() {
			return
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatal("not as wanted within a minute")
		}
	}
}
