package calls

import (
	"context"
	"errors"

	"recordings/pbx"
	"recordings/store"
)

// directory is the pbx.Directory of the appliance's accounts: names
// (h323), numbers (e164), display names and device MACs as stored, local
// accounts and users replicated from the PBX alike (one account per
// name; a name the PBX renamed finds the user under its new name); a user
// deleted on the PBX is no longer found (its recordings keep it as owner,
// but it owns nothing new).
type directory struct {
	ctx context.Context
	db  *store.DB
}

var _ pbx.Directory = directory{}

func pbxUser(u store.User) pbx.User {
	return pbx.User{Name: u.Name, Number: u.E164, DisplayName: u.DisplayName}
}

func (d directory) UserByName(h323 string) (pbx.User, bool, error) {
	if h323 == "" {
		return pbx.User{}, false, nil
	}
	u, err := d.db.DirectoryUser(d.ctx, h323)
	if errors.Is(err, store.ErrNotFound) {
		return pbx.User{}, false, nil
	}
	if err != nil {
		return pbx.User{}, false, err
	}
	return pbxUser(u), true, nil
}

func (d directory) UserByMAC(mac string) (pbx.User, bool, error) {
	if _, err := pbx.NormalizeMAC(mac); err != nil {
		return pbx.User{}, false, nil // not a MAC: nobody's device
	}
	u, err := d.db.UserByMAC(d.ctx, mac)
	if errors.Is(err, store.ErrNotFound) {
		return pbx.User{}, false, nil
	}
	if err != nil {
		return pbx.User{}, false, err
	}
	return pbxUser(u), true, nil
}
