package pbxlink

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Limits of the App-object connection's messages.
const (
	// MaxMessage is the largest message the PBX may send (a replicated
	// user row with its devices and groups is a few KiB).
	MaxMessage = 1 << 20
	// maxField bounds mt, api and src.
	maxField = 256
)

// ErrBadMessage matches every message Decode refuses (errors.Is).
var ErrBadMessage = errors.New("bad message")

// Decode reads one AppWebsocket message: a JSON object whose "mt" is a
// non-empty string and whose "api" and "src", when present, are strings
// (a number as src is taken as its text, as JavaScript peers may send
// one). The message is kept whole in Msg.Raw.
func Decode(data []byte) (Msg, error) {
	if len(data) > MaxMessage {
		return Msg{}, fmt.Errorf("%w: %d bytes, more than %d", ErrBadMessage, len(data), MaxMessage)
	}
	if !utf8.Valid(data) {
		return Msg{}, fmt.Errorf("%w: not UTF-8", ErrBadMessage)
	}
	var env struct {
		MT  json.RawMessage `json:"mt"`
		API json.RawMessage `json:"api"`
		Src json.RawMessage `json:"src"`
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return Msg{}, fmt.Errorf("%w: not a JSON object", ErrBadMessage)
	}
	if err := json.Unmarshal(trimmed, &env); err != nil {
		return Msg{}, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	m := Msg{Raw: json.RawMessage(trimmed)}
	var err error
	if m.MT, err = field("mt", env.MT, false); err != nil {
		return Msg{}, err
	}
	if m.MT == "" {
		return Msg{}, fmt.Errorf(`%w: no "mt"`, ErrBadMessage)
	}
	if m.API, err = field("api", env.API, false); err != nil {
		return Msg{}, err
	}
	if m.Src, err = field("src", env.Src, true); err != nil {
		return Msg{}, err
	}
	return m, nil
}

// field reads a string member of the envelope; null or absent is "".
func field(name string, raw json.RawMessage, numberOK bool) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	switch {
	case raw[0] == '"':
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("%w: %q: %v", ErrBadMessage, name, err)
		}
	case numberOK && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9'):
		s = string(raw)
	default:
		return "", fmt.Errorf("%w: %q is not a string", ErrBadMessage, name)
	}
	if len(s) > maxField {
		return "", fmt.Errorf("%w: %q longer than %d bytes", ErrBadMessage, name, maxField)
	}
	return s, nil
}

// Reply builds an answer to m: {"api":m.API,"mt":mt,"src":m.Src} plus the
// members of body (a struct or map encoding to a JSON object, or nil).
func Reply(m Msg, mt string, body any) ([]byte, error) {
	return envelope(m.API, mt, m.Src, body)
}

// ErrorReply answers m with {"mt":"<mt>Result","error":text}, the
// convention of the service's other websocket messages.
func ErrorReply(m Msg, text string) []byte {
	b, _ := envelope(m.API, m.MT+"Result", m.Src, map[string]string{"error": text})
	return b
}

func envelope(api, mt, src string, body any) ([]byte, error) {
	head := struct {
		API string `json:"api,omitempty"`
		MT  string `json:"mt"`
		Src string `json:"src,omitempty"`
	}{api, mt, src}
	h, err := json.Marshal(head)
	if err != nil {
		return nil, err
	}
	if body == nil {
		return h, nil
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", mt, err)
	}
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '{' {
		return nil, fmt.Errorf("encode %s: body is not an object", mt)
	}
	if string(b) == "{}" {
		return h, nil
	}
	out := append(h[:len(h)-1:len(h)-1], ',')
	return append(out, b[1:]...), nil
}
