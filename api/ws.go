package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"recordings/applog"
	"recordings/ingest"
	"recordings/settings"
	"recordings/store"
)

// The websocket API: JSON text messages with an "mt" (message type) field.
// Every request is answered by "<mt>Result" carrying the request's "src"
// unchanged; failures carry "error". Subscribed clients also receive
// RecordingAdded, RecordingUpdated and RecordingDeleted pushes. docs/api.md
// describes every message.

const (
	wsReadLimit     = 64 << 10         // largest accepted client message
	wsSendQueue     = 256              // messages queued per client before it counts as too slow
	wsWriteTimeout  = 10 * time.Second // one message write
	wsPingInterval  = 30 * time.Second
	wsSignInTimeout = 30 * time.Second // an anonymous connection must sign in within this
	wsMaxSeen       = 100_000          // recording ids remembered per client for delete pushes

	// Close codes in the private range (4000–4999).
	wsCloseSignIn = websocket.StatusCode(4401) // sign in again (no or expired session)
	wsCloseSlow   = websocket.StatusCode(4008) // the client did not keep up with its messages
)

// wsHub is the set of connected websocket clients. Its zero value is ready.
type wsHub struct {
	mu       sync.Mutex
	clients  map[*wsClient]struct{}
	closed   bool
	settings SettingsSetter // nil: SetSettings stores directly
}

func (h *wsHub) add(c *wsClient) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	if h.clients == nil {
		h.clients = map[*wsClient]struct{}{}
	}
	h.clients[c] = struct{}{}
	return true
}

func (h *wsHub) remove(c *wsClient) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.clients, c)
}

// subscribers returns the clients that asked for pushes.
func (h *wsHub) subscribers() []*wsClient {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*wsClient
	for c := range h.clients {
		if c.isSubscribed() {
			out = append(out, c)
		}
	}
	return out
}

// wsClient is one websocket connection.
type wsClient struct {
	send   chan []byte
	drain  chan struct{} // closed: write what is queued, then stop
	cancel context.CancelCauseFunc
	token  string       // session token from the upgrade request or AppLogin; "" for HTTP Basic
	remote string       // the client's address, for AppLogin's rate limit
	app    appLoginConn // AppLogin challenge state (applogin.go); read loop only

	mu         sync.Mutex
	user       store.User // zero until signed in
	subscribed bool
	seen       map[int64]struct{} // recordings this client was shown
}

var errWSSlow = errors.New("client too slow: send queue full")

func (c *wsClient) currentUser() store.User {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.user
}

func (c *wsClient) isSubscribed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.subscribed
}

func (c *wsClient) setSubscribed(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.subscribed = on
}

// saw remembers that the client was shown recording id, so that it may
// later learn of its deletion.
func (c *wsClient) saw(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[int64]struct{}{}
	}
	if len(c.seen) < wsMaxSeen {
		c.seen[id] = struct{}{}
	}
}

// forgot removes id from what the client was shown and reports whether it
// had been there.
func (c *wsClient) forgot(id int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.seen[id]
	delete(c.seen, id)
	return ok
}

// enqueue queues msg for the client's writer. A client whose queue is full
// is disconnected rather than allowed to hold up anyone else.
func (c *wsClient) enqueue(msg []byte) bool {
	select {
	case c.send <- msg:
		return true
	default:
		c.cancel(errWSSlow)
		return false
	}
}

// mayView reports whether u may see a recording owned by owner: the same
// check as every HTTP route (canView: own recordings plus the app object's
// access list).
func mayView(u store.User, owner string) bool { return canView(u, owner) }

// routeUI registers the websocket endpoint and the session probe on the
// /api/ mux, and the two apps' pages and the sign-in page on the other.
func (s *Server) routeUI(apiMux, mux *http.ServeMux) {
	apiMux.HandleFunc("GET /api/ws", s.serveWS)
	apiMux.HandleFunc("GET /api/session", s.session)
	if s.opt.UI != nil {
		// One wildcard route for both pages (literal names could clash with
		// other three-segment patterns).
		mux.HandleFunc("GET /{domain}/recordings/{page}", s.appPage)
		mux.HandleFunc("GET /{$}", s.signInPage)
	}
}

