package media

import (
	"bytes"
	"strconv"
	"strings"
)

// isSIP reports whether a UDP payload starts like a SIP message: a status
// line "SIP/2.0 ..." or a request line "METHOD uri SIP/2.0".
func isSIP(p []byte) bool {
	// A SIP message starts with an upper-case method or "SIP/2.0"; an RTP
	// packet (version 2) with a byte of 0x80 or more. Reject those at once.
	if len(p) == 0 || p[0] < 'A' || p[0] > 'Z' {
		return false
	}
	if bytes.HasPrefix(p, []byte("SIP/2.0 ")) {
		return true
	}
	line := p
	if i := bytes.IndexByte(p, '\n'); i >= 0 {
		line = p[:i]
	} else if len(line) > 512 {
		return false
	}
	line = bytes.TrimSuffix(line, []byte("\r"))
	if !bytes.HasSuffix(line, []byte(" SIP/2.0")) {
		return false
	}
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		return false
	}
	for _, c := range line[:sp] { // method: token of upper-case letters
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// sipBody returns the body of a SIP message (after the empty line that ends
// the headers), bounded by Content-Length when present and sane.
func sipBody(p []byte) []byte {
	hdrEnd, sepLen := bytes.Index(p, []byte("\r\n\r\n")), 4
	if i := bytes.Index(p, []byte("\n\n")); i >= 0 && (hdrEnd < 0 || i < hdrEnd) {
		hdrEnd, sepLen = i, 2
	}
	if hdrEnd < 0 {
		return nil
	}
	body := p[hdrEnd+sepLen:]
	for line := range strings.Lines(string(p[:hdrEnd])) {
		name, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		name = strings.TrimSpace(name)
		if strings.EqualFold(name, "Content-Length") || name == "l" {
			n, err := strconv.Atoi(strings.TrimSpace(val))
			if err == nil && n >= 0 && n < len(body) {
				body = body[:n]
			}
		}
	}
	return body
}

// parseSDP calls fn for every a=rtpmap line inside an m=audio section of an
// SDP body. Malformed lines are skipped.
func parseSDP(body []byte, fn func(rtpmap)) {
	audio := false
	for len(body) > 0 {
		var line []byte
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			line, body = body, nil
		}
		line = bytes.TrimRight(line, "\r \t")
		switch {
		case bytes.HasPrefix(line, []byte("m=")):
			audio = bytes.HasPrefix(line, []byte("m=audio "))
		case audio && bytes.HasPrefix(line, []byte("a=rtpmap:")):
			if m, ok := parseRTPMap(line[len("a=rtpmap:"):]); ok {
				fn(m)
			}
		}
	}
}

// parseRTPMap parses "<pt> <name>/<clock>[/<channels>]".
func parseRTPMap(v []byte) (rtpmap, bool) {
	ptStr, rest, ok := bytes.Cut(v, []byte(" "))
	if !ok {
		return rtpmap{}, false
	}
	pt, err := strconv.ParseUint(string(ptStr), 10, 8)
	if err != nil || pt > 127 {
		return rtpmap{}, false
	}
	rest = bytes.TrimSpace(rest)
	name, clockStr, ok := bytes.Cut(rest, []byte("/"))
	if !ok || len(name) == 0 || len(name) > 64 {
		return rtpmap{}, false
	}
	clockStr, _, _ = bytes.Cut(clockStr, []byte("/"))
	clock, err := strconv.Atoi(string(clockStr))
	if err != nil || clock <= 0 || clock > 1000000 {
		return rtpmap{}, false
	}
	return rtpmap{pt: uint8(pt), name: string(name), clock: clock}, true
}
