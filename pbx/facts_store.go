package pbx

import (
	"encoding/json"
	"fmt"
	"strings"
)

// A CDR is parsed once, when it arrives; what is kept for matching are its
// facts: the parsed record without its raw text, as JSON (Facts), read back
// with CDRFromFacts or GatewayFromFacts. Decoding the facts is cheap and
// bounded, unlike parsing the XML again.

// Facts encodes the parsed record without its raw text.
func (c CDR) Facts() ([]byte, error) {
	c.Raw = ""
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode CDR facts: %w", err)
	}
	return b, nil
}

// CDRFromFacts decodes what Facts encoded.
func CDRFromFacts(b []byte) (CDR, error) {
	var c CDR
	if err := json.Unmarshal(b, &c); err != nil {
		return CDR{}, fmt.Errorf("decode CDR facts: %w", err)
	}
	return c, nil
}

// Facts encodes the parsed gateway record without its raw text.
func (g GatewayCDR) Facts() ([]byte, error) {
	g.Raw = ""
	b, err := json.Marshal(g)
	if err != nil {
		return nil, fmt.Errorf("encode gateway CDR facts: %w", err)
	}
	return b, nil
}

// GatewayFromFacts decodes what Facts encoded.
func GatewayFromFacts(b []byte) (GatewayCDR, error) {
	var g GatewayCDR
	if err := json.Unmarshal(b, &g); err != nil {
		return GatewayCDR{}, fmt.Errorf("decode gateway CDR facts: %w", err)
	}
	return g, nil
}

// MaxQuality is the highest Quality a record can have.
const MaxQuality = 6

// Quality rates how much a PBX record looks like one the PBX sends, 0 to
// MaxQuality: one point each for naming an object (guid), having a name or
// number (h323 or e164), a <user> element and a call start (utc), and two
// for a complete call: events that begin with a setup and end with a
// release, as in the record a PBX sends when the call is over. Where a
// conference holds more records than are kept, the better ones are kept
// (and among equals the earlier ones), so junk for a conference cannot
// push out the PBX's own records.
func (c *CDR) Quality() int {
	q := 0
	if c.GUID != "" {
		q++
	}
	if c.H323 != "" || c.E164 != "" {
		q++
	}
	if c.User {
		q++
	}
	if c.UTC > 0 {
		q++
	}
	if n := len(c.Events); n > 0 && strings.HasPrefix(c.Events[0].Msg, "setup-") &&
		strings.HasPrefix(c.Events[n-1].Msg, "rel-") {
		q += 2
	}
	return q
}

// gatewayEvents are the events of an innovaphone gateway's CDR interface.
var gatewayEvents = map[string]bool{
	"A:Call": true, "B:Call": true, "A:Alert": true, "B:Alert": true, "B:Proceed": true,
	"A:Connect": true, "B:Connect": true, "Media": true, "A:Disc": true, "B:Disc": true,
	"A:Rel": true, "B:Rel": true, "A:X": true, "B:X": true,
}

// Quality rates how much a gateway record looks like one a gateway sends,
// 0 to MaxQuality: two points for a known event, one each for the
// gateway's clock (time), its wall clock (date), its identity (srv_id) and
// a direction or interface.
func (g *GatewayCDR) Quality() int {
	q := 0
	if gatewayEvents[g.Event] {
		q += 2
	}
	if g.Time > 0 {
		q++
	}
	if !g.Date.IsZero() {
		q++
	}
	if g.SrvID != "" {
		q++
	}
	if g.Dir != "" || g.SrcIf != "" || g.DstIf != "" {
		q++
	}
	return q
}