// session tells the pages who is signed in: always 200, so that a browser
// never sees a 401 with a Basic challenge (it would pop up a password
// dialog, or, headless, hang the request).
func (s *Server) session(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	u, err := s.identify(r)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, struct {
			SignedIn bool     `json:"signed_in"`
			User     userJSON `json:"user"`
		}{true, userView(u)})
	case errors.Is(err, errNoCredentials), errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrBadCredentials):
		writeJSON(w, http.StatusOK, struct {
			SignedIn bool `json:"signed_in"`
		}{false})
	default:
		s.internalError(w, r, err)
	}
}

// pageCSP keeps the pages to their own scripts, styles and media.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"media-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'"

func (s *Server) servePage(w http.ResponseWriter, r *http.Request, name string) {
	h := w.Header()
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-cache")
	http.ServeFileFS(w, r, s.opt.UI, name)
}

// appPage serves the user and the admin app: one page that reads its mode
// from the path.
func (s *Server) appPage(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("page") {
	case "innovaphone-recordings.htm", "innovaphone-recordingsadmin.htm":
		s.servePage(w, r, "app.html")
	default:
		httpError(w, http.StatusNotFound, "no such page")
	}
}

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) { s.servePage(w, r, "index.html") }

// CloseWebsockets disconnects every websocket client and refuses new ones;
// register it with http.Server.RegisterOnShutdown, since Shutdown does not
// wait for hijacked connections.
func (s *Server) CloseWebsockets() {
	s.ws.mu.Lock()
	defer s.ws.mu.Unlock()
	s.ws.closed = true
	for c := range s.ws.clients {
		c.cancel(errors.New("server shutting down"))
	}
}

// Publish pushes a recording change from ingest to the subscribed clients
// that may see it. It never blocks on a client.
func (s *Server) Publish(ev ingest.Event) {
	subs := s.ws.subscribers()
	if len(subs) == 0 {
		return
	}
	switch ev.Kind {
	case "created", "updated":
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rec, err := s.db.Recording(ctx, ev.ID)
		if err != nil {
			if isNotFound(err) { // deleted meanwhile
				s.pushDeleted(subs, ev.ID)
				return
			}
			s.log.Warn("websocket push: load recording", "category", "UI", "id", ev.ID, "err", err)
			return
		}
		mt := "RecordingUpdated"
		if ev.Kind == "created" {
			mt = "RecordingAdded"
		}
		s.pushRecording(subs, mt, rec)
	case "deleted":
		s.pushDeleted(subs, ev.ID)
	}
}

func (s *Server) pushRecording(subs []*wsClient, mt string, rec store.Recording) {
	msg, err := json.Marshal(struct {
		MT        string        `json:"mt"`
		Recording recordingJSON `json:"recording"`
	}{mt, recordingView(rec, false)})
	if err != nil {
		s.log.Error("websocket push: encode", "err", err)
		return
	}
	var gone []byte
	for _, c := range subs {
		if mayView(c.currentUser(), rec.Owner) {
			c.saw(rec.ID)
			c.enqueue(msg)
			continue
		}
		// No longer visible to this client (e.g. owner changed): it goes.
		if c.forgot(rec.ID) {
			if gone == nil {
				gone = deletedMsg(rec.ID)
			}
			c.enqueue(gone)
		}
	}
}

func (s *Server) pushDeleted(subs []*wsClient, id int64) {
	msg := deletedMsg(id)
	for _, c := range subs {
		if c.forgot(id) {
			c.enqueue(msg)
		}
	}
}

func deletedMsg(id int64) []byte {
	return fmt.Appendf(nil, `{"mt":"RecordingDeleted","id":%d}`, id)
}

