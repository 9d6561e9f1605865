package pbx

import "strings"

// User is a PBX user as the appliance knows it.
type User struct {
	Name        string // h323 name: the owner key of recordings
	Number      string // e164, informational
	DisplayName string // cn, informational
}

// Directory looks up users. found is false (with a nil error) when there is no such user;
// a non-nil error means the lookup itself failed and Resolve gives up.
type Directory interface {
	UserByName(h323 string) (u User, found bool, err error)
	UserByMAC(mac string) (u User, found bool, err error)
}

// StaticDirectory is an in-memory Directory. Names match case-insensitively, MACs in any case
// with or without ':' or '-' separators.
type StaticDirectory struct {
	users []User
	byMAC map[string]int // normalised MAC → index into users
}

// NewStaticDirectory builds a directory from users and a map MAC → user name. MACs naming an
// unknown user are ignored.
func NewStaticDirectory(users []User, macs map[string]string) *StaticDirectory {
	d := &StaticDirectory{users: append([]User(nil), users...), byMAC: make(map[string]int, len(macs))}
	for mac, name := range macs {
		for i := range d.users {
			if strings.EqualFold(d.users[i].Name, name) {
				d.byMAC[normMAC(mac)] = i
				break
			}
		}
	}
	return d
}

// UserByName implements Directory.
func (d *StaticDirectory) UserByName(h323 string) (User, bool, error) {
	for _, u := range d.users {
		if h323 != "" && strings.EqualFold(u.Name, h323) {
			return u, true, nil
		}
	}
	return User{}, false, nil
}

// UserByMAC implements Directory.
func (d *StaticDirectory) UserByMAC(mac string) (User, bool, error) {
	if i, ok := d.byMAC[normMAC(mac)]; ok {
		return d.users[i], true, nil
	}
	return User{}, false, nil
}

func normMAC(mac string) string {
	return strings.ToLower(strings.NewReplacer(":", "", "-", "").Replace(mac))
}
