package pbxlink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// NotConnected is the problem Hub.Problems reports while a PBX is expected
// and none is connected.
const NotConnected = "PBX not connected"

// NotConnectedOf is the problem Hub.Problems reports, with several domains
// configured, for each whose PBX is not connected.
func NotConnectedOf(domain string) string { return "PBX of " + domain + " not connected" }

// Defaults of Options.
const (
	DefaultRate        = 200              // messages per second the PBX may send on average
	DefaultBurst       = 2000             // … and at once
	DefaultInfoTimeout = 30 * time.Second // PbxInfo expected this soon after the login
)

// Login is a PBX's verified AppLogin: the App object signing in.
type Login struct {
	// Domain is the domain the connection serves: the {domain} of the app
	// URL it connected to, else the AppLogin's domain.
	Domain string
	App    string // innovaphone-recordings or innovaphone-recordingsadmin
	// The AppLogin's fields: the PBX's system name, the App object's
	// Name (h323), GUID and display name.
	LoginDomain, SIP, GUID, DN string
	Lics                       *int // info.lics: service licences of the instance, when sent
	Remote                     string
}

// Conn is the transport of one App-object connection (the HTTP layer's
// websocket).
type Conn interface {
	// Enqueue queues one message for writing, never blocking; false when
	// the connection is gone or its queue is full.
	Enqueue(msg []byte) bool
	// Close ends the connection, telling the peer why.
	Close(reason string)
}

// Options configure a Hub; zero values take the defaults.
type Options struct {
	Log     *slog.Logger
	Now     func() time.Time
	Clients []Client // the PBX API clients run on the newest connection (several may share an api)
	// PerDomain, if set, returns the PBX API clients of one domain (one
	// per api; asked once per domain): they run on that domain's PBX
	// connection only, each domain's on its own, at the same time.
	PerDomain func(domain string) []Client
	// Expected tells whether a PBX is expected, so that its absence is a
	// problem (NotConnected); nil: never.
	Expected func() bool
	// Domains lists the configured domains (nil: none configured, every
	// domain served). With several, each one's PBX is expected on its own
	// (NotConnectedOf) and shown in Status even before it first connects.
	Domains func() []string
	// Seen is called when a PBX has logged in (to remember that a PBX is
	// expected from then on); it may be nil.
	Seen        func(domain string)
	Rate        float64 // messages per second; default DefaultRate
	Burst       int     // default DefaultBurst
	InfoTimeout time.Duration
}

// Hub keeps the PBX connections, one per domain (a newer login replaces
// the older), runs the shared PBX API clients (Options.Clients) on one of
// them, the newest that announced itself with PbxInfo, and each domain's
// own clients (Options.PerDomain) on that domain's connection. Its methods
// are safe for concurrent use.
type Hub struct {
	opt Options
	log *slog.Logger

	mu       sync.Mutex
	sessions map[string]*Session // domain → the PBX of that domain
	records  map[string]*record  // domain → what admins are shown of past connections
	watchers []func()

	// cbMu serialises the clients' callbacks; shared are Options.Clients,
	// groups each domain's Options.PerDomain clients.
	cbMu   sync.Mutex
	shared group
	groups map[string]*group
}

// group is a set of clients and the session they run on (owner, nil:
// none); active are those Connected on it.
type group struct {
	clients []Client
	owner   *Session
	active  []Client
}

// domainGroup returns the per-domain clients of domain (nil without
// Options.PerDomain); cbMu is held.
func (h *Hub) domainGroup(domain string) *group {
	if h.opt.PerDomain == nil {
		return nil
	}
	g := h.groups[domain]
	if g == nil {
		g = &group{clients: h.opt.PerDomain(domain)}
		h.groups[domain] = g
	}
	return g
}

// record is what outlives a connection.
type record struct {
	lastError, disconnectReason string
	lastErrorAt, disconnectAt   time.Time
}