// serveWS upgrades to a websocket and serves one client until it leaves.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	var user store.User
	var token string
	u, err := s.identify(r)
	switch {
	case err == nil:
		user = u
		if c, cerr := r.Cookie(sessionCookie); cerr == nil {
			token = c.Value
		}
	case errors.Is(err, errNoCredentials), errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrBadCredentials):
		// Anonymous: the connection may still sign in with a message (see
		// wsAnonymous), or is closed after wsSignInTimeout.
	default:
		s.internalError(w, r, err)
		return
	}
	// The Origin must name this host (browsers send it; a cross-site page
	// cannot open a websocket with the user's cookie).
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{})
	if err != nil {
		s.log.Warn("websocket refused", "category", "UI", "remote", r.RemoteAddr, "origin", r.Header.Get("Origin"), "err", err)
		return // Accept has answered
	}
	conn.SetReadLimit(wsReadLimit)

	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	c := &wsClient{send: make(chan []byte, wsSendQueue), drain: make(chan struct{}), cancel: cancel, token: token, user: user,
		remote: r.RemoteAddr}
	if !s.ws.add(c) {
		conn.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	defer s.ws.remove(c)

	var wg sync.WaitGroup
	wg.Add(1)
	writerDone := make(chan struct{})
	go func() { defer close(writerDone); s.wsWriter(ctx, conn, c) }()
	go func() { defer wg.Done(); wsPinger(ctx, conn, c) }()
	if user.Name == "" {
		t := time.AfterFunc(wsSignInTimeout, func() {
			if c.currentUser().Name == "" {
				// Close (not cancel) so that the client gets the code.
				_ = conn.Close(wsCloseSignIn, "sign-in required")
			}
		})
		defer t.Stop()
	}

	status, reason := s.wsReadLoop(ctx, conn, c)
	if ctx.Err() == nil && status != 0 {
		// A deliberate close: let the writer send what is queued (such as
		// the answer saying why) before the close frame.
		close(c.drain)
		select {
		case <-writerDone:
		case <-time.After(wsWriteTimeout):
		}
	}
	cancel(nil)
	<-writerDone
	wg.Wait()
	if errors.Is(context.Cause(ctx), errWSSlow) {
		s.log.Warn("websocket client dropped: too slow", "category", "UI", "user", c.currentUser().Name, "remote", r.RemoteAddr)
		status, reason = wsCloseSlow, "too slow"
	}
	if status != 0 {
		// The handshake gets a short while; a gone client must not hold us.
		done := make(chan struct{})
		t := time.AfterFunc(2*time.Second, func() { conn.CloseNow(); close(done) })
		conn.Close(status, reason)
		if t.Stop() {
			close(done)
		}
		<-done
		return
	}
	conn.CloseNow()
}

// wsReadLoop reads and answers requests until the connection ends. It
// returns a close status to send, or 0 when the connection is already gone.
func (s *Server) wsReadLoop(ctx context.Context, conn *websocket.Conn, c *wsClient) (websocket.StatusCode, string) {
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			switch {
			case ctx.Err() != nil:
				return wsCloseStatusFor(context.Cause(ctx))
			case websocket.CloseStatus(err) != -1:
				return 0, "" // the client closed
			case strings.Contains(err.Error(), "read limited"):
				return websocket.StatusMessageTooBig, "message too big"
			}
			return 0, ""
		}
		if typ != websocket.MessageText {
			c.enqueue(wsErrorReply("", nil, "messages must be JSON text"))
			continue
		}
		reply, closeNow := s.wsHandle(ctx, c, data)
		if reply != nil && !c.enqueue(reply) {
			return 0, ""
		}
		if closeNow {
			return wsCloseSignIn, "sign-in required"
		}
	}
}

func wsCloseStatusFor(cause error) (websocket.StatusCode, string) {
	if errors.Is(cause, errWSSlow) {
		return wsCloseSlow, "too slow"
	}
	return websocket.StatusGoingAway, "closing"
}

