package api

import (
	"testing"
	"time"
)

// TestBackupFileName: backups taken within one second get names of their
// own (a browser saving both into one folder would otherwise overwrite
// the first), and a new second starts plain again.
func TestBackupFileName(t *testing.T) {
	t.Parallel()
	p := newBackupProgress(time.Now)
	at := time.Date(2026, 12, 3, 9, 50, 43, 0, time.UTC)
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{at, "recordings-20261203-095043.db"},
		{at.Add(300 * time.Millisecond), "recordings-20261203-095043-2.db"},
		{at.Add(900 * time.Millisecond), "recordings-20261203-095043-3.db"},
		{at.Add(time.Second), "recordings-20261203-095044.db"},
		{at.Add(time.Second).In(time.FixedZone("CET", 3600)), "recordings-20261203-095044-2.db"},
		{at.Add(2 * time.Second), "recordings-20261203-095045.db"},
	} {
		if got := p.fileName(c.t); got != c.want {
			t.Errorf("fileName(%v) = %q, want %q", c.t, got, c.want)
		}
	}
}
