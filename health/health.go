// Package health answers whether the appliance can do its job: the
// database answers and the disk has room for more recordings.
package health

import (
	"context"
	"time"
)

// DefaultMinFree is the free disk space below which the service reports
// itself unhealthy: uploads would soon fail.
const DefaultMinFree = 256 << 20

// Checker runs the checks; zero fields are skipped or take defaults.
type Checker struct {
	Ping     func(ctx context.Context) error // the database
	Size     func(ctx context.Context) (int64, error)
	Dir      string // directory of the database, for disk space
	MinFree  uint64 // default DefaultMinFree
	Problems func() []string
	// Disk returns free and total bytes; default DiskSpace.
	Disk func(path string) (free, total uint64, err error)
	// Captures reports the capture stores (object store, encryption keys):
	// a detail shown to admins, and an error when something is wrong.
	Captures func(ctx context.Context) (detail any, err error)
}

// Report is the JSON /healthz answers.
type Report struct {
	Status        string   `json:"status"` // "ok" or "fail"
	Database      string   `json:"database"`
	DatabaseBytes int64    `json:"database_bytes,omitempty"`
	DiskFree      uint64   `json:"disk_free_bytes,omitempty"`
	DiskTotal     uint64   `json:"disk_total_bytes,omitempty"`
	Disk          string   `json:"disk"`
	Problems      []string `json:"problems,omitempty"` // configuration still missing, e.g. "PBX Name missing"
	// Captures is "ok" or what is wrong with the capture stores (object
	// store unreachable, encrypted captures unreadable); CaptureStores the
	// details (capstore.Report).
	Captures      string `json:"captures,omitempty"`
	CaptureStores any    `json:"capture_stores,omitempty"`
	Took          string `json:"took"`
}

// OK reports whether the service can work.
func (r Report) OK() bool { return r.Status == "ok" }

// Check runs every check, each bounded by ctx.
func (c *Checker) Check(ctx context.Context) Report {
	start := time.Now()
	r := Report{Status: "ok", Database: "ok", Disk: "ok"}
	fail := func() { r.Status = "fail" }
	if c.Ping != nil {
		if err := c.Ping(ctx); err != nil {
			r.Database = err.Error()
			fail()
		} else if c.Size != nil {
			if n, err := c.Size(ctx); err == nil {
				r.DatabaseBytes = n
			}
		}
	}
	if c.Dir != "" {
		disk := c.Disk
		if disk == nil {
			disk = DiskSpace
		}
		min := c.MinFree
		if min == 0 {
			min = DefaultMinFree
		}
		free, total, err := disk(c.Dir)
		switch {
		case err != nil:
			r.Disk = err.Error()
			fail()
		case free < min:
			r.DiskFree, r.DiskTotal = free, total
			r.Disk = "low: less than the minimum free space"
			fail()
		default:
			r.DiskFree, r.DiskTotal = free, total
		}
	}
	if c.Problems != nil {
		r.Problems = c.Problems()
	}
	if c.Captures != nil {
		detail, err := c.Captures(ctx)
		r.Captures, r.CaptureStores = "ok", detail
		if err != nil {
			r.Captures = err.Error()
			fail()
		}
	}
	r.Took = time.Since(start).Round(time.Microsecond).String()
	return r
}