// wsWriter sends queued messages in order, one write at a time.
func (s *Server) wsWriter(ctx context.Context, conn *websocket.Conn, c *wsClient) {
	write := func(msg []byte) bool {
		wctx, cancel := context.WithTimeout(ctx, wsWriteTimeout)
		err := conn.Write(wctx, websocket.MessageText, msg)
		cancel()
		if err != nil {
			c.cancel(fmt.Errorf("websocket write: %w", err))
			return false
		}
		return true
	}
	for {
		select {
		case <-ctx.Done():
			return
		case msg := <-c.send:
			if !write(msg) {
				return
			}
		case <-c.drain:
			for {
				select {
				case msg := <-c.send:
					if !write(msg) {
						return
					}
				default:
					return
				}
			}
		}
	}
}

// wsPinger notices peers that vanished without closing.
func wsPinger(ctx context.Context, conn *websocket.Conn, c *wsClient) {
	t := time.NewTicker(wsPingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, wsPingInterval/2)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				c.cancel(fmt.Errorf("websocket ping: %w", err))
				return
			}
		}
	}
}

// wsEnvelope is the part every request shares.
type wsEnvelope struct {
	MT  string          `json:"mt"`
	Src json.RawMessage `json:"src,omitempty"`
}

// wsError is an error answer's message: said to the client as is.
type wsError struct{ msg string }

func (e wsError) Error() string { return e.msg }

func wsErr(format string, args ...any) error { return wsError{fmt.Sprintf(format, args...)} }

type wsHandler struct {
	fn    func(s *Server, ctx context.Context, c *wsClient, u store.User, body []byte) (any, error)
	admin bool
}

// wsHandlers are the requests of a signed-in client.
var wsHandlers = map[string]wsHandler{
	"ListRecordings":  {fn: (*Server).wsListRecordings},
	"GetRecording":    {fn: (*Server).wsGetRecording},
	"SetProtected":    {fn: (*Server).wsSetProtected},
	"DeleteRecording": {fn: (*Server).wsDeleteRecording},
	"Subscribe":       {fn: (*Server).wsSubscribe},
	"Unsubscribe":     {fn: (*Server).wsUnsubscribe},
	"GetMe":           {fn: (*Server).wsGetMe},
	"GetLogs":         {fn: (*Server).wsGetLogs},
	"GetSettings":     {fn: (*Server).wsGetSettings, admin: true},
	"SetSettings":     {fn: (*Server).wsSetSettings, admin: true},
	"ListUsers":       {fn: (*Server).wsListUsers, admin: true},
	"CreateUser":      {fn: (*Server).wsCreateUser, admin: true},
	// An app may sign in again over a connection that a cookie signed in.
	"AppChallenge": {fn: (*Server).wsAppChallenge},
	"AppLogin":     {fn: (*Server).wsAppLogin},
}

// wsAnonymous are the requests allowed before sign-in. The PBX's AppLogin
// challenge exchange (innovaphone apps sign in over the websocket instead of
// with a cookie) belongs here: a handler that checks the login and then sets
// c.user under c.mu.
var wsAnonymous = map[string]wsHandler{
	"AppChallenge": {fn: (*Server).wsAppChallenge},
	"AppLogin":     {fn: (*Server).wsAppLogin},
}

// wsHandle answers one request. closeNow asks to end the connection (the
// session ended).
func (s *Server) wsHandle(ctx context.Context, c *wsClient, data []byte) (reply []byte, closeNow bool) {
	var env wsEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		return wsErrorReply("", nil, "message is not a JSON object: "+err.Error()), false
	}
	if env.MT == "" {
		return wsErrorReply("", env.Src, `message has no "mt"`), false
	}
	u := c.currentUser()
	h, ok := wsHandlers[env.MT]
	if u.Name == "" {
		if h, ok = wsAnonymous[env.MT]; !ok {
			// Not signed in (no or an expired session): the connection
			// stays open for AppChallenge/AppLogin until wsSignInTimeout.
			return wsErrorReply(env.MT, env.Src, "sign-in required"), false
		}
	} else if c.token != "" {
		// Re-check the session, so that signing out ends the connection's rights.
		fresh, err := s.db.SessionUser(ctx, c.token)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrBadCredentials) {
				return wsErrorReply(env.MT, env.Src, "session ended: sign in again"), true
			}
			s.log.Error("websocket: check session", "category", "UI", "err", err)
			return wsErrorReply(env.MT, env.Src, "internal error"), false
		}
		u = fresh
		c.mu.Lock()
		c.user = fresh
		c.mu.Unlock()
	}
	if !ok {
		return wsErrorReply(env.MT, env.Src, fmt.Sprintf("unknown message type %.64q", env.MT)), false
	}
	if h.admin && u.Role != store.RoleAdmin {
		return wsErrorReply(env.MT, env.Src, "administrators only"), false
	}
	res, err := h.fn(s, ctx, c, u, data)
	if err != nil {
		var we wsError
		if !errors.As(err, &we) {
			s.log.Error("websocket request failed", "category", "UI", "mt", env.MT, "user", u.Name, "err", err)
			err = wsError{"internal error"}
		}
		return wsErrorReply(env.MT, env.Src, err.Error()), false
	}
	out, err := wsReply(env.MT, env.Src, res)
	if err != nil {
		s.log.Error("websocket: encode reply", "mt", env.MT, "err", err)
		return wsErrorReply(env.MT, env.Src, "internal error"), false
	}
	return out, false
}

