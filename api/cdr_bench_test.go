package api_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"recordings/internal/apptest"
	"recordings/store"
)

// BenchmarkCDREndpoint measures one PBX CDR request (two records in a msg
// form value) from request to answer: parse, store, match to the
// recording of the conference.
func BenchmarkCDREndpoint(b *testing.B) {
	a := apptest.New(b)
	ctx, db, h := a.Ctx, a.DB, a.Handler()
	xml, err := os.ReadFile(filepath.Join("..", "pbx", "testdata", "cdr", "internal.xml"))
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := db.BeginUpload(ctx, "d", "x.pcap", store.FileName{ConfID: "e89277f0e909d31192e80090331032dd",
		MAC: "009033000a0a", RegName: "a"}, "a"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		// A fresh conference each round, like a stream of calls; every
		// tenth is the recorded one's, so matching runs too.
		conf := "e89277f0e909d31192e80090331032dd"
		if i%10 != 0 {
			conf = fmt.Sprintf("%032x", i)
		}
		i++
		body := "msg=" + url.QueryEscape(strings.ReplaceAll(string(xml), "e89277f0e909d31192e80090331032dd", conf))
		req := httptest.NewRequest(http.MethodPost, "/d/recordings/cdr", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		apptest.CDRAuth(req)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
		io.Copy(io.Discard, w.Body)
	}
}
