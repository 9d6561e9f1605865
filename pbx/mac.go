package pbx

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidMAC marks a string that is not a device MAC address.
var ErrInvalidMAC = errors.New("invalid MAC address")

// NormalizeMAC returns mac as the 12 lower-case hex digits the PBX uses in
// file names and CDRs, accepting the separators ':', '-' and '.' anywhere
// (00:90:33:AA:BB:CC, 00-90-33-aa-bb-cc, 0090.33aa.bbcc).
func NormalizeMAC(mac string) (string, error) {
	var b strings.Builder
	b.Grow(12)
	for _, c := range mac {
		switch {
		case c == ':' || c == '-' || c == '.':
		case c >= '0' && c <= '9' || c >= 'a' && c <= 'f':
			b.WriteRune(c)
		case c >= 'A' && c <= 'F':
			b.WriteRune(c - 'A' + 'a')
		default:
			return "", fmt.Errorf("MAC address %.40q: invalid character %q: %w", mac, c, ErrInvalidMAC)
		}
		if b.Len() > 12 {
			return "", fmt.Errorf("MAC address %.40q: more than 12 hex digits: %w", mac, ErrInvalidMAC)
		}
	}
	if b.Len() != 12 {
		return "", fmt.Errorf("MAC address %.40q: want 12 hex digits, have %d: %w", mac, b.Len(), ErrInvalidMAC)
	}
	return b.String(), nil
}