// wsReply builds {"mt":"<mt>Result","src":…, …res's fields}.
func wsReply(mt string, src json.RawMessage, res any) ([]byte, error) {
	head, err := json.Marshal(wsEnvelope{MT: mt + "Result", Src: src})
	if err != nil {
		return nil, err
	}
	if res == nil {
		return head, nil
	}
	body, err := json.Marshal(res)
	if err != nil {
		return nil, err
	}
	body = bytes.TrimSpace(body)
	if len(body) < 2 || body[0] != '{' {
		return nil, fmt.Errorf("reply of %s is not an object", mt)
	}
	if string(body) == "{}" {
		return head, nil
	}
	out := append(head[:len(head)-1:len(head)-1], ',')
	return append(out, body[1:]...), nil
}

func wsErrorReply(mt string, src json.RawMessage, msg string) []byte {
	if mt == "" {
		mt = "Error"
	} else {
		mt += "Result"
	}
	b, _ := json.Marshal(struct {
		MT    string          `json:"mt"`
		Src   json.RawMessage `json:"src,omitempty"`
		Error string          `json:"error"`
	}{mt, src, msg})
	return b
}

// decodeBody reads a request's parameters.
func decodeBody(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return wsErr("field %q: wrong type (want %s)", te.Field, te.Type)
		}
		return wsErr("bad message: %v", err)
	}
	return nil
}

// recordingFor loads recording id for u, hiding what u may not see.
func (s *Server) recordingFor(ctx context.Context, u store.User, id int64) (store.Recording, error) {
	if id <= 0 {
		return store.Recording{}, wsErr("id must be a positive number")
	}
	rec, err := s.db.Recording(ctx, id)
	if err != nil {
		if isNotFound(err) {
			return store.Recording{}, wsErr("no such recording")
		}
		return store.Recording{}, err
	}
	if !mayView(u, rec.Owner) {
		return store.Recording{}, wsErr("no such recording")
	}
	return rec, nil
}

func (s *Server) wsListRecordings(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	var req struct {
		Q      string `json:"q"`
		From   string `json:"from"`
		To     string `json:"to"`
		Cursor string `json:"cursor"`
		Limit  int    `json:"limit"`
	}
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	if len(req.Q) > 256 {
		return nil, wsErr("q: at most 256 bytes")
	}
	f, err := listFilter(u, req.Q, req.From, req.To, req.Cursor, req.Limit)
	if err != nil {
		return nil, wsErr("%v", err)
	}
	recs, next, err := s.db.ListRecordings(ctx, f)
	if err != nil {
		if errors.Is(err, store.ErrInvalid) { // a cursor not handed out by this server, or a bad query
			return nil, wsErr("%s", strings.TrimPrefix(err.Error(), "store: "))
		}
		return nil, err
	}
	out := struct {
		Recordings []recordingJSON `json:"recordings"`
		Next       string          `json:"next,omitempty"`
	}{Recordings: make([]recordingJSON, 0, len(recs)), Next: next}
	for _, rec := range recs {
		c.saw(rec.ID)
		out.Recordings = append(out.Recordings, recordingView(rec, false))
	}
	return out, nil
}

