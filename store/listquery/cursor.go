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
// creation time in milliseconds and its id.
type Cursor struct{ Created, ID int64 }

// String is the cursor as clients see it: URL-safe base64 of a versioned
// text form, so that the form can change without breaking old links.
func (c Cursor) String() string {
	return base64.RawURLEncoding.EncodeToString(
		[]byte("r1." + strconv.FormatInt(c.Created, 10) + "." + strconv.FormatInt(c.ID, 10)))
}

// ParseCursor reads a cursor that String produced.
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
	if len(parts) != 3 || parts[0] != "r1" {
		return Cursor{}, bad
	}
	created, err1 := strconv.ParseInt(parts[1], 10, 64)
	id, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		return Cursor{}, bad
	}
	return Cursor{created, id}, nil
}
