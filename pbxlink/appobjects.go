package pbxlink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// The file names of the two apps' URLs: an App object whose URL ends in one
// of them is one of this service's.
const (
	UserAppFile  = "innovaphone-recordings"
	AdminAppFile = "innovaphone-recordingsadmin"
)

// App object types as pbxlink names them (store.AppObjectUser/Admin).
const (
	AppTypeUser  = "user"
	AppTypeAdmin = "admin"
)

// ErrNotConnected: no PBX connection offers PbxAdminApi now; nothing was
// sent, nothing changed.
var ErrNotConnected = errors.New("the PBX is not connected (or its App object lacks the Admin API)")

// PBXError is the PBX's refusal of a request (a result carrying "error").
type PBXError struct {
	MT   string // the request
	Text string // the error as the PBX sent it
}

func (e *PBXError) Error() string { return fmt.Sprintf("the PBX refused %s: %s", e.MT, e.Text) }

// DefaultObjectTimeout bounds each PbxAdminApi request of AppObjects.
const DefaultObjectTimeout = 30 * time.Second

// AppObject is one of this service's App objects as GetAppObjects lists
// it.
type AppObject struct {
	GUID      string
	Name      string // its SIP name (h323, "sip" in the list)
	Title     string // its display name (cn)
	URL       string
	Type      string // AppTypeUser or AppTypeAdmin, from the URL's file name
	Connected bool   // its AppWebsocket connection to the service is up
}

// Template is a config template and whether it assigns each of this
// service's App objects (its "apps" list).
type Template struct {
	GUID, CN string
	Apps     []string // the whole apps list, as the PBX holds it
}

// AppObjectSpec is an App object to create (GUID empty) or change.
type AppObjectSpec struct {
	GUID  string
	Name  string // SIP name (h323)
	Title string // cn
	Type  string // AppTypeUser or AppTypeAdmin
	// BaseURL is the instance URL the App object points under
	// (https://host/{domain}/recordings); the app's file name is added.
	BaseURL string
	// Password is the instance password; used only when no App object of
	// this service exists on the PBX yet (else copyPwd copies theirs).
	Password string
}

// AppObjectsOptions configure the App-object client.
type AppObjectsOptions struct {
	Log     *slog.Logger
	Timeout time.Duration // per request; default DefaultObjectTimeout
	// Synced gets every complete list read from the PBX (on connect and
	// after each change), on the reading goroutine.
	Synced func(ctx context.Context, domain string, objs []AppObject) error
}

// AppObjects is the PbxAdminApi client for this service's App objects: it
// lists them (GetAppObjects) when the PBX connects and after each change
// made through it, creates and changes them (UpdateObject), deletes them
// (DeleteObject), and assigns them to users and config templates (their
// "apps" lists, GetObject + UpdateObject).
//
// It runs on each domain's PBX connection (ForDomain, a per-domain client
// of the hub): each domain's list is read from, and each change sent to,
// that domain's PBX; the methods name the domain (see conn for how a
// domain is found).
type AppObjects struct {
	opt AppObjectsOptions

	mu     sync.Mutex
	gen    int
	conns  map[string]*aoConn          // domain → its PBX connection
	states map[string]*AppObjectsState // domain → what admins are shown (outlives the connection)
	notify chan struct{}
}

// aoConn is the client on one domain's PBX connection.
type aoConn struct {
	domain  string
	gen     int
	ctx     context.Context
	s       Sender
	seq     int
	pending map[string]chan Msg
}

// AppObjectsState is what the admin app shows of the client.
type AppObjectsState struct {
	Domain    string
	Connected bool
	SyncedAt  time.Time // the last complete list; zero before the first
	Objects   int       // in that list
	LastError string
}

// NewAppObjects returns the App-object client.
func NewAppObjects(opt AppObjectsOptions) *AppObjects {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultObjectTimeout
	}
	return &AppObjects{opt: opt, conns: map[string]*aoConn{}, states: map[string]*AppObjectsState{},
		notify: make(chan struct{})}
}

// ForDomain returns the client on domain's PBX connection
// (pbxlink.Options.PerDomain): its list is domain's.
func (a *AppObjects) ForDomain(domain string) Client { return domainAppObjects{a: a, domain: domain} }

type domainAppObjects struct {
	a      *AppObjects
	domain string
}

func (d domainAppObjects) API() string { return AdminAPI }
func (d domainAppObjects) Connected(ctx context.Context, s Sender, _ PbxInfo) {
	d.a.connected(ctx, d.domain, s)
}
func (d domainAppObjects) Handle(_ context.Context, m Msg) { d.a.handle(d.domain, m) }
func (d domainAppObjects) Disconnected()                   { d.a.disconnected(d.domain) }

