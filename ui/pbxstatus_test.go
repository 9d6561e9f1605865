package ui

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPBXStatusLines runs the admin app's PBX connection text
// (js/pbxstatus.js) in Node against the status shapes the server sends.
func TestPBXStatusLines(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	mod, err := filepath.Abs(filepath.Join("static", "js", "pbxstatus.js"))
	if err != nil {
		t.Fatal(err)
	}
	script := `import { pbxLines } from ` + "'file://" + filepath.ToSlash(mod) + "'" + `;
const cases = [
  { expected: true, connections: [] },
  { expected: false, connections: [] },
  { expected: true, connections: [{ domain: 'example.com', connected: true, connected_since: '2026-12-03T05:00:00Z',
      app_object: 'recordings', pbx: 'pbx1', system_name: 'example.com', pbx_dns: 'pbx.example.com',
      apis: ['PbxAdminApi', 'PbxTableUsers'], apis_used: ['PbxAdminApi'], pbx_info_received: true }],
    licences: { from_pbx: true, checking: false, users_checked: 3, users_licensed: 2, count: 5, used: 2 } },
  { expected: true, connections: [{ domain: 'example.com', connected: false, apis: [], apis_used: [],
      last_disconnect: '2026-12-03T05:00:00Z', last_disconnect_reason: 'gone', last_error: 'App object login refused: wrong digest',
      last_error_at: '2026-12-03T05:00:00Z' }] },
  { expected: true, connections: [
      { domain: 'a.example', configured: true, connected: true, connected_since: '2026-12-03T05:00:00Z', app_object: 'recordings',
        pbx: 'pbx-a', apis: ['PbxAdminApi'], apis_used: ['PbxAdminApi'], pbx_info_received: true },
      { domain: 'b.example', configured: true, connected: false, apis: [], apis_used: [] }],
    licences: { from_pbx: true, checking: false, users_checked: 3, users_licensed: 2, domains: [
      { domain: 'a.example', from_pbx: true, checking: false, users_checked: 3, users_licensed: 2, count: 5, used: 2 },
      { domain: 'b.example', from_pbx: true, checking: false, users_checked: 0, users_licensed: 0, last_error: 'the PBX disconnected' }] } },
];
for (const c of cases) console.log(pbxLines(c).join(' | '));
`
	out, err := exec.Command(node, "--input-type=module", "-e", script).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := [][]string{
		{"PBX not connected."},
		{"No PBX has connected yet"},
		{"pbx1 (example.com): connected since", "as App object recordings, pbx.example.com.",
			"APIs offered: PbxAdminApi, PbxTableUsers; used: PbxAdminApi.",
			"Licences from the PBX: 2 of 3 users licensed, 2 of 5 App(innovaphone-recorder) licences used."},
		{"PBX not connected.", "example.com: disconnected at", "(gone)", "last error at", "wrong digest"},
		{"pbx-a: connected since", "PBX of b.example not connected.",
			"a.example: Licences from the PBX: 2 of 3 users licensed, 2 of 5 App(innovaphone-recorder) licences used.",
			"b.example: Licence check: the PBX disconnected"},
	}
	if len(lines) != len(want) {
		t.Fatalf("output:\n%s", out)
	}
	for i, w := range want {
		for _, part := range w {
			if !strings.Contains(lines[i], part) {
				t.Errorf("case %d: %q lacks %q", i, lines[i], part)
			}
		}
	}
}
