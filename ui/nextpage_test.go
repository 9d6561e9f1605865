package ui

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestNextPage runs the sign-in page's ?next= rule (js/nextpage.js) in
// Node: an open redirect such as ?next=/%5Cevil.example/… stays on the
// service. The browser tests (e2e) check the same on the real page; this
// covers more cases and runs wherever node is installed.
func TestNextPage(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	src, err := fs.ReadFile(Files(), "js/nextpage.js")
	if err != nil {
		t.Fatal(err)
	}
	type tc struct {
		Next  string `json:"next"` // as URLSearchParams.get returns it (decoded once)
		Admin bool   `json:"admin"`
		// AppDomain is the user's app_domain from the service (configured
		// domains); "" leaves the host name.
		AppDomain string `json:"app_domain"`
		Want      string `json:"want"`
	}
	const user, admin = "/host.example/recordings/innovaphone-recordings.htm", "/host.example/recordings/innovaphone-recordingsadmin.htm"
	cases := []tc{
		{Next: "", Want: user},
		{Next: "", Admin: true, Want: admin},
		{Next: "/pbx.example.com/recordings/innovaphone-recordings.htm", Want: "/pbx.example.com/recordings/innovaphone-recordings.htm"},
		{Next: "/pbx.example.com/recordings/innovaphone-recordingsadmin.htm", Admin: true, Want: "/pbx.example.com/recordings/innovaphone-recordingsadmin.htm"},
		{Next: "/pbx.example.com/recordings/innovaphone-recordingsadmin.htm", Want: "/pbx.example.com/recordings/innovaphone-recordings.htm"},
		{Next: "/my%20domain/recordings/innovaphone-recordings.htm", Want: "/my%20domain/recordings/innovaphone-recordings.htm"},
		// Attacks: each stays on the service, in the default app.
		{Next: `/\evil.example/recordings/innovaphone-recordings.htm`, Want: user},   // ?next=/%5Cevil…
		{Next: `/%5Cevil.example/recordings/innovaphone-recordings.htm`, Want: user}, // ?next=/%255Cevil…
		{Next: "//evil.example/recordings/innovaphone-recordings.htm", Want: user},
		{Next: "/\t/recordings/innovaphone-recordings.htm", Want: user}, // tab dropped: "//recordings/…"
		{Next: "/%09/recordings/innovaphone-recordings.htm", Want: user},
		{Next: "/\n/recordings/innovaphone-recordings.htm", Want: user},
		{Next: "/ /recordings/innovaphone-recordings.htm", Want: "/%20/recordings/innovaphone-recordings.htm"},
		{Next: "https://evil.example/recordings/innovaphone-recordings.htm", Want: user},
		{Next: "/%E0%A4%A/recordings/innovaphone-recordings.htm", Want: user}, // malformed escape
		{Next: "/../recordings/innovaphone-recordings.htm", Want: "/local/recordings/innovaphone-recordings.htm"},
		{Next: "/%2F%2Fevil.example/recordings/innovaphone-recordings.htm", Want: user},
		{Next: "/a%2Fb/recordings/innovaphone-recordings.htm", Want: "/a%2Fb/recordings/innovaphone-recordings.htm"},
		// An instance serving configured domains names the one to go to.
		{AppDomain: "a.example", Want: "/a.example/recordings/innovaphone-recordings.htm"},
		{AppDomain: "a.example", Admin: true, Want: "/a.example/recordings/innovaphone-recordingsadmin.htm"},
		{AppDomain: "a/b", Want: "/a%2Fb/recordings/innovaphone-recordings.htm"},
		{AppDomain: "a.example", Next: "/b.example/recordings/innovaphone-recordings.htm", Want: "/b.example/recordings/innovaphone-recordings.htm"},
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "nextpage.mjs"), src, 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	script := `import { target } from './nextpage.mjs';
import { readFileSync } from 'node:fs';
const cases = JSON.parse(readFileSync(0, 'utf8'));
console.log(JSON.stringify(cases.map((c) => target({ role: c.admin ? 'admin' : 'user', app_domain: c.app_domain }, c.next, 'host.example'))));
`
	if err := os.WriteFile(filepath.Join(dir, "run.mjs"), []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join(dir, "run.mjs"))
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var got []string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node said %s: %v", out, err)
	}
	for i, c := range cases {
		if got[i] != c.Want {
			t.Errorf("next %q (admin %v): went to %q, want %q", c.Next, c.Admin, got[i], c.Want)
		}
	}
}
