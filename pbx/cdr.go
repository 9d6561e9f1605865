package pbx

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// CDR is one PBX call detail record: the view of one call from one PBX object (a user, a
// trunk, a waiting queue, …), sent by the PBX as a <cdr> XML element when the call ends.
type CDR struct {
	ID     string // id: unique id of this CDR (newer firmware), "" if absent
	GUID   string // guid: the object the CDR belongs to
	Sys    string // sys: system name of the PBX
	PBX    string // pbx: the PBX that generated the CDR
	Node   string // node of the object
	Device string // device used for the call, if any
	CN     string // cn: long name of the object
	E164   string // e164: number of the object
	H323   string // h323: name of the object
	Dir    string // dir: "from" (call from the object), "to" (to it), "cf" (diverted), "ct" (transferred)
	UTC    int64  // utc: call start, Unix seconds
	Local  int64  // local: call start in the PBX's local time, seconds
	User   bool   // the record has a <user> child
	Pseudo string // <user pseudo="…">: "trunk", "waiting", …; "" for a real user object
	Events []Event
	Raw    string // the <cdr> element exactly as received
}

// Event is one <event> of a CDR: a state change of the call.
type Event struct {
	Msg   string // msg: "setup-from", "alert-to", "conn-from", "rel-to", "transfer-from", …
	Time  int64  // time: seconds relative to the CDR's UTC
	E164  string // e164: number of the other party
	H323  string // h323: name of the other party
	DN    string // dn: display name of the other party
	Cause string // cause: release cause
	Type  string // type
	Conf  string // conf: conference id (lowercase); set on the first event and when it changes
}

// IsRealUser reports whether the record belongs to a user object (not a trunk, queue, …).
func (c *CDR) IsRealUser() bool { return c.User && c.Pseudo == "" }

