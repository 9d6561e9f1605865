package pbxsim

import "testing"

// The simulator's digest reproduces the four test vectors of
// AppWebsocket.htm (password "pwd", challenge "0123456789abcdef").
func TestDigestVectors(t *testing.T) {
	t.Parallel()
	for _, v := range []struct{ app, domain, sip, guid, dn, info, want string }{
		{"pbxadminapi", "", "", "", "", "", "a205299ed2ef2786c311e0be1b14db343f2cadd906a6ae7b564eee34bda5e9a1"},
		{"pbxadminapi", "", "", "", "", "{}", "57b23fe824b9222a7ac879597cb509bcdc865a1bfeb057d9d12118cef0c3ba34"},
		{"pbxadminapi", "", "", "", "", `{"cn":"Test User"}`, "96db3c3f657230c2b68194becc6d2a77f05de9f79f01fc81e9ca0fb196b10d9d"},
		{"innovaphone-users", "example.com", "administrator", "0123456789abcdef0123456789abcdef", "Administrator User",
			`{"appobj":"users","apps":[{"name":"users"},{"name":"profile"}],"appurl":"https://1.2.3.4/example.com/usersapp/innovaphone-users","unlicensed":true}`,
			"ef1b811ffaa8f9255c39c653d8fb26b4687b2d8c4d9ac91b4821bff6bae3ff44"},
	} {
		if got := Digest(v.app, v.domain, v.sip, v.guid, v.dn, v.info, "0123456789abcdef", "pwd"); got != v.want {
			t.Errorf("%s %s: %s, want %s", v.app, v.info, got, v.want)
		}
	}
}

// The login's info is written as JSON.stringify would: compact, '/' and
// '&' unescaped.
func TestInfoStringify(t *testing.T) {
	t.Parallel()
	n := 2
	s := New(Options{URL: "wss://h/a&b/recordings/innovaphone-recordings", Lics: &n})
	b, err := s.info()
	want := `{"appobj":"recordings","appdn":"Recordings","appurl":"https://h/a&b/recordings/innovaphone-recordings","lics":2}`
	if err != nil || string(b) != want {
		t.Fatalf("%s %v", b, err)
	}
}
