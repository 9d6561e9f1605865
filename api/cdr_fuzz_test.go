package api

import (
	"bytes"
	"net/http/httptest"
	"testing"

	"recordings/pbx"
)

// FuzzCDRRequest feeds arbitrary queries and bodies through the CDR
// request splitter and the parsers it hands them to: no panics, and
// whatever is accepted parses or is refused with an error.
func FuzzCDRRequest(f *testing.F) {
	f.Add("msg=%3Ccdr%20guid%3D%22g%22%2F%3E", "", "")
	f.Add("event=A:Call&time=876&ref=453b6335e909d311b89e009033060014", "", "")
	f.Add("", `<cdr guid="g" dir="from" utc="1"><user/><event msg="setup-from" time="0" conf="e89277f0e909d31192e80090331032dd"/></cdr>`, "text/xml")
	f.Add("", "msg=%3Ccdr%2F%3E&msg=x", "application/x-www-form-urlencoded")
	f.Add("", "    event A:Call\n    ref 453b6335e909d311b89e009033060014\nend\n", "text/plain")
	f.Add("%zz", "\x00<", "multipart/form-data; boundary=x")
	f.Fuzz(func(t *testing.T, query, body, ctype string) {
		r := httptest.NewRequest("POST", "/d/recordings/cdr", nil)
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", ctype)
		xmls, gw, err := splitCDRRequest(r, []byte(body))
		if err != nil {
			if len(xmls) != 0 || gw != nil {
				t.Fatalf("error with results: %v", err)
			}
			return
		}
		if len(xmls) == 0 && gw == nil {
			t.Fatal("no error and nothing found")
		}
		for _, x := range xmls {
			cdrs, err := pbx.ParseCDRs(x)
			if err == nil && len(cdrs) == 0 {
				t.Fatal("ParseCDRs: no records and no error")
			}
		}
		if gw != nil {
			if bytes.TrimSpace(gw) == nil {
				t.Fatal("empty gateway text")
			}
			_, _ = pbx.ParseGatewayCDR(gw)
		}
	})
}