// NewHub returns a hub running clients on the PBX connections.
func NewHub(opt Options) *Hub {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Rate <= 0 {
		opt.Rate = DefaultRate
	}
	if opt.Burst <= 0 {
		opt.Burst = DefaultBurst
	}
	if opt.InfoTimeout <= 0 {
		opt.InfoTimeout = DefaultInfoTimeout
	}
	return &Hub{opt: opt, log: opt.Log, sessions: map[string]*Session{}, records: map[string]*record{},
		shared: group{clients: opt.Clients}, groups: map[string]*group{}}
}

// OnChange registers f to be called (without locks held) after every
// change of Status.
func (h *Hub) OnChange(f func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.watchers = append(h.watchers, f)
}

func (h *Hub) changed() {
	h.mu.Lock()
	ws := slices.Clone(h.watchers)
	h.mu.Unlock()
	for _, f := range ws {
		f()
	}
}

// maxRecords bounds the domains whose past connections are remembered
// (a refused login names any domain it likes).
const maxRecords = 32

// rec returns domain's record, making room by forgetting the oldest record
// of a domain without a connection. h.mu is held.
func (h *Hub) rec(domain string) *record {
	r := h.records[domain]
	if r == nil {
		if len(h.records) >= maxRecords {
			oldest := ""
			var at time.Time
			for d, o := range h.records {
				if h.sessions[d] != nil {
					continue
				}
				t := o.lastErrorAt
				if o.disconnectAt.After(t) {
					t = o.disconnectAt
				}
				if oldest == "" || t.Before(at) {
					oldest, at = d, t
				}
			}
			delete(h.records, oldest)
		}
		r = &record{}
		h.records[domain] = r
	}
	return r
}

// Failed records a problem with the PBX connection of domain (e.g. a
// refused login of an App object) for the admins.
func (h *Hub) Failed(domain, text string) {
	h.mu.Lock()
	r := h.rec(domain)
	r.lastError, r.lastErrorAt = text, h.opt.Now()
	h.mu.Unlock()
	h.changed()
}

// Attach makes the connection c, whose PBX logged in as l, the PBX of
// l.Domain; a PBX connection already there is closed. The session lives
// until End.
func (h *Hub) Attach(l Login, c Conn) *Session {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Session{hub: h, conn: c, login: l, ctx: ctx, cancel: cancel, since: h.opt.Now(),
		tokens: float64(h.opt.Burst), refill: h.opt.Now()}
	h.mu.Lock()
	old := h.sessions[l.Domain]
	h.sessions[l.Domain] = s
	h.mu.Unlock()
	if old != nil {
		old.conn.Close("replaced by a newer login of the PBX")
		old.End("replaced by a newer login from " + l.Remote)
	}
	s.infoTimer = time.AfterFunc(h.opt.InfoTimeout, func() {
		s.mu.Lock()
		missing := s.info == nil && !s.ended
		s.mu.Unlock()
		if missing {
			h.log.Warn("PBX sent no PbxInfo: its APIs are not used", "domain", l.Domain, "after", h.opt.InfoTimeout)
			h.Failed(l.Domain, fmt.Sprintf("no PbxInfo within %s of the login: the PBX APIs are not used", h.opt.InfoTimeout))
		}
	})
	h.log.Info("PBX connected", "domain", l.Domain, "app", l.App, "app_object", l.SIP, "system", l.LoginDomain,
		"remote", l.Remote)
	if h.opt.Seen != nil {
		h.opt.Seen(l.Domain)
	}
	h.changed()
	return s
}

// Problems lists, while a PBX is expected, NotConnected when none is
// connected, or with several domains configured NotConnectedOf each
// domain whose PBX is not; empty otherwise.
func (h *Hub) Problems() []string {
	if h.opt.Expected == nil || !h.opt.Expected() {
		return nil
	}
	domains := h.configured()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(domains) < 2 {
		if len(h.sessions) == 0 {
			return []string{NotConnected}
		}
		return nil
	}
	var out []string
	for _, d := range domains {
		if h.session(d) == nil {
			out = append(out, NotConnectedOf(d))
		}
	}
	return out
}

// configured returns the configured domains (Options.Domains).
func (h *Hub) configured() []string {
	if h.opt.Domains == nil {
		return nil
	}
	return h.opt.Domains()
}

