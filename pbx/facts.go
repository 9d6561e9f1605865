package pbx

import (
	"strings"
	"time"
)

// facts are the call details seen from one CDR (or the gateway records) for one conference.
type facts struct {
	ok          bool
	direction   Direction
	peerName    string
	peerNumber  string
	startedAt   time.Time
	connectedAt time.Time
	duration    time.Duration
}

// segment returns the indices of c's events that belong to conference conf: the events from a
// conf attribute naming it up to the next event naming another conference.
func segment(c *CDR, conf string) []int {
	var idx []int
	cur := ""
	for i := range c.Events {
		if c.Events[i].Conf != "" {
			cur = c.Events[i].Conf
		}
		if cur != "" && strings.EqualFold(cur, conf) {
			idx = append(idx, i)
		}
	}
	return idx
}

func eventTime(c *CDR, i int) time.Time {
	return time.Unix(c.UTC+c.Events[i].Time, 0).UTC()
}

func hasParty(e *Event) bool { return e.E164 != "" || e.H323 != "" || e.DN != "" }

// userFacts describes conference conf from the CDR of the owning user. pseudo holds the h323
// names of non-user objects of the call (trunks, queues), which are not shown as peer names.
func userFacts(c *CDR, conf string, pseudo map[string]bool) facts {
	seg := segment(c, conf)
	if len(seg) == 0 {
		return facts{}
	}
	f := facts{ok: true, startedAt: eventTime(c, seg[0])}
	f.direction = userDirection(c, seg)
	f.connectedAt, f.duration = connectTimes(c, seg)

	var peer *Event
	find := func(msg string, last bool) *Event {
		var found *Event
		for _, i := range seg {
			if c.Events[i].Msg == msg {
				found = &c.Events[i]
				if !last {
					break
				}
			}
		}
		return found
	}
	switch f.direction {
	case DirOut:
		for _, p := range []*Event{find("conn-to", true), find("alert-to", true), find("setup-from", false)} {
			if p != nil && hasParty(p) {
				peer = p
				break
			}
		}
	case DirIn:
		if p := find("setup-to", false); p != nil && hasParty(p) {
			peer = p
		}
	}
	if peer == nil { // a segment after a conference change: the latest party named
		for _, i := range seg {
			if hasParty(&c.Events[i]) {
				peer = &c.Events[i]
			}
		}
	}
	if peer != nil {
		f.peerNumber = peer.E164
		f.peerName = peer.DN
		if f.peerName == "" && !pseudo[strings.ToLower(peer.H323)] {
			f.peerName = peer.H323
		}
	}
	return f
}

// userDirection: a segment starting with setup-from is a call the user made, setup-to one the
// user received; otherwise (a segment after a conference change) the record's dir decides,
// then the record's first event.
func userDirection(c *CDR, seg []int) Direction {
	switch c.Events[seg[0]].Msg {
	case "setup-from":
		return DirOut
	case "setup-to":
		return DirIn
	}
	switch c.Dir {
	case "from":
		return DirOut
	case "to":
		return DirIn
	}
	switch c.Events[0].Msg {
	case "setup-from":
		return DirOut
	case "setup-to":
		return DirIn
	}
	return DirUnknown
}

// connectTimes finds when the call was connected in the segment and how long it stayed so:
// until a release, or until the events move to another conference, or the last event.
func connectTimes(c *CDR, seg []int) (time.Time, time.Duration) {
	if len(seg) == 0 {
		return time.Time{}, 0
	}
	conn := -1
	for _, i := range seg {
		if isConnect(c.Events[i].Msg) {
			conn = i
			break
		}
	}
	if conn < 0 {
		// Connected before a conference change: connected from the start of this segment.
		for i := 0; i < seg[0]; i++ {
			if isConnect(c.Events[i].Msg) {
				conn = seg[0]
				break
			}
		}
	}
	if conn < 0 {
		return time.Time{}, 0
	}
	inSeg := make(map[int]bool, len(seg))
	for _, i := range seg {
		inSeg[i] = true
	}
	end := len(c.Events) - 1
	for i := conn + 1; i < len(c.Events); i++ {
		if !inSeg[i] || strings.HasPrefix(c.Events[i].Msg, "rel-") {
			end = i
			break
		}
	}
	d := time.Duration(c.Events[end].Time-c.Events[conn].Time) * time.Second
	if d < 0 {
		d = 0
	}
	return eventTime(c, conn), d
}

