package pbxlink

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in           string
		mt, api, src string
		wantErr      string
		rawIsTrimmed bool
	}{
		{in: `{"mt":"PbxInfo","apis":["PbxAdminApi"]}`, mt: "PbxInfo"},
		{in: ` {"api":"PbxAdminApi","mt":"CheckAppLicResult","src":"lic-1-2","ok":true} `, mt: "CheckAppLicResult",
			api: "PbxAdminApi", src: "lic-1-2", rawIsTrimmed: true},
		{in: `{"mt":"X","src":17}`, mt: "X", src: "17"},
		{in: `{"mt":"X","src":null,"api":null}`, mt: "X"},
		{in: `not json`, wantErr: "not a JSON object"},
		{in: `[]`, wantErr: "not a JSON object"},
		{in: ``, wantErr: "not a JSON object"},
		{in: `{"mt":""}`, wantErr: `no "mt"`},
		{in: `{"mt":1}`, wantErr: "not a string"},
		{in: `{"mt":"X","api":{}}`, wantErr: "not a string"},
		{in: `{"mt":"X","src":true}`, wantErr: "not a string"},
		{in: `{"mt":"` + strings.Repeat("a", 300) + `"}`, wantErr: "longer than"},
		{in: "{\"mt\":\"\xff\"}", wantErr: "not UTF-8"},
		{in: `{"mt":"X"`, wantErr: "bad message"},
	} {
		m, err := Decode([]byte(tc.in))
		if tc.wantErr != "" {
			if !errors.Is(err, ErrBadMessage) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: err %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || m.MT != tc.mt || m.API != tc.api || m.Src != tc.src {
			t.Errorf("%q: %+v %v", tc.in, m, err)
		}
		if want := strings.TrimSpace(tc.in); string(m.Raw) != want {
			t.Errorf("%q: raw %q", tc.in, m.Raw)
		}
	}
	if _, err := Decode(make([]byte, MaxMessage+1)); !errors.Is(err, ErrBadMessage) {
		t.Fatalf("oversized: %v", err)
	}
}

func TestReply(t *testing.T) {
	t.Parallel()
	m := Msg{MT: "AppInfo", API: "", Src: "s"}
	b, err := Reply(m, "AppInfoResult", map[string]any{"info": map[string]any{}})
	if err != nil || string(b) != `{"mt":"AppInfoResult","src":"s","info":{}}` {
		t.Fatalf("%s %v", b, err)
	}
	if b := ErrorReply(Msg{MT: "Foo", API: "PbxX", Src: `a"b`}, "no"); string(b) != `{"api":"PbxX","mt":"FooResult","src":"a\"b","error":"no"}` {
		t.Fatalf("%s", b)
	}
	if _, err := Reply(m, "X", []int{1}); err == nil {
		t.Fatal("array body accepted")
	}
}

// FuzzDecode: Decode never panics, accepts only objects with a string mt,
// and what it accepts re-decodes to the same envelope.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"mt":"PbxInfo","domain":"d","pbx":"p","pbxDns":"x","apis":["PbxAdminApi"]}`,
		`{"api":"PbxAdminApi","mt":"CheckAppLicResult","src":"lic-1-1","ok":true}`, `{"mt":"X","src":12}`,
		`[]`, `{"mt":1}`, `{}`, "{\"mt\":\"\\u00ff\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error not ErrBadMessage: %v", err)
			}
			return
		}
		if m.MT == "" || !json.Valid(m.Raw) {
			t.Fatalf("accepted %q as %+v", data, m)
		}
		again, err := Decode(m.Raw)
		if err != nil || again.MT != m.MT || again.API != m.API || again.Src != m.Src {
			t.Fatalf("re-decode of %q: %+v %v", m.Raw, again, err)
		}
	})
}
