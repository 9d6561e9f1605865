// Package listquery holds the parts of the recording list that read text
// from outside and need no database: the opaque page cursor a client hands
// back, and the trigrams a substring search is looked up by. Keeping them
// out of package store lets their fuzz targets run without the SQLite
// driver linked in, six to seven times faster.
package listquery

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrMalformed marks a cursor this package did not issue.
var ErrMalformed = errors.New("malformed cursor")

// maxCursorLen bounds what is decoded: a cursor this package issues is
// under 60 characters.
const maxCursorLen = 128

// Cursor is the keyset position after the last row of a page: the row's
// call time in milliseconds and its id, and the order of the listing
// (Oldest: oldest first).
type Cursor struct {
	At, ID int64
	Oldest bool
}

// String is the cursor as clients see it: URL-safe base64 of a versioned
// text form, so that the form can change without breaking old links.
func (c Cursor) String() string {
	order := "n"
	if c.Oldest {
		order = "o"
	}
	return base64.RawURLEncoding.EncodeToString(
		[]byte("r2." + order + "." + strconv.FormatInt(c.At, 10) + "." + strconv.FormatInt(c.ID, 10)))
}

// ParseCursor reads a cursor that String produced. A cursor of the first
// form ("r1", newest first by upload time, before the list ordered by call
// time) is read as a newest-first position.
func ParseCursor(s string) (Cursor, error) {
	bad := fmt.Errorf("%w %.40q", ErrMalformed, s)
	if len(s) > maxCursorLen {
		return Cursor{}, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, bad
	}
	parts := strings.Split(string(b), ".")
	var c Cursor
	switch {
	case len(parts) == 3 && parts[0] == "r1":
		parts = parts[1:]
	case len(parts) == 4 && parts[0] == "r2" && (parts[1] == "n" || parts[1] == "o"):
		c.Oldest = parts[1] == "o"
		parts = parts[2:]
	default:
		return Cursor{}, bad
	}
	var err1, err2 error
	c.At, err1 = strconv.ParseInt(parts[0], 10, 64)
	c.ID, err2 = strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil {
		return Cursor{}, bad
	}
	return c, nil
}
