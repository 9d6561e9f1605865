package pbxsim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Options describe the simulated PBX and its App object.
type Options struct {
	// URL is the App object's URL with the ws or wss scheme, e.g.
	// ws://127.0.0.1:8080/example.com/recordings/innovaphone-recordings.
	URL string
	// Password is the App object's password: the service's instance
	// password.
	Password string
	// App is the AppLogin's app: the last element of the App object's URL
	// (default innovaphone-recordings).
	App string
	// SystemName is the PBX's System Name (AppLogin domain, PbxInfo
	// domain); default example.com.
	SystemName string
	// Object, GUID and DN are the App object's Name (h323), GUID and
	// display name; defaults recordings, a fixed GUID, Recordings.
	Object, GUID, DN string
	// PBXName and DNS are PbxInfo's pbx and pbxDns; defaults pbx1 and
	// pbx.example.com.
	PBXName, DNS string
	// Lics, when set, goes into the login's info as "lics" (the service
	// licences of the instance).
	Lics *int
	// Info, when set, is the login's info as sent (compact JSON) instead
	// of the App object's appobj, appdn, appurl and lics.
	Info string
	// HTTP is the service's base URL for CDRs (http://host:port) and
	// CDRUser/CDRPassword the PBX's CDR interface credentials.
	HTTP                 string
	CDRUser, CDRPassword string
	// Client is used for CDRs; default http.DefaultClient.
	Client *http.Client
}

// Sim is a simulated innovaphone PBX: it connects to the service as the
// App object (the PBX always dials, the service never does), logs in,
// announces itself with PbxInfo listing the APIs of its Handlers, routes
// the service's messages by api to them, can drop and restore the
// connection and posts CDRs.
type Sim struct {
	opt Options

	mu       sync.Mutex
	handlers map[string]Handler
	conn     *websocket.Conn
	cancel   context.CancelFunc
	done     chan struct{}
	other    chan json.RawMessage
	wmu      sync.Mutex // one write at a time
}

// New returns a simulated PBX that is not connected yet.
func New(opt Options) *Sim {
	if opt.App == "" {
		opt.App = "innovaphone-recordings"
	}
	if opt.SystemName == "" {
		opt.SystemName = "example.com"
	}
	if opt.Object == "" {
		opt.Object = "recordings"
	}
	if opt.GUID == "" {
		opt.GUID = "0123456789abcdef0123456789abcdef"
	}
	if opt.DN == "" {
		opt.DN = "Recordings"
	}
	if opt.PBXName == "" {
		opt.PBXName = "pbx1"
	}
	if opt.DNS == "" {
		opt.DNS = "pbx.example.com"
	}
	if opt.Client == nil {
		opt.Client = http.DefaultClient
	}
	return &Sim{opt: opt, handlers: map[string]Handler{}, other: make(chan json.RawMessage, 256)}
}

// Register serves api with h from the next connection on.
func (s *Sim) Register(api string, h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers[api] = h
}

// APIs lists the registered APIs, sorted: PbxInfo's apis.
func (s *Sim) APIs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.handlers))
	for a := range s.handlers {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// Other delivers the messages no Handler takes (those without api, or of
// an api not registered), such as the service's error answers. Messages
// beyond its buffer are dropped.
func (s *Sim) Other() <-chan json.RawMessage { return s.other }

// Done is closed when the current connection ends.
func (s *Sim) Done() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return s.done
}

// ErrLoginRefused is returned by Connect when the service answers the
// login with ok false.
var ErrLoginRefused = errors.New("pbxsim: login refused")