// API implements Client (AppObjects used as one client, of domain "").
func (a *AppObjects) API() string { return AdminAPI }

// Connected implements Client for domain "".
func (a *AppObjects) Connected(ctx context.Context, s Sender, _ PbxInfo) { a.connected(ctx, "", s) }

// Disconnected implements Client for domain "".
func (a *AppObjects) Disconnected() { a.disconnected("") }

// Handle implements Client for domain "".
func (a *AppObjects) Handle(_ context.Context, m Msg) { a.handle("", m) }

// state returns domain's state, made on first use; a.mu is held.
func (a *AppObjects) state(domain string) *AppObjectsState {
	st := a.states[domain]
	if st == nil {
		st = &AppObjectsState{Domain: domain}
		a.states[domain] = st
	}
	return st
}

// connected: the list is read.
func (a *AppObjects) connected(ctx context.Context, domain string, s Sender) {
	a.mu.Lock()
	a.gen++
	if old := a.conns[domain]; old != nil {
		for _, ch := range old.pending {
			close(ch)
		}
	}
	a.conns[domain] = &aoConn{domain: domain, gen: a.gen, ctx: ctx, s: s, pending: map[string]chan Msg{}}
	a.state(domain).Connected = true
	a.changed()
	a.mu.Unlock()
	go func() {
		if err := a.Refresh(ctx, domain); err != nil {
			a.opt.Log.Warn("app objects: read the PBX's list", "domain", domain, "err", err)
		}
	}()
}

// disconnected: requests in flight fail.
func (a *AppObjects) disconnected(domain string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.conns[domain]
	if c == nil {
		return
	}
	for _, ch := range c.pending {
		close(ch)
	}
	delete(a.conns, domain)
	a.state(domain).Connected = false
	a.changed()
}

// handle: a result goes to its request.
func (a *AppObjects) handle(domain string, m Msg) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.conns[domain]
	if c == nil {
		return
	}
	ch, ok := c.pending[m.Src]
	if !ok {
		return // another client's (licences), or of a request given up
	}
	delete(c.pending, m.Src)
	ch <- m // buffered
}

// changed wakes the waiters on Changed; a.mu is held.
func (a *AppObjects) changed() {
	close(a.notify)
	a.notify = make(chan struct{})
}

// Changed returns a channel closed at the next change of any domain's
// state.
func (a *AppObjects) Changed() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.notify
}

// State reports the client's state over all domains: connected when any
// domain's PBX is, the newest list's time, the objects of all lists, the
// first domain's last error.
func (a *AppObjects) State() AppObjectsState {
	var out AppObjectsState
	for _, st := range a.States() {
		out.Connected = out.Connected || st.Connected
		if st.SyncedAt.After(out.SyncedAt) {
			out.SyncedAt = st.SyncedAt
		}
		out.Objects += st.Objects
		if out.LastError == "" && st.LastError != "" {
			out.LastError = st.LastError
			if st.Domain != "" {
				out.LastError = st.Domain + ": " + st.LastError
			}
		}
	}
	return out
}

// States reports each domain's state, by domain.
func (a *AppObjects) States() []AppObjectsState {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]AppObjectsState, 0, len(a.states))
	for _, st := range a.states {
		out = append(out, *st)
	}
	slices.SortFunc(out, func(x, y AppObjectsState) int { return strings.Compare(x.Domain, y.Domain) })
	return out
}

// StateOf reports domain's state (found as conn finds it); the zero state
// (for domain) when there is none.
func (a *AppObjects) StateOf(domain string) AppObjectsState {
	a.mu.Lock()
	defer a.mu.Unlock()
	if d, ok := a.find(domain); ok {
		return *a.states[d]
	}
	return AppObjectsState{Domain: domain}
}

// find returns the key of domain's state: domain in any case; "" is the
// only domain there is, if there is one. a.mu is held.
func (a *AppObjects) find(domain string) (string, bool) {
	if _, ok := a.states[domain]; ok {
		return domain, true
	}
	if domain == "" {
		if len(a.states) == 1 {
			for d := range a.states {
				return d, true
			}
		}
		return "", false
	}
	for d := range a.states {
		if strings.EqualFold(d, domain) {
			return d, true
		}
	}
	return "", false
}

// Domain returns how the connected PBX of domain names its domain (the
// hub's spelling): domain in any case; "" is the only connected domain,
// if there is exactly one. ErrNotConnected without such a connection.
func (a *AppObjects) Domain(domain string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, err := a.conn(domain)
	if err != nil {
		return "", err
	}
	return c.domain, nil
}

