// Package invalid is the error type of refused input: which field was
// wrong and a message fit to show the person who sent it. Packages that
// validate (store, settings, api) return it; the transports show
// Message next to Field instead of cutting prefixes off error strings.
package invalid

import (
	"errors"
	"fmt"
)

// Err is matched by every *Error with errors.Is, so that callers that only
// need to know "the input was refused" keep a sentinel to test for.
var Err = errors.New("invalid input")

// Error is one refused value.
type Error struct {
	Field   string // the request field or setting key; "" when the input as a whole was refused
	Message string // what is wrong, in words for the user
}

// New returns an *Error for field with a formatted message.
func New(field, format string, args ...any) error {
	return &Error{Field: field, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Is makes errors.Is(err, Err) true for every *Error.
func (e *Error) Is(target error) bool { return target == Err }

// As returns the *Error in err's chain, if there is one.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}