// Connect dials the App object's URL, logs in (AppChallenge, AppLogin
// with the digest under the password) and sends PbxInfo, ending its
// earlier connection first. A refused login is ErrLoginRefused with the
// service's reason.
func (s *Sim) Connect(ctx context.Context) error {
	s.Drop() // a connection of its own still open ends first
	conn, _, err := websocket.Dial(ctx, s.opt.URL, nil)
	if err != nil {
		return fmt.Errorf("pbxsim: dial %s: %w", s.opt.URL, err)
	}
	conn.SetReadLimit(4 << 20)
	fail := func(err error) error {
		conn.CloseNow()
		return err
	}
	if err := write(ctx, conn, map[string]string{"mt": "AppChallenge"}); err != nil {
		return fail(err)
	}
	var ch struct {
		MT        string `json:"mt"`
		Challenge string `json:"challenge"`
	}
	if err := read(ctx, conn, &ch); err != nil {
		return fail(err)
	}
	if ch.MT != "AppChallengeResult" || ch.Challenge == "" {
		return fail(fmt.Errorf("pbxsim: want AppChallengeResult with a challenge, got %+v", ch))
	}
	info, err := s.info()
	if err != nil {
		return fail(err)
	}
	login := map[string]any{"mt": "AppLogin", "app": s.opt.App, "domain": s.opt.SystemName, "sip": s.opt.Object,
		"guid": s.opt.GUID, "dn": s.opt.DN, "pbxObj": s.opt.Object, "info": json.RawMessage(info),
		"digest": Digest(s.opt.App, s.opt.SystemName, s.opt.Object, s.opt.GUID, s.opt.DN, string(info), ch.Challenge,
			s.opt.Password)}
	if err := write(ctx, conn, login); err != nil {
		return fail(err)
	}
	var res struct {
		MT    string `json:"mt"`
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := read(ctx, conn, &res); err != nil {
		return fail(err)
	}
	if res.MT != "AppLoginResult" || !res.OK {
		return fail(fmt.Errorf("%w: %s %s", ErrLoginRefused, res.MT, res.Error))
	}
	if err := write(ctx, conn, map[string]any{"mt": "PbxInfo", "domain": s.opt.SystemName, "pbx": s.opt.PBXName,
		"pbxDns": s.opt.DNS, "apis": s.APIs()}); err != nil {
		return fail(err)
	}
	loopCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s.mu.Lock()
	s.conn, s.cancel, s.done = conn, cancel, done
	s.mu.Unlock()
	go s.loop(loopCtx, conn, done)
	return nil
}

// info is the login's info as JSON.stringify writes it (compact, no HTML
// escaping, members in this order).
func (s *Sim) info() ([]byte, error) {
	if s.opt.Info != "" {
		return []byte(s.opt.Info), nil
	}
	appURL := s.opt.URL
	if u, err := url.Parse(appURL); err == nil {
		u.Scheme = strings.Replace(strings.Replace(u.Scheme, "wss", "https", 1), "ws", "http", 1)
		appURL = u.String()
	}
	var b bytes.Buffer
	b.WriteString(`{"appobj":`)
	for i, v := range []string{s.opt.Object, s.opt.DN, appURL} {
		if i == 1 {
			b.WriteString(`,"appdn":`)
		} else if i == 2 {
			b.WriteString(`,"appurl":`)
		}
		if err := stringify(&b, v); err != nil {
			return nil, err
		}
	}
	if s.opt.Lics != nil {
		fmt.Fprintf(&b, `,"lics":%d`, *s.opt.Lics)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func stringify(b *bytes.Buffer, v string) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}

// Digest is the AppLogin digest as AppWebsocket.htm defines it: hex
// SHA-256 of app:domain:sip:guid:dn:info:challenge:password, without
// ":info" when the message has none.
func Digest(app, domain, sip, guid, dn, info, challenge, password string) string {
	parts := []string{app, domain, sip, guid, dn}
	if info != "" {
		parts = append(parts, info)
	}
	parts = append(parts, challenge, password)
	sum := sha256.Sum256([]byte(strings.Join(parts, ":")))
	return hex.EncodeToString(sum[:])
}

func write(ctx context.Context, conn *websocket.Conn, msg any) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("pbxsim: encode: %w", err)
	}
	return conn.Write(ctx, websocket.MessageText, b)
}