// session returns domain's session (the domain in any case), nil when its
// PBX is not connected. h.mu is held.
func (h *Hub) session(domain string) *Session {
	if s := h.sessions[domain]; s != nil {
		return s
	}
	for d, s := range h.sessions {
		if strings.EqualFold(d, domain) {
			return s
		}
	}
	return nil
}

// Status is the PBX connections' state for admins.
type Status struct {
	Expected    bool         `json:"expected"`  // a PBX is expected (see docs/pbx.md)
	Connected   bool         `json:"connected"` // some PBX is connected
	Connections []ConnStatus `json:"connections"`
}

// ConnStatus is one domain's PBX connection, current or past, or (with
// several domains configured) a configured domain's PBX that has not
// connected yet.
type ConnStatus struct {
	Domain     string `json:"domain"`
	Configured bool   `json:"configured"` // one of several configured domains, whose PBX is expected

	Connected      bool       `json:"connected"`
	Since          *time.Time `json:"connected_since,omitempty"`
	App            string     `json:"app,omitempty"`
	AppObject      string     `json:"app_object,omitempty"` // the App object's Name (sip of the login)
	Remote         string     `json:"remote,omitempty"`
	SystemName     string     `json:"system_name,omitempty"` // PbxInfo domain
	PBX            string     `json:"pbx,omitempty"`         // PbxInfo pbx
	PbxDNS         string     `json:"pbx_dns,omitempty"`
	APIs           []string   `json:"apis"`      // offered in PbxInfo
	APIsUsed       []string   `json:"apis_used"` // of those, the ones a client of the service uses
	Lics           *int       `json:"lics,omitempty"`
	LastError      string     `json:"last_error,omitempty"`
	LastErrorAt    *time.Time `json:"last_error_at,omitempty"`
	Disconnected   *time.Time `json:"last_disconnect,omitempty"`
	DisconnectWhy  string     `json:"last_disconnect_reason,omitempty"`
	InfoReceived   bool       `json:"pbx_info_received"`
	ClientsRunning bool       `json:"clients_running"` // the service's API clients run on this connection
}