type wsIDRequest struct {
	ID int64 `json:"id"`
}

func (s *Server) wsGetRecording(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	var req wsIDRequest
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	rec, err := s.recordingFor(ctx, u, req.ID)
	if err != nil {
		return nil, err
	}
	c.saw(rec.ID)
	return struct {
		Recording recordingJSON `json:"recording"`
	}{recordingView(rec, true)}, nil
}

func (s *Server) wsSetProtected(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	var req struct {
		ID        int64 `json:"id"`
		Protected *bool `json:"protected"`
	}
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	if req.Protected == nil {
		return nil, wsErr(`"protected" (true or false) is required`)
	}
	rec, err := s.recordingFor(ctx, u, req.ID)
	if err != nil {
		return nil, err
	}
	if err := s.db.SetProtected(ctx, rec.ID, *req.Protected); err != nil {
		if isNotFound(err) {
			return nil, wsErr("no such recording")
		}
		return nil, err
	}
	s.log.Info("protection changed", "category", "UI", "user", u.Name, "id", rec.ID, "protected", *req.Protected)
	rec.Protected = *req.Protected
	s.pushRecording(s.ws.subscribers(), "RecordingUpdated", rec)
	return struct {
		Recording recordingJSON `json:"recording"`
	}{recordingView(rec, false)}, nil
}

func (s *Server) wsDeleteRecording(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	var req wsIDRequest
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	rec, err := s.recordingFor(ctx, u, req.ID)
	if err != nil {
		return nil, err
	}
	if err := s.db.DeleteRecording(ctx, rec.ID); err != nil {
		switch {
		case errors.Is(err, store.ErrProtected):
			return nil, wsErr("recording is protected: unprotect it before deleting")
		case isNotFound(err):
			return nil, wsErr("no such recording")
		}
		return nil, err
	}
	s.ing.Forget(rec.ID)
	s.log.Info("recording deleted", "category", "UI", "user", u.Name, "id", rec.ID, "name", rec.Name)
	s.pushDeleted(s.ws.subscribers(), rec.ID)
	return struct {
		ID int64 `json:"id"`
	}{rec.ID}, nil
}

func (s *Server) wsSubscribe(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	c.setSubscribed(true)
	return nil, nil
}

func (s *Server) wsUnsubscribe(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	c.setSubscribed(false)
	return nil, nil
}

func (s *Server) wsGetMe(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	return struct {
		User userJSON `json:"user"`
	}{userView(u)}, nil
}

// Log levels a client may filter by or set as a category's trace level.
var wsLevels = []string{"debug", "info", "warn", "error"}

