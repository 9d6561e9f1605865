// The Recordings plugin of the innovaphone PBX Manager (SDK: PBX Manager
// Plugin). The PBX Manager loads this file and calls
// plugin.innovaphone.recordingsmanager(start, item, app): start is the
// myApps start object, item describes the plugin (uri: this file's URL
// without ".js"), app is the Manager's AppWebsocket connection to the PBX.
//
// The plugin lists, creates, edits and deletes the App objects of the two
// apps (innovaphone-recordings, innovaphone-recordingsadmin) directly on
// the PBX with PbxAdminApi (GetAppObjects, UpdateObject, DeleteObject),
// assigns them to config templates (GetConfigObjects, GetObject,
// UpdateObject apps), and sets the instance password through the
// Manager's com.innovaphone.manager API. The access lists live in the
// recordings service: the plugin reads and writes them over an
// AppWebsocket connection to the instance (logged in with the Manager's
// GetInstanceLogin), and tells the service to re-read the PBX's list after
// each change (RefreshAppObjects). See docs/pbx.md, "PBX Manager plugin".
var plugin = plugin || {};
plugin.innovaphone = plugin.innovaphone || {};
plugin.innovaphone.recordingsmanager = plugin.innovaphone.recordingsmanager || function (start, item, app) {
    this.createNode("div", null, null, "item-node");
    var root = this.container;
    var base = item.uri.slice(0, item.uri.lastIndexOf("/"));          // the instance URL
    var httpsBase = (item.httpsUri || item.uri).slice(0, (item.httpsUri || item.uri).lastIndexOf("/"));
    var kinds = {
        user: { file: "/innovaphone-recordings", flags: { websocket: true, admin: true, tableusers: true } },
        admin: { file: "/innovaphone-recordingsadmin", flags: {} }
    };
    var texts = null, instance = null, instanceUp = false, templates = [], objects = [];
    var managerApi = start.consumeApi ? start.consumeApi("com.innovaphone.manager") : null;

    if (innovaphone.lib1 && innovaphone.lib1.loadCss) innovaphone.lib1.loadCss(item.uri + ".css");
    var panel = document.createElement("div");
    panel.className = "rec-mgr";
    root.appendChild(panel);

    function t(key) {
        var lang = (start.lang && texts[start.lang]) ? start.lang : "en";
        return texts[lang][key] || texts.en[key] || key;
    }

    function el(tag, cls, text) {
        var e = document.createElement(tag);
        if (cls) e.className = cls;
        if (text != null) e.textContent = text;
        return e;
    }

    // pbx sends one PbxAdminApi request and calls done(result) with its
    // answer (an answer carrying "error" is passed on as it is).
    function pbx(msg, done) {
        msg.api = "PbxAdminApi";
        var src = new app.Src(function (res) {
            src.close();
            done(res);
        });
        src.send(msg);
    }

    // svc sends one message to the recordings instance; done gets the
    // answer, or null when the instance is not connected.
    function svc(msg, done) {
        if (!instance || !instanceUp) { done(null); return; }
        var src = new instance.Src(function (res) {
            src.close();
            done(res);
        });
        src.send(msg);
    }

    function loadTexts(then) {
        if (innovaphone.recordingsmanagertexts) { texts = innovaphone.recordingsmanagertexts; then(); return; }
        innovaphone.lib1.loadObjectScript(item.uri + "texts", function () {
            texts = innovaphone.recordingsmanagertexts;
            then();
        });
    }

    loadTexts(function () {
        if (managerApi && innovaphone.appwebsocket && innovaphone.appwebsocket.Connection) {
            instance = new innovaphone.appwebsocket.Connection("ws" + item.uri.slice(4), "-", null, app.domain,
                function () { instanceUp = true; list(); }, function () { }, null, function () { instanceUp = false; }, instanceLogin);
        }
        list();
    });

    function instanceLogin(appName, challenge) {
        var path = (item.apUri || item.uri);
        path = path.slice(0, path.lastIndexOf("/"));
        var src = new managerApi.Src(function (obj) {
            src.close();
            instance.login(obj.msg);
        });
        src.send({ mt: "GetInstanceLogin", path: path, app: appName, challenge: challenge }, item.ap);
    }

    // typeOf tells the app of an App object by its URL's file name.
    function typeOf(url) {
        var f = (url || "").slice((url || "").lastIndexOf("/")).replace(/\.htm$/, "").toLowerCase();
        if (f === kinds.user.file) return "user";
        if (f === kinds.admin.file) return "admin";
        return "";
    }

    function list() {
        pbx({ mt: "GetAppObjects", uri: httpsBase }, function (res) {
            objects = [];
            (res.objects || []).forEach(function (o) {
                o.type = typeOf(o.url);
                if (o.type) objects.push(o);
            });
            readTemplates(show);
        });
    }

    function readTemplates(then) {
        pbx({ mt: "GetConfigObjects" }, function (res) {
            var names = (res.objects || []).map(function (o) { return o.cn; });
            templates = [];
            (function next() {
                if (!names.length) { then(); return; }
                pbx({ mt: "GetObject", cn: names.shift() }, function (o) {
                    if (!o.error) templates.push({ cn: o.cn, guid: o.guid, apps: o.apps ? o.apps.split(",") : [] });
                    next();
                });
            })();
        });
    }

    function show() {
        panel.textContent = "";
        var head = el("div", "rec-mgr-head");
        ["user", "admin"].forEach(function (type) {
            var b = el("button", "rec-mgr-add", t("add") + ": " + t(type));
            b.setAttribute("data-type", type);
            b.onclick = function () { edit({ type: type }); };
            head.appendChild(b);
        });
        panel.appendChild(head);
        if (!instanceUp) panel.appendChild(el("p", "rec-mgr-note", t("noInstance")));
        if (!objects.length) panel.appendChild(el("p", "rec-mgr-note", t("empty")));
        objects.forEach(function (o) {
            var row = el("div", "rec-mgr-obj");
            row.setAttribute("data-sip", o.sip);
            [[t(o.type), ""], [t("title"), o.title], [t("sip"), o.sip], [t("url"), o.url.slice(o.url.lastIndexOf("/") + 1)],
                [o.connected ? t("connected") : t("notConnected"), ""]].forEach(function (p) {
                    var s = el("span");
                    s.appendChild(el("span", "rec-mgr-label", p[0]));
                    s.appendChild(document.createTextNode(p[1]));
                    row.appendChild(s);
                });
            row.onclick = function () { edit(o); };
            panel.appendChild(row);
        });
    }

    function field(form, label, value, tag) {
        var id = "rec-mgr-" + Math.random().toString(36).slice(2);
        var l = el("label", null, label);
        l.htmlFor = id;
        var i = document.createElement(tag || "input");
        i.id = id;
        i.value = value || "";
        form.appendChild(l);
        form.appendChild(i);
        return i;
    }

    function edit(o) {
        panel.textContent = "";
        panel.appendChild(el("h3", null, (o.guid ? t("edit") : t("add")) + ": " + t(o.type)));
        var form = el("div", "rec-mgr-form");
        panel.appendChild(form);
        var title = field(form, t("title"), o.title);
        var sip = field(form, t("sip"), o.sip);
        if (o.guid) sip.readOnly = true; // renaming would orphan the service's access list
        form.appendChild(el("label", null, t("templates")));
        var checks = templates.map(function (tm) {
            var l = el("label");
            var c = document.createElement("input");
            c.type = "checkbox";
            c.checked = !!o.sip && tm.apps.indexOf(o.sip) >= 0;
            c.setAttribute("data-template", tm.cn);
            l.appendChild(c);
            l.appendChild(document.createTextNode(" " + tm.cn));
            form.appendChild(l);
            return { tm: tm, box: c };
        });
        var access = field(form, t("access"), "", "textarea");
        access.disabled = !instanceUp;
        form.appendChild(el("p", "rec-mgr-note", instanceUp ? t("accessHelp") : t("noInstance")));
        if (o.sip && instanceUp) {
            svc({ mt: "GetAppObjectAccess", name: o.sip }, function (res) {
                if (res && res.access) access.value = res.access.join(", ");
            });
        }
        var err = el("p", "rec-mgr-error");
        panel.appendChild(err);
        var buttons = el("div", "rec-mgr-buttons");
        panel.appendChild(buttons);
        var ok = el("button", "rec-mgr-ok", t("ok"));
        var cancel = el("button", "rec-mgr-cancel", t("cancel"));
        cancel.onclick = list;
        buttons.appendChild(ok);
        buttons.appendChild(cancel);
        if (o.guid) {
            var del = el("button", "rec-mgr-del", t("del"));
            del.onclick = function () {
                pbx({ mt: "DeleteObject", guid: o.guid }, function (res) {
                    if (res.error) { err.textContent = t("error") + ": " + res.error; return; }
                    svc({ mt: "RefreshAppObjects" }, function () { list(); });
                });
            };
            buttons.appendChild(del);
        }
        ok.onclick = function () {
            var name = sip.value.trim();
            if (!name || /[\s@:\/\\"<>]/.test(name)) { err.textContent = t("sip") + "?"; return; }
            var appCfg = { url: httpsBase + kinds[o.type].file };
            ["websocket", "admin", "tableusers"].forEach(function (k) { appCfg[k] = !!kinds[o.type].flags[k]; });
            var msg = { mt: "UpdateObject", cn: title.value.trim() || name, h323: name, hide: true, pseudo: { type: "app", app: appCfg } };
            var newPwd = null;
            if (o.guid) msg.guid = o.guid;
            else if (objects.length) msg.copyPwd = objects[0].sip;           // one instance password for all its App objects
            else if (innovaphone.Manager && innovaphone.Manager.randomPwd) msg.pwd = newPwd = innovaphone.Manager.randomPwd(16);
            pbx(msg, function (res) {
                if (res.error) { err.textContent = t("error") + ": " + res.error; return; }
                assign(name, checks, function () {
                    setPassword(newPwd, function () {
                        var entries = access.value.split(/[,\n]+/).map(function (s) { return s.trim(); }).filter(Boolean);
                        svc({ mt: "RefreshAppObjects" }, function () {
                            if (access.disabled) { list(); return; }
                            svc({ mt: "SetAppObjectAccess", name: name, access: entries }, function () { list(); });
                        });
                    });
                });
            });
        };
    }

    // assign brings each template's apps list in line with its checkbox.
    function assign(name, checks, done) {
        var todo = checks.filter(function (c) { return c.box.checked !== (c.tm.apps.indexOf(name) >= 0); });
        (function next() {
            if (!todo.length) { done(); return; }
            var c = todo.shift();
            var apps = c.tm.apps.filter(function (a) { return a !== name; });
            if (c.box.checked) apps.push(name);
            pbx({ mt: "UpdateObject", guid: c.tm.guid, cn: c.tm.cn, apps: apps.join(",") }, function () {
                c.tm.apps = apps;
                next();
            });
        })();
    }

    // setPassword makes pwd (the first App object's) the instance
    // password on the App Platform.
    function setPassword(pwd, done) {
        if (!pwd || !managerApi) { done(); return; }
        var path = (item.apUri || item.uri);
        path = path.slice(0, path.lastIndexOf("/"));
        var src = new managerApi.Src(function () { src.close(); done(); });
        src.send({ mt: "SetInstancePassword", path: path, pwd: pwd }, item.ap);
    }
};
plugin.innovaphone.recordingsmanager.prototype = innovaphone.ui1.nodePrototype;
