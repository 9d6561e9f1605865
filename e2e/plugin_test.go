package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"

	"recordings/internal/pbxsim"
	"recordings/pbxlink"
)

// managerPage is a stand-in PBX Manager: it provides what the plugin's
// context has (innovaphone.ui1.nodePrototype, innovaphone.lib1.loadCss,
// the start object, the Manager's connection to the PBX as app.Src), loads
// the plugin's texts and script from the service as the Manager does, and
// calls the constructor. Its PBX connection posts each PbxAdminApi request
// to /pbx, where the simulated PBX answers it.
const managerPage = `<!doctype html><html><head><meta charset="utf-8"><title>PBX Manager</title>
<script>
var innovaphone = {
  ui1: { nodePrototype: { createNode: function (tag, style, text, cls) {
    this.container = document.createElement(tag);
    if (cls) this.container.className = cls;
    return this;
  } } },
  lib1: { loadCss: function (u) { var l = document.createElement("link"); l.rel = "stylesheet"; l.href = u; document.head.appendChild(l); } }
};
var pbxRequests = [];
var app = { domain: "example.com", Src: function (cb) {
  this.send = function (msg) {
    msg.src = "stand-in";
    pbxRequests.push(msg.mt);
    fetch("/pbx", { method: "POST", body: JSON.stringify(msg) }).then(function (r) { return r.json(); }).then(cb);
  };
  this.close = function () {};
} };
var start = { lang: "en" };
</script>
<script src="%[1]s/innovaphone.recordingsmanagertexts.js"></script>
<script src="%[1]s/innovaphone.recordingsmanager.js"></script>
</head><body style="height:600px;position:relative">
<script>
var node = new plugin.innovaphone.recordingsmanager(start, { uri: "%[1]s/innovaphone.recordingsmanager",
  httpsUri: "%[1]s/innovaphone.recordingsmanager", ap: "ap", apDn: "App Platform" }, app);
document.body.appendChild(node.container);
</script></body></html>`

// TestManagerPlugin loads the plugin in the stand-in PBX Manager and
// creates both App objects (one assigned to a config template), then
// deletes one, checking the simulated PBX after each step.
func TestManagerPlugin(t *testing.T) {
	b := newBrowser(t)
	e := startEnv(t)
	admin := pbxsim.NewAdminAPI(pbxlink.Licence, 5)
	admin.AddObject("Std", "", true)
	inst := e.url + "/" + e.domain + "/recordings"
	mux := http.NewServeMux()
	mux.HandleFunc("GET /manager", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, managerPage, inst)
	})
	mux.HandleFunc("POST /pbx", func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(r.Body)
		var env struct{ MT, Src string }
		if err == nil {
			err = json.Unmarshal(raw, &env)
		}
		var out any = map[string]string{"mt": env.MT + "Result", "error": "unanswered"}
		if err == nil {
			err = admin.Serve(func(m any) error { out = m; return nil }, env.MT, env.Src, raw)
		}
		if err != nil {
			out = map[string]string{"mt": env.MT + "Result", "error": err.Error()}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	mgr := httptest.NewServer(mux)
	t.Cleanup(mgr.Close)

	b.ready("")
	b.navigate(mgr.URL + "/manager")
	b.waitFor("the plugin's list", `document.querySelector('.rec-mgr-add[data-type="user"]') !== null`)

	create := func(t *testing.T, typ, title, sip string, template bool) {
		b := b.on(t)
		b.do("add "+typ, chromedp.Click(`.rec-mgr-add[data-type="`+typ+`"]`))
		b.waitFor("the form", `document.querySelector('.rec-mgr-form') !== null`)
		b.set(`.rec-mgr-form input:nth-of-type(1)`, title)
		b.set(`.rec-mgr-form input:nth-of-type(2)`, sip)
		if template {
			b.do("tick Std", chromedp.Click(`input[data-template="Std"]`))
		}
		b.do("ok", chromedp.Click(`.rec-mgr-ok`))
		b.waitFor(sip+" listed", `document.querySelector('.rec-mgr-obj[data-sip="`+sip+`"]') !== null`)
	}
	t.Run("create the user object", func(t *testing.T) {
		create(t, "user", "Recordings", "recordings", true)
		o, ok := admin.ObjectByCN("Recordings")
		if !ok || o.H323 != "recordings" || o.AppURL() != inst+"/innovaphone-recordings" || !o.AppFlag("websocket") ||
			!o.AppFlag("admin") || !o.AppFlag("tableusers") {
			t.Fatalf("on the PBX: %+v (url %s)", o, o.AppURL())
		}
		if tm, _ := admin.ObjectByCN("Std"); tm.Apps != "recordings" {
			t.Errorf("template apps %q, want recordings", tm.Apps)
		}
	})
	t.Run("create the admin object", func(t *testing.T) {
		create(t, "admin", "Recordings Admin", "recordingsadmin", false)
		o, ok := admin.ObjectByCN("Recordings Admin")
		if !ok || o.AppURL() != inst+"/innovaphone-recordingsadmin" || o.AppFlag("websocket") || o.CopiedFrom != "recordings" {
			t.Fatalf("on the PBX: %+v", o)
		}
	})
	t.Run("delete the admin object", func(t *testing.T) {
		b := b.on(t)
		b.do("open it", chromedp.Click(`.rec-mgr-obj[data-sip="recordingsadmin"]`))
		b.waitFor("the form", `document.querySelector('.rec-mgr-del') !== null`)
		b.do("delete", chromedp.Click(`.rec-mgr-del`))
		b.waitFor("gone from the list", `document.querySelector('.rec-mgr-add') !== null && document.querySelector('.rec-mgr-obj[data-sip="recordingsadmin"]') === null`)
		if _, ok := admin.ObjectByCN("Recordings Admin"); ok {
			t.Error("still on the PBX")
		}
		if _, ok := admin.ObjectByCN("Recordings"); !ok {
			t.Error("the user object went too")
		}
	})
	b.checkClean()
}
