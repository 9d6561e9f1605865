package api

import (
	"context"
	"strings"

	"recordings/store"
)

// canView is the access rule of recordings, the one every path that shows,
// serves, changes or pushes a recording goes through: admins see all; users
// their own and those of the owners their app object's access list opens
// (u.Sees, filled at sign-in by the store). Names are compared in their
// normalised form (store.NameKey), as the store's list filter does.
func canView(u store.User, domain, owner string) bool {
	if !store.InDomain(u.Domain, domain) {
		return false // another domain's (docs/pbx.md, Domains)
	}
	if u.Role == store.RoleAdmin {
		return true
	}
	if u.Name == "" || owner == "" {
		return false
	}
	k := store.NameKey(owner)
	if k == store.NameKey(u.Name) {
		return true
	}
	for _, o := range u.Sees {
		if store.NameKey(o) == k {
			// The access list of a domain's app object opens that
			// domain's recordings only (docs/pbx.md, Domains).
			return store.InDomain(u.ViaDomain, domain)
		}
	}
	return false
}

// visibleFilter is canView as the filter of list queries: the account's
// domain, and, for users, their own recordings and those of the owners
// their access list opens in its app object's domain.
func visibleFilter(u store.User) store.ListFilter {
	f := store.ListFilter{Domain: u.Domain}
	if u.Role == store.RoleAdmin {
		return f
	}
	if u.Name == "" {
		f.Owners = []string{}
		return f
	}
	f.Owners = []string{u.Name}
	switch {
	case len(u.Sees) == 0:
	case u.Domain == "" || u.ViaDomain == "" || strings.EqualFold(u.ViaDomain, u.Domain):
		// The account's domain covers the list's (or the list is of
		// every domain): the owners join the user's own.
		f.OwnersIn = u.Sees
		if u.Domain == "" {
			f.OwnersDomain = u.ViaDomain
		}
	default:
		// A list of another domain than the account's opens nothing.
	}
	return f
}

// recordingFor loads recording id for u: errNoSuchRecording when it does
// not exist or u may not see it.
func (s *Server) recordingFor(ctx context.Context, u store.User, id int64) (store.Recording, error) {
	if id <= 0 {
		return store.Recording{}, badRequest("id must be a positive number")
	}
	rec, err := s.db.Recording(ctx, id)
	if err != nil {
		if isNotFound(err) {
			return store.Recording{}, errNoSuchRecording
		}
		return store.Recording{}, err
	}
	if !canView(u, rec.Domain, rec.Owner) {
		return store.Recording{}, errNoSuchRecording
	}
	return rec, nil
}
