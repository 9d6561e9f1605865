package store

import (
	"sync"
	"time"
)

// Trigram counts steer the search plan only (see ftsCandidates): which
// trigrams to AND in the index, or whether to scan the newest rows. A stale
// count can make a search slower, never wrong, because every candidate is
// re-checked against the whole query. Counting a common trigram reads up to
// the count cap of postings (about 2 ms for "+49", found in every phone
// number), and people searching as they type ask for the same trigrams
// again and again, so the counts are kept for a while.
const (
	trigramStatsTTL = 2 * time.Minute
	trigramStatsMax = 4096 // entries; the cache is emptied when full
)

type trigramCount struct {
	n  int
	at time.Time
}

// trigramStats is a small time-bounded cache of capped trigram counts.
type trigramStats struct {
	mu sync.Mutex
	m  map[string]trigramCount
}

// get returns the cached count of t if it is younger than the TTL at now.
func (s *trigramStats) get(t string, now time.Time) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.m[t]
	if !ok || now.Sub(c.at) >= trigramStatsTTL || now.Before(c.at) {
		return 0, false
	}
	return c.n, true
}

// put records the count n of t at now.
func (s *trigramStats) put(t string, n int, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil || len(s.m) >= trigramStatsMax {
		s.m = make(map[string]trigramCount)
	}
	s.m[t] = trigramCount{n, now}
}

// reset forgets every count.
func (s *trigramStats) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m = nil
}
