package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestMetrics(t *testing.T) {
	m := New()
	size := int64(12345)
	m.WatchDatabase(func(context.Context) (int64, error) { return size, nil })
	m.WatchLogs(func() int64 { return 7 })
	m.UploadStarted()
	m.UploadStarted()
	m.UploadStarted()
	m.UploadDone(true)
	m.UploadDone(false)
	m.UploadRefused()
	m.Converted(30*time.Millisecond, "ready")
	m.Converted(2*time.Second, "failed")
	m.CDRsReceived(1, true)
	m.CDRsReceived(2, false)
	m.CDRsReceived(0, false)
	m.RetentionDeleted(4)
	m.ConnOpened()
	m.ConnOpened()
	m.ConnUnused()
	out := scrape(t, m)
	for _, want := range []string{
		"recordings_uploads_in_progress 1\n",
		"recordings_uploads_completed_total 1\n",
		"recordings_uploads_failed_total 2\n",
		`recordings_conversion_seconds_count{state="ready"} 1` + "\n",
		`recordings_conversion_seconds_bucket{state="failed",le="0.9765625"} 0` + "\n",
		`recordings_conversion_seconds_bucket{state="failed",le="2.44140625"} 1` + "\n",
		"recordings_cdrs_received_total 3\n",
		"recordings_cdrs_unmatched_total 2\n",
		"recordings_retention_deleted_total 4\n",
		"recordings_http_connections_total 2\n",
		"recordings_http_connections_unused_total 1\n",
		"recordings_database_size_bytes 12345\n",
		"recordings_log_records_lost_total 7\n",
		"go_goroutines ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// Each Metrics has its own registry: a second one starts at zero.
	if out2 := scrape(t, New()); !strings.Contains(out2, "recordings_uploads_completed_total 0\n") {
		t.Error("registries are shared")
	}
	m2 := New()
	m2.WatchDatabase(func(context.Context) (int64, error) { return 0, errors.New("gone") })
	if !strings.Contains(scrape(t, m2), "recordings_database_size_bytes -1\n") {
		t.Error("a failing size is not reported as -1")
	}
}

func TestNil(t *testing.T) {
	var m *Metrics
	m.UploadStarted()
	m.UploadDone(true)
	m.UploadRefused()
	m.Converted(time.Second, "ready")
	m.CDRsReceived(1, false)
	m.RetentionDeleted(3)
	m.WatchDatabase(nil)
	m.WatchLogs(nil)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 404 {
		t.Errorf("nil metrics served %d", rec.Code)
	}
}

func BenchmarkUpload(b *testing.B) {
	m := New()
	b.ReportAllocs()
	for b.Loop() {
		m.UploadStarted()
		m.UploadDone(true)
		m.Converted(time.Millisecond, "ready")
	}
}
