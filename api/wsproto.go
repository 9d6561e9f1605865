package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"recordings/store"
)

// wsEnvelope is the part every request shares.
type wsEnvelope struct {
	MT  string          `json:"mt"`
	Src json.RawMessage `json:"src,omitempty"`
}

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
	// Passwords and accounts (people.go).
	"ChangePassword":     {fn: (*Server).wsChangePassword},
	"ResetPassword":      {fn: (*Server).wsResetPassword, admin: true},
	"SetUserDisabled":    {fn: (*Server).wsSetUserDisabled, admin: true},
	"DeleteUser":         {fn: (*Server).wsDeleteUser, admin: true},
	"ReassignRecordings": {fn: (*Server).wsReassignRecordings, admin: true},
	"GetPbxStatus":       {fn: (*Server).wsGetPbxStatus, admin: true},
	// Activity, audit trail, bulk actions, previews (activity.go, bulk.go, previews.go).
	"GetActivity":       {fn: (*Server).wsGetActivity},
	"GetAudit":          {fn: (*Server).wsGetAudit, admin: true},
	"Played":            {fn: (*Server).wsPlayed},
	"DeleteRecordings":  {fn: (*Server).wsDeleteRecordings},
	"SetProtectedMany":  {fn: (*Server).wsSetProtectedMany},
	"PreviewSettings":   {fn: (*Server).wsPreviewSettings, admin: true},
	"PreviewDeleteUser": {fn: (*Server).wsPreviewDeleteUser, admin: true},
	"UpdateUser":        {fn: (*Server).wsUpdateUser, admin: true},
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
// session ended). Every request of a signed-in client first re-checks its
// rights (wsRecheck): its session, or for HTTP Basic its account.
func (s *Server) wsHandle(ctx context.Context, c *wsClient, data []byte) (reply []byte, closeNow bool) {
	if c.isRevoked() {
		return nil, true // closing already: answer nothing more
	}
	if p := c.pbxSession(); p != nil {
		p.Handle(data) // the PBX's connection (pbxconn.go): it answers itself
		return nil, false
	}
	var env wsEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		return wsErrorReply("", nil, "message is not a JSON object: "+err.Error()), false
	}
	if env.MT == "" {
		return wsErrorReply("", env.Src, `message has no "mt"`), false
	}
	if env.MT == "PbxInfo" && c.app.user != nil {
		// The SDK's rule: PbxInfo marks the PBX's session. A login taken
		// for a user's turns out to be the App object's.
		return s.lateBecomePBX(ctx, c, env, data), false
	}
	u := c.currentUser()
	h, ok := wsHandlers[env.MT]
	if u.Name == "" {
		if h, ok = wsAnonymous[env.MT]; !ok {
			// Not signed in (no or an expired session): the connection
			// stays open for AppChallenge/AppLogin until wsSignInTimeout.
			return wsErrorReply(env.MT, env.Src, "sign-in required"), false
		}
	} else {
		// Re-check, so that a sign-out, a changed password or role, a
		// disabled or deleted account ends the connection's rights.
		fresh, err := s.wsRecheck(ctx, c, true)
		if err != nil {
			if errors.Is(err, errSessionEnded) {
				c.revoke(true, "session ended")
				return wsErrorReply(env.MT, env.Src, "session ended: sign in again"), true
			}
			s.log.Error("websocket: check session", "err", err)
			return wsErrorReply(env.MT, env.Src, "internal error"), false
		}
		u = fresh
	}
	if !ok {
		return wsErrorReply(env.MT, env.Src, fmt.Sprintf("unknown message type %.64q", env.MT)), false
	}
	if h.admin && u.Role != store.RoleAdmin {
		return wsErrorReply(env.MT, env.Src, "administrators only"), false
	}
	res, err := h.fn(s, ctx, c, u, data)
	closeNow = c.endAfterReply.Load()
	if err != nil {
		_, msg, ok := clientFacing(err)
		if !ok {
			s.log.Error("websocket request failed", "mt", env.MT, "user", u.Name, "err", err)
			msg = "internal error"
		}
		return wsErrorReply(env.MT, env.Src, msg), closeNow
	}
	out, err := wsReply(env.MT, env.Src, res)
	if err != nil {
		s.log.Error("websocket: encode reply", "mt", env.MT, "err", err)
		return wsErrorReply(env.MT, env.Src, "internal error"), closeNow
	}
	return out, closeNow
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
			return badRequest("field %q: wrong type (want %s)", te.Field, te.Type)
		}
		return badRequest("bad message: %v", err)
	}
	return nil
}
