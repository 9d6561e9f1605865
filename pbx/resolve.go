package pbx

import (
	"fmt"
	"strings"
	"time"
)

// Direction of a call as seen by the recording's owner.
type Direction string

// Directions.
const (
	DirUnknown Direction = ""
	DirIn      Direction = "in"
	DirOut     Direction = "out"
)

// OwnerSource says which rule decided the owner of a recording.
type OwnerSource string

// Owner rules, in the order Resolve tries them.
const (
	OwnerNone      OwnerSource = ""          // no rule applied: the recording has no owner
	OwnerByRegName OwnerSource = "reg-name"  // the user named in the file name
	OwnerByMAC     OwnerSource = "mac"       // the user whose device has the recording's MAC
	OwnerByCDR     OwnerSource = "cdr-user"  // the file name's registration is a user object in the call's CDRs, unknown to the directory
	OwnerTrunkOut  OwnerSource = "trunk-out" // trunk recording of an outgoing call: the user who initiated it
	OwnerTrunkIn   OwnerSource = "trunk-in"  // trunk recording of an incoming call: the first user who answered
	OwnerWaiting   OwnerSource = "waiting"   // waiting queue recording: the user who answered
)

// CallInfo is what the CDRs tell about one recording.
type CallInfo struct {
	ConfID         string
	Matched        bool // at least one PBX or gateway CDR names the conference
	MatchedCDRs    int  // PBX CDRs naming the conference in any event
	MatchedGateway int  // gateway records with ref = the conference

	Owner       string      // h323 name of the owning user, "" if none
	OwnerKnown  bool        // Owner was found in the directory (Owner is then its spelling)
	OwnerSource OwnerSource // rule that decided the owner

	Direction    Direction // in/out from the owner's view (from the trunk or gateway if the owner has no CDR)
	PeerName     string
	PeerNumber   string
	StartedAt    time.Time     // start of the call (of this conference's part of it), zero if unknown
	ConnectedAt  time.Time     // zero if never connected
	CallDuration time.Duration // connected time, 0 if never connected
}

// Resolve works out who owns the recording rec and what the call was, from the PBX CDRs and
// gateway CDRs at hand (records of other conferences are ignored, so callers may pass more
// than needed). A PBX CDR matches when any of its events names rec.ConfID, not only the
// first: after a transfer the events from the conf change on belong to the new conference.
//
// Owner rules, first match wins:
//  1. the user named in the file name (dir.UserByName(rec.RegName));
//  2. the user whose device has the recording's MAC (dir.UserByMAC);
//  3. the file name's registration names a user object with a CDR in this call;
//  4. a trunk recording (pseudo="trunk" record, preferably the one named in the file name):
//     outgoing call → the user who initiated it, incoming call → the first user who answered;
//  5. a waiting queue recording (pseudo="waiting"): the user who answered.
//
// dir may be nil (no directory). Only a directory error makes Resolve fail.
func Resolve(rec FileName, cdrs []CDR, gw []GatewayCDR, dir Directory) (CallInfo, error) {
	conf := strings.ToLower(rec.ConfID)
	info := CallInfo{ConfID: conf}
	var matched []*CDR
	pseudo := make(map[string]bool)
	for i := range cdrs {
		c := &cdrs[i]
		if conf == "" || !c.HasConf(conf) {
			continue
		}
		matched = append(matched, c)
		if c.User && c.Pseudo != "" && c.H323 != "" {
			pseudo[strings.ToLower(c.H323)] = true
		}
	}
	var gws []*GatewayCDR
	for i := range gw {
		if conf != "" && gw[i].Ref == conf {
			gws = append(gws, &gw[i])
		}
	}
	info.MatchedCDRs, info.MatchedGateway = len(matched), len(gws)
	info.Matched = len(matched) > 0 || len(gws) > 0

	r := resolver{conf: conf, matched: matched, pseudo: pseudo, dir: dir}
	iface, err := r.owner(rec, &info)
	if err != nil {
		return CallInfo{}, err
	}

	var f facts
	if info.Owner != "" {
		if c := r.ownerCDR(info.Owner); c != nil {
			f = userFacts(c, conf, pseudo)
		}
	}
	if !f.ok && iface != nil {
		f = interfaceFacts(iface, conf)
	}
	if !f.ok {
		f = gatewayFacts(gws)
	}
	if !f.ok {
		f.startedAt = r.earliestStart()
	}
	info.Direction, info.PeerName, info.PeerNumber = f.direction, f.peerName, f.peerNumber
	info.StartedAt, info.ConnectedAt, info.CallDuration = f.startedAt, f.connectedAt, f.duration
	return info, nil
}

type resolver struct {
	conf    string
	matched []*CDR
	pseudo  map[string]bool // lowercase h323 names of non-user objects in the call
	dir     Directory
}