func (s *Server) wsGetLogs(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	var req struct {
		User     string `json:"user"`
		Category string `json:"category"`
		Level    string `json:"level"`
		Limit    int    `json:"limit"`
		Before   int64  `json:"before"`
	}
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	f := store.LogFilter{User: req.User, Category: req.Category, MinLevel: req.Level, Limit: req.Limit, Before: req.Before}
	if u.Role != store.RoleAdmin {
		f.User = u.Name // users see their own entries only
	}
	if req.Level != "" && !containsFold(wsLevels, req.Level) {
		return nil, wsErr("level: one of %s", strings.Join(wsLevels, ", "))
	}
	if len(req.Category) > 64 || len(req.User) > 64 {
		return nil, wsErr("category and user: at most 64 bytes")
	}
	if req.Limit == 0 {
		f.Limit = 100
	} else if req.Limit < 1 || req.Limit > 1000 {
		return nil, wsErr("limit: a number from 1 to 1000")
	}
	if req.Before < 0 {
		return nil, wsErr("before: a log entry id, or 0 for the newest")
	}
	entries, err := s.db.Logs(ctx, f)
	if err != nil {
		return nil, err
	}
	type logJSON struct {
		ID       int64           `json:"id"`
		Time     time.Time       `json:"time"`
		Level    string          `json:"level"`
		Category string          `json:"category,omitempty"`
		User     string          `json:"user,omitempty"`
		Message  string          `json:"message"`
		Attrs    json.RawMessage `json:"attrs,omitempty"`
	}
	out := struct {
		Logs   []logJSON `json:"logs"`
		Before int64     `json:"before,omitempty"`
	}{Logs: make([]logJSON, 0, len(entries))}
	for _, e := range entries {
		l := logJSON{ID: e.ID, Time: e.Time.UTC(), Level: strings.ToLower(e.Level), Category: e.Category, User: e.User, Message: e.Message}
		if len(e.Attrs) > 0 && json.Valid(e.Attrs) {
			l.Attrs = e.Attrs
		}
		out.Logs = append(out.Logs, l)
	}
	if len(entries) == f.Limit {
		out.Before = entries[len(entries)-1].ID
	}
	return out, nil
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// settingsJSON is the admin's view of the settings.
type settingsJSON struct {
	RetentionDays *int              `json:"retention_days"` // null: not set (keep all)
	PBXName       string            `json:"pbx_name"`
	Trace         map[string]string `json:"trace"`
	Categories    []string          `json:"categories"`
	Levels        []string          `json:"levels"`
	Problems      []string          `json:"problems"` // e.g. "PBX Name missing"
}

func (s *Server) settingsView(ctx context.Context) (settingsJSON, error) {
	m, err := s.db.Settings(ctx)
	if err != nil {
		return settingsJSON{}, err
	}
	v := settingsJSON{PBXName: m[settings.KeyPBXName], Trace: map[string]string{}, Categories: applog.Categories(),
		Levels: settings.TraceLevels(), Problems: []string{}}
	if r, ok := m[settings.KeyRetentionDays]; ok {
		if n, err := settings.ParseDays(settings.KeyRetentionDays, r); err == nil {
			v.RetentionDays = &n
		}
	}
	for _, cat := range v.Categories {
		lv := m[settings.TraceKey(cat)]
		if _, err := settings.ParseTrace(lv); err != nil {
			lv = settings.DefaultTrace
		}
		v.Trace[cat] = lv
	}
	if v.PBXName == "" {
		v.Problems = append(v.Problems, settings.PBXNameMissing)
	}
	return v, nil
}

func (s *Server) wsGetSettings(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	v, err := s.settingsView(ctx)
	if err != nil {
		return nil, err
	}
	return struct {
		Settings settingsJSON `json:"settings"`
	}{v}, nil
}

// SettingsSetter stores, logs and applies setting changes (*settings.Service).
type SettingsSetter interface {
	Set(ctx context.Context, user string, changes map[string]string) error
}

// UseSettings makes SetSettings go through svc, which also applies the
// changes (trace levels at once, retention hooks). Without it the values are
// validated the same way and stored. Call it before serving.
func (s *Server) UseSettings(svc SettingsSetter) {
	s.ws.mu.Lock()
	defer s.ws.mu.Unlock()
	s.ws.settings = svc
}

// wsSetSettings changes the settings given and leaves the others. Every
// value is checked (settings.Validate) before any is stored.
func (s *Server) wsSetSettings(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	var req struct {
		RetentionDays json.RawMessage   `json:"retention_days"`
		PBXName       *string           `json:"pbx_name"`
		Trace         map[string]string `json:"trace"`
	}
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	changes := map[string]string{}
	if len(req.RetentionDays) > 0 && string(req.RetentionDays) != "null" {
		var days string // a JSON number, or a string holding one
		if err := json.Unmarshal(req.RetentionDays, &days); err != nil {
			days = string(req.RetentionDays)
		}
		changes[settings.KeyRetentionDays] = days
	}
	if req.PBXName != nil {
		changes[settings.KeyPBXName] = *req.PBXName
	}
	for cat, lv := range req.Trace {
		changes[settings.CanonicalKey(settings.TraceKey(cat))] = lv
	}
	valid := make(map[string]string, len(changes))
	for k, v := range changes {
		nv, err := settings.Validate(k, v)
		if err != nil {
			if errors.Is(err, settings.ErrInvalid) {
				return nil, wsErr("%s", strings.TrimSuffix(err.Error(), ": "+settings.ErrInvalid.Error()))
			}
			return nil, err
		}
		valid[k] = nv
	}
	s.ws.mu.Lock()
	svc := s.ws.settings
	s.ws.mu.Unlock()
	if svc != nil {
		if err := svc.Set(ctx, u.Name, valid); err != nil {
			return nil, err
		}
	} else {
		for _, k := range slices.Sorted(maps.Keys(valid)) {
			if err := s.db.SetSetting(ctx, k, valid[k]); err != nil {
				return nil, fmt.Errorf("set %s: %w", k, err)
			}
			s.log.Info("setting changed", "category", "UI", "user", u.Name, "key", k, "value", valid[k])
		}
	}
	return s.wsGetSettings(ctx, c, u, nil)
}

type userAdminJSON struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	DisplayName string    `json:"display_name,omitempty"`
	E164        string    `json:"e164,omitempty"`
	Role        string    `json:"role"`
	Created     time.Time `json:"created"`
	HasPassword bool      `json:"has_password"`
}

