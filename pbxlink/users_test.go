package pbxlink_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"recordings/calls"
	"recordings/events"
	"recordings/internal/pbxsim"
	"recordings/pbx"
	"recordings/pbxlink"
	"recordings/store"
)

// env is the service side of a test: database, broker, matcher, the
// replication client and what it reports.
type env struct {
	t       testing.TB
	db      *store.DB
	events  *events.Broker
	matcher *calls.Matcher
	users   *pbxlink.Users
	obs     chan pbxlink.UsersEvent
	// later holds events read while waiting for another kind, so that a
	// later wait still sees them.
	later   []pbxlink.UsersEvent
	updated chan int64
	logs    *logRecorder
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv with the re-resolutions going through wrap (when
// set), e.g. to hold them.
func newEnvWith(t testing.TB, wrap func(pbxlink.Reresolver) pbxlink.Reresolver) *env {
	t.Helper()
	ctx := context.Background()
	logs := &logRecorder{}
	log := slog.New(logs)
	db, err := store.OpenOptions(ctx, filepath.Join(t.TempDir(), "rec.db"), log, store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	e := &env{t: t, db: db, events: &events.Broker{}, obs: make(chan pbxlink.UsersEvent, 4096),
		updated: make(chan int64, 4096), logs: logs}
	e.events.Subscribe(func(r events.Recording) {
		if r.Kind == events.Updated && r.By == events.ByPBX {
			e.updated <- r.ID
		}
	})
	e.matcher = calls.New(db, log, calls.Options{Events: e.events})
	var rr pbxlink.Reresolver = e.matcher
	if wrap != nil {
		rr = wrap(rr)
	}
	e.users = pbxlink.NewUsers(db, pbxlink.UsersOptions{Log: log, Reresolve: rr, Batch: 100,
		Observe: func(ev pbxlink.UsersEvent) { e.obs <- ev }})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.users.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return e
}

var info = pbxlink.PbxInfo{Domain: "example.com", PBX: "pbx1", APIs: []string{"PbxAdminApi", "PbxTableUsers"}}

// connect joins the client to table and waits for the initial load.
func (e *env) connect(table *pbxsim.UsersTable) (*pbxsim.Pipe, pbxlink.UsersEvent) {
	e.t.Helper()
	p := pbxsim.NewPipe(context.Background(), info, []pbxlink.Client{e.users},
		map[string]pbxsim.Handler{"PbxTableUsers": table})
	e.t.Cleanup(p.Close)
	ev := e.wait(pbxlink.EventLoaded)
	e.settle() // the load's re-resolutions run in the background: let them finish
	return p, ev
}

// wait returns the next event of kind, failing on EventFailed.
func (e *env) wait(kind pbxlink.UsersEventKind) pbxlink.UsersEvent {
	e.t.Helper()
	if i := slices.IndexFunc(e.later, func(ev pbxlink.UsersEvent) bool { return ev.Kind == kind }); i >= 0 {
		ev := e.later[i]
		e.later = slices.Delete(e.later, i, i+1)
		return ev
	}
	timeout := time.After(time.Minute) // only if the test is broken
	for {
		select {
		case ev := <-e.obs:
			if ev.Kind == kind {
				return ev
			}
			if ev.Kind == pbxlink.EventFailed {
				e.t.Fatalf("replication failed: %v", ev.Err)
			}
			if ev.Kind != pbxlink.EventReresolved { // settle asks the client instead
				e.later = append(e.later, ev)
			}
		case <-timeout:
			e.t.Fatalf("no event %d", kind)
		}
	}
}

// settle waits until every change stored so far has been re-resolved
// (call it after the EventApplied of a change): it asks the client, and
// waits for its next event whenever work is still queued or running.
func (e *env) settle() {
	e.t.Helper()
	timeout := time.After(time.Minute)
	for e.users.Reresolving() {
		select {
		case ev := <-e.obs:
			if ev.Kind == pbxlink.EventFailed {
				e.t.Fatalf("replication failed: %v", ev.Err)
			}
			if ev.Kind != pbxlink.EventReresolved {
				e.later = append(e.later, ev)
			}
		case <-timeout:
			e.t.Fatal("re-resolution did not settle")
		}
	}
}

// waitUpdated waits for events.Updated of each id (in any order).
func (e *env) waitUpdated(ids ...int64) {
	e.t.Helper()
	e.settle() // an Updated of an earlier step may still be queued: look once the work is done
	want := slices.Clone(ids)
	timeout := time.After(time.Minute)
	for len(want) > 0 {
		select {
		case id := <-e.updated:
			want = slices.DeleteFunc(want, func(x int64) bool { return x == id })
		case <-timeout:
			e.t.Fatalf("no Updated event for %v", want)
		}
	}
}

func (e *env) user(name string) store.User {
	e.t.Helper()
	u, err := e.db.User(context.Background(), name)
	if err != nil {
		e.t.Fatalf("user %s: %v", name, err)
	}
	return u
}

// upload begins a recording from a phone as ingest does (owner: the file
// name's registration name) and resolves its owner.
func (e *env) upload(name, mac, regName string) store.Recording {
	e.t.Helper()
	ctx := context.Background()
	sum := sha256.Sum256([]byte(name))
	fn := store.FileName{ConfID: hex.EncodeToString(sum[:16]), MAC: mac, Serial: "1", RegName: regName}
	id, _, err := e.db.BeginUpload(ctx, "example.com", name, fn, regName)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.matcher.Resolve(ctx, id); err != nil {
		e.t.Fatal(err)
	}
	return e.recording(id)
}

func (e *env) recording(id int64) store.Recording {
	e.t.Helper()
	r, err := e.db.Recording(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func mac(i int) string { return fmt.Sprintf("009033%06x", i) }

func TestUsersFullLoad(t *testing.T) {
	t.Parallel()
	for _, array := range []bool{false, true} {
		t.Run(fmt.Sprintf("array=%v", array), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			const n = 1000
			var users []pbxsim.SimUser
			for i := range n {
				users = append(users, pbxsim.SimUser{GUID: fmt.Sprintf("g%04d", i), H323: fmt.Sprintf("user%04d", i),
					CN: fmt.Sprintf("User %d", i), DN: fmt.Sprintf("U%d", i), E164: fmt.Sprint(1000 + i),
					Devices: []string{strings.ToUpper(mac(i)), "Swphone_" + fmt.Sprint(i)}})
			}
			users = append(users, pbxsim.SimUser{GUID: "trunk", H323: "trunk", Pseudo: "trunk"})
			table := pbxsim.NewUsersTable(users...)
			table.ArrayColumns = array
			_, ev := e.connect(table)
			if ev.Rows != n || ev.Deleted != 0 || ev.Refused != 0 {
				t.Errorf("load: %+v", ev)
			}
			all, err := e.db.Users(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			// n users and the bootstrap-less database's none: no trunk.
			if len(all) != n {
				t.Fatalf("%d accounts, want %d", len(all), n)
			}
			u, err := e.db.UserByMAC(context.Background(), mac(777))
			if err != nil || u.Name != "user0777" || u.PBXGUID != "g0777" || u.DisplayName != "U777" || u.CN != "User 777" ||
				u.E164 != "1777" || u.HasPassword || !slices.Equal(u.MACs, []string{mac(777)}) {
				t.Errorf("user by MAC: %+v, %v", u, err)
			}
			if st := e.users.Status(); st.State != "live" || st.Rows != n+1 {
				t.Errorf("status %+v", st)
			}
			if table.Starts() != 1 {
				t.Errorf("%d ReplicateStart", table.Starts())
			}
		})
	}
}

func TestUsersLiveChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	table := pbxsim.NewUsersTable(pbxsim.SimUser{GUID: "ga", H323: "alice", Devices: []string{mac(1)}})
	e.connect(table)

	if err := table.Add(pbxsim.SimUser{GUID: "gb", H323: "bob", DN: "Bob", Devices: []string{mac(2)}}); err != nil {
		t.Fatal(err)
	}
	if ev := e.wait(pbxlink.EventApplied); ev.Rows != 1 {
		t.Errorf("add: %+v", ev)
	}
	if u := e.user("bob"); u.PBXGUID != "gb" || u.DisplayName != "Bob" || !slices.Equal(u.MACs, []string{mac(2)}) {
		t.Errorf("added: %+v", u)
	}
	if err := table.Update(pbxsim.SimUser{GUID: "gb", H323: "bob", DN: "Bobby", Devices: []string{mac(2), mac(3)}}); err != nil {
		t.Fatal(err)
	}
	e.wait(pbxlink.EventApplied)
	if u := e.user("bob"); u.DisplayName != "Bobby" || !slices.Equal(u.MACs, []string{mac(2), mac(3)}) {
		t.Errorf("updated: %+v", u)
	}
	if err := table.Delete("ga"); err != nil {
		t.Fatal(err)
	}
	if ev := e.wait(pbxlink.EventApplied); ev.Deleted != 1 {
		t.Errorf("delete: %+v", ev)
	}
	if u := e.user("alice"); !u.PBXDeleted || len(u.MACs) != 0 {
		t.Errorf("deleted: %+v", u)
	}
}

func TestUsersReconnectMarksVanished(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	table := pbxsim.NewUsersTable(
		pbxsim.SimUser{GUID: "ga", H323: "alice", Devices: []string{mac(1)}},
		pbxsim.SimUser{GUID: "gb", H323: "bob", Devices: []string{mac(2)}},
		pbxsim.SimUser{GUID: "gc", H323: "carol"},
	)
	p, _ := e.connect(table)
	rec := e.upload("bob.pcap", mac(2), "")
	if rec.Owner != "bob" || rec.OwnerSource != string(pbx.OwnerByMAC) {
		t.Fatalf("owner before: %q by %q", rec.Owner, rec.OwnerSource)
	}
	p.Close()
	if st := e.users.Status(); st.State != "idle" {
		t.Errorf("status after the drop: %+v", st)
	}

	// While disconnected the PBX loses bob and gains dave; the deletion
	// reaches nobody.
	if err := table.Delete("gb"); err != nil {
		t.Fatal(err)
	}
	if err := table.Add(pbxsim.SimUser{GUID: "gd", H323: "dave"}); err != nil {
		t.Fatal(err)
	}
	if u := e.user("bob"); u.PBXDeleted {
		t.Fatal("deleted without a connection")
	}
	_, ev := e.connect(table)
	if ev.Rows != 3 || ev.Deleted != 1 {
		t.Errorf("second load: %+v", ev)
	}
	if u := e.user("bob"); !u.PBXDeleted || u.PBXGUID != "gb" {
		t.Errorf("vanished user: %+v", u)
	}
	for _, n := range []string{"alice", "carol", "dave"} {
		if u := e.user(n); u.PBXDeleted {
			t.Errorf("%s marked deleted", n)
		}
	}
	// bob's recording stays his, marked.
	if r := e.recording(rec.ID); r.Owner != "bob" || !r.OwnerDeleted {
		t.Errorf("recording of the vanished user: owner %q deleted %v", r.Owner, r.OwnerDeleted)
	}
	if table.Starts() != 2 {
		t.Errorf("%d ReplicateStart, want one per connection", table.Starts())
	}
}

// stallingTable answers the first n ReplicateNext, then none (a PBX whose
// connection is about to drop); stalled is closed then.
type stallingTable struct {
	*pbxsim.UsersTable
	n       int
	stalled chan struct{}
}

func (s *stallingTable) Serve(send func(msg any) error, mt, src string, raw json.RawMessage) error {
	if mt == "ReplicateNext" {
		if s.n == 0 {
			close(s.stalled)
		}
		if s.n--; s.n < 0 {
			return nil
		}
	}
	return s.UsersTable.Serve(send, mt, src, raw)
}

// TestUsersDropDuringLoad: a connection that ends during the initial load
// stores the rows that came and marks nobody deleted.
func TestUsersDropDuringLoad(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, _ := e.connect(pbxsim.NewUsersTable(pbxsim.SimUser{GUID: "gold", H323: "old"}))
	p.Close()
	var users []pbxsim.SimUser
	for i := range 50 {
		users = append(users, pbxsim.SimUser{GUID: fmt.Sprint("g", i), H323: fmt.Sprint("u", i)})
	}
	table := &stallingTable{UsersTable: pbxsim.NewUsersTable(users...), n: 30, stalled: make(chan struct{})}
	p = pbxsim.NewPipe(context.Background(), info, []pbxlink.Client{e.users}, map[string]pbxsim.Handler{"PbxTableUsers": table})
	<-table.stalled
	p.Close()
	all, err := e.db.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 31 { // old and the 30 rows delivered
		t.Errorf("%d accounts after a load cut after 30 rows, want 31", len(all))
	}
	if u := e.user("old"); u.PBXDeleted {
		t.Error("a user not yet delivered was marked deleted")
	}
	if n := e.logs.count(slog.LevelWarn, "ended during the initial load"); n != 1 {
		t.Errorf("%d warnings about the cut load", n)
	}
}

func TestUsersMalformedRows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	good := []pbxsim.SimUser{
		{GUID: "ga", H323: "alice", DN: "Alice", Devices: []string{mac(1)}},
		{GUID: "gb", H323: "bob", DN: "Bob", Devices: []string{mac(2)}},
		{GUID: "gc", H323: "carol"},
	}
	table := pbxsim.NewUsersTable(good...)
	p, _ := e.connect(table)
	p.Close()
	before, err := e.db.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	t.Run("load", func(t *testing.T) {
		// alice's row comes garbled (h323 a number), bob's without guid;
		// carol is gone. Nothing stored may change: alice keeps her data,
		// and since a row had no guid, carol is not marked deleted.
		e.logs.reset()
		table := pbxsim.NewUsersTable(
			pbxsim.SimUser{GUID: "ga", Raw: json.RawMessage(`{"guid":"ga","h323":42,"dn":"Evil"}`)},
			pbxsim.SimUser{GUID: "gb", Raw: json.RawMessage(`{"h323":"bob","devices":[{"hw":"` + mac(1) + `"}]}`)},
		)
		p, ev := e.connect(table)
		defer p.Close()
		if ev.Refused != 0 || ev.Rows != 0 || ev.Deleted != 0 {
			t.Errorf("load: %+v", ev)
		}
		after, err := e.db.Users(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !equalUsers(before, after) {
			t.Errorf("users changed:\nbefore %+v\nafter  %+v", before, after)
		}
		if n := e.logs.count(slog.LevelError, "refused"); n != 2 {
			t.Errorf("%d refusals logged as errors, want 2: %v", n, e.logs.all())
		}
	})

	t.Run("live", func(t *testing.T) {
		table := pbxsim.NewUsersTable(good...)
		e.connect(table)
		e.logs.reset()
		for _, raw := range []string{`{"guid":"gb","h323":"bob","devices":"x"}`, `{"h323":"x"}`, `[1,2]`, `"x"`} {
			if err := table.Push("ReplicateUpdate", json.RawMessage(raw)); err != nil {
				t.Fatal(err)
			}
			if ev := e.wait(pbxlink.EventApplied); ev.Refused != 1 || ev.Rows != 0 {
				t.Errorf("%s: %+v", raw, ev)
			}
		}
		if err := table.Push("ReplicateDel", json.RawMessage(`{"h323":"alice"}`)); err != nil {
			t.Fatal(err)
		}
		e.wait(pbxlink.EventApplied)
		after, err := e.db.Users(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !equalUsers(before, after) {
			t.Errorf("users changed:\nbefore %+v\nafter  %+v", before, after)
		}
		if n := e.logs.count(slog.LevelError, "refused"); n != 5 {
			t.Errorf("%d refusals logged as errors, want 5: %v", n, e.logs.all())
		}
	})
}

func equalUsers(a, b []store.User) bool {
	return slices.EqualFunc(a, b, func(x, y store.User) bool {
		return x.ID == y.ID && x.Name == y.Name && x.DisplayName == y.DisplayName && x.E164 == y.E164 &&
			slices.Equal(x.MACs, y.MACs) && x.PBXGUID == y.PBXGUID && x.PBXDeleted == y.PBXDeleted
	})
}

// TestUserAddedOwnsNextUpload: a user added on the PBX while it is
// connected owns the next recording made on its phone.
func TestUserAddedOwnsNextUpload(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	table := pbxsim.NewUsersTable(pbxsim.SimUser{GUID: "ga", H323: "alice", Devices: []string{mac(1)}})
	e.connect(table)
	before := e.upload("before.pcap", mac(9), "")
	if before.Owner != "" {
		t.Fatalf("recording of an unknown phone owned by %q", before.Owner)
	}
	if err := table.Add(pbxsim.SimUser{GUID: "gz", H323: "zoe", Devices: []string{"00:90:33:00:00:09"}}); err != nil {
		t.Fatal(err)
	}
	e.wait(pbxlink.EventApplied)
	r := e.upload("after.pcap", mac(9), "")
	if r.Owner != "zoe" || r.OwnerSource != string(pbx.OwnerByMAC) {
		t.Errorf("next upload owned by %q (%s), want zoe by MAC", r.Owner, r.OwnerSource)
	}
	// The one before was re-resolved in the background.
	e.waitUpdated(before.ID)
	if r := e.recording(before.ID); r.Owner != "zoe" {
		t.Errorf("earlier recording of the phone owned by %q", r.Owner)
	}
}

// TestReresolveOnDeviceMove: when a phone moves from alice to bob on the
// PBX, the recordings whose owner came from that phone follow; one an
// administrator reassigned stays.
func TestReresolveOnDeviceMove(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	table := pbxsim.NewUsersTable(
		pbxsim.SimUser{GUID: "ga", H323: "alice", Devices: []string{mac(1)}},
		pbxsim.SimUser{GUID: "gb", H323: "bob", Devices: []string{mac(2)}},
	)
	e.connect(table)
	byMAC := e.upload("m.pcap", mac(1), "")
	byName := e.upload("n.pcap", mac(1), "alice") // the file name names alice: stays hers
	admin := e.upload("a.pcap", mac(1), "")
	if _, err := e.db.ReassignRecordings(ctx, "alice", "carol"); err != nil {
		t.Fatal(err)
	}
	if r := e.recording(admin.ID); r.Owner != "carol" || r.OwnerSource != store.OwnerByAdmin {
		t.Fatalf("reassigned: %+v", r)
	}
	if err := e.db.SetCallOwner(ctx, byMAC.ID, "alice", string(pbx.OwnerByMAC)); err != nil {
		t.Fatal(err)
	}
	if err := e.db.SetCallOwner(ctx, byName.ID, "alice", string(pbx.OwnerByRegName)); err != nil {
		t.Fatal(err)
	}
	// bob's update first (he takes the phone), then alice's.
	if err := table.Update(pbxsim.SimUser{GUID: "gb", H323: "bob", Devices: []string{mac(2), mac(1)}}); err != nil {
		t.Fatal(err)
	}
	if err := table.Update(pbxsim.SimUser{GUID: "ga", H323: "alice"}); err != nil {
		t.Fatal(err)
	}
	e.wait(pbxlink.EventApplied)
	e.wait(pbxlink.EventApplied)
	e.settle()
	e.waitUpdated(byMAC.ID)
	if r := e.recording(byMAC.ID); r.Owner != "bob" || r.OwnerSource != string(pbx.OwnerByMAC) {
		t.Errorf("recording of the moved phone: owner %q by %q", r.Owner, r.OwnerSource)
	}
	if r := e.recording(byName.ID); r.Owner != "alice" {
		t.Errorf("recording named for alice now owned by %q", r.Owner)
	}
	if r := e.recording(admin.ID); r.Owner != "carol" {
		t.Errorf("reassigned recording now owned by %q", r.Owner)
	}
	// Deleting bob leaves his recordings his, marked.
	if err := table.Delete("gb"); err != nil {
		t.Fatal(err)
	}
	e.wait(pbxlink.EventApplied)
	if r := e.recording(byMAC.ID); r.Owner != "bob" || !r.OwnerDeleted {
		t.Errorf("recording of deleted bob: owner %q deleted %v", r.Owner, r.OwnerDeleted)
	}
	// The phone goes to carol: bob's recordings stay his.
	if err := table.Add(pbxsim.SimUser{GUID: "gc", H323: "carol", Devices: []string{mac(1)}}); err != nil {
		t.Fatal(err)
	}
	e.wait(pbxlink.EventApplied)
	e.settle()
	if r := e.recording(byMAC.ID); r.Owner != "bob" {
		t.Errorf("a deleted user's recording went to %q", r.Owner)
	}
}

// TestReresolveOnRename: recordings made under a user's registration name
// follow the user when the PBX renames it; the old name finds the user.
func TestReresolveOnRename(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	table := pbxsim.NewUsersTable(pbxsim.SimUser{GUID: "ga", H323: "alice"})
	e.connect(table)
	old := e.upload("old.pcap", mac(5), "alice")
	if old.Owner != "alice" || old.OwnerSource != string(pbx.OwnerByRegName) {
		t.Fatalf("before: owner %q by %q", old.Owner, old.OwnerSource)
	}
	if err := table.Update(pbxsim.SimUser{GUID: "ga", H323: "anna"}); err != nil {
		t.Fatal(err)
	}
	e.wait(pbxlink.EventApplied)
	e.waitUpdated(old.ID)
	if r := e.recording(old.ID); r.Owner != "anna" || r.OwnerSource != string(pbx.OwnerByRegName) {
		t.Errorf("after the rename: owner %q by %q", r.Owner, r.OwnerSource)
	}
	// A phone still registered under the old name records for anna.
	if r := e.upload("late.pcap", mac(5), "alice"); r.Owner != "anna" {
		t.Errorf("recording under the old name owned by %q", r.Owner)
	}
}

// logRecorder is a slog.Handler keeping the records.
type logRecorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.recs = append(l.recs, r.Clone())
	l.mu.Unlock()
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

func (l *logRecorder) reset() {
	l.mu.Lock()
	l.recs = nil
	l.mu.Unlock()
}

func (l *logRecorder) count(level slog.Level, substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.recs {
		if r.Level == level && strings.Contains(r.Message, substr) {
			n++
		}
	}
	return n
}

func (l *logRecorder) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.recs {
		out = append(out, r.Level.String()+" "+r.Message)
	}
	return out
}

// BenchmarkUsersLoad measures a full load of 2000 users over the pipe:
// the first (every user new) and a reconnect with nothing changed.
func BenchmarkUsersLoad(b *testing.B) {
	const n = 2000
	var users []pbxsim.SimUser
	for i := range n {
		users = append(users, pbxsim.SimUser{GUID: fmt.Sprintf("g%05d", i), H323: fmt.Sprintf("user%05d", i),
			CN: "User", DN: "U", E164: fmt.Sprint(10000 + i), Devices: []string{mac(i)}})
	}
	for _, first := range []bool{true, false} {
		name := "reconnect"
		if first {
			name = "first"
		}
		b.Run(name, func(b *testing.B) {
			e := newEnv(b)
			table := pbxsim.NewUsersTable(users...)
			if !first {
				p, _ := e.connect(table)
				p.Close()
			}
			for b.Loop() {
				if first {
					b.StopTimer()
					e = newEnv(b)
					b.StartTimer()
				}
				p, ev := e.connect(table)
				if ev.Rows != n {
					b.Fatalf("load: %+v", ev)
				}
				p.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/user")
		})
	}
}
