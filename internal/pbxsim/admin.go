package pbxsim

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
)

// AdminAPI serves the PbxAdminApi licence messages (PbxAdminApi.htm,
// GetAppLics; CheckAppLic as innovaphone's jslicenseexample uses it) with
// licences set per user.
type AdminAPI struct {
	mu      sync.Mutex
	lic     string          // the licence name served, e.g. App(innovaphone-recorder)
	count   int             // licences installed
	users   map[string]bool // h323 → holds lic
	hold    bool            // CheckAppLic goes unanswered
	checks  int
	checked chan struct{} // signalled at every CheckAppLic
}

// NewAdminAPI serves licence lic (count installed) to nobody yet.
func NewAdminAPI(lic string, count int) *AdminAPI {
	return &AdminAPI{lic: lic, count: count, users: map[string]bool{}, checked: make(chan struct{}, 1)}
}

// SetLicence gives user (h323) the licence or takes it back.
func (a *AdminAPI) SetLicence(user string, on bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.users[user] = on
}

// Hold makes CheckAppLic go unanswered (on) as from a PBX that does not
// know it.
func (a *AdminAPI) Hold(on bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.hold = on
}

// Checks is how many CheckAppLic requests arrived.
func (a *AdminAPI) Checks() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.checks
}

// WaitChecks waits until n CheckAppLic requests have arrived in all.
func (a *AdminAPI) WaitChecks(ctx context.Context, n int) error {
	for a.Checks() < n {
		select {
		case <-a.checked:
		case <-ctx.Done():
			return fmt.Errorf("pbxsim: %d of %d licence checks: %w", a.Checks(), n, ctx.Err())
		}
	}
	return nil
}

// Serve implements Handler.
func (a *AdminAPI) Serve(send func(msg any) error, mt, src string, raw json.RawMessage) error {
	a.mu.Lock()
	switch mt {
	case "GetAppLics":
		used := 0
		for _, on := range a.users {
			if on {
				used++
			}
		}
		lic := []map[string]string{{"name": a.lic, "version": "1", "count": strconv.Itoa(a.count),
			"used": strconv.Itoa(used), "local": strconv.Itoa(a.count), "slaves": "0", "key": ""}}
		a.mu.Unlock()
		return send(map[string]any{"api": "PbxAdminApi", "mt": "GetAppLicsResult", "src": src, "lic": lic})
	case "CheckAppLic":
		a.checks++
		select {
		case a.checked <- struct{}{}:
		default:
		}
		var req struct {
			H323 string `json:"h323"`
			Lic  string `json:"lic"`
		}
		if err := json.Unmarshal(raw, &req); err != nil {
			a.mu.Unlock()
			return fmt.Errorf("bad CheckAppLic: %w", err)
		}
		ok := req.Lic == a.lic && a.users[req.H323]
		hold := a.hold
		a.mu.Unlock()
		if hold {
			return nil
		}
		return send(map[string]any{"api": "PbxAdminApi", "mt": "CheckAppLicResult", "src": src, "ok": ok})
	}
	a.mu.Unlock()
	return fmt.Errorf("unknown message %q", mt)
}

// Reset implements Handler: nothing outlives a connection.
func (a *AdminAPI) Reset() {}
