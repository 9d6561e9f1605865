package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/coder/websocket"

	"recordings/pbxlink"
	"recordings/settings"
	"recordings/store"
)

// The PBX's App-object connection. An App object with the "websocket"
// checkmark makes the PBX open an AppWebsocket connection to its URL
// (/{domain}/recordings/innovaphone-recordings, …/innovaphone-recordingsadmin,
// any other file name under the instance path, or the instance path
// itself) and log in as the App object with the instance password. The
// same URLs (and /api/ws) carry the users' AppLogins from myApps; a login
// is the PBX's when isPBXLogin says so (docs/pbx.md). Such a login touches
// no account: the connection becomes the PBX of its domain
// (pbxlink.Hub.Attach), and every later message goes to pbxlink.

// loginInfo is the part of AppLogin's info the service reads; the members
// stay raw so that an unexpected type refuses nothing.
type loginInfo struct {
	AppObj     string          `json:"appobj"`
	Unlicensed json.RawMessage `json:"unlicensed"`
	Lics       json.RawMessage `json:"lics"`
}

// isPBXLogin tells the PBX's own login (the App object connecting) from a
// user's login through myApps, for a login of one of the two apps. It is
// the PBX's when:
//   - info carries "lics" (the instance's service licences, sent on the
//     App object's own connection only), or
//   - sip is empty (a login naming no user: the object itself), or
//   - sip is info.appobj (the App object logs in as itself), or
//   - sip names an App object configured here for the login's domain
//     (domain: the app URL's, else the AppLogin's) or for every domain.
//
// A user's login names the user in sip and the App object granting access
// in info.appobj, which differ.
func (s *Server) isPBXLogin(ctx context.Context, domain string, req appLoginRequest, inf loginInfo) bool {
	switch {
	case len(inf.Lics) > 0 && string(inf.Lics) != "null":
		return true
	case req.SIP == "":
		return true
	case inf.AppObj != "" && strings.EqualFold(inf.AppObj, req.SIP):
		return true
	}
	_, err := s.db.AppObjectIn(ctx, domain, req.SIP)
	return err == nil
}

// pbxLogin makes the pbxlink.Login of a verified PBX login on a connection
// that came in under domain ("" for /api/ws). An instance configured for a
// domain refuses the PBX of another.
func (s *Server) pbxLogin(req appLoginRequest, inf loginInfo, domain, remote string) (*pbxlink.Login, error) {
	d := domain
	if d == "" {
		d = req.Domain
	}
	if v := s.set.Values(); len(v.Domains) > 0 {
		if d == "" {
			d = v.DefaultDomain()
		} else if served, ok := v.ServedDomain(d); ok {
			d = served
		} else {
			return nil, fmt.Errorf("this instance serves domain %.64q, not %.64q", v.Domain, d)
		}
	}
	l := &pbxlink.Login{Domain: clipText(d, 256), App: req.App, LoginDomain: clipText(req.Domain, 256),
		SIP: clipText(req.SIP, 256), GUID: clipText(req.GUID, 64), DN: clipText(req.DN, 256), Remote: remote}
	if len(inf.Lics) > 0 {
		if n, err := strconv.Atoi(strings.Trim(string(inf.Lics), `"`)); err == nil && n >= 0 {
			l.Lics = &n
		}
	}
	return l, nil
}

// noteUnlicensed takes a user's AppLogin info.unlicensed as the PBX's word
// on the user's licence while licences come from the PBX.
func (s *Server) noteUnlicensed(ctx context.Context, name string, raw json.RawMessage) {
	if !s.set.PBXExpected() {
		return
	}
	licensed := string(raw) != "true"
	n, err := s.db.SetLicensedByPBX(ctx, map[string]bool{name: licensed})
	if err != nil {
		s.licLog.Warn("licence from AppLogin", "user", name, "err", err)
		return
	}
	if n > 0 {
		s.licLog.Info("licence changed by the PBX (AppLogin)", "account", name, "licensed", licensed)
	}
}

// pbxConn is a websocket client as the PBX connection's transport.
type pbxConn struct{ c *wsClient }

func (p pbxConn) Enqueue(b []byte) bool { return p.c.enqueue(b) }

func (p pbxConn) Close(reason string) {
	if p.c.closeConn != nil {
		p.c.closeConn(websocket.StatusGoingAway, reason)
	}
}

func (c *wsClient) pbxSession() *pbxlink.Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pbx
}

// becomePBX turns c into the PBX connection of l's domain.
func (s *Server) becomePBX(c *wsClient, l pbxlink.Login) error {
	c.mu.Lock()
	if c.user.Name != "" || c.pbx != nil || c.revoked {
		c.mu.Unlock()
		return errors.New("this connection is signed in already: the App object logs in on a connection of its own")
	}
	c.mu.Unlock()
	if c.readLimit != nil {
		c.readLimit(pbxlink.MaxMessage)
	}
	sess := s.pbxHub.Attach(l, pbxConn{c})
	c.mu.Lock()
	c.pbx = sess
	c.mu.Unlock()
	return nil
}