// ConfIDs returns the distinct conference ids of the record in order of appearance. A record
// belongs to every conference id it names: index it under all of them.
func (c *CDR) ConfIDs() []string {
	var out []string
	for i := range c.Events {
		if id := c.Events[i].Conf; id != "" && !contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// HasConf reports whether any event names conference id conf (case-insensitive).
func (c *CDR) HasConf(conf string) bool {
	for i := range c.Events {
		if c.Events[i].Conf != "" && strings.EqualFold(c.Events[i].Conf, conf) {
			return true
		}
	}
	return false
}

// EventConfs returns, for each event, the conference id it belongs to: the conf of the event
// itself or of the latest earlier event that carried one ("" before the first).
func (c *CDR) EventConfs() []string {
	out := make([]string, len(c.Events))
	cur := ""
	for i := range c.Events {
		if c.Events[i].Conf != "" {
			cur = c.Events[i].Conf
		}
		out[i] = cur
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type xmlCDR struct {
	ID     string     `xml:"id,attr"`
	GUID   string     `xml:"guid,attr"`
	Sys    string     `xml:"sys,attr"`
	PBX    string     `xml:"pbx,attr"`
	Node   string     `xml:"node,attr"`
	Device string     `xml:"device,attr"`
	CN     string     `xml:"cn,attr"`
	E164   string     `xml:"e164,attr"`
	H323   string     `xml:"h323,attr"`
	Dir    string     `xml:"dir,attr"`
	UTC    string     `xml:"utc,attr"`
	Local  string     `xml:"local,attr"`
	User   []xmlUser  `xml:"user"`
	Events []xmlEvent `xml:"event"`
}

type xmlUser struct {
	Pseudo string `xml:"pseudo,attr"`
}

type xmlEvent struct {
	Msg   string `xml:"msg,attr"`
	Time  string `xml:"time,attr"`
	E164  string `xml:"e164,attr"`
	H323  string `xml:"h323,attr"`
	DN    string `xml:"dn,attr"`
	Cause string `xml:"cause,attr"`
	Type  string `xml:"type,attr"`
	Conf  string `xml:"conf,attr"`
}

// ParseCDRs parses the XML text of a PBX CDR request (the `msg` form value or a raw XML body):
// one or more <cdr> elements, at top level or wrapped in other elements. Each record keeps its
// raw XML. Malformed XML, bad numbers or a text without any <cdr> are errors.
func ParseCDRs(body []byte) ([]CDR, error) {
	var cs charsetState
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		return cs.reader(label, in, int64(len(body)))
	}
	var out []CDR
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse CDR XML near byte %d: %w", dec.InputOffset(), err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "cdr" {
			continue
		}
		var x xmlCDR
		if err := dec.DecodeElement(&x, &se); err != nil {
			return nil, fmt.Errorf("parse CDR XML: record %d (starting at byte %d): %w", len(out)+1, start, err)
		}
		end := dec.InputOffset()
		c, err := x.convert()
		if err != nil {
			return nil, fmt.Errorf("CDR record %d (guid %q): %w", len(out)+1, clip(x.GUID), err)
		}
		c.Raw = cs.slice(body, start, end)
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("parse CDR XML: no <cdr> element")
	}
	return out, nil
}

func (x *xmlCDR) convert() (CDR, error) {
	c := CDR{
		ID: x.ID, GUID: x.GUID, Sys: x.Sys, PBX: x.PBX, Node: x.Node, Device: x.Device,
		CN: x.CN, E164: x.E164, H323: x.H323, Dir: x.Dir,
	}
	var err error
	if c.UTC, err = parseInt("utc", x.UTC, 0, maxUnixTime); err != nil {
		return CDR{}, err
	}
	if c.Local, err = parseInt("local", x.Local, 0, maxUnixTime); err != nil {
		return CDR{}, err
	}
	if len(x.User) > 0 {
		c.User = true
		c.Pseudo = x.User[0].Pseudo
	}
	if len(x.Events) > 0 {
		c.Events = make([]Event, len(x.Events))
	}
	for i, e := range x.Events {
		t, err := parseInt("time", e.Time, -maxEventTime, maxEventTime)
		if err != nil {
			return CDR{}, fmt.Errorf("event %d (%q): %w", i+1, clip(e.Msg), err)
		}
		c.Events[i] = Event{
			Msg: e.Msg, Time: t, E164: e.E164, H323: e.H323, DN: e.DN,
			Cause: e.Cause, Type: e.Type, Conf: strings.ToLower(strings.TrimSpace(e.Conf)),
		}
	}
	return c, nil
}

// Bounds of CDR times: Unix times up to the year 9999, event offsets up to ±10 years.
const (
	maxUnixTime  = 253402300799
	maxEventTime = 10 * 366 * 24 * 3600
)

// parseInt parses an optional integer attribute within [min, max]; empty means 0.
func parseInt(name, s string, min, max int64) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("attribute %s=%q is not an integer", name, clip(s))
	}
	if v < min || v > max {
		return 0, fmt.Errorf("attribute %s=%d out of range [%d, %d]", name, v, min, max)
	}
	return v, nil
}

// charsetState converts XML declared as ISO-8859-1 / Latin-1 to UTF-8 and remembers the
// converted text, so raw records can be cut from it (the decoder's offsets then count bytes of
// the converted text, starting where the declaration ended).
type charsetState struct {
	conv []byte // converted text after the XML declaration, nil while reading body directly
	base int64  // offset in body where conv starts
}

func (s *charsetState) reader(label string, in io.Reader, bodyLen int64) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1":
		b, err := io.ReadAll(in)
		if err != nil {
			return nil, fmt.Errorf("read %s XML: %w", label, err)
		}
		out := make([]byte, 0, len(b)+len(b)/4)
		for _, c := range b {
			out = utf8.AppendRune(out, rune(c))
		}
		s.conv, s.base = out, bodyLen-int64(len(b))
		return bytes.NewReader(out), nil
	}
	return nil, fmt.Errorf("unsupported XML encoding %q", clip(label))
}

// slice returns the text between decoder offsets start and end ("" if out of range).
func (s *charsetState) slice(body []byte, start, end int64) string {
	src, off := body, int64(0)
	if s.conv != nil && start >= s.base {
		src, off = s.conv, s.base
	}
	start, end = start-off, end-off
	if start < 0 || end > int64(len(src)) || start > end {
		return ""
	}
	return string(src[start:end])
}
