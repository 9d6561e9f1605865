package pbxsim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Object is a PBX object as PbxAdminApi (PbxAdminApi.htm, UpdateObject /
// GetObject) holds it, as far as the simulator keeps it: users, config
// templates and App objects (pseudo type "app").
type Object struct {
	GUID, CN, DN, H323, E164 string
	Pwd                      string // as sent (the simulator does not encrypt)
	Apps                     string // comma-separated App objects the user may use
	Hide                     bool
	Template                 bool            // a config template
	Pseudo                   json.RawMessage // {"type":"app","app":{"url":…,…}} for App objects
	CopiedFrom               string          // the h323 copyPwd named, when it did
}

// AppURL is the URL of an App object (its pseudo.app.url), else "".
func (o Object) AppURL() string {
	var p struct {
		Type string `json:"type"`
		App  struct {
			URL string `json:"url"`
		} `json:"app"`
	}
	if json.Unmarshal(o.Pseudo, &p) != nil || p.Type != "app" {
		return ""
	}
	return p.App.URL
}

// AppFlag reports a checkmark of an App object's pseudo.app (websocket,
// admin, tableusers, …).
func (o Object) AppFlag(name string) bool {
	var p struct {
		App map[string]any `json:"app"`
	}
	if json.Unmarshal(o.Pseudo, &p) != nil {
		return false
	}
	b, _ := p.App[name].(bool)
	return b
}

// AddObject adds a user (template false) or a config template to the
// simulated PBX and returns its guid.
func (a *AdminAPI) AddObject(cn, h323 string, template bool) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	o := &Object{GUID: newGUID(), CN: cn, H323: h323, Template: template}
	a.objects = append(a.objects, o)
	return o.GUID
}

// AddAppObject adds an App object (pseudo type "app") as the PBX Manager
// would have made it: cn, SIP name h323 and URL url; it returns its guid.
func (a *AdminAPI) AddAppObject(cn, h323, url string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, _ := json.Marshal(map[string]any{"type": "app", "app": map[string]any{"url": url}})
	o := &Object{GUID: newGUID(), CN: cn, H323: h323, Hide: true, Pseudo: p}
	a.objects = append(a.objects, o)
	return o.GUID
}

// Objects returns a copy of every object.
func (a *AdminAPI) Objects() []Object {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Object, len(a.objects))
	for i, o := range a.objects {
		out[i] = *o
	}
	return out
}

// ObjectByCN returns the object named cn.
func (a *AdminAPI) ObjectByCN(cn string) (Object, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if o := a.byCN(cn); o != nil {
		return *o, true
	}
	return Object{}, false
}

// Requests counts the object requests (UpdateObject, DeleteObject,
// GetAppObjects, …) that arrived, by mt.
func (a *AdminAPI) Requests(mt string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests[mt]
}

func newGUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (a *AdminAPI) byCN(cn string) *Object {
	for _, o := range a.objects {
		if strings.EqualFold(o.CN, cn) {
			return o
		}
	}
	return nil
}

func (a *AdminAPI) byGUID(guid string) *Object {
	for _, o := range a.objects {
		if strings.EqualFold(o.GUID, guid) {
			return o
		}
	}
	return nil
}

