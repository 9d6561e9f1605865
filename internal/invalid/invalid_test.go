package invalid

import (
	"errors"
	"fmt"
	"testing"
)

func TestError(t *testing.T) {
	for _, tc := range []struct {
		err        error
		text       string
		field, msg string
	}{
		{New("retention_days", "a number from %d to %d", 0, 11000), "retention_days: a number from 0 to 11000", "retention_days", "a number from 0 to 11000"},
		{New("", "cursor not handed out by this server"), "cursor not handed out by this server", "", "cursor not handed out by this server"},
		{fmt.Errorf("store: create user: %w", New("name", "taken")), "store: create user: name: taken", "name", "taken"},
	} {
		if got := tc.err.Error(); got != tc.text {
			t.Errorf("Error() = %q, want %q", got, tc.text)
		}
		if !errors.Is(tc.err, Err) {
			t.Errorf("%q: errors.Is(err, Err) = false", tc.text)
		}
		e, ok := As(tc.err)
		if !ok || e.Field != tc.field || e.Message != tc.msg {
			t.Errorf("%q: As = %+v, %v; want field %q message %q", tc.text, e, ok, tc.field, tc.msg)
		}
	}
	if _, ok := As(errors.New("plain")); ok {
		t.Error("As found an *Error in a plain error")
	}
	if errors.Is(errors.New("plain"), Err) {
		t.Error("a plain error matched Err")
	}
}