// owner fills the owner fields of info; it returns the trunk/queue record the decision was
// based on, if any.
func (r *resolver) owner(rec FileName, info *CallInfo) (*CDR, error) {
	if r.dir != nil {
		if rec.RegName != "" {
			u, ok, err := r.dir.UserByName(rec.RegName)
			if err != nil {
				return nil, fmt.Errorf("look up user %q: %w", rec.RegName, err)
			}
			if ok {
				info.Owner, info.OwnerKnown, info.OwnerSource = u.Name, true, OwnerByRegName
				return nil, nil
			}
		}
		if rec.MAC != "" {
			u, ok, err := r.dir.UserByMAC(rec.MAC)
			if err != nil {
				return nil, fmt.Errorf("look up device %s: %w", rec.MAC, err)
			}
			if ok {
				info.Owner, info.OwnerKnown, info.OwnerSource = u.Name, true, OwnerByMAC
				return nil, nil
			}
		}
	}
	if rec.RegName != "" {
		for _, c := range r.matched {
			if c.IsRealUser() && strings.EqualFold(c.H323, rec.RegName) {
				info.Owner, info.OwnerSource = c.H323, OwnerByCDR
				return nil, nil
			}
		}
	}
	iface := r.interfaceCDR(rec.RegName)
	if iface == nil {
		return nil, nil
	}
	var name string
	var src OwnerSource
	switch {
	case iface.Pseudo == "trunk" && trunkOutgoing(iface, r.conf):
		name, src = r.initiatingUser(iface), OwnerTrunkOut
	case iface.Pseudo == "trunk":
		name, src = r.answeringUser(iface), OwnerTrunkIn
	default:
		name, src = r.answeringUser(iface), OwnerWaiting
	}
	if name == "" {
		return iface, nil
	}
	info.Owner, info.OwnerSource = name, src
	if r.dir != nil {
		u, ok, err := r.dir.UserByName(name)
		if err != nil {
			return nil, fmt.Errorf("look up user %q: %w", name, err)
		}
		if ok {
			info.Owner, info.OwnerKnown = u.Name, true
		}
	}
	return iface, nil
}

// trunkOutgoing reports whether a trunk's record is an outgoing call: one sent to the trunk
// (dir="to"); for other dir values a segment starting with setup-to.
func trunkOutgoing(c *CDR, conf string) bool {
	switch c.Dir {
	case "to":
		return true
	case "from":
		return false
	}
	seg := segment(c, conf)
	return len(seg) > 0 && c.Events[seg[0]].Msg == "setup-to"
}

// interfaceCDR picks the trunk or waiting queue record a recording was made on: the one the
// file name's registration names, else the first trunk, else the first waiting queue.
func (r *resolver) interfaceCDR(regName string) *CDR {
	if regName != "" {
		for _, c := range r.matched {
			if c.User && (c.Pseudo == "trunk" || c.Pseudo == "waiting") && strings.EqualFold(c.H323, regName) {
				return c
			}
		}
	}
	for _, kind := range []string{"trunk", "waiting"} {
		for _, c := range r.matched {
			if c.User && c.Pseudo == kind {
				return c
			}
		}
	}
	return nil
}

// initiatingUser is the user whose own record shows them placing the call (earliest
// setup-from in this conference), else the party of the trunk's setup-to event.
func (r *resolver) initiatingUser(trunk *CDR) string {
	return r.earliestUser(trunk, "setup-from", "setup-to")
}

// answeringUser is the user whose own record shows the earliest answer (conn-from) in this
// conference, else the first non-interface party the trunk or queue was connected to.
func (r *resolver) answeringUser(iface *CDR) string {
	return r.earliestUser(iface, "conn-from", "conn-to")
}

// earliestUser is the real user whose own record has the earliest userMsg event in this
// conference; failing that, the first non-interface party of an ifaceMsg event in the
// interface's (trunk or queue) own record.
func (r *resolver) earliestUser(iface *CDR, userMsg, ifaceMsg string) string {
	best, bestAt := "", time.Time{}
	for _, c := range r.matched {
		if !c.IsRealUser() || c.H323 == "" {
			continue
		}
		for _, i := range segment(c, r.conf) {
			if c.Events[i].Msg != userMsg {
				continue
			}
			if at := eventTime(c, i); best == "" || at.Before(bestAt) {
				best, bestAt = c.H323, at
			}
			break
		}
	}
	if best != "" {
		return best
	}
	for _, i := range segment(iface, r.conf) {
		if e := &iface.Events[i]; e.Msg == ifaceMsg && e.H323 != "" && !r.pseudo[strings.ToLower(e.H323)] {
			return e.H323
		}
	}
	return ""
}

// ownerCDR is the owner's own record of this conference, preferring one that got connected.
func (r *resolver) ownerCDR(owner string) *CDR {
	var first *CDR
	for _, c := range r.matched {
		if !c.IsRealUser() || !strings.EqualFold(c.H323, owner) {
			continue
		}
		if first == nil {
			first = c
		}
		if at, _ := connectTimes(c, segment(c, r.conf)); !at.IsZero() {
			return c
		}
	}
	return first
}

func (r *resolver) earliestStart() time.Time {
	var t time.Time
	for _, c := range r.matched {
		if seg := segment(c, r.conf); len(seg) > 0 {
			if at := eventTime(c, seg[0]); t.IsZero() || at.Before(t) {
				t = at
			}
		}
	}
	return t
}