// Status reports every domain's PBX connection, sorted by domain.
func (h *Hub) Status() Status {
	h.cbMu.Lock()
	running := map[*Session][]string{} // session → the apis of the clients that run on it
	for _, g := range append([]*group{&h.shared}, slices.Collect(maps.Values(h.groups))...) {
		if g.owner != nil {
			for _, c := range g.clients {
				running[g.owner] = append(running[g.owner], c.API())
			}
		}
	}
	h.cbMu.Unlock()
	conf := h.configured()
	if len(conf) < 2 {
		conf = nil
	}
	h.mu.Lock()
	domains := map[string]bool{}
	for d := range h.sessions {
		domains[d] = true
	}
	for d := range h.records {
		domains[d] = true
	}
	for _, c := range conf {
		found := false
		for d := range domains {
			found = found || strings.EqualFold(d, c)
		}
		if !found {
			domains[c] = true
		}
	}
	out := Status{Connections: []ConnStatus{}}
	for d := range domains {
		cs := ConnStatus{Domain: d, APIs: []string{}, APIsUsed: []string{}}
		cs.Configured = slices.ContainsFunc(conf, func(c string) bool { return strings.EqualFold(c, d) })
		if r := h.records[d]; r != nil {
			cs.LastError, cs.DisconnectWhy = r.lastError, r.disconnectReason
			cs.LastErrorAt, cs.Disconnected = timePtr(r.lastErrorAt), timePtr(r.disconnectAt)
		}
		if s := h.sessions[d]; s != nil {
			out.Connected = true
			cs.Connected, cs.Since = true, timePtr(s.since)
			cs.App, cs.AppObject, cs.Remote, cs.Lics = s.login.App, s.login.SIP, s.login.Remote, s.login.Lics
			_, cs.ClientsRunning = running[s]
			s.mu.Lock()
			if s.info != nil {
				cs.InfoReceived = true
				cs.SystemName, cs.PBX, cs.PbxDNS = s.info.Domain, s.info.PBX, s.info.PbxDNS
				cs.APIs = slices.Clone(s.info.APIs)
				for _, api := range running[s] {
					if slices.Contains(s.info.APIs, api) && !slices.Contains(cs.APIsUsed, api) {
						cs.APIsUsed = append(cs.APIsUsed, api)
					}
				}
			}
			s.mu.Unlock()
		}
		out.Connections = append(out.Connections, cs)
	}
	h.mu.Unlock()
	slices.SortFunc(out.Connections, func(a, b ConnStatus) int { return strings.Compare(a.Domain, b.Domain) })
	out.Expected = h.opt.Expected != nil && h.opt.Expected()
	return out
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// adopt runs the clients on s, which announced info: the shared clients
// leave the session they ran on, and so do those of s's domain; those whose
// api info lists are Connected on s.
func (h *Hub) adopt(s *Session, info PbxInfo) {
	h.cbMu.Lock()
	defer h.cbMu.Unlock()
	h.shared.run(s, info)
	if g := h.domainGroup(s.login.Domain); g != nil {
		g.run(s, info)
	}
}

// run connects g's clients to s; cbMu is held.
func (g *group) run(s *Session, info PbxInfo) {
	g.release()
	g.owner = s
	for _, c := range g.clients {
		if slices.Contains(info.APIs, c.API()) {
			c.Connected(s.ctx, sender{s}, info)
			g.active = append(g.active, c)
		}
	}
}

// release disconnects g's clients from their session; cbMu is held.
func (g *group) release() {
	for _, c := range g.active {
		c.Disconnected()
	}
	g.owner, g.active = nil, nil
}

// leave is called when s ends: the clients running on it are
// Disconnected; the shared ones move to the newest other session that
// announced itself, if any (a domain's own wait for its next connection).
func (h *Hub) leave(s *Session) {
	h.cbMu.Lock()
	if g := h.groups[s.login.Domain]; g != nil && g.owner == s {
		g.release()
	}
	if h.shared.owner != s {
		h.cbMu.Unlock()
		return
	}
	h.shared.release()
	h.cbMu.Unlock()
	if len(h.shared.clients) == 0 {
		return
	}
	h.mu.Lock()
	var next *Session
	for _, o := range h.sessions {
		o.mu.Lock()
		ok := o.info != nil && !o.ended
		o.mu.Unlock()
		if ok && (next == nil || o.since.After(next.since)) {
			next = o
		}
	}
	h.mu.Unlock()
	if next != nil {
		next.mu.Lock()
		info := *next.info
		next.mu.Unlock()
		h.cbMu.Lock()
		if h.shared.owner == nil {
			h.shared.run(next, info)
		}
		h.cbMu.Unlock()
	}
}

// dispatch hands m to the clients of m.API running on s: its domain's
// own and the shared ones. Several clients may share an api (PbxAdminApi:
// licences and App objects); each takes the results of its own requests
// by src and ignores the others.
func (h *Hub) dispatch(s *Session, m Msg) bool {
	h.cbMu.Lock()
	defer h.cbMu.Unlock()
	taken := false
	for _, g := range []*group{h.groups[s.login.Domain], &h.shared} {
		if g == nil || g.owner != s {
			continue
		}
		for _, c := range g.active {
			if c.API() == m.API {
				c.Handle(s.ctx, m)
				taken = true
			}
		}
	}
	return taken
}

// Session is one PBX's App-object connection after its login.
type Session struct {
	hub    *Hub
	conn   Conn
	login  Login
	ctx    context.Context
	cancel context.CancelFunc
	since  time.Time

	mu        sync.Mutex
	info      *PbxInfo
	ended     bool
	infoTimer *time.Timer
	tokens    float64 // rate limit: a token bucket
	refill    time.Time
}

// Login returns the login the session was attached with.
func (s *Session) Login() Login { return s.login }

// allow takes one token; false when the PBX sends faster than allowed.
func (s *Session) allow() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.hub.opt.Now()
	s.tokens += now.Sub(s.refill).Seconds() * s.hub.opt.Rate
	s.refill = now
	if max := float64(s.hub.opt.Burst); s.tokens > max {
		s.tokens = max
	}
	if s.tokens < 1 {
		return false
	}
	s.tokens--
	return true
}

