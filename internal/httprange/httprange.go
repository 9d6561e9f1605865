// Package httprange reads the HTTP Range request header (RFC 9110, section
// 14.1.2) for the one kind of range a player asks for: a single byte range.
// It is a package of its own so that its fuzz target runs without the
// database driver linked in.
package httprange

import (
	"strconv"
	"strings"
)

// Parse reads h as one byte range ("bytes=a-b", "bytes=a-", "bytes=-n") of
// a representation of size bytes and returns its offset and length. A list
// of ranges is answered with its first. ok is false when h is not a byte
// range or the range is not satisfiable (it starts at or after the end, or
// the representation is empty); an accepted range is never empty and lies
// inside [0, size).
func Parse(h string, size int64) (off, length int64, ok bool) {
	spec, found := strings.CutPrefix(h, "bytes=")
	if !found || size <= 0 {
		return 0, 0, false
	}
	if i := strings.IndexByte(spec, ','); i >= 0 {
		spec = spec[:i]
	}
	a, b, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false
	}
	if a == "" { // the last n bytes
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return 0, 0, false
		}
		n = min(n, size)
		return size - n, n, true
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil || start < 0 || start >= size {
		return 0, 0, false
	}
	end := size - 1
	if b != "" {
		e, err := strconv.ParseInt(b, 10, 64)
		if err != nil || e < start {
			return 0, 0, false
		}
		end = min(e, size-1)
	}
	return start, end - start + 1, true
}
