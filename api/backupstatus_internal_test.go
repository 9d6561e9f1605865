package api

import (
	"net/http"
	"strings"
	"testing"
)

func TestBackupCountingWriterOutcome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		method string
		code   int
		n      int64
		total  int64
		werr   error
		want   string // "" = nil error
	}{
		{"complete", "GET", 200, 10, 10, nil, ""},
		{"range", "GET", 206, 4, 4, nil, ""},
		{"head", "HEAD", 200, 0, 10, nil, ""},
		{"short", "GET", 200, 4, 10, nil, "after 4 of 10"},
		{"write error", "GET", 200, 4, 10, errClientGone, "interrupted after 4 of 10"},
		{"bad range", "GET", 416, 0, 0, nil, "HTTP 416"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest(tc.method, "/", nil)
			c := &countingWriter{code: tc.code, n: tc.n, werr: tc.werr}
			err := c.outcome(r, tc.total)
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("outcome: %v, want %q", err, tc.want)
			}
		})
	}
}