func userAdminView(u store.User) userAdminJSON {
	return userAdminJSON{ID: u.ID, Name: u.Name, DisplayName: u.DisplayName, E164: u.E164, Role: string(u.Role),
		Created: u.CreatedAt.UTC(), HasPassword: u.HasPassword}
}

func (s *Server) wsListUsers(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	users, err := s.db.Users(ctx)
	if err != nil {
		return nil, err
	}
	out := struct {
		Users []userAdminJSON `json:"users"`
	}{Users: make([]userAdminJSON, 0, len(users))}
	for _, x := range users {
		out.Users = append(out.Users, userAdminView(x))
	}
	return out, nil
}

func (s *Server) wsCreateUser(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	var req struct {
		Name        string `json:"name"`
		DisplayName string `json:"display_name"`
		E164        string `json:"e164"`
		Role        string `json:"role"`
		Password    string `json:"password"`
	}
	if err := decodeBody(body, &req); err != nil {
		return nil, err
	}
	req.Name = strings.TrimSpace(req.Name)
	switch {
	case req.Name == "" || len(req.Name) > 64:
		return nil, wsErr("name: 1 to 64 characters")
	case strings.ContainsAny(req.Name, " \t\r\n/\\"):
		return nil, wsErr("name: no spaces or slashes")
	case len(req.DisplayName) > 128:
		return nil, wsErr("display_name: at most 128 bytes")
	case !validE164(req.E164):
		return nil, wsErr("e164: digits with an optional leading +, at most 20")
	case req.Role != "" && req.Role != string(store.RoleUser) && req.Role != string(store.RoleAdmin):
		return nil, wsErr(`role: "user" or "admin"`)
	case len(req.Password) < 8 || len(req.Password) > 72:
		return nil, wsErr("password: 8 to 72 bytes")
	}
	role := store.Role(req.Role)
	if role == "" {
		role = store.RoleUser
	}
	nu, err := s.db.CreateUser(ctx, store.User{Name: req.Name, DisplayName: strings.TrimSpace(req.DisplayName), E164: req.E164, Role: role}, req.Password)
	if err != nil {
		switch {
		case errors.Is(err, store.ErrExists):
			return nil, wsErr("a user named %q exists already", req.Name)
		case errors.Is(err, store.ErrInvalid):
			return nil, wsErr("%v", strings.TrimPrefix(err.Error(), "store: "))
		}
		return nil, err
	}
	s.log.Info("user created", "category", "UI", "user", u.Name, "new_user", nu.Name, "role", string(nu.Role))
	return struct {
		User userAdminJSON `json:"user"`
	}{userAdminView(nu)}, nil
}

func validE164(s string) bool {
	if s == "" {
		return true
	}
	d := strings.TrimPrefix(s, "+")
	if d == "" || len(d) > 20 {
		return false
	}
	for _, r := range d {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
