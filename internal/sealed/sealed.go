// Package sealed is the encryption at rest of captures: a master key read
// from a key file wraps one random data key per recording, and a capture is
// encrypted in pieces (a stored chunk, or a fixed-size segment of an
// object) with AES-256-GCM, each piece on its own, so that a range read or a
// seek decrypts only the pieces it touches.
//
// A sealed piece is
//
//	version (1 byte, 1) | nonce (12 bytes, random) | ciphertext | tag (16 bytes)
//
// and is authenticated together with the recording's id and the piece's
// plaintext offset, so a piece moved to another recording or another place
// does not open. A wrapped data key is a sealed piece of the 32-byte key
// under the master key, authenticated with the recording's id.
//
// The package imports nothing of the project and no database, so its fuzz
// target runs fast.
package sealed

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
)

// Errors; test with errors.Is.
var (
	// ErrAuth: a piece or a wrapped key did not authenticate (wrong key,
	// tampered or misplaced data).
	ErrAuth = errors.New("sealed: authentication failed (wrong key or tampered data)")
	// ErrFormat: the bytes are not a sealed piece of this version.
	ErrFormat = errors.New("sealed: not a sealed piece")
	// ErrKeyFile: the key file is unusable.
	ErrKeyFile = errors.New("sealed: bad key file")
)

const (
	version   = 1
	nonceLen  = 12
	tagLen    = 16
	KeyLen    = 32 // AES-256
	headerLen = 1 + nonceLen
	// Overhead is what sealing adds to a piece.
	Overhead = headerLen + tagLen
)

// Key is a 256-bit AES-GCM key: the master key or a recording's data key.
type Key struct {
	aead cipher.AEAD
	raw  [KeyLen]byte
}

// NewKey makes a key from 32 bytes.
func NewKey(b []byte) (*Key, error) {
	if len(b) != KeyLen {
		return nil, fmt.Errorf("sealed: key of %d bytes, want %d: %w", len(b), KeyLen, ErrKeyFile)
	}
	k := &Key{}
	copy(k.raw[:], b)
	block, err := aes.NewCipher(k.raw[:])
	if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	if k.aead, err = cipher.NewGCM(block); err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	return k, nil
}

// NewDataKey makes a fresh random data key.
func NewDataKey() (*Key, error) {
	b := make([]byte, KeyLen)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("sealed: data key: %w", err)
	}
	return NewKey(b)
}

// ID names a master key without revealing it: the first 8 bytes of a
// domain-separated SHA-256 of it, in hex. It is stored with each wrapped
// data key, so a wrong key is told from tampering.
func (k *Key) ID() string {
	h := sha256.Sum256(append([]byte("recordings master key id\x00"), k.raw[:]...))
	return hex.EncodeToString(h[:8])
}

// Derive returns a 32-byte key for another use of the master key, named by
// label (HMAC-SHA256 of the label under the key): e.g. an SSE-C key for the
// database replica, so that no second secret has to be kept. Keys derived
// with different labels are independent.
func (k *Key) Derive(label string) []byte {
	m := hmac.New(sha256.New, k.raw[:])
	m.Write([]byte("recordings derived key\x00" + label))
	return m.Sum(nil)
}

// ParseKey reads a master key from a key file's contents: 64 hex digits,
// or 32 bytes in standard or URL-safe base64 (with or without padding);
// surrounding white space is ignored.
func ParseKey(text []byte) (*Key, error) {
	s := string(bytes.TrimSpace(text))
	if b, err := hex.DecodeString(s); err == nil && len(b) == KeyLen {
		return NewKey(b)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == KeyLen {
			return NewKey(b)
		}
	}
	return nil, fmt.Errorf("want 64 hex digits or 32 bytes in base64 (e.g. the output of `openssl rand -hex 32`): %w", ErrKeyFile)
}

// LoadKeyFile reads the master key from path. The file must not be
// readable by group or others.
func LoadKeyFile(path string) (*Key, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("key file %s: mode %v lets others read it; chmod 600 it: %w", path, fi.Mode().Perm(), ErrKeyFile)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	k, err := ParseKey(b)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return k, nil
}

// aad binds a piece to its recording and place.
func aad(buf *[24]byte, kind byte, id, off int64) []byte {
	buf[0] = kind
	binary.BigEndian.PutUint64(buf[8:], uint64(id))
	binary.BigEndian.PutUint64(buf[16:], uint64(off))
	return buf[:]
}

const (
	kindPiece   = 'p'
	kindWrapped = 'k'
)

// SealTo appends to dst the sealed form of plain, the piece of recording id
// at plaintext offset off.
func (k *Key) SealTo(dst, plain []byte, id, off int64) ([]byte, error) {
	return k.seal(dst, plain, kindPiece, id, off)
}

func (k *Key) seal(dst, plain []byte, kind byte, id, off int64) ([]byte, error) {
	var nonce [nonceLen]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("sealed: nonce: %w", err)
	}
	dst = append(dst, version)
	dst = append(dst, nonce[:]...)
	var a [24]byte
	return k.aead.Seal(dst, nonce[:], plain, aad(&a, kind, id, off)), nil
}

// OpenTo appends to dst the plaintext of a sealed piece of recording id at
// plaintext offset off. It fails with ErrFormat or ErrAuth.
func (k *Key) OpenTo(dst, piece []byte, id, off int64) ([]byte, error) {
	return k.open(dst, piece, kindPiece, id, off)
}

func (k *Key) open(dst, piece []byte, kind byte, id, off int64) ([]byte, error) {
	if len(piece) < Overhead || piece[0] != version {
		return nil, ErrFormat
	}
	var a [24]byte
	out, err := k.aead.Open(dst, piece[1:headerLen], piece[headerLen:], aad(&a, kind, id, off))
	if err != nil {
		return nil, ErrAuth
	}
	return out, nil
}

// Wrap seals data key dk under master key k for recording id.
func (k *Key) Wrap(dk *Key, id int64) ([]byte, error) {
	return k.seal(nil, dk.raw[:], kindWrapped, id, 0)
}

// Unwrap opens a data key wrapped for recording id.
func (k *Key) Unwrap(wrapped []byte, id int64) (*Key, error) {
	raw, err := k.open(nil, wrapped, kindWrapped, id, 0)
	if err != nil {
		return nil, err
	}
	return NewKey(raw)
}

// SealedLen is the length of the sealed form of n plaintext bytes.
func SealedLen(n int) int { return n + Overhead }
