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
type AppObjects struct {
	opt AppObjectsOptions

	mu      sync.Mutex
	gen     int
	ctx     context.Context
	s       Sender
	domain  string
	seq     int
	pending map[string]chan Msg
	state   AppObjectsState
	notify  chan struct{}
}

// AppObjectsState is what the admin app shows of the client.
type AppObjectsState struct {
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
	return &AppObjects{opt: opt, notify: make(chan struct{})}
}

// API implements Client.
func (a *AppObjects) API() string { return AdminAPI }

// Connected implements Client: the list is read.
func (a *AppObjects) Connected(ctx context.Context, s Sender, info PbxInfo) {
	a.mu.Lock()
	a.gen++
	a.ctx, a.s, a.domain = ctx, s, info.Domain
	a.pending = map[string]chan Msg{}
	a.state.Connected = true
	a.changed()
	a.mu.Unlock()
	go func() {
		if err := a.Refresh(ctx); err != nil {
			a.opt.Log.Warn("app objects: read the PBX's list", "err", err)
		}
	}()
}

// Disconnected implements Client: requests in flight fail.
func (a *AppObjects) Disconnected() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.gen++
	for _, ch := range a.pending {
		close(ch)
	}
	a.pending, a.s, a.ctx = nil, nil, nil
	a.state.Connected = false
	a.changed()
}

// Handle implements Client: a result goes to its request.
func (a *AppObjects) Handle(_ context.Context, m Msg) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ch, ok := a.pending[m.Src]
	if !ok {
		return // another client's (licences), or of a request given up
	}
	delete(a.pending, m.Src)
	ch <- m // buffered
}

// changed wakes the waiters on Changed; a.mu is held.
func (a *AppObjects) changed() {
	close(a.notify)
	a.notify = make(chan struct{})
}

// Changed returns a channel closed at the next change of State.
func (a *AppObjects) Changed() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.notify
}

// State reports the client's state.
func (a *AppObjects) State() AppObjectsState {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state
}

// call sends req (mt and fields; api and src are added) and waits for its
// result.
func (a *AppObjects) call(ctx context.Context, mt string, req map[string]any) (Msg, error) {
	a.mu.Lock()
	if a.s == nil {
		a.mu.Unlock()
		return Msg{}, ErrNotConnected
	}
	a.seq++
	src := fmt.Sprintf("ao-%d-%d", a.gen, a.seq)
	ch := make(chan Msg, 1)
	a.pending[src] = ch
	s, cctx := a.s, a.ctx
	a.mu.Unlock()
	forget := func() {
		a.mu.Lock()
		delete(a.pending, src)
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

// List reads this service's App objects from the PBX (GetAppObjects; the
// objects of other apps are left out).
func (a *AppObjects) List(ctx context.Context) ([]AppObject, error) {
	m, err := a.call(ctx, "GetAppObjects", map[string]any{})
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

// Refresh reads the list and hands it to Synced: the cache follows the
// PBX.
func (a *AppObjects) Refresh(ctx context.Context) error {
	objs, err := a.List(ctx)
	if err == nil && a.opt.Synced != nil {
		a.mu.Lock()
		domain := a.domain
		a.mu.Unlock()
		err = a.opt.Synced(ctx, domain, objs)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		a.state.LastError = err.Error()
	} else {
		a.state.LastError, a.state.SyncedAt, a.state.Objects = "", time.Now(), len(objs)
	}
	a.changed()
	if err != nil {
		return fmt.Errorf("app objects: refresh: %w", err)
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

// Save creates (spec.GUID empty) or changes an App object on the PBX
// (UpdateObject), then refreshes the list.
func (a *AppObjects) Save(ctx context.Context, spec AppObjectSpec) error {
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
		objs, err := a.List(ctx)
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
	if _, err := a.call(ctx, "UpdateObject", req); err != nil {
		return fmt.Errorf("app objects: save %s: %w", spec.Name, err)
	}
	a.opt.Log.Info("app object saved on the PBX", "name", spec.Name, "type", spec.Type, "created", spec.GUID == "")
	return a.Refresh(ctx)
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

// Delete deletes the App object guid on the PBX (DeleteObject), then
// refreshes the list.
func (a *AppObjects) Delete(ctx context.Context, guid string) error {
	if guid == "" {
		return fmt.Errorf("delete: no guid (the PBX does not hold this object): %w", ErrInvalid)
	}
	if _, err := a.call(ctx, "DeleteObject", map[string]any{"guid": guid}); err != nil {
		return fmt.Errorf("app objects: delete %s: %w", guid, err)
	}
	a.opt.Log.Info("app object deleted on the PBX", "guid", guid)
	return a.Refresh(ctx)
}

// Templates lists the PBX's config templates with their apps lists
// (GetConfigObjects, then GetObject per template).
func (a *AppObjects) Templates(ctx context.Context) ([]Template, error) {
	m, err := a.call(ctx, "GetConfigObjects", map[string]any{})
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
		guid, apps, err := a.apps(ctx, map[string]any{"cn": o.CN})
		if err != nil {
			return nil, fmt.Errorf("app objects: template %.64q: %w", o.CN, err)
		}
		out = append(out, Template{GUID: guid, CN: o.CN, Apps: apps})
	}
	return out, nil
}

// apps reads an object's guid and apps list.
func (a *AppObjects) apps(ctx context.Context, key map[string]any) (string, []string, error) {
	m, err := a.call(ctx, "GetObject", key)
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
// of the object cn: a user or a config template. Other entries stay.
func (a *AppObjects) Assign(ctx context.Context, cn, app string, on bool) error {
	if cn == "" || app == "" {
		return fmt.Errorf("object and app_object are both needed: %w", ErrInvalid)
	}
	guid, apps, err := a.apps(ctx, map[string]any{"cn": cn})
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
	if _, err := a.call(ctx, "UpdateObject", req); err != nil {
		return fmt.Errorf("app objects: assign %s to %.64q: %w", app, cn, err)
	}
	a.opt.Log.Info("app object assignment changed on the PBX", "object", cn, "app", app, "on", on)
	return nil
}