// conn returns domain's connection: domain in any case; "" is the only
// connected domain, if there is exactly one. a.mu is held.
func (a *AppObjects) conn(domain string) (*aoConn, error) {
	if c := a.conns[domain]; c != nil {
		return c, nil
	}
	if domain == "" && len(a.conns) == 1 {
		for _, c := range a.conns {
			return c, nil
		}
	}
	if domain != "" {
		for d, c := range a.conns {
			if strings.EqualFold(d, domain) {
				return c, nil
			}
		}
	}
	if domain == "" && len(a.conns) > 1 {
		return nil, fmt.Errorf("the PBXes of several domains are connected: name the domain: %w", ErrInvalid)
	}
	return nil, ErrNotConnected
}

// call sends req (mt and fields; api and src are added) to domain's PBX
// and waits for its result.
func (a *AppObjects) call(ctx context.Context, domain, mt string, req map[string]any) (Msg, error) {
	a.mu.Lock()
	c, err := a.conn(domain)
	if err != nil {
		a.mu.Unlock()
		return Msg{}, err
	}
	c.seq++
	src := fmt.Sprintf("ao-%d-%d", c.gen, c.seq)
	ch := make(chan Msg, 1)
	c.pending[src] = ch
	s, cctx := c.s, c.ctx
	a.mu.Unlock()
	forget := func() {
		a.mu.Lock()
		delete(c.pending, src)
		a.mu.Unlock()
	}
	msg := make(map[string]any, len(req)+3)
	for k, v := range req {
		msg[k] = v
	}
	msg["api"], msg["mt"], msg["src"] = AdminAPI, mt, src
	if err := s.Send(ctx, msg); err != nil {
		forget()
		return Msg{}, fmt.Errorf("send %s: %w", mt, err)
	}
	t := time.NewTimer(a.opt.Timeout)
	defer t.Stop()
	select {
	case m, ok := <-ch:
		if !ok {
			return Msg{}, fmt.Errorf("%s: %w", mt, ErrNotConnected)
		}
		if m.MT != mt+"Result" {
			return Msg{}, fmt.Errorf("%s answered with %.64q", mt, m.MT)
		}
		var res struct {
			Error json.RawMessage `json:"error"`
			Msg   string          `json:"msg"`
		}
		if err := json.Unmarshal(m.Raw, &res); err != nil {
			return Msg{}, fmt.Errorf("bad %s: %w", m.MT, err)
		}
		if e := strings.TrimSpace(string(res.Error)); e != "" && e != "null" && e != "false" && e != "0" && e != `""` {
			text := strings.Trim(e, `"`)
			if res.Msg != "" {
				text += ": " + res.Msg
			}
			return Msg{}, &PBXError{MT: mt, Text: clip(text, 200)}
		}
		return m, nil
	case <-t.C:
		forget()
		return Msg{}, fmt.Errorf("%s: no answer within %s: %w", mt, a.opt.Timeout, ErrTimeout)
	case <-ctx.Done():
		forget()
		return Msg{}, fmt.Errorf("%s: %w", mt, ctx.Err())
	case <-cctx.Done():
		forget()
		return Msg{}, fmt.Errorf("%s: %w", mt, ErrNotConnected)
	}
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// AppType tells which of this service's apps an App object URL points
// at: AppTypeUser, AppTypeAdmin, or "" for another app's.
func AppType(u string) string {
	p := u
	if pu, err := url.Parse(u); err == nil && pu.Path != "" {
		p = pu.Path
	}
	switch strings.ToLower(strings.TrimSuffix(path.Base(p), ".htm")) {
	case UserAppFile:
		return AppTypeUser
	case AdminAppFile:
		return AppTypeAdmin
	}
	return ""
}

// List reads this service's App objects from domain's PBX (GetAppObjects;
// the objects of other apps are left out).
func (a *AppObjects) List(ctx context.Context, domain string) ([]AppObject, error) {
	m, err := a.call(ctx, domain, "GetAppObjects", map[string]any{})
	if err != nil {
		return nil, err
	}
	return ParseAppObjects(m.Raw)
}

// ParseAppObjects reads a GetAppObjectsResult: this service's App objects
// in it (those of other apps are left out).
func ParseAppObjects(raw []byte) ([]AppObject, error) {
	var res struct {
		Objects []struct {
			Title     string `json:"title"`
			App       string `json:"app"`
			URL       string `json:"url"`
			Connected bool   `json:"connected"`
			GUID      string `json:"guid"`
			SIP       string `json:"sip"`
		} `json:"objects"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, fmt.Errorf("bad GetAppObjectsResult: %w", err)
	}
	out := []AppObject{}
	for _, o := range res.Objects {
		t := AppType(o.URL)
		if t == "" {
			continue
		}
		name := o.SIP
		if name == "" {
			name = o.App // the App SIP URI: its user part names it
		}
		name, _, _ = strings.Cut(strings.TrimPrefix(name, "sip:"), "@")
		out = append(out, AppObject{GUID: o.GUID, Name: name, Title: o.Title, URL: o.URL, Type: t, Connected: o.Connected})
	}
	return out, nil
}

// Refresh reads domain's list and hands it to Synced: domain's cache
// follows domain's PBX.
func (a *AppObjects) Refresh(ctx context.Context, domain string) error {
	d, err := a.Domain(domain)
	if err != nil {
		return fmt.Errorf("app objects: refresh: %w", err)
	}
	objs, err := a.List(ctx, d)
	if err == nil && a.opt.Synced != nil {
		err = a.opt.Synced(ctx, d, objs)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.state(d)
	if err != nil {
		st.LastError = err.Error()
	} else {
		st.LastError, st.SyncedAt, st.Objects = "", time.Now(), len(objs)
	}
	a.changed()
	if err != nil {
		return fmt.Errorf("app objects: refresh %s: %w", d, err)
	}
	return nil
}

// appCheckmarks are the App object's functions the PBX grants it, per
// type: the recordings (user) object carries the App-object connection
// (websocket), the Admin API (licences, App objects) and the user table
// (PbxTableUsers replication); the admin object is a plain app link.
var appCheckmarks = map[string]map[string]bool{
	AppTypeUser:  {"websocket": true, "admin": true, "tableusers": true},
	AppTypeAdmin: {},
}

// AppURL is the URL of the app of type t under the instance URL base.
func AppURL(base, t string) string {
	f := UserAppFile
	if t == AppTypeAdmin {
		f = AdminAppFile
	}
	return strings.TrimSuffix(base, "/") + "/" + f
}

// Save creates (spec.GUID empty) or changes an App object on domain's PBX
// (UpdateObject), then refreshes domain's list.
func (a *AppObjects) Save(ctx context.Context, domain string, spec AppObjectSpec) error {
	if err := checkSpec(spec); err != nil {
		return err
	}
	app := map[string]any{"url": AppURL(spec.BaseURL, spec.Type)}
	for _, k := range []string{"websocket", "admin", "tableusers"} {
		app[k] = appCheckmarks[spec.Type][k]
	}
	req := map[string]any{"cn": spec.Title, "h323": spec.Name, "hide": true,
		"pseudo": map[string]any{"type": "app", "app": app}}
	if spec.GUID != "" {
		req["guid"] = spec.GUID
	} else {
		// A new object gets the password of one of this service's App
		// objects when one exists (copyPwd), else the instance password.
		objs, err := a.List(ctx, domain)
		if err != nil {
			return fmt.Errorf("app objects: create %s: %w", spec.Name, err)
		}
		for _, o := range objs {
			if strings.EqualFold(o.Name, spec.Name) {
				return fmt.Errorf("app objects: create %s: %w", spec.Name, ErrExists)
			}
		}
		if len(objs) > 0 {
			req["copyPwd"] = objs[0].Name
		} else if spec.Password != "" {
			req["pwd"] = spec.Password
		}
	}
	if _, err := a.call(ctx, domain, "UpdateObject", req); err != nil {
		return fmt.Errorf("app objects: save %s: %w", spec.Name, err)
	}
	a.opt.Log.Info("app object saved on the PBX", "domain", domain, "name", spec.Name, "type", spec.Type,
		"created", spec.GUID == "")
	return a.Refresh(ctx, domain)
}

// ErrInvalid marks a request refused before anything was sent: bad name,
// type or URL.
var ErrInvalid = errors.New("invalid")

// ErrTimeout: the PBX did not answer a request in time.
var ErrTimeout = errors.New("the PBX did not answer in time")

// ErrExists: an App object of that name is on the PBX already.
var ErrExists = errors.New("an App object of that name exists on the PBX")

func checkSpec(s AppObjectSpec) error {
	switch {
	case strings.TrimSpace(s.Name) == "" || len(s.Name) > 64 || strings.ContainsAny(s.Name, " @:/\\\"<>"):
		return fmt.Errorf("name %.64q: 1 to 64 characters, no spaces or @ : / \\ \" < >: %w", s.Name, ErrInvalid)
	case len(s.Title) > 200:
		return fmt.Errorf("display_name: at most 200 characters: %w", ErrInvalid)
	case s.Type != AppTypeUser && s.Type != AppTypeAdmin:
		return fmt.Errorf("type %.20q is not %q or %q: %w", s.Type, AppTypeUser, AppTypeAdmin, ErrInvalid)
	case !strings.HasPrefix(s.BaseURL, "https://") && !strings.HasPrefix(s.BaseURL, "http://"):
		return fmt.Errorf("base_url %.200q is not http(s): %w", s.BaseURL, ErrInvalid)
	}
	return nil
}

// Delete deletes the App object guid on domain's PBX (DeleteObject), then
// refreshes domain's list.
func (a *AppObjects) Delete(ctx context.Context, domain, guid string) error {
	if guid == "" {
		return fmt.Errorf("delete: no guid (the PBX does not hold this object): %w", ErrInvalid)
	}
	if _, err := a.call(ctx, domain, "DeleteObject", map[string]any{"guid": guid}); err != nil {
		return fmt.Errorf("app objects: delete %s: %w", guid, err)
	}
	a.opt.Log.Info("app object deleted on the PBX", "domain", domain, "guid", guid)
	return a.Refresh(ctx, domain)
}

// Templates lists the config templates of domain's PBX with their apps
// lists (GetConfigObjects, then GetObject per template).
func (a *AppObjects) Templates(ctx context.Context, domain string) ([]Template, error) {
	m, err := a.call(ctx, domain, "GetConfigObjects", map[string]any{})
	if err != nil {
		return nil, fmt.Errorf("app objects: templates: %w", err)
	}
	var res struct {
		Objects []struct {
			CN string `json:"cn"`
		} `json:"objects"`
	}
	if err := json.Unmarshal(m.Raw, &res); err != nil {
		return nil, fmt.Errorf("app objects: bad GetConfigObjectsResult: %w", err)
	}
	out := make([]Template, 0, len(res.Objects))
	for _, o := range res.Objects {
		guid, apps, err := a.apps(ctx, domain, map[string]any{"cn": o.CN})
		if err != nil {
			return nil, fmt.Errorf("app objects: template %.64q: %w", o.CN, err)
		}
		out = append(out, Template{GUID: guid, CN: o.CN, Apps: apps})
	}
	return out, nil
}

// apps reads an object's guid and apps list.
func (a *AppObjects) apps(ctx context.Context, domain string, key map[string]any) (string, []string, error) {
	m, err := a.call(ctx, domain, "GetObject", key)
	if err != nil {
		return "", nil, err
	}
	var res struct {
		GUID string `json:"guid"`
		Apps string `json:"apps"`
	}
	if err := json.Unmarshal(m.Raw, &res); err != nil {
		return "", nil, fmt.Errorf("bad GetObjectResult: %w", err)
	}
	var apps []string
	for _, s := range strings.Split(res.Apps, ",") {
		if s = strings.TrimSpace(s); s != "" {
			apps = append(apps, s)
		}
	}
	return res.GUID, apps, nil
}

// Assign adds the App object app to (on) or removes it from the apps list
// of the object cn of domain's PBX: a user or a config template. Other
// entries stay.
func (a *AppObjects) Assign(ctx context.Context, domain, cn, app string, on bool) error {
	if cn == "" || app == "" {
		return fmt.Errorf("object and app_object are both needed: %w", ErrInvalid)
	}
	guid, apps, err := a.apps(ctx, domain, map[string]any{"cn": cn})
	if err != nil {
		return fmt.Errorf("app objects: assign %s to %.64q: %w", app, cn, err)
	}
	has := slices.ContainsFunc(apps, func(x string) bool { return strings.EqualFold(x, app) })
	if has == on {
		return nil
	}
	if on {
		apps = append(apps, app)
	} else {
		apps = slices.DeleteFunc(apps, func(x string) bool { return strings.EqualFold(x, app) })
	}
	req := map[string]any{"cn": cn, "apps": strings.Join(apps, ",")}
	if guid != "" {
		req["guid"] = guid
	} else {
		req["guid"] = "*" // the cn names the object (PbxAdminApi.htm)
	}
	if _, err := a.call(ctx, domain, "UpdateObject", req); err != nil {
		return fmt.Errorf("app objects: assign %s to %.64q: %w", app, cn, err)
	}
	a.opt.Log.Info("app object assignment changed on the PBX", "domain", domain, "object", cn, "app", app, "on", on)
	return nil
}