// Handle processes one message the PBX sent: AppWebsocket's own messages
// (PbxInfo, AppInfo, KeepAlive) here, those with an api by its client.
// Bad JSON and unknown messages get an error answer; a PBX sending faster
// than the rate limit is disconnected.
func (s *Session) Handle(data []byte) {
	if !s.allow() {
		s.fail("too many messages: more than the rate limit")
		s.conn.Close("too many messages")
		return
	}
	m, err := Decode(data)
	if err != nil {
		s.hub.log.Warn("PBX sent a bad message", "domain", s.login.Domain, "err", err)
		s.fail(err.Error())
		s.conn.Enqueue(ErrorReply(Msg{MT: "Error"}, err.Error()))
		return
	}
	if m.API != "" {
		if s.hub.dispatch(s, m) {
			return
		}
		s.unknown(m, fmt.Sprintf("api %.64q is not used on this connection", m.API))
		return
	}
	switch m.MT {
	case "PbxInfo":
		s.pbxInfo(m)
	case "AppInfo":
		// The PBX asks which client APIs the app provides: none.
		b, _ := Reply(m, "AppInfoResult", map[string]any{"info": map[string]any{"apis": map[string]any{}}})
		s.conn.Enqueue(b)
	case "KeepAlive":
		// The SDK's clients send it after a minute of silence; no answer.
	case "AppChallenge", "AppLogin":
		s.conn.Enqueue(ErrorReply(m, "already logged in"))
	default:
		s.unknown(m, fmt.Sprintf("unknown message type %.64q", m.MT))
	}
}

// unknown answers a request the service does not serve; an unexpected
// answer or indication (…Result, …Info) is only logged, so that two peers
// never answer each other's errors forever.
func (s *Session) unknown(m Msg, text string) {
	s.hub.log.Debug("PBX message not handled", "domain", s.login.Domain, "api", m.API, "mt", m.MT, "reason", text)
	if strings.HasSuffix(m.MT, "Result") || strings.HasSuffix(m.MT, "Info") {
		return
	}
	s.conn.Enqueue(ErrorReply(m, text))
}

func (s *Session) pbxInfo(m Msg) {
	var info PbxInfo
	if err := json.Unmarshal(m.Raw, &info); err != nil {
		s.fail("bad PbxInfo: " + err.Error())
		s.conn.Enqueue(ErrorReply(m, "bad PbxInfo: "+err.Error()))
		return
	}
	if len(info.APIs) > 64 {
		info.APIs = info.APIs[:64]
	}
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.info = &info
	s.mu.Unlock()
	s.hub.log.Info("PBX announced itself", "domain", s.login.Domain, "system", info.Domain, "pbx", info.PBX,
		"dns", info.PbxDNS, "apis", info.APIs)
	s.hub.adopt(s, info)
	s.hub.changed()
}

// fail records a problem of this connection for the admins.
func (s *Session) fail(text string) { s.hub.Failed(s.login.Domain, text) }

// End detaches the session (its connection ended, for reason): the
// clients running on it are Disconnected. It may be called more than once.
func (s *Session) End(reason string) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	s.mu.Unlock()
	s.infoTimer.Stop()
	s.cancel()
	h := s.hub
	h.mu.Lock()
	if h.sessions[s.login.Domain] == s {
		delete(h.sessions, s.login.Domain)
	}
	r := h.rec(s.login.Domain)
	r.disconnectAt, r.disconnectReason = h.opt.Now(), reason
	h.mu.Unlock()
	h.leave(s)
	h.log.Warn("PBX disconnected", "domain", s.login.Domain, "reason", reason)
	h.changed()
}

// sender is a client's way to write on its session.
type sender struct{ s *Session }

var errGone = errors.New("pbxlink: the PBX connection ended")

func (x sender) Send(ctx context.Context, msg any) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("pbxlink: encode: %w", err)
	}
	if len(b) > MaxMessage {
		return fmt.Errorf("pbxlink: message of %d bytes is too big", len(b))
	}
	x.s.mu.Lock()
	ended := x.s.ended
	x.s.mu.Unlock()
	if ended || ctx.Err() != nil || !x.s.conn.Enqueue(b) {
		return errGone
	}
	return nil
}
