package settings

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"sync"

	"recordings/internal/invalid"
)

// memStore is the Store of the tests: a map, with a licence check like the
// database's (assigned stands for the licences assigned) and an error to
// fail writes with.
type memStore struct {
	mu       sync.Mutex
	m        map[string]string
	assigned int
	fail     error
}

func (s *memStore) Settings(context.Context) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.m), nil
}

func (s *memStore) SetSettings(_ context.Context, changes map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	if v, ok := changes[KeyLicenceCount]; ok && v != "" {
		if n, err := strconv.Atoi(v); err != nil || n < s.assigned {
			return invalid.New(KeyLicenceCount, "%d licences are assigned, more than %s", s.assigned, v)
		}
	}
	for k, v := range changes {
		if v == "" {
			delete(s.m, k)
		} else {
			s.m[k] = v
		}
	}
	return nil
}

func (s *memStore) get(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key]
}

// put writes a value the way another writer would: past the service.
func (s *memStore) put(key, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = value
}

var errDiskFull = errors.New("disk full")