// lateBecomePBX makes c the PBX connection when a PbxInfo follows an
// AppLogin that isPBXLogin took for a user's: the session it made ends,
// and an account that login made is removed again, so that the App
// object's login leaves no account behind.
func (s *Server) lateBecomePBX(ctx context.Context, c *wsClient, env wsEnvelope, data []byte) []byte {
	ul := c.app.user
	c.app.user = nil
	l, err := s.pbxLogin(ul.req, ul.inf, ul.domain, c.remote)
	if err != nil {
		return wsErrorReply(env.MT, env.Src, err.Error())
	}
	c.mu.Lock()
	token := c.token
	c.user, c.token, c.subscribed = store.User{}, "", false
	c.mu.Unlock()
	if token != "" {
		if err := s.db.DeleteSession(ctx, token); err != nil {
			s.log.Warn("PBX login: end the session of the user login", "err", err)
		}
	}
	if ul.created {
		if err := s.db.DeleteUser(ctx, ul.req.SIP); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.log.Warn("PBX login: remove the account its login made", "account", ul.req.SIP, "err", err)
		} else {
			s.rightsChanged()
		}
	}
	s.log.Warn("AppLogin recognised as the PBX's (App object) only by the PbxInfo that followed: see docs/pbx.md",
		"app_object", ul.req.SIP, "domain", l.Domain, "remote", c.remote, "account_removed", ul.created)
	if err := s.becomePBX(c, *l); err != nil {
		return wsErrorReply(env.MT, env.Src, err.Error())
	}
	c.pbxSession().Handle(data)
	return nil
}

// appURL serves the app URLs: a websocket upgrade is an AppWebsocket
// connection (the PBX's or a user's), anything else the apps' pages.
func (s *Server) appURL(w http.ResponseWriter, r *http.Request) {
	if isWebsocketUpgrade(r) {
		s.serveWS(w, r)
		return
	}
	if s.opt.UI == nil || r.PathValue("page") == "" {
		s.pageHeaders(w.Header())
		httpError(w, http.StatusNotFound, "no such page")
		return
	}
	s.appPage(w, r)
}

func isWebsocketUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// pbxStatusJSON is the PBX connection's state for admins.
type pbxStatusJSON struct {
	pbxlink.Status
	Licences *pbxLicencesJSON `json:"licences,omitempty"`
}

type pbxLicencesJSON struct {
	FromPBX   bool   `json:"from_pbx"` // licences come from the PBX (a PBX is expected)
	Checking  bool   `json:"checking"`
	Count     *int   `json:"count,omitempty"` // GetAppLics: App(innovaphone-recorder) licences
	Used      *int   `json:"used,omitempty"`
	Users     int    `json:"users_checked"`
	Licensed  int    `json:"users_licensed"`
	Unknown   int    `json:"users_unknown"` // the PBX could not check them
	LastError string `json:"last_error,omitempty"`
	// Domains are each domain's PBX's licences (the figures above sum
	// them up), when more than one domain's PBX has connected.
	Domains []pbxDomainLicencesJSON `json:"domains,omitempty"`
}

// pbxDomainLicencesJSON is one domain's PBX's licences.
type pbxDomainLicencesJSON struct {
	Domain string `json:"domain"`
	pbxLicencesJSON
}

func licencesView(st pbxlink.LicenceState, fromPBX bool) pbxLicencesJSON {
	l := pbxLicencesJSON{FromPBX: fromPBX, Checking: st.Checking, LastError: st.LastError}
	if a := st.Last; a != nil {
		if a.Count >= 0 {
			l.Count = &a.Count
		}
		if a.Used >= 0 {
			l.Used = &a.Used
		}
		l.Users, l.Unknown = len(a.Licensed), len(a.Unknown)
		for _, on := range a.Licensed {
			if on {
				l.Licensed++
			}
		}
	}
	return l
}

// pbxStatus is the PBX connections and licences as an administrator of
// domain sees them: "" every domain's; else (an administrator of a domain,
// adminDomain) that domain's connection and its PBX's licences only.
func (s *Server) pbxStatus(domain string) pbxStatusJSON {
	out := pbxStatusJSON{Status: s.pbxHub.Status()}
	if domain != "" {
		return s.pbxStatusOf(out, domain)
	}
	if s.lics != nil {
		fromPBX := s.set.PBXExpected()
		l := licencesView(s.lics.State(), fromPBX)
		if ds := s.lics.Domains(); len(ds) > 1 {
			for _, d := range ds {
				l.Domains = append(l.Domains, pbxDomainLicencesJSON{Domain: d.Domain,
					pbxLicencesJSON: licencesView(d.LicenceState, fromPBX)})
			}
		}
		out.Licences = &l
	}
	return out
}

