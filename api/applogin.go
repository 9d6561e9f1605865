package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"recordings/pbx"
	"recordings/pbxlink"
	"recordings/store"
)

// AppLogin: innovaphone apps sign in on the UI's websocket instead of with
// a cookie. The exchange:
//
//	→ {"mt":"AppChallenge"}
//	← {"mt":"AppChallengeResult","challenge":"<20 digits>"}
//	→ {"mt":"AppLogin","app":…,"domain":…,"sip":…,"guid":…,"dn":…,"digest":…,"info":{…}}
//	← {"mt":"AppLoginResult","ok":true,"user":…,"role":…,"app_object":…,"session":…}
//
// digest = hex SHA-256 of app:domain:sip:guid:dn[:info]:challenge:password,
// info being the compact JSON as received and password the instance
// password (setting instance_password). A challenge is good for one
// AppLogin on the connection that asked for it, within appChallengeTTL.
//
// The app decides the role: innovaphone-recordings signs in a user,
// innovaphone-recordingsadmin an administrator. The user is the account
// named sip (created as a PBX-only account, without password, on its first
// sign-in). info.appobj names the app object whose access list applies; it
// must exist, as the app object of the login's domain (the app URL's, else
// the AppLogin's) or of every domain, and be of the app's type
// (user/admin). Without it the
// account's default app object applies. The sign-in becomes a session
// (store.CreateAppSession) holding app object and role, so the websocket's
// per-message session check keeps them, and the token is returned for the
// app's HTTP requests (cookie recordings_session).
const (
	appUser         = "innovaphone-recordings"
	appAdmin        = "innovaphone-recordingsadmin"
	appChallengeTTL = 2 * time.Minute
)

// appLoginConn is the AppLogin state of one websocket connection; its zero
// value is ready. It is used from the connection's read loop only.
type appLoginConn struct {
	challenge string
	issued    time.Time
	// user is the last user login that succeeded on the connection, kept
	// in case a PbxInfo shows it was the PBX's (pbxconn.go).
	user *userLogin
}

// userLogin is a verified user AppLogin.
type userLogin struct {
	req     appLoginRequest
	inf     loginInfo
	domain  string // of the connection's URL
	created bool   // the login made the account
}

type appChallengeResult struct {
	Challenge string `json:"challenge"`
}

// appChallenge hands out a fresh challenge, replacing any earlier one.
func (s *Server) appChallenge(st *appLoginConn) (appChallengeResult, error) {
	ch, err := s.pbx.challenge()
	if err != nil {
		return appChallengeResult{}, fmt.Errorf("AppChallenge: %w", err)
	}
	st.challenge, st.issued = ch, s.opt.Now()
	return appChallengeResult{Challenge: ch}, nil
}

type appLoginRequest struct {
	App    string          `json:"app"`
	Domain string          `json:"domain"`
	SIP    string          `json:"sip"`
	GUID   string          `json:"guid"`
	DN     string          `json:"dn"`
	Digest string          `json:"digest"`
	Info   json.RawMessage `json:"info"`
	// PbxObj is the SDK client library's connection app: "-" on the PBX
	// Manager plugin's connection to the instance (manager.go).
	PbxObj string `json:"pbxObj"`
}

// appLoginResult is the AppLoginResult body; ok false carries the reason.
type appLoginResult struct {
	OK        bool   `json:"ok"`
	Error     string `json:"error,omitempty"`
	User      string `json:"user,omitempty"`
	Role      string `json:"role,omitempty"`
	AppObject string `json:"app_object,omitempty"`
	Session   string `json:"session,omitempty"`
}

// errAppLogin is a refused sign-in: the text goes to the client.
type errAppLogin struct{ msg string }

func (e errAppLogin) Error() string { return e.msg }

// appLogin checks an AppLogin message and signs the user in. It returns
// the signed-in user (with Via and Sees filled) and the session token. A
// refusal is an errAppLogin (logged; a wrong digest counts against remote
// and the account named in the sign-in throttle, throttle.go); other errors
// are internal.
func (s *Server) appLogin(ctx context.Context, st *appLoginConn, remote string, body []byte) (store.User, string, error) {
	u, tok, pl, err := s.appLoginAny(ctx, st, remote, "", body)
	if errors.Is(err, errManagerLogin) {
		return store.User{}, "", errAppLogin{"the PBX Manager plugin signs in on the websocket only"}
	}
	if err == nil && pl != nil {
		return store.User{}, "", errAppLogin{"an App object's (the PBX's) login is accepted on its websocket only"}
	}
	return u, tok, err
}

