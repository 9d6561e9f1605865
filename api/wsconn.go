package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"recordings/pbxlink"
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
	// wsPushRecheck: a push re-checks the client's session or account when
	// its last check is older than this (or rights changed since, see
	// wsHub.rights), so that a session ended elsewhere (the CLI, expiry)
	// gets no pushes for longer.
	wsPushRecheck = 10 * time.Second

	// Close codes in the private range (4000–4999).
	wsCloseSignIn = websocket.StatusCode(4401) // sign in again (no or expired session)
	wsCloseSlow   = websocket.StatusCode(4008) // the client did not keep up with its messages
)

// wsHub is the set of connected websocket clients. Its zero value is ready.
type wsHub struct {
	mu      sync.Mutex
	clients map[*wsClient]struct{}
	closed  bool
	// unsubscribe ends the server's subscription to recording changes.
	unsubscribe func()
	// rights counts changes that may change what a signed-in client may
	// do or see (accounts, app objects): a push to a client checked under
	// an older count re-checks first.
	rights atomic.Uint64
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

// subscribers returns the clients that asked for pushes (a revoked client
// never did: revoke unsubscribes it).
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

// matching returns the clients for which match (called under the client's
// lock) is true.
func (h *wsHub) matching(match func(c *wsClient) bool) []*wsClient {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*wsClient
	for c := range h.clients {
		c.mu.Lock()
		ok := !c.revoked && match(c)
		c.mu.Unlock()
		if ok {
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
	remote string       // the client's address, for the sign-in throttle
	app    appLoginConn // AppLogin challenge state (applogin.go); read loop only
	// domain is the {domain} of the app URL the connection came in on
	// ("" for /api/ws).
	domain string
	// readLimit changes the largest message read (nil in tests).
	readLimit func(int64)
	// closeConn starts the closing handshake with code (nil in tests that
	// drive wsHandle without a connection).
	closeConn func(code websocket.StatusCode, reason string)
	// endAfterReply: the session ended by the request being answered (the
	// client changed its own password): answer, then close.
	endAfterReply atomic.Bool

	mu         sync.Mutex
	user       store.User // zero until signed in
	token      string     // session token from the upgrade request or AppLogin; "" for HTTP Basic
	basicPW    time.Time  // signed in by HTTP Basic: the password's PasswordAt then
	checked    time.Time  // when the rights were last checked
	gen        uint64     // wsHub.rights at that check
	revoked    bool       // the session ended: no more answers or pushes
	subscribed bool
	seen       map[int64]struct{} // recordings this client was shown (listed or pushed)
	// pbx is set when the PBX logged in on this connection as its App
	// object: every message then goes to it (pbxconn.go).
	pbx *pbxlink.Session
	// manager is set when the PBX Manager plugin signed in (manager.go).
	manager bool
	// pbxSent is the PBX status (JSON) an administrator of a domain was
	// last given, pushed or asked for (pushPBXStatus).
	pbxSent []byte
}

// errSessionEnded: the session or account of a websocket client no longer
// allows what it signed in for.
var errSessionEnded = errors.New("session ended")

// revoke ends the client's rights at once: it is unsubscribed, its user
// forgotten and its connection closed with wsCloseSignIn, or, afterReply,
// closed once the request being handled is answered.
func (c *wsClient) revoke(afterReply bool, why string) {
	c.mu.Lock()
	if c.revoked {
		c.mu.Unlock()
		return
	}
	c.revoked, c.user, c.subscribed, c.token = true, store.User{}, false, ""
	c.mu.Unlock()
	if afterReply {
		c.endAfterReply.Store(true)
		return
	}
	if c.closeConn != nil {
		c.closeConn(wsCloseSignIn, why)
	}
}

func (c *wsClient) isRevoked() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.revoked
}

// closeUserSockets ends the websockets signed in as account id (a changed
// password, a role change, a disabled or deleted account): they get close
// code 4401 within moments and nothing more before it. self, when one of
// them (the request came over it), is answered first. It returns how many
// it closed.
func (s *Server) closeUserSockets(id int64, self *wsClient, why string) int {
	s.ws.rights.Add(1)
	cs := s.ws.matching(func(c *wsClient) bool { return c.user.ID == id })
	for _, c := range cs {
		c.revoke(c == self, why)
	}
	return len(cs)
}

// closeSessionSockets ends the websockets signed in with session token (a
// logout).
func (s *Server) closeSessionSockets(token string, self *wsClient) int {
	cs := s.ws.matching(func(c *wsClient) bool { return c.token != "" && c.token == token })
	for _, c := range cs {
		c.revoke(c == self, "signed out")
	}
	return len(cs)
}

// rightsChanged tells the websocket clients that what they may see may have
// changed (an account's number, an app object's access list): the next
// push to each re-checks its session first.
func (s *Server) rightsChanged() { s.ws.rights.Add(1) }

// wsRecheck loads the client's current rights: its session's (touch: as a
// use of it) or, signed in by HTTP Basic, its account's, which must still
// exist, be enabled and have the password it signed in with. A session or
// account that no longer allows this is errSessionEnded.
func (s *Server) wsRecheck(ctx context.Context, c *wsClient, touch bool) (store.User, error) {
	c.mu.Lock()
	u, token, basicPW, revoked := c.user, c.token, c.basicPW, c.revoked
	c.mu.Unlock()
	if revoked || u.ID == 0 {
		return store.User{}, errSessionEnded
	}
	gen := s.ws.rights.Load()
	var (
		fresh store.User
		err   error
	)
	switch {
	case token != "" && touch:
		fresh, err = s.db.SessionUser(ctx, token)
	case token != "":
		fresh, err = s.db.CheckSession(ctx, token)
	default:
		fresh, err = s.db.ActiveUser(ctx, u.ID)
		if err == nil && !fresh.PasswordAt.Equal(basicPW) {
			err = store.ErrNotFound // the password changed since
		}
	}
	if err != nil {
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrDisabled) {
			return store.User{}, errSessionEnded
		}
		return store.User{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.revoked:
		return store.User{}, errSessionEnded
	case c.token != token || c.user.ID != u.ID:
		return c.user, nil // signed in anew meanwhile (AppLogin): that one holds
	}
	c.user, c.checked, c.gen = fresh, s.opt.Now(), gen
	return fresh, nil
}

// pushUser is the user a push to c is for: its current rights, re-checked
// when they may have changed since the last check (rightsChanged) or that
// check is older than wsPushRecheck. ok is false when nothing may be
// pushed; a session found ended closes the connection.
func (s *Server) pushUser(c *wsClient) (store.User, bool) {
	c.mu.Lock()
	u, revoked, checked, gen := c.user, c.revoked, c.checked, c.gen
	c.mu.Unlock()
	if revoked || u.Name == "" {
		return store.User{}, false
	}
	if gen == s.ws.rights.Load() && s.opt.Now().Sub(checked) < wsPushRecheck {
		return u, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fresh, err := s.wsRecheck(ctx, c, false)
	if errors.Is(err, errSessionEnded) {
		c.revoke(false, "session ended")
		return store.User{}, false
	}
	if err != nil {
		s.log.Warn("websocket push: check session", "err", err)
		return store.User{}, false
	}
	return fresh, true
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
// later learn of its changes and deletion, and reports whether it had been
// shown it before.
func (c *wsClient) saw(id int64) (before bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[int64]struct{}{}
	}
	if _, before = c.seen[id]; !before && len(c.seen) < wsMaxSeen {
		c.seen[id] = struct{}{}
	}
	return before
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

// CloseWebsockets disconnects every websocket client and refuses new ones;
// register it with http.Server.RegisterOnShutdown, since Shutdown does not
// wait for hijacked connections.
func (s *Server) CloseWebsockets() {
	s.ws.mu.Lock()
	defer s.ws.mu.Unlock()
	if s.ws.unsubscribe != nil {
		s.ws.unsubscribe()
	}
	s.ws.closed = true
	for c := range s.ws.clients {
		c.cancel(errors.New("server shutting down"))
	}
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
	case s.refuseSignIn(w, err):
		return // throttled or disabled
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
		s.log.Warn("websocket refused", "remote", r.RemoteAddr, "origin", r.Header.Get("Origin"), "err", err)
		return // Accept has answered
	}
	conn.SetReadLimit(wsReadLimit)

	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	c := &wsClient{send: make(chan []byte, wsSendQueue), drain: make(chan struct{}), cancel: cancel, token: token, user: user,
		remote: r.RemoteAddr, checked: s.opt.Now(), gen: s.ws.rights.Load(), domain: r.PathValue("domain"),
		readLimit: conn.SetReadLimit,
		// A revocation closes from another goroutine; the read loop then
		// sees the close and ends the connection.
		closeConn: func(code websocket.StatusCode, reason string) { go conn.Close(code, reason) }}
	if token == "" {
		c.basicPW = user.PasswordAt
	}
	if !s.ws.add(c) {
		conn.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	defer s.ws.remove(c)
	var endWhy string // why the read loop ended, when the service ended it
	defer func() {
		if p := c.pbxSession(); p != nil {
			reason := "the PBX closed the connection"
			switch cause := context.Cause(ctx); {
			case cause != nil && !errors.Is(cause, context.Canceled):
				reason = cause.Error()
			case endWhy != "":
				reason = endWhy
			case r.Context().Err() != nil:
				reason = "the service is shutting down"
			}
			p.End(reason)
		}
	}()

	var wg sync.WaitGroup
	wg.Add(1)
	writerDone := make(chan struct{})
	go func() { defer close(writerDone); s.wsWriter(ctx, conn, c) }()
	go func() { defer wg.Done(); wsPinger(ctx, conn, c) }()
	if user.Name == "" {
		t := time.AfterFunc(wsSignInTimeout, func() {
			if c.currentUser().Name == "" && c.pbxSession() == nil && !c.isManager() {
				// Close (not cancel) so that the client gets the code.
				_ = conn.Close(wsCloseSignIn, "sign-in required")
			}
		})
		defer t.Stop()
	}

	status, reason := s.wsReadLoop(ctx, conn, c)
	endWhy = reason
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
		s.log.Warn("websocket client dropped: too slow", "user", c.currentUser().Name, "remote", r.RemoteAddr)
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
