package pbxlink_test

import (
	"context"
	"testing"
	"time"

	"recordings/internal/pbxsim"
	"recordings/pbx"
	"recordings/pbxlink"
)

// heldReresolver holds the re-resolutions while armed: the first call
// after Arm says so on entered and waits for release, so that a test can
// change the directory between queueing a job and running it.
type heldReresolver struct {
	next    pbxlink.Reresolver
	armed   chan struct{} // one token per call to hold
	entered chan struct{}
	release chan struct{}
}

func newHeld(next pbxlink.Reresolver) *heldReresolver {
	return &heldReresolver{next: next, armed: make(chan struct{}, 1), entered: make(chan struct{}, 1),
		release: make(chan struct{})}
}

func (h *heldReresolver) DirectoryChanged(ctx context.Context, names, macs []string) (int, error) {
	select {
	case <-h.armed:
		h.entered <- struct{}{}
		select {
		case <-h.release:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	default:
	}
	return h.next.DirectoryChanged(ctx, names, macs)
}

func (h *heldReresolver) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-h.entered:
	case <-time.After(time.Minute): // only if the test is broken
		t.Fatal("the re-resolution was not started")
	}
}

// TestStaleReresolutionKeepsDeletedOwner: a re-resolution queued for a
// user's change (a rename, a new device) that runs only after the PBX has
// deleted that user — by a live deletion or by a reconnect's load that no
// longer delivers it — leaves the user's recordings its own, marked
// deleted, instead of clearing their owner.
func TestStaleReresolutionKeepsDeletedOwner(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change pbxsim.SimUser // the change whose job is held
		owner  string         // the recording's owner afterwards
		reload bool           // deleted by a reconnect's load, not live
	}{
		{"rename, deleted live", pbxsim.SimUser{GUID: "ga", H323: "anna", Devices: []string{mac(1)}}, "anna", false},
		{"rename, deleted by the next load", pbxsim.SimUser{GUID: "ga", H323: "anna", Devices: []string{mac(1)}}, "anna", true},
		{"new device, deleted live", pbxsim.SimUser{GUID: "ga", H323: "alice", Devices: []string{mac(1), mac(2)}}, "alice", false},
		{"new device, deleted by the next load", pbxsim.SimUser{GUID: "ga", H323: "alice", Devices: []string{mac(1), mac(2)}}, "alice", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var held *heldReresolver
			e := newEnvWith(t, func(r pbxlink.Reresolver) pbxlink.Reresolver { held = newHeld(r); return held })
			table := pbxsim.NewUsersTable(pbxsim.SimUser{GUID: "ga", H323: "alice", Devices: []string{mac(1)}},
				pbxsim.SimUser{GUID: "gb", H323: "bob"})
			p, _ := e.connect(table)
			rec := e.upload("a.pcap", mac(1), "")
			if rec.Owner != "alice" || rec.OwnerSource != string(pbx.OwnerByMAC) {
				t.Fatalf("before: owner %q by %q", rec.Owner, rec.OwnerSource)
			}

			held.armed <- struct{}{}
			if err := table.Update(tc.change); err != nil {
				t.Fatal(err)
			}
			e.wait(pbxlink.EventApplied)
			held.waitEntered(t) // the change's job runs only after the deletion
			if tc.reload {
				p.Close()
				if err := table.Delete("ga"); err != nil {
					t.Fatal(err)
				}
				p2 := pbxsim.NewPipe(context.Background(), info, []pbxlink.Client{e.users},
					map[string]pbxsim.Handler{"PbxTableUsers": table})
				t.Cleanup(p2.Close)
				if ev := e.wait(pbxlink.EventLoaded); ev.Deleted != 1 {
					t.Fatalf("second load: %+v", ev)
				}
			} else {
				if err := table.Delete("ga"); err != nil {
					t.Fatal(err)
				}
				e.wait(pbxlink.EventApplied)
			}
			if u := e.user(tc.owner); !u.PBXDeleted {
				t.Fatalf("%s not marked deleted: %+v", tc.owner, u)
			}
			close(held.release)
			e.settle()
			if r := e.recording(rec.ID); r.Owner != tc.owner || !r.OwnerDeleted {
				t.Errorf("after the stale re-resolution: owner %q by %q (deleted %v), want %s, deleted",
					r.Owner, r.OwnerSource, r.OwnerDeleted, tc.owner)
			}
			// Nor does any later resolution (a CDR, another user's change)
			// take it away.
			if _, err := e.matcher.Resolve(context.Background(), rec.ID); err != nil {
				t.Fatal(err)
			}
			if r := e.recording(rec.ID); r.Owner != tc.owner || !r.OwnerDeleted {
				t.Errorf("after resolving again: owner %q by %q (deleted %v), want %s, deleted",
					r.Owner, r.OwnerSource, r.OwnerDeleted, tc.owner)
			}
		})
	}
}

// TestDeletedUserOwnsNothingNew: the owner a deleted user keeps is the one
// its recordings were resolved to before; a new recording made under its
// registration name, on a phone the PBX gave to another user, is that
// user's.
func TestDeletedUserOwnsNothingNew(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	table := pbxsim.NewUsersTable(pbxsim.SimUser{GUID: "ga", H323: "alice", Devices: []string{mac(1)}})
	e.connect(table)
	old := e.upload("old.pcap", mac(1), "alice")
	if err := table.Delete("ga"); err != nil {
		t.Fatal(err)
	}
	e.wait(pbxlink.EventApplied)
	if err := table.Add(pbxsim.SimUser{GUID: "gc", H323: "carol", Devices: []string{mac(1)}}); err != nil {
		t.Fatal(err)
	}
	e.wait(pbxlink.EventApplied)
	e.settle()
	if r := e.upload("new.pcap", mac(1), "alice"); r.Owner != "carol" || r.OwnerSource != string(pbx.OwnerByMAC) {
		t.Errorf("new recording under the deleted user's name: owner %q by %q, want carol by MAC", r.Owner, r.OwnerSource)
	}
	if r := e.recording(old.ID); r.Owner != "alice" || !r.OwnerDeleted {
		t.Errorf("the deleted user's recording: owner %q (deleted %v)", r.Owner, r.OwnerDeleted)
	}
}
