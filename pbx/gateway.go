package pbx

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// GatewayCDR is one record of an innovaphone gateway's CDR interface: a flat key/value record
// per call event (A:Call, B:Alert, Media, B:Connect, B:Disc, A:Rel, …). The gateway sends each
// record as the query of an HTTP GET (`/path?event=B:Connect&time=879&ref=…`); savecdrs-style
// text dumps hold the same records as `key value` lines with `end` after each record.
type GatewayCDR struct {
	Event       string    // event: "A:Call", "B:Call", "B:Alert", "B:Proceed", "B:Connect", "Media", "A:Disc", "B:Disc", "A:Rel", "B:Rel", "A:X", "B:X"
	Time        int64     // time: seconds on the gateway's clock when the event happened
	Date        time.Time // date: the gateway's wall clock (its local time, no zone given; stored as UTC)
	Ref         string    // ref: conference id (lowercase), the key to recordings; "" if absent
	Dir         string    // dir: "in" (A side) / "out" (B side)
	SrcIf       string    // src_if: interface the call came in on (TEL1, GW1, …)
	DstIf       string    // dst_if: interface the call went out on
	SrcCGPN     string    // src_cgpn: calling number as received
	SrcCDPN     string    // src_cdpn: called number as received
	SrcDGPN     string    // src_dgpn: diverting number as received
	SrcName     string    // src_name: calling name
	SrcRegName  string    // src_reg_name: registration the call came from
	DstCGPN     string    // dst_cgpn: calling number as sent
	DstCDPN     string    // dst_cdpn: called number as sent
	DstDGPN     string    // dst_dgpn
	DstName     string    // dst_name: connected name
	DstRegName  string    // dst_reg_name
	Cause       string    // cause: release cause (Q.931 octets, e.g. "02_80_90")
	AlertTime   int64     // alert_time: gateway clock of alerting, 0 if absent
	ConnectTime int64     // connect_time: gateway clock of connect, 0 if absent
	DiscTime    int64     // disc_time: gateway clock of disconnect, 0 if absent
	XRef        string    // xref: conference id of the leg this call was transferred with
	XLeg        string    // xleg
	SrvID       string    // srv_id: the gateway's MAC as 00-90-33-…
	Fields      []Field   // every key/value pair in order, including the ones above and unknown keys
	Raw         string    // the record as received (query line, or text lines with "end"); ParseGatewayCDR(Raw) parses it again
}

// Field is one key/value pair of a gateway CDR.
type Field struct {
	Key, Value string
}

// Get returns the value of key and whether it is present.
func (g *GatewayCDR) Get(key string) (string, bool) {
	for _, f := range g.Fields {
		if f.Key == key {
			return f.Value, true
		}
	}
	return "", false
}

// Limits of the gateway CDR parser.
const (
	maxGatewayKeyLen   = 64
	maxGatewayValueLen = 1024
	maxGatewayFields   = 256
	maxGatewayTime     = 1 << 40 // seconds on the gateway clock
)

const gatewayDateLayout = "20060102-150405"

// ParseGatewayCDR parses gateway CDR records. It accepts the wire form, a URL query string
// (`event=A:Call&time=876&ref=…`, optionally with a leading '?', one record per line), as the
// gateway sends it in the GET request or a form body, and the text form (`key value` lines,
// each record closed by a line `end`). A record needs an event; a record without ref is valid
// but matches no recording.
func ParseGatewayCDR(body []byte) ([]GatewayCDR, error) {
	text := bytes.TrimSpace(body)
	if len(text) == 0 {
		return nil, errors.New("gateway CDR: empty body")
	}
	var out []GatewayCDR
	var err error
	if isQueryForm(text) {
		out, err = parseGatewayQueries(text)
	} else {
		out, err = parseGatewayText(text)
	}
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("gateway CDR: no record")
	}
	return out, nil
}

// isQueryForm reports whether text is in query form: no line is "end" and the first line
// looks like `key=value…` rather than `key value`.
func isQueryForm(text []byte) bool {
	for _, l := range bytes.Split(text, []byte("\n")) {
		if string(bytes.TrimSpace(l)) == "end" {
			return false
		}
	}
	line, _, _ := bytes.Cut(text, []byte("\n"))
	line = bytes.TrimPrefix(line, []byte("?"))
	eq := bytes.IndexByte(line, '=')
	sp := bytes.IndexAny(line, " \t")
	return eq >= 0 && (sp < 0 || eq < sp)
}

func parseGatewayQueries(text []byte) ([]GatewayCDR, error) {
	var out []GatewayCDR
	for n, line := range bytes.Split(text, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		line = bytes.TrimPrefix(line, []byte("?"))
		var fields []Field
		for _, part := range strings.Split(string(line), "&") {
			if part == "" {
				continue
			}
			k, v, ok := strings.Cut(part, "=")
			if !ok {
				return nil, fmt.Errorf("gateway CDR line %d: parameter %q has no '='", n+1, clip(part))
			}
			key, err := url.QueryUnescape(k)
			if err != nil {
				return nil, fmt.Errorf("gateway CDR line %d: key %q: %w", n+1, clip(k), err)
			}
			val, err := url.QueryUnescape(v)
			if err != nil {
				return nil, fmt.Errorf("gateway CDR line %d: value of %q: %w", n+1, clip(key), err)
			}
			if len(fields) == maxGatewayFields {
				return nil, fmt.Errorf("gateway CDR line %d: more than %d fields", n+1, maxGatewayFields)
			}
			fields = append(fields, Field{key, val})
		}
		rec, err := newGatewayCDR(fields)
		if err != nil {
			return nil, fmt.Errorf("gateway CDR line %d: %w", n+1, err)
		}
		rec.Raw = string(line)
		out = append(out, rec)
	}
	return out, nil
}

