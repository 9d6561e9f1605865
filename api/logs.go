package api

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"recordings/store"
)

// Logs: the websocket message GetLogs (users see their own entries, admins
// all).

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
	} else {
		// An administrator of a domain sees the entries of that domain's
		// accounts and recordings, not the service's own (which may be
		// about any domain).
		f.Domain = s.managedDomain(u)
	}
	if req.Level != "" && !containsFold(wsLevels, req.Level) {
		return nil, badRequest("level: one of %s", strings.Join(wsLevels, ", "))
	}
	if len(req.Category) > 64 || len(req.User) > 64 {
		return nil, badRequest("category and user: at most 64 bytes")
	}
	if req.Limit == 0 {
		f.Limit = 100
	} else if req.Limit < 1 || req.Limit > 1000 {
		return nil, badRequest("limit: a number from 1 to 1000")
	}
	if req.Before < 0 {
		return nil, badRequest("before: a log entry id, or 0 for the newest")
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
