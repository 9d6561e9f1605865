package api

import (
	"context"

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
			return true
		}
	}
	return false
}

// visibleOwners is canView as an owner filter for list queries: nil for
// all.
func visibleOwners(u store.User) []string {
	if u.Role == store.RoleAdmin {
		return nil
	}
	if u.Name == "" {
		return []string{}
	}
	return append([]string{u.Name}, u.Sees...)
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