func parseGatewayText(text []byte) ([]GatewayCDR, error) {
	var out []GatewayCDR
	var fields []Field
	var raw strings.Builder
	open := false
	for n, b := range bytes.Split(text, []byte("\n")) {
		line := strings.TrimSpace(string(b))
		if line == "" {
			continue
		}
		raw.WriteString(line)
		raw.WriteByte('\n')
		if line == "end" {
			if !open {
				return nil, fmt.Errorf("gateway CDR line %d: \"end\" without a record", n+1)
			}
			rec, err := newGatewayCDR(fields)
			if err != nil {
				return nil, fmt.Errorf("gateway CDR record %d (ending line %d): %w", len(out)+1, n+1, err)
			}
			rec.Raw = strings.TrimSuffix(raw.String(), "\n")
			out = append(out, rec)
			fields, open = nil, false
			raw.Reset()
			continue
		}
		k, v, _ := strings.Cut(line, " ")
		if len(fields) == maxGatewayFields {
			return nil, fmt.Errorf("gateway CDR line %d: more than %d fields in a record", n+1, maxGatewayFields)
		}
		fields = append(fields, Field{k, strings.TrimSpace(v)})
		open = true
	}
	if open {
		return nil, fmt.Errorf("gateway CDR record %d: missing \"end\"", len(out)+1)
	}
	return out, nil
}

func newGatewayCDR(fields []Field) (GatewayCDR, error) {
	g := GatewayCDR{Fields: fields}
	seen := make(map[string]bool, len(fields))
	for i := range fields {
		f := &fields[i]
		if !validGatewayKey(f.Key) {
			return GatewayCDR{}, fmt.Errorf("invalid key %q", clip(f.Key))
		}
		if seen[f.Key] {
			return GatewayCDR{}, fmt.Errorf("duplicate key %q", f.Key)
		}
		seen[f.Key] = true
		if len(f.Value) > maxGatewayValueLen {
			return GatewayCDR{}, fmt.Errorf("value of %q longer than %d bytes", f.Key, maxGatewayValueLen)
		}
		if !utf8.ValidString(f.Value) {
			f.Value = latin1ToUTF8(f.Value)
		}
		if err := g.set(f.Key, f.Value); err != nil {
			return GatewayCDR{}, err
		}
	}
	if g.Event == "" {
		return GatewayCDR{}, errors.New("no event")
	}
	return g, nil
}

func (g *GatewayCDR) set(key, v string) error {
	var err error
	switch key {
	case "event":
		g.Event = v
	case "time":
		g.Time, err = gatewayInt(key, v)
	case "date":
		if v != "" {
			g.Date, err = time.Parse(gatewayDateLayout, v)
			if err != nil {
				err = fmt.Errorf("date %q is not YYYYMMDD-hhmmss", clip(v))
			}
		}
	case "ref", "xref":
		if v != "" && !IsConfID(v) {
			return fmt.Errorf("%s %q is not a 32 hex digit conference id", key, clip(v))
		}
		if key == "ref" {
			g.Ref = strings.ToLower(v)
		} else {
			g.XRef = strings.ToLower(v)
		}
	case "dir":
		g.Dir = v
	case "src_if":
		g.SrcIf = v
	case "dst_if":
		g.DstIf = v
	case "src_cgpn":
		g.SrcCGPN = v
	case "src_cdpn":
		g.SrcCDPN = v
	case "src_dgpn":
		g.SrcDGPN = v
	case "src_name":
		g.SrcName = v
	case "src_reg_name":
		g.SrcRegName = v
	case "dst_cgpn":
		g.DstCGPN = v
	case "dst_cdpn":
		g.DstCDPN = v
	case "dst_dgpn":
		g.DstDGPN = v
	case "dst_name":
		g.DstName = v
	case "dst_reg_name":
		g.DstRegName = v
	case "cause":
		g.Cause = v
	case "alert_time":
		g.AlertTime, err = gatewayInt(key, v)
	case "connect_time":
		g.ConnectTime, err = gatewayInt(key, v)
	case "disc_time":
		g.DiscTime, err = gatewayInt(key, v)
	case "xleg":
		g.XLeg = v
	case "srv_id":
		g.SrvID = v
	}
	return err
}

func gatewayInt(key, v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > maxGatewayTime {
		return 0, fmt.Errorf("%s %q is not an integer in [0, %d]", key, clip(v), int64(maxGatewayTime))
	}
	return n, nil
}

func validGatewayKey(k string) bool {
	if k == "" || len(k) > maxGatewayKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func latin1ToUTF8(s string) string {
	b := make([]byte, 0, len(s)+len(s)/2)
	for i := 0; i < len(s); i++ {
		b = utf8.AppendRune(b, rune(s[i]))
	}
	return string(b)
}
