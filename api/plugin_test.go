package api_test

import (
	"encoding/json"
	"io"
	"strings"
	"testing"

	"recordings/internal/apptest"
)

func getFile(t *testing.T, a *apptest.App, path string) (int, string, string) {
	t.Helper()
	res, err := a.Client.Get(a.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header.Get("Content-Type"), string(b)
}

// The PBX Manager plugin's files are served under the instance URL with
// no sign-in, in the shape the PBX Manager expects: plugins.json names
// the script, icon and texts (without .js), and each of them is there.
func TestPluginFiles(t *testing.T) {
	t.Parallel()
	a := apptest.New(t)
	const inst = "/example.com/recordings/"
	st, ct, body := getFile(t, a, inst+"plugins.json")
	if st != 200 || !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("plugins.json: %d %s", st, ct)
	}
	var pj struct {
		Plugins []map[string]any `json:"plugins"`
	}
	if err := json.Unmarshal([]byte(body), &pj); err != nil || len(pj.Plugins) != 1 {
		t.Fatalf("plugins.json: %v %s", err, body)
	}
	p := pj.Plugins[0]
	js, _ := p["js"].(string)
	icon, _ := p["icon"].(string)
	lang, _ := p["lang"].(string)
	if d, ok := p["domains"].(bool); !ok || d {
		t.Errorf("domains: %v, want false (the plugin shows for the instance's domain only)", p["domains"])
	}
	if js == "" || strings.HasSuffix(js, ".js") || lang == "" || strings.HasSuffix(lang, ".js") || icon == "" {
		t.Fatalf("plugin entry: %v", p)
	}
	for _, f := range []struct{ path, ctype, contains string }{
		{js + ".js", "text/javascript", "plugin.innovaphone.recordingsmanager = "},
		{js + ".js", "text/javascript", "innovaphone.ui1.nodePrototype"},
		{js + ".css", "text/css", ".rec-mgr"},
		{lang + ".js", "text/javascript", "innovaphone." + strings.TrimPrefix(lang, "innovaphone.") + " = {"},
		{lang + ".js", "text/javascript", `pluginTitle: "Recordings"`},
		{icon, "image/png", "\x89PNG"},
	} {
		st, ct, body := getFile(t, a, inst+f.path)
		if st != 200 || !strings.HasPrefix(ct, f.ctype) || !strings.Contains(body, f.contains) {
			t.Errorf("%s: %d %s, want %s containing %q", f.path, st, ct, f.ctype, f.contains)
		}
	}
	// The script is the constructor plugin.<file name>, as the Manager
	// calls it.
	if _, _, body := getFile(t, a, inst+js+".js"); !strings.Contains(body, "plugin."+js+" = ") {
		t.Errorf("%s.js does not define plugin.%s", js, js)
	}
	// The texts of both languages carry pluginTitle.
	_, _, texts := getFile(t, a, inst+lang+".js")
	if strings.Count(texts, "pluginTitle:") != 2 || !strings.Contains(texts, "de: {") {
		t.Errorf("texts: want en and de with pluginTitle")
	}
	if st, _, _ := getFile(t, a, inst+"nothing.js"); st != 404 {
		t.Errorf("other file: %d, want 404", st)
	}
}