// appLoginAny checks an AppLogin message: a user's (the signed-in user and
// session token) or the PBX's own login as its App object (pl, see
// isPBXLogin; no account is touched). domain is the {domain} of the app
// URL the connection came in on ("" for /api/ws).
func (s *Server) appLoginAny(ctx context.Context, st *appLoginConn, remote, domain string, body []byte) (_ store.User, _ string, pl *pbxlink.Login, err error) {
	// The challenge is used up whatever happens next.
	challenge, issued := st.challenge, st.issued
	st.challenge = ""
	var req appLoginRequest
	jsonErr := json.Unmarshal(body, &req)
	att, terr := s.thr.begin("applogin", remote, req.SIP)
	if terr != nil {
		return store.User{}, "", nil, errAppLogin{terr.Error()}
	}
	defer func() {
		if err != nil {
			att.abandoned() // no-op after failed
		}
	}()
	// guess refuses a sign-in that may be a guess (counted); refuse one
	// the digest has vouched for (a configuration problem, not counted).
	// A refused login that looks like the PBX's is shown to the admins
	// as the PBX connection's last error.
	looksPBX := false
	pbxDomain := domain
	if pbxDomain == "" {
		pbxDomain = req.Domain
	}
	noteRefusal := func(reason string) {
		if looksPBX && s.pbxHub != nil {
			s.pbxHub.Failed(clipText(pbxDomain, 256), "App object login refused: "+reason)
		}
	}
	guess := func(reason string, args ...any) (store.User, string, *pbxlink.Login, error) {
		att.failed()
		s.log.Warn("AppLogin refused", append([]any{"remote", remote, "reason", reason}, args...)...)
		noteRefusal(reason)
		return store.User{}, "", nil, errAppLogin{reason}
	}
	refuseLogin := func(reason string, args ...any) (store.User, string, *pbxlink.Login, error) {
		s.log.Warn("AppLogin refused", append([]any{"remote", remote, "reason", reason}, args...)...)
		noteRefusal(reason)
		return store.User{}, "", nil, errAppLogin{reason}
	}
	if jsonErr != nil {
		return guess("bad AppLogin message: " + jsonErr.Error())
	}
	var inf loginInfo
	infoErr := error(nil)
	if len(req.Info) > 0 && !bytes.Equal(req.Info, []byte("null")) {
		infoErr = json.Unmarshal(req.Info, &inf)
	}
	looksPBX = infoErr == nil && (req.App == appUser || req.App == appAdmin) && s.isPBXLogin(ctx, cmp.Or(domain, req.Domain), req, inf)
	if challenge == "" || s.opt.Now().Sub(issued) > appChallengeTTL {
		return guess("no valid challenge: send AppChallenge first", "sip", req.SIP)
	}
	password := s.set.Values().AppPassword
	if password == "" {
		return guess("AppLogin is not configured (no instance password)", "sip", req.SIP)
	}
	info := ""
	if len(req.Info) > 0 && !bytes.Equal(req.Info, []byte("null")) {
		info = string(req.Info)
	}
	ok := pbx.VerifyAppLogin(req.App, req.Domain, req.SIP, req.GUID, req.DN, info, challenge, password, req.Digest)
	if !ok && info != "" {
		// The digest covers the compact JSON; accept a client whose
		// encoder spaced it out on the wire.
		var compact bytes.Buffer
		if json.Compact(&compact, req.Info) == nil && compact.String() != info {
			ok = pbx.VerifyAppLogin(req.App, req.Domain, req.SIP, req.GUID, req.DN, compact.String(), challenge, password, req.Digest)
		}
	}
	if !ok {
		return guess("wrong digest", "app", req.App, "sip", req.SIP)
	}
	var role store.Role
	switch req.App {
	case appUser:
		role = store.RoleUser
	case appAdmin:
		role = store.RoleAdmin
	default:
		if req.PbxObj == managerPbxObj {
			// The PBX Manager plugin, with the login the App Platform
			// made with the instance password (manager.go).
			att.succeeded()
			s.log.Info("PBX Manager plugin signed in", "app", clipText(req.App, 64), "sip", clipText(req.SIP, 64), "remote", remote)
			return store.User{}, "", nil, errManagerLogin
		}
		return refuseLogin(fmt.Sprintf("unknown app %.64q (want %s or %s)", req.App, appUser, appAdmin), "sip", req.SIP)
	}
	if infoErr != nil {
		return refuseLogin("info is not a JSON object: "+infoErr.Error(), "sip", req.SIP)
	}
	if looksPBX {
		l, err := s.pbxLogin(req, inf, domain, remote)
		if err != nil {
			return refuseLogin(err.Error(), "sip", req.SIP)
		}
		att.succeeded()
		return store.User{}, "", l, nil
	}
	if req.SIP == "" {
		return refuseLogin("AppLogin without sip (user name)")
	}
	// The domain of the PBX the login came through: the app URL's, else
	// the one the PBX vouches for in the digest.
	loginDomain := cmp.Or(domain, req.Domain)
	if inf.AppObj != "" {
		// The app object is the one of the login's domain (else one of
		// every domain): each domain's PBX has its own "recordings".
		o, err := s.db.AppObjectIn(ctx, loginDomain, inf.AppObj)
		if errors.Is(err, store.ErrNotFound) {
			return refuseLogin(fmt.Sprintf("app object %.64q is not configured here for domain %.64q", inf.AppObj,
				loginDomain), "sip", req.SIP)
		}
		if err != nil {
			return store.User{}, "", nil, err
		}
		if (o.Type == store.AppObjectAdmin) != (role == store.RoleAdmin) {
			return refuseLogin(fmt.Sprintf("app object %s is of type %s, not for app %s", o.Name, o.Type, req.App), "sip", req.SIP)
		}
		inf.AppObj = o.Name
	}
	// The account is the one whose normalised name is sip's (store.NameKey).
	u, err := s.db.User(ctx, req.SIP)
	created := false
	if errors.Is(err, store.ErrNotFound) {
		// The PBX vouches for the user: make a PBX-only account.
		u, err = s.db.CreateUser(ctx, store.User{Name: req.SIP, DisplayName: clipText(req.DN, 256)}, "")
		if errors.Is(err, store.ErrExists) {
			u, err = s.db.User(ctx, req.SIP)
		} else if err == nil {
			created = true
			s.log.Info("account created by AppLogin", "user", u.Name)
		}
	}
	if err != nil {
		if errors.Is(err, store.ErrInvalid) {
			return refuseLogin("sip is not a valid user name: "+err.Error(), "sip", req.SIP)
		}
		return store.User{}, "", nil, err
	}
	if u.Disabled {
		return refuseLogin("this account is disabled", "sip", req.SIP)
	}
	if d := loginDomain; !store.InDomain(u.Domain, d) {
		// Another domain's user: that domain's PBX vouches for it, not
		// this one's (docs/pbx.md, Domains).
		return refuseLogin(fmt.Sprintf("the account belongs to domain %.64q, not %.64q", u.Domain, d), "sip", req.SIP)
	}
	tok, err := s.db.CreateAppSessionIn(ctx, u.ID, s.opt.SessionTTL, loginDomain, inf.AppObj, role)
	if err != nil {
		return store.User{}, "", nil, err
	}
	su, err := s.db.SessionUser(ctx, tok)
	if err != nil {
		return store.User{}, "", nil, err
	}
	if role == store.RoleUser {
		s.noteUnlicensed(ctx, u.Name, inf.Unlicensed)
	}
	st.user = &userLogin{req: req, inf: inf, domain: domain, created: created}
	att.succeeded()
	s.log.Info("signed in by AppLogin", "user", su.Name, "app", req.App, "app_object", su.Via,
		"remote", remote)
	s.pruneSessions(ctx)
	return su, tok, nil, nil
}

