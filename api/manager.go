package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"recordings/store"
)

// The PBX Manager plugin's connection to the instance (docs/pbx.md, "PBX
// Manager plugin"). The plugin changes the App objects on the PBX itself;
// the access lists are the service's, so it opens an AppWebsocket
// connection to the instance URL with the SDK client library (app "-",
// sent as pbxObj) and signs in with the login the App Platform computes
// with the instance password (com.innovaphone.manager GetInstanceLogin).
// A login whose digest verifies with the instance password, whose app is
// neither of the two apps and whose pbxObj is "-" is that plugin's: the
// connection may then read and write access lists and make the service
// re-read the PBX's App objects, nothing else.

// managerPbxObj is the pbxObj of the plugin's connection.
const managerPbxObj = "-"

// errManagerLogin is appLoginAny's answer to the plugin's login (not a
// failure).
var errManagerLogin = errors.New("PBX Manager plugin login")

func (c *wsClient) isManager() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.manager
}

// managerHandle answers one message of the plugin's connection.
func (s *Server) managerHandle(ctx context.Context, c *wsClient, env wsEnvelope, data []byte) []byte {
	res, err := s.managerRequest(ctx, c.domain, env.MT, data)
	if err != nil {
		_, msg, ok := clientFacing(err)
		if !ok {
			msg = err.Error()
			if !errors.Is(err, errManagerBad) {
				s.log.Error("PBX Manager plugin request failed", "mt", env.MT, "err", err)
				msg = "internal error"
			}
		}
		return wsErrorReply(env.MT, env.Src, msg)
	}
	out, err := wsReply(env.MT, env.Src, res)
	if err != nil {
		s.log.Error("PBX Manager plugin reply", "mt", env.MT, "err", err)
		return wsErrorReply(env.MT, env.Src, "internal error")
	}
	return out
}

var errManagerBad = errors.New("bad request")

// managerRequest answers one request of the plugin that connected under
// the {domain} of the instance URL (domain; "" for /api/ws): the app
// objects are that domain's (else those of every domain), and its refresh
// reads that domain's PBX.
func (s *Server) managerRequest(ctx context.Context, domain, mt string, data []byte) (any, error) {
	var req struct {
		Name   string   `json:"name"`
		Access []string `json:"access"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, fmt.Errorf("message is not a JSON object: %w", errManagerBad)
	}
	type accessJSON struct {
		Name   string   `json:"name"`
		Access []string `json:"access"`
	}
	switch mt {
	case "KeepAlive":
		return struct{}{}, nil
	case "GetAppObjectAccess":
		o, err := s.db.AppObjectIn(ctx, domain, req.Name)
		if errors.Is(err, store.ErrNotFound) {
			return accessJSON{Name: req.Name, Access: []string{}}, nil // not known here yet: an empty list
		}
		if err != nil {
			return nil, err
		}
		acc := o.Access
		if acc == nil {
			acc = []string{}
		}
		return accessJSON{Name: o.Name, Access: acc}, nil
	case "SetAppObjectAccess":
		o, err := s.db.AppObjectIn(ctx, domain, req.Name)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("app object %.64q is not known here (RefreshAppObjects first): %w", req.Name, errManagerBad)
		}
		if err != nil {
			return nil, err
		}
		if domain != "" && o.Domain == "" && len(s.set.Values().Domains) > 1 {
			// One domain's plugin does not change what every domain's
			// users see; its PBX's list makes the object its own.
			return nil, fmt.Errorf("app object %.64q belongs to every domain, not to %.64q only (RefreshAppObjects first): %w",
				req.Name, domain, errManagerBad)
		}
		o.Access = req.Access
		if err := s.db.UpdateAppObject(ctx, o); err != nil {
			return nil, err
		}
		s.rightsChanged()
		s.log.Info("app object access list changed by the PBX Manager plugin", "app_object", o.Name, "domain", o.Domain,
			"access", len(req.Access))
		o, err = s.db.AppObjectIn(ctx, o.Domain, o.Name)
		if err != nil {
			return nil, err
		}
		return accessJSON{Name: o.Name, Access: o.Access}, nil
	case "RefreshAppObjects":
		if s.appObjs == nil {
			return nil, fmt.Errorf("the PBX is not connected to the service: %w", errManagerBad)
		}
		d, err := s.appObjs.Domain(domain)
		if err != nil {
			return nil, fmt.Errorf("the PBX is not connected to the service: %w", errManagerBad)
		}
		if err := s.appObjs.Refresh(ctx, d); err != nil {
			return nil, fmt.Errorf("%s: %w", err.Error(), errManagerBad)
		}
		s.rightsChanged()
		return s.pbxAppObjectsState(d), nil
	}
	return nil, fmt.Errorf("unknown message type %.64q: %w", mt, errManagerBad)
}
