package pbx

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrInvalidFileName is wrapped by every error ParseFileName returns, so the HTTP layer can
// map it to 400 with errors.Is; the error text names the reason.
var ErrInvalidFileName = errors.New("invalid recording file name")

// MaxFileNameLen is the longest recording file name accepted, in bytes.
const MaxFileNameLen = 255

// FileName is a parsed recording file name
// `<confid>-<mac>-<serial>[-[-]<reg-name>].pcap`.
type FileName struct {
	ConfID  string // 32 lowercase hex digits: the conference id shared with the CDRs
	MAC     string // 12 lowercase hex digits: the recording device
	Serial  string // decimal sequence number of the recording on the device
	RegName string // registration (user) name, "" when the device sent none
}

// String renders the canonical file name (lowercase ids, no empty field).
func (f FileName) String() string {
	s := f.ConfID + "-" + f.MAC + "-" + f.Serial
	if f.RegName != "" {
		s += "-" + f.RegName
	}
	return s + ".pcap"
}

func fileNameErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidFileName, fmt.Sprintf(format, args...))
}

// ParseFileName parses and validates a recording file name as uploaded by a phone or gateway.
// The conference id and MAC are normalised to lowercase. Devices put an empty field before the
// registration name (`…-11--anna-lena.pcap`); it is skipped, dashes inside the name are kept.
// Names that could escape a directory or hide characters (`/`, `\`, `..`, `%` escapes,
// control characters, invalid UTF-8) are rejected.
func ParseFileName(name string) (FileName, error) {
	if len(name) == 0 {
		return FileName{}, fileNameErr("empty")
	}
	if len(name) > MaxFileNameLen {
		return FileName{}, fileNameErr("longer than %d bytes", MaxFileNameLen)
	}
	if !utf8.ValidString(name) {
		return FileName{}, fileNameErr("not valid UTF-8")
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c < 0x20 || c == 0x7f:
			return FileName{}, fileNameErr("control character at byte %d", i)
		case c == '/' || c == '\\':
			return FileName{}, fileNameErr("path separator %q at byte %d", c, i)
		case c == '%':
			return FileName{}, fileNameErr("percent escape at byte %d", i)
		}
	}
	if strings.Contains(name, "..") {
		return FileName{}, fileNameErr(`contains ".."`)
	}
	stem, ok := strings.CutSuffix(name, ".pcap")
	if !ok {
		return FileName{}, fileNameErr("missing .pcap suffix")
	}
	conf, rest, _ := strings.Cut(stem, "-")
	if !isHex(conf, 32) {
		return FileName{}, fileNameErr("conference id %q is not 32 hex digits", clip(conf))
	}
	mac, rest, _ := strings.Cut(rest, "-")
	if !isHex(mac, 12) {
		return FileName{}, fileNameErr("MAC %q is not 12 hex digits", clip(mac))
	}
	serial, reg, _ := strings.Cut(rest, "-")
	if !isDecimal(serial, 20) {
		return FileName{}, fileNameErr("serial %q is not a decimal number of 1 to 20 digits", clip(serial))
	}
	// One empty field may precede the registration name ("-11--user").
	reg = strings.TrimPrefix(reg, "-")
	if strings.HasPrefix(reg, "-") {
		return FileName{}, fileNameErr("registration name starts with a dash")
	}
	if strings.TrimSpace(reg) != reg {
		return FileName{}, fileNameErr("registration name has leading or trailing space")
	}
	return FileName{
		ConfID:  strings.ToLower(conf),
		MAC:     strings.ToLower(mac),
		Serial:  serial,
		RegName: reg,
	}, nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func isDecimal(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// IsConfID reports whether s is a conference id: 32 hex digits (any case).
func IsConfID(s string) bool { return isHex(s, 32) }

// clip shortens s for error messages.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	for i := max; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return ""
}
