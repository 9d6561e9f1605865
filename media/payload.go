package media

import (
	"fmt"
	"strings"
)

// payloadKind classifies an RTP payload type.
type payloadKind uint8

const (
	kindUnknown     payloadKind = iota // no mapping: static type without audio meaning, or dynamic without rtpmap
	kindAudio                          // decodable by a codec.Decoder
	kindUnsupported                    // audio codec without a decoder
	kindCN                             // RFC 3389 comfort noise
	kindEvent                          // RFC 4733 telephone-event
)

// staticPT are the audio payload types of RFC 3551, table 4 (name and RTP
// clock rate). Types without an entry are unassigned or video.
var staticPT = [35]struct {
	name  string
	clock int
}{
	0: {"PCMU", 8000}, 3: {"GSM", 8000}, 4: {"G723", 8000}, 5: {"DVI4", 8000},
	6: {"DVI4", 16000}, 7: {"LPC", 8000}, 8: {"PCMA", 8000}, 9: {"G722", 8000},
	10: {"L16", 44100}, 11: {"L16", 44100}, 12: {"QCELP", 8000}, 13: {"CN", 8000},
	14: {"MPA", 90000}, 15: {"G728", 8000}, 16: {"DVI4", 11025}, 17: {"DVI4", 22050},
	18: {"G729", 8000},
}

// rtpmap is one SDP a=rtpmap entry.
type rtpmap struct {
	pt    uint8
	name  string
	clock int
}

// ptTable maps the dynamic payload types (96-127) announced in the capture's
// SDP. The first mapping of a type wins; a conflicting later one is reported
// once.
type ptTable struct {
	dyn      [32]rtpmap
	set      [32]bool
	conflict [32]bool
}

// add records a mapping; it returns a warning for a first conflict.
func (t *ptTable) add(m rtpmap) string {
	if m.pt < 96 || m.pt > 127 {
		return "" // static types keep their RFC 3551 meaning
	}
	i := m.pt - 96
	if !t.set[i] {
		t.dyn[i], t.set[i] = m, true
		return ""
	}
	old := t.dyn[i]
	if strings.EqualFold(old.name, m.name) && old.clock == m.clock || t.conflict[i] {
		return ""
	}
	t.conflict[i] = true
	return fmt.Sprintf("SDP maps payload type %d to both %s/%d and %s/%d; using %s",
		m.pt, old.name, old.clock, m.name, m.clock, old.name)
}

// lookup returns the codec name and clock rate of a payload type and whether
// it is known.
func (t *ptTable) lookup(pt uint8) (name string, clock int, ok bool) {
	switch {
	case int(pt) < len(staticPT) && staticPT[pt].name != "":
		return staticPT[pt].name, staticPT[pt].clock, true
	case pt >= 96 && pt <= 127 && t.set[pt-96]:
		m := t.dyn[pt-96]
		return m.name, m.clock, true
	}
	return "", 0, false
}

// classify maps a codec name to its kind (before a decoder is tried).
func classify(name string) payloadKind {
	switch {
	case strings.EqualFold(name, "CN"):
		return kindCN
	case strings.EqualFold(name, "telephone-event"):
		return kindEvent
	}
	return kindAudio
}
