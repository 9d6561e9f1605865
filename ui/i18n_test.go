package ui

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestTranslations runs the translation files and the formatting helpers
// in Node: German has every text of the user app and the shared pieces
// (so that no English is left when German is chosen), the parameters of
// each text match English's, and dates, counts and presets come out as
// the language wants.
func TestTranslations(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	dir := t.TempDir()
	for _, f := range []string{"js/i18n.js", "js/format.js", "js/lang/en.js", "js/lang/de.js", "js/activity.js", "js/dom.js", "js/api.js"} {
		b, err := fs.ReadFile(Files(), f)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Node runs the files as ES modules.
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"type":"module"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	script := `
globalThis.navigator = { languages: ['de-DE'] };
globalThis.document = { documentElement: {} };
const en = (await import('./js/lang/en.js')).default;
const de = (await import('./js/lang/de.js')).default;
const out = { missing: [], params: [], extra: [] };
const params = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');
for (const [k, v] of Object.entries(en)) {
  if (!k.startsWith('user.') && !k.startsWith('common.')) continue;
  if (!(k in de)) out.missing.push(k);
  else if (params(de[k]) !== params(v)) out.params.push(k);
}
for (const k of Object.keys(de)) if (!(k in en)) out.extra.push(k);
const i18n = await import('./js/i18n.js');
const f = await import('./js/format.js');
out.lang = await i18n.load('');
const now = new Date(2026, 10, 20, 15, 0, 0);
out.today = f.shortWhen(new Date(2026, 10, 20, 9, 5).toISOString(), now);
out.yesterday = f.shortWhen(new Date(2026, 10, 19, 9, 5).toISOString(), now);
out.one = i18n.tn('user.count.exact', 1);
out.many = i18n.tn('user.count.exact', 2051);
out.week = f.presetRange('week', now); // a Friday: from Monday
out.unknown = i18n.t('no.such.key');
const { sentence } = await import('./js/activity.js');
const entry = (action, by) => ({ action, by, by_name: 'Ben Berg', peer_name: 'José García', peer_number: '+49891234560' });
out.deListened = sentence(entry('listened', 'ute'), 'ute');
out.deOther = sentence(entry('downloaded', 'ben'), 'ute');
await i18n.load('en');
out.enToday = f.shortWhen(new Date(2026, 10, 20, 9, 5).toISOString(), now);
out.enMany = i18n.tn('user.count.exact', 2051);
out.enOne = i18n.tn('user.count.exact', 1);
out.enListened = sentence(entry('listened', 'ute'), 'ute');
out.enProtected = sentence({ action: 'protected', by: 'ute' }, 'ute');
out.enRetention = sentence({ action: 'deleted_by_retention', peer_number: '200' }, 'ute');
out.enUnlicensed = sentence({ action: 'deleted_unlicensed', peer_number: '200' }, 'ute');
out.enTrunk = sentence({ action: 'listened', by: 'ute', peer_name: 'TRUNK', peer_number: '+4940555000' }, 'ute');
console.log(JSON.stringify(out));
`
	if err := os.WriteFile(filepath.Join(dir, "run.mjs"), []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "run.mjs")
	cmd.Dir = dir
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, b)
	}
	var got struct {
		Missing, Params, Extra               []string
		Lang, Today, Yesterday, One, Many    string
		Week                                 []string
		Unknown, EnToday, EnMany, EnOne      string
		DeListened, DeOther                  string
		EnListened, EnProtected, EnRetention string
		EnTrunk, EnUnlicensed                string
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("node said %s: %v", b, err)
	}
	for _, k := range got.Missing {
		t.Errorf("de.js lacks %s (it would show in English)", k)
	}
	for _, k := range got.Params {
		t.Errorf("de.js's %s names other parameters than en.js's", k)
	}
	for _, k := range got.Extra {
		t.Errorf("de.js has %s, which en.js lacks", k)
	}
	for _, c := range []struct{ what, got, want string }{
		{"language from the browser", got.Lang, "de"},
		{"today", got.Today, "Heute 09:05"},
		{"yesterday", got.Yesterday, "Gestern 09:05"},
		{"one call", got.One, "1 Anruf"},
		{"many calls", got.Many, "2.051 Anrufe"},
		{"unknown key", got.Unknown, "no.such.key"},
		{"English today", got.EnToday, "Today 9:05 AM"},
		{"English many", got.EnMany, "2,051 calls"},
		{"English one", got.EnOne, "1 call"},
		{"German sentence", got.DeListened, "Sie haben den Anruf mit José García angehört."},
		{"German sentence, someone else", got.DeOther, "Ben Berg hat den Anruf mit José García heruntergeladen."},
		{"English sentence", got.EnListened, "You listened to the call with José García."},
		{"English sentence without party", got.EnProtected, "Recording protected."},
		{"a trunk is no name", got.EnTrunk, "You listened to the call with +4940555000."},
		{"English retention", got.EnRetention, "The recording of the call with 200 was deleted at the end of the retention period."},
		{"English licence purge", got.EnUnlicensed, "The recording of the call with 200 was deleted: its owner holds no licence."},
	} {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.what, c.got, c.want)
		}
	}
	if len(got.Week) != 2 || got.Week[0] != "2026-11-16" || got.Week[1] != "2026-11-21" {
		t.Errorf("this week on Friday 2026-11-20: %v, want [2026-11-16 2026-11-21]", got.Week)
	}
}