// appLoginReply turns appLogin's outcome into the AppLoginResult body.
func appLoginReply(u store.User, tok string, err error) (appLoginResult, error) {
	var refused errAppLogin
	if errors.As(err, &refused) {
		return appLoginResult{OK: false, Error: refused.msg}, nil
	}
	if err != nil {
		return appLoginResult{}, err
	}
	return appLoginResult{OK: true, User: u.Name, Role: string(u.Role), AppObject: u.Via, Session: tok}, nil
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && s[len(s)-1]&0xc0 == 0x80 {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] >= 0xc0 {
		s = s[:len(s)-1]
	}
	return s
}

func remoteHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// wsAppChallenge answers {"mt":"AppChallenge"} on the websocket.
func (s *Server) wsAppChallenge(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	return s.appChallenge(&c.app)
}

// wsAppLogin answers {"mt":"AppLogin",…}; on success the connection is
// signed in with the new session (re-checked on every later message like a
// cookie session).
func (s *Server) wsAppLogin(ctx context.Context, c *wsClient, u store.User, body []byte) (any, error) {
	user, tok, pl, err := s.appLoginAny(ctx, &c.app, c.remote, c.domain, body)
	if errors.Is(err, errManagerLogin) {
		c.mu.Lock()
		c.manager = true
		c.mu.Unlock()
		return appLoginResult{OK: true}, nil
	}
	if err == nil && pl != nil {
		if err := s.becomePBX(c, *pl); err != nil {
			return appLoginResult{OK: false, Error: err.Error()}, nil
		}
		return appLoginResult{OK: true}, nil
	}
	res, err := appLoginReply(user, tok, err)
	if err != nil {
		return nil, err
	}
	if res.OK {
		c.mu.Lock()
		c.user, c.token, c.checked, c.gen = user, tok, s.opt.Now(), s.ws.rights.Load()
		c.mu.Unlock()
	}
	return res, nil
}