// pbxStatusOf narrows all, every domain's status, to domain's.
func (s *Server) pbxStatusOf(all pbxStatusJSON, domain string) pbxStatusJSON {
	out := pbxStatusJSON{Status: pbxlink.Status{Expected: all.Expected, Connections: []pbxlink.ConnStatus{}}}
	for _, c := range all.Connections {
		if strings.EqualFold(c.Domain, domain) {
			out.Connections = append(out.Connections, c)
			out.Connected = out.Connected || c.Connected
		}
	}
	if s.lics != nil {
		fromPBX := s.set.PBXExpected()
		l := licencesView(pbxlink.LicenceState{}, fromPBX)
		for _, d := range s.lics.Domains() {
			if strings.EqualFold(d.Domain, domain) {
				l = licencesView(d.LicenceState, fromPBX)
			}
		}
		out.Licences = &l
	}
	return out
}

// problems is what the admin still has to see to: the settings' problems
// and the PBX connections'. An administrator of a domain (adminDomain
// domain) is not shown those of the other configured domains.
func (s *Server) problems(domain string) []string {
	return s.problemsOf(append(append([]string{}, s.set.Problems()...), s.pbxHub.Problems()...), domain)
}

// problemsOf leaves out of all the problems of the configured domains
// other than domain ("": none left out).
func (s *Server) problemsOf(all []string, domain string) []string {
	if domain == "" {
		return all
	}
	others := map[string]bool{}
	for _, d := range s.set.Values().Domains {
		if !strings.EqualFold(d, domain) {
			others[settings.PBXNameMissing+" for "+d] = true
			others[pbxlink.NotConnectedOf(d)] = true
		}
	}
	out := []string{}
	for _, p := range all {
		if !others[p] {
			out = append(out, p)
		}
	}
	return out
}

// wsGetPbxStatus answers {"mt":"GetPbxStatus"} with {"pbx":{…}}: of an
// administrator of a domain, that domain's (which the client is then not
// pushed again until it changes).
func (s *Server) wsGetPbxStatus(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	d := s.managedDomain(u)
	st := s.pbxStatus(d)
	if d != "" {
		if b, err := json.Marshal(st); err == nil {
			c.notePBXStatus(b)
		}
	}
	return struct {
		PBX pbxStatusJSON `json:"pbx"`
	}{st}, nil
}

// pbxPushes remembers, per domain, the PBX status last published for it,
// so that an administrator of a domain is pushed only when their domain's
// status changed: the timing of a push must not tell them that another
// domain's PBX connected or dropped.
type pbxPushes struct {
	mu   sync.Mutex
	last map[string][]byte // lower-case domain → pbxStatusJSON as JSON
}

// pushPBXStatus sends {"mt":"PbxStatus","pbx":{…}} to the subscribed
// admins when the PBX connection changes, each the status of the domains
// they administer: an administrator of every domain at each change, an
// administrator of a domain only when that domain's status differs from
// what their client was last sent (or, before that, from what was last
// published for the domain).
func (s *Server) pushPBXStatus() {
	s.pbxPush.mu.Lock()
	defer s.pbxPush.mu.Unlock()
	all := s.pbxStatus("")
	bodies := map[string][]byte{} // lower-case domain → status as JSON
	bodyOf := func(d string) ([]byte, error) {
		if b, ok := bodies[d]; ok {
			return b, nil
		}
		st := all
		if d != "" {
			st = s.pbxStatusOf(all, d)
		}
		b, err := json.Marshal(st)
		if err != nil {
			return nil, fmt.Errorf("push PBX status of %q: %w", d, err)
		}
		bodies[d] = b
		return b, nil
	}
	// Every configured domain's status is kept current, whether or not
	// one of its administrators is listening now.
	if ds := s.set.Values().Domains; len(ds) > 1 {
		for _, d := range ds {
			if _, err := bodyOf(strings.ToLower(d)); err != nil {
				s.log.Error("push PBX status", "err", err)
				return
			}
		}
	}
	prev := s.pbxPush.last
	defer func() {
		delete(bodies, "")
		s.pbxPush.last = bodies
	}()
	msgs := map[string][]byte{} // lower-case domain → message
	for _, c := range s.ws.subscribers() {
		u := c.currentUser()
		if u.Role != store.RoleAdmin {
			continue
		}
		d := strings.ToLower(s.managedDomain(u))
		body, err := bodyOf(d)
		if err != nil {
			s.log.Error("push PBX status", "err", err)
			return
		}
		if d != "" && !c.pbxStatusChanged(body, prev[d]) {
			continue
		}
		msg, ok := msgs[d]
		if !ok {
			msg, err = json.Marshal(struct {
				MT  string          `json:"mt"`
				PBX json.RawMessage `json:"pbx"`
			}{"PbxStatus", body})
			if err != nil {
				s.log.Error("push PBX status", "err", err)
				return
			}
			msgs[d] = msg
		}
		c.enqueue(msg)
	}
}

// notePBXStatus remembers the PBX status (JSON) the client was given.
func (c *wsClient) notePBXStatus(body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pbxSent = body
}

// pbxStatusChanged reports whether body differs from the PBX status the
// client was last given (if none, from published, the status last
// published for its domain; if neither, it has changed), and if so
// remembers it as given.
func (c *wsClient) pbxStatusChanged(body, published []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	was := c.pbxSent
	if was == nil {
		was = published
	}
	if was != nil && bytes.Equal(was, body) {
		return false
	}
	c.pbxSent = body
	return true
}