// serveObject answers the object messages; a.mu is held. It returns the
// result, or an error text the result carries as "error".
func (a *AdminAPI) serveObject(mt string, raw json.RawMessage) (map[string]any, string, bool) {
	switch mt {
	case "GetAppObjects", "GetObject", "UpdateObject", "DeleteObject", "GetConfigObjects":
	default:
		return nil, "", false
	}
	if a.requests == nil {
		a.requests = map[string]int{}
	}
	a.requests[mt]++
	var req map[string]json.RawMessage
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, "bad message", true
	}
	str := func(k string) (string, bool) {
		v, ok := req[k]
		if !ok {
			return "", false
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "", false
		}
		return s, true
	}
	switch mt {
	case "GetAppObjects":
		uri, _ := str("uri")
		objs := []map[string]any{}
		for _, o := range a.objects {
			u := o.AppURL()
			if u == "" || !strings.HasPrefix(u, uri) {
				continue
			}
			title := o.DN
			if title == "" {
				title = o.CN
			}
			objs = append(objs, map[string]any{"title": title, "app": o.H323, "url": u, "connected": false,
				"guid": o.GUID, "sip": o.H323, "pseudo": "app"})
		}
		return map[string]any{"objects": objs}, "", true
	case "GetConfigObjects":
		objs := []map[string]any{}
		for _, o := range a.objects {
			if o.Template {
				objs = append(objs, map[string]any{"cn": o.CN, "config": []string{}})
			}
		}
		return map[string]any{"objects": objs}, "", true
	case "GetObject":
		var o *Object
		if g, ok := str("guid"); ok && g != "" {
			o = a.byGUID(g)
		} else if cn, ok := str("cn"); ok {
			o = a.byCN(cn)
		}
		if o == nil {
			return nil, "no such object", true
		}
		res := map[string]any{"guid": o.GUID, "cn": o.CN, "dn": o.DN, "h323": o.H323, "e164": o.E164,
			"apps": o.Apps, "hide": o.Hide}
		if len(o.Pseudo) > 0 {
			res["pseudo"] = o.Pseudo
		}
		return res, "", true
	case "DeleteObject":
		g, _ := str("guid")
		o := a.byGUID(g)
		if o == nil {
			return nil, "no such object", true
		}
		a.objects = slices.DeleteFunc(a.objects, func(x *Object) bool { return x == o })
		return map[string]any{}, "", true
	}
	// UpdateObject
	guid, _ := str("guid")
	cn, hasCN := str("cn")
	var o *Object
	switch guid {
	case "":
		if !hasCN || cn == "" {
			return nil, "cn missing", true
		}
		if a.byCN(cn) != nil {
			return nil, "cn exists", true
		}
		o = &Object{GUID: newGUID()}
	case "*", "?":
		o = a.byCN(cn)
		if o == nil && guid == "?" {
			o = &Object{GUID: newGUID()}
		}
	default:
		o = a.byGUID(guid)
	}
	if o == nil {
		return nil, "no such object", true
	}
	if h, ok := str("h323"); ok && h != "" {
		for _, x := range a.objects {
			if x != o && strings.EqualFold(x.H323, h) {
				return nil, "h323 exists", true
			}
		}
	}
	if from, ok := str("copyPwd"); ok && from != "" {
		var src *Object
		for _, x := range a.objects {
			if strings.EqualFold(x.H323, from) {
				src = x
			}
		}
		if src == nil || len(src.Pseudo) == 0 {
			return nil, "copyPwd: no such App object", true
		}
		o.Pwd, o.CopiedFrom = src.Pwd, src.H323
	}
	for k, dst := range map[string]*string{"cn": &o.CN, "dn": &o.DN, "h323": &o.H323, "e164": &o.E164, "pwd": &o.Pwd, "apps": &o.Apps} {
		if v, ok := str(k); ok {
			*dst = v
		}
	}
	if v, ok := req["hide"]; ok {
		_ = json.Unmarshal(v, &o.Hide)
	}
	if v, ok := req["pseudo"]; ok {
		o.Pseudo = slices.Clone(v)
	}
	if a.byGUID(o.GUID) == nil {
		a.objects = append(a.objects, o)
	}
	return map[string]any{}, "", true
}

func (a *AdminAPI) objectResult(send func(msg any) error, mt, src string, res map[string]any, errText string) error {
	if res == nil {
		res = map[string]any{}
	}
	res["api"], res["mt"], res["src"] = "PbxAdminApi", mt+"Result", src
	if errText != "" {
		res["error"] = errText
	}
	if err := send(res); err != nil {
		return fmt.Errorf("pbxsim: %s: %w", mt, err)
	}
	return nil
}
