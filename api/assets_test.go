package api_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"recordings/internal/apptest"
)

// TestStaticAssets: the UI's files carry an ETag of their content and
// answer 304 to it; text is gzip-compressed for browsers that accept it
// (with Vary); the page is revalidated every time and names its style
// sheet and entry script by hashed URLs, which are cached as immutable.
func TestStaticAssets(t *testing.T) {
	t.Parallel()
	a := apptest.New(t)
	get := func(path string, header ...string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, a.URL+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		// A transport that does not add or undo gzip by itself.
		tr := &http.Transport{DisableCompression: true}
		defer tr.CloseIdleConnections()
		res, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, b
	}
	res, page := get("/")
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-cache" || res.Header.Get("ETag") == "" {
		t.Fatalf("page: %s, Cache-Control %q, ETag %q", res.Status, res.Header.Get("Cache-Control"), res.Header.Get("ETag"))
	}
	if res.Header.Get("Content-Security-Policy") == "" {
		t.Error("page lost its security headers")
	}
	if res, _ := get("/", "If-None-Match", res.Header.Get("ETag")); res.StatusCode != http.StatusNotModified {
		t.Errorf("page revalidation: %s", res.Status)
	}
	m := regexp.MustCompile(`href="(/css/app\.css\?v=[0-9a-f]{16})"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("page does not name its style sheet by a hashed URL:\n%s", page)
	}
	hashed := string(m[1])
	res, plain := get(hashed)
	if cc := res.Header.Get("Cache-Control"); res.StatusCode != http.StatusOK || !strings.Contains(cc, "immutable") {
		t.Errorf("hashed URL: %s, Cache-Control %q", res.Status, cc)
	}
	if res.Header.Get("Content-Encoding") != "" || !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
		t.Errorf("without Accept-Encoding: Content-Encoding %q, Vary %q", res.Header.Get("Content-Encoding"), res.Header.Get("Vary"))
	}
	if res, _ := get("/css/app.css"); res.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("plain URL Cache-Control %q", res.Header.Get("Cache-Control"))
	}
	if res, _ := get("/css/app.css?v=0000000000000000"); res.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("wrong hash: Cache-Control %q", res.Header.Get("Cache-Control"))
	}
	res, zipped := get(hashed, "Accept-Encoding", "br, gzip;q=0.8")
	if res.Header.Get("Content-Encoding") != "gzip" || len(zipped) >= len(plain) {
		t.Fatalf("gzip: Content-Encoding %q, %d bytes of %d", res.Header.Get("Content-Encoding"), len(zipped), len(plain))
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(zr); err != nil || !bytes.Equal(b, plain) {
		t.Errorf("gzip body differs: %v", err)
	}
	etag := res.Header.Get("ETag")
	if res, body := get(hashed, "Accept-Encoding", "gzip", "If-None-Match", etag); res.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("If-None-Match on the gzip form: %s", res.Status)
	}
	if res, _ := get(hashed, "Accept-Encoding", "gzip;q=0"); res.Header.Get("Content-Encoding") != "" {
		t.Error("gzip sent although refused with q=0")
	}
	if res, _ := get("/js/app.js", "Accept-Encoding", "gzip"); res.StatusCode != http.StatusOK ||
		!strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("script: %s %q", res.Status, res.Header.Get("Content-Type"))
	}
	if res, _ := get("/js/nothing.js"); res.StatusCode != http.StatusNotFound {
		t.Errorf("missing file: %s", res.Status)
	}
}
