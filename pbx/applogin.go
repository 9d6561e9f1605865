package pbx

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
)

// AppLoginDigest computes the digest of an innovaphone AppWebsocket AppLogin message: the
// lowercase hex SHA-256 of "app:domain:sip:guid:dn:info:challenge:password", where the
// ":info" part is left out when info is empty. info is the compact JSON exactly as received.
func AppLoginDigest(app, domain, sip, guid, dn, info, challenge, password string) string {
	var stack [256]byte
	buf := stack[:0]
	for _, s := range [...]string{app, domain, sip, guid, dn} {
		buf = append(buf, s...)
		buf = append(buf, ':')
	}
	if info != "" {
		buf = append(buf, info...)
		buf = append(buf, ':')
	}
	buf = append(buf, challenge...)
	buf = append(buf, ':')
	buf = append(buf, password...)
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:])
}

// VerifyAppLogin reports whether digest (hex, any case) is the AppLogin digest for the given
// fields, comparing in constant time.
func VerifyAppLogin(app, domain, sip, guid, dn, info, challenge, password, digest string) bool {
	want := AppLoginDigest(app, domain, sip, guid, dn, info, challenge, password)
	if len(digest) != len(want) {
		return false
	}
	got := make([]byte, len(digest))
	for i := 0; i < len(digest); i++ {
		c := digest[i]
		if 'A' <= c && c <= 'F' {
			c += 'a' - 'A'
		}
		got[i] = c
	}
	return subtle.ConstantTimeCompare(got, []byte(want)) == 1
}

// ChallengeDigits is the number of decimal digits NewChallenge returns.
const ChallengeDigits = 20

// NewChallenge returns a random challenge of ChallengeDigits decimal digits read from r
// (crypto/rand.Reader in production). Digits are drawn by rejection sampling, so each is
// uniform.
func NewChallenge(r io.Reader) (string, error) {
	out := make([]byte, 0, ChallengeDigits)
	var buf [32]byte
	for len(out) < ChallengeDigits {
		n, err := io.ReadFull(r, buf[:])
		if err != nil {
			return "", fmt.Errorf("read challenge randomness: %w", err)
		}
		for _, b := range buf[:n] {
			if b >= 250 { // 250 = 25*10: reject to keep digits uniform
				continue
			}
			out = append(out, '0'+b%10)
			if len(out) == ChallengeDigits {
				break
			}
		}
	}
	return string(out), nil
}