// interfaceFacts describes the call from a trunk or waiting queue record when the owner has no
// record of their own: a trunk's "from" record is a call coming in from outside.
func interfaceFacts(c *CDR, conf string) facts {
	seg := segment(c, conf)
	if len(seg) == 0 {
		return facts{}
	}
	f := facts{ok: true, startedAt: eventTime(c, seg[0])}
	switch {
	case c.Pseudo == "waiting":
		f.direction = DirIn
	case trunkOutgoing(c, conf):
		f.direction = DirOut
	default:
		f.direction = DirIn
	}
	f.connectedAt, f.duration = connectTimes(c, seg)
	return f
}

// pstnInterface reports whether a gateway interface name is a physical (ISDN/analog) line.
func pstnInterface(name string) bool {
	n := strings.ToUpper(name)
	for _, p := range []string{"TEL", "PRI", "BRI", "ISDN", "FXO", "FXS", "ANA"} {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// gatewayFacts describes the call from the gateway records of the conference. A conference
// can hold several calls through the gateway (s5 of the samples: in on TEL1, out again on
// TEL1); the first call (by A:Call, else first record) is described, its records being those
// with the same source interface. Direction is in for a call from a physical line to VoIP
// and out for the reverse (heuristic from interface names).
func gatewayFacts(recs []*GatewayCDR) facts {
	if len(recs) == 0 {
		return facts{}
	}
	src := recs[0].SrcIf
	for _, r := range recs {
		if r.Event == "A:Call" {
			src = r.SrcIf
			break
		}
	}
	var leg []*GatewayCDR
	dst := ""
	for _, r := range recs {
		if r.SrcIf == src {
			leg = append(leg, r)
			if dst == "" {
				dst = r.DstIf
			}
		}
	}
	f := facts{ok: true}
	if !leg[0].Date.IsZero() {
		f.startedAt = leg[0].Date
	}
	switch {
	case pstnInterface(src) && !pstnInterface(dst):
		f.direction = DirIn
	case pstnInterface(dst) && !pstnInterface(src):
		f.direction = DirOut
	}
	for _, r := range leg {
		switch f.direction {
		case DirIn:
			f.peerNumber = firstNonEmpty(f.peerNumber, r.SrcCGPN)
			f.peerName = firstNonEmpty(f.peerName, r.SrcName)
		case DirOut:
			f.peerNumber = firstNonEmpty(f.peerNumber, r.DstCDPN, r.SrcCDPN)
			f.peerName = firstNonEmpty(f.peerName, r.DstName)
		}
	}
	var conn *GatewayCDR
	var connAt int64
	for _, r := range leg {
		if r.ConnectTime > 0 {
			conn, connAt = r, r.ConnectTime
			break
		}
		if strings.HasSuffix(r.Event, ":Connect") {
			conn, connAt = r, r.Time
			break
		}
	}
	if conn == nil {
		return f
	}
	if !conn.Date.IsZero() {
		f.connectedAt = conn.Date.Add(-time.Duration(conn.Time-connAt) * time.Second)
	}
	// The gateway's disc_time is authoritative; without it the first Disc/Rel event.
	end := int64(-1)
	for _, r := range leg {
		if r.DiscTime > 0 && r.DiscTime >= connAt {
			end = r.DiscTime
			break
		}
	}
	for _, r := range leg {
		if end >= 0 {
			break
		}
		if r.Time >= connAt && (strings.HasSuffix(r.Event, ":Disc") || strings.HasSuffix(r.Event, ":Rel")) {
			end = r.Time
		}
	}
	if end >= connAt {
		f.duration = time.Duration(end-connAt) * time.Second
	}
	return f
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// isConnect reports whether an event message means the call got connected: conn-from,
// conn-to, or "connected" (sent after a transfer by newer firmware).
func isConnect(msg string) bool {
	return strings.HasPrefix(msg, "conn-") || msg == "connected"
}
