package api_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// metricValue reads one unlabelled sample from the service's metrics.
func (e *hostileEnv) metricValue(t *testing.T, name string) int {
	t.Helper()
	rec := httptest.NewRecorder()
	e.m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	m := regexp.MustCompile(`(?m)^` + name + ` (\d+)$`).FindStringSubmatch(rec.Body.String())
	if m == nil {
		t.Fatalf("metric %s missing", name)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestUnusedConnectionsCounted: connections the server closes without a
// request (nothing sent before ReadHeaderTimeout, half a header, a client
// that leaves) are counted apart from those that carried requests, so that
// an upload dropped on the way in can be told from one the service broke.
func TestUnusedConnectionsCounted(t *testing.T) {
	t.Parallel()
	e := newHostileEnv(t)
	dial := func() net.Conn {
		c, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	waitClosed := func(c net.Conn) {
		t.Helper()
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.Copy(io.Discard, c); err != nil {
			t.Fatalf("server did not close the connection: %v", err)
		}
	}
	// Two requests on one kept-alive connection, then the client leaves.
	used := dial()
	br := bufio.NewReader(used)
	for range 2 {
		if _, err := io.WriteString(used, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	used.Close()
	// Nothing sent: closed at the read header timeout.
	silent := dial()
	// Half a header: also closed at the timeout.
	half := dial()
	if _, err := io.WriteString(half, "PUT /example.com/recordings/Files/x.pcap HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	waitClosed(silent)
	waitClosed(half)
	// A client that connects and leaves at once.
	dial().Close()

	deadline := time.Now().Add(10 * time.Second)
	for {
		opened, unused := e.metricValue(t, "recordings_http_connections_total"), e.metricValue(t, "recordings_http_connections_unused_total")
		if opened == 4 && unused == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("connections %d, unused %d; want 4 and 3", opened, unused)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
