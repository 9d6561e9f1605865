package api

import (
	"context"
	"net/http"
	"strings"

	"recordings/internal/invalid"
	"recordings/store"
)

// The domain of a local account (docs/pbx.md, Domains): an administrator of
// no domain gives an account one of the domains the instance serves, or
// none (every domain); an administrator of a domain creates accounts only
// in that domain and changes no account's domain. A user replicated from a
// PBX belongs to that PBX's domain.

// managedDomain is the domain whose accounts admin manages: with several
// domains configured, an administrator's own domain (they list, change,
// disable, delete and reassign the recordings of that domain's accounts
// only); else "" (every account: with one domain or none an administrator
// of any domain is the instance's, as for settings).
func (s *Server) managedDomain(admin store.User) string {
	return adminDomain(s.set.Values(), admin)
}

// manages refuses an account admin does not manage: another domain's is
// not found (as its recordings are), one of every domain is the instance
// administrators' (403).
func (s *Server) manages(admin, u store.User) error {
	d := s.managedDomain(admin)
	switch {
	case d == "" || strings.EqualFold(u.Domain, d):
		return nil
	case u.Domain == "":
		return refuse(http.StatusForbidden, "%s belongs to every domain: only an administrator of every domain manages it", u.Name)
	default:
		return notFoundAs(store.ErrNotFound, "no such user")
	}
}

// managedAccount loads the account an admin's request names, if admin
// manages it.
func (s *Server) managedAccount(ctx context.Context, admin store.User, name string) (store.User, error) {
	u, err := s.account(ctx, name)
	if err != nil {
		return u, err
	}
	return u, s.manages(admin, u)
}

// givableDomains are the domains admin may give an account: its own for an
// administrator of a domain, else the configured ones (none while the
// instance serves every domain).
func (s *Server) givableDomains(admin store.User) []string {
	if admin.Domain != "" {
		return []string{admin.Domain}
	}
	if ds := s.set.Values().Domains; len(ds) > 0 {
		return ds
	}
	return []string{}
}

// newAccountDomain checks the domain admin asks for a new account (nil: not
// given) and returns it as configured.
func (s *Server) newAccountDomain(admin store.User, want *string) (string, error) {
	if admin.Domain != "" {
		if want != nil && !strings.EqualFold(strings.TrimSpace(*want), admin.Domain) {
			return "", refuse(http.StatusForbidden,
				"you administer domain %q: the accounts you create belong to it", admin.Domain)
		}
		d, ok := s.set.Values().ServedDomain(admin.Domain)
		if !ok {
			return "", refuse(http.StatusConflict, "your domain %q is no longer one this instance serves: "+
				"an administrator of no domain creates accounts now", admin.Domain)
		}
		return d, nil
	}
	if want == nil {
		return "", nil
	}
	return s.servedAccountDomain(*want)
}

// servedAccountDomain checks a domain an administrator of no domain gives
// an account: "" (every domain) or one the instance serves, returned in its
// configured spelling.
func (s *Server) servedAccountDomain(want string) (string, error) {
	want = strings.TrimSpace(want)
	if want == "" {
		return "", nil
	}
	v := s.set.Values()
	if len(v.Domains) == 0 {
		return "", invalid.New("domain", "this instance serves every domain: configure the domains it serves "+
			"(Settings, PBX integration) before giving an account one")
	}
	d, ok := v.ServedDomain(want)
	if !ok {
		return "", invalid.New("domain", "%.64q is not a domain this instance serves (%s)", want, strings.Join(v.Domains, ", "))
	}
	return d, nil
}

// changedAccountDomain checks a change of account u's domain to want by
// admin and returns the new domain and whether it differs. Nothing is
// written here: the caller checks every field before storing any.
func (s *Server) changedAccountDomain(admin, u store.User, want *string) (string, bool, error) {
	if want == nil {
		return u.Domain, false, nil
	}
	if strings.EqualFold(strings.TrimSpace(*want), u.Domain) {
		return u.Domain, false, nil
	}
	switch {
	case admin.Domain != "":
		return "", false, refuse(http.StatusForbidden,
			"you administer domain %q: only an administrator of no domain changes an account's domain", admin.Domain)
	case u.ID == admin.ID:
		// An administrator of no domain must not lock themselves into
		// one: the instance keeps one administrator who sees every domain.
		return "", false, refuse(http.StatusConflict, "you cannot change the domain of your own account")
	case u.PBXGUID != "" && !u.PBXDeleted:
		return "", false, invalid.New("domain", "the PBX manages this user: it belongs to the domain of its PBX")
	}
	d, err := s.servedAccountDomain(*want)
	if err != nil {
		return "", false, err
	}
	return d, d != u.Domain, nil
}