func read(ctx context.Context, conn *websocket.Conn, v any) error {
	_, b, err := conn.Read(ctx)
	if err != nil {
		return fmt.Errorf("pbxsim: read: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("pbxsim: decode %q: %w", b, err)
	}
	return nil
}

// loop routes the service's messages to the Handlers until the
// connection ends.
func (s *Sim) loop(ctx context.Context, conn *websocket.Conn, done chan struct{}) {
	defer close(done)
	defer s.reset()
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return
		}
		var env struct {
			MT  string `json:"mt"`
			API string `json:"api"`
			Src string `json:"src"`
		}
		if json.Unmarshal(b, &env) != nil {
			s.deliverOther(b)
			continue
		}
		s.mu.Lock()
		h := s.handlers[env.API]
		s.mu.Unlock()
		if env.API == "" || h == nil {
			s.deliverOther(b)
			continue
		}
		send := func(msg any) error { return s.send(ctx, conn, msg) }
		if err := h.Serve(send, env.MT, env.Src, b); err != nil {
			_ = send(map[string]string{"api": env.API, "mt": env.MT + "Result", "src": env.Src, "error": err.Error()})
		}
	}
}

func (s *Sim) deliverOther(b []byte) {
	select {
	case s.other <- json.RawMessage(b):
	default:
	}
}

func (s *Sim) send(ctx context.Context, conn *websocket.Conn, msg any) error {
	var b []byte
	switch m := msg.(type) {
	case []byte:
		b = m
	default:
		var err error
		if b, err = json.Marshal(msg); err != nil {
			return fmt.Errorf("pbxsim: encode: %w", err)
		}
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return conn.Write(ctx, websocket.MessageText, b)
}

// Send writes msg (a JSON-encodable value, or raw bytes as they are) on
// the current connection, as the PBX would.
func (s *Sim) Send(ctx context.Context, msg any) error {
	s.mu.Lock()
	conn := s.conn
	s.mu.Unlock()
	if conn == nil {
		return errors.New("pbxsim: not connected")
	}
	return s.send(ctx, conn, msg)
}

func (s *Sim) reset() {
	s.mu.Lock()
	hs := make([]Handler, 0, len(s.handlers))
	for _, h := range s.handlers {
		hs = append(hs, h)
	}
	s.mu.Unlock()
	for _, h := range hs {
		h.Reset()
	}
}

// Drop cuts the connection without a closing handshake, as a network
// outage would, and waits until the Handlers are reset.
func (s *Sim) Drop() {
	s.mu.Lock()
	conn, cancel, done := s.conn, s.cancel, s.done
	s.conn = nil
	s.mu.Unlock()
	if conn == nil {
		return
	}
	cancel()
	conn.CloseNow()
	<-done
}

// Timeout bounds Restore and PostCDR.
const Timeout = 30 * time.Second

// Restore connects again after Drop (Connect within Timeout).
func (s *Sim) Restore() error {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	return s.Connect(ctx)
}

// Close ends the connection, if any.
func (s *Sim) Close() { s.Drop() }

// PostCDR posts one CDR as the PBX's CDR interface does: the XML in the
// form value "msg", with the CDR credentials, to
// <HTTP>/<SystemName>/recordings/cdr, within Timeout. It returns the HTTP
// status.
func (s *Sim) PostCDR(xml string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	return s.PostCDRContext(ctx, xml)
}

// PostCDRContext is PostCDR under ctx.
func (s *Sim) PostCDRContext(ctx context.Context, xml string) (int, error) {
	u := strings.TrimRight(s.opt.HTTP, "/") + "/" + url.PathEscape(s.opt.SystemName) + "/recordings/cdr"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(url.Values{"msg": {xml}}.Encode()))
	if err != nil {
		return 0, fmt.Errorf("pbxsim: CDR request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if s.opt.CDRUser != "" || s.opt.CDRPassword != "" {
		req.SetBasicAuth(s.opt.CDRUser, s.opt.CDRPassword)
	}
	res, err := s.opt.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("pbxsim: post CDR: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, nil
}
