package media

// Innovaphone devices send the local side's RTP with UDP port 16386 and the
// remote side's with 16388.
const (
	portLocal  = 16386
	portRemote = 16388
)

// assignDirections returns the channel (0 local, 1 remote, -1 none) of every
// stream in first-seen order; see the package documentation for the rules.
func assignDirections(list []*stream) []int {
	ch := make([]int, len(list))
	for i, s := range list {
		ch[i] = -1
		if s.audio == 0 && s.unsupported == 0 {
			continue
		}
		switch {
		case s.key.src.Port() == portLocal:
			ch[i] = 0
		case s.key.src.Port() == portRemote:
			ch[i] = 1
		case s.key.dst.Port() == portLocal:
			ch[i] = 0
		case s.key.dst.Port() == portRemote:
			ch[i] = 1
		}
	}
	// Ports can only mark one side of an address pair: when a stream and its
	// reverse (B->A for A->B) landed on the same side, the later one goes to
	// the other side (e.g. two devices that both send from 16386).
	for i, s := range list {
		for j := range i {
			o := list[j]
			if ch[i] >= 0 && ch[i] == ch[j] && o.key.src == s.key.dst && o.key.dst == s.key.src {
				ch[i] = 1 - ch[j]
			}
		}
	}
	for i, s := range list {
		if ch[i] >= 0 || (s.audio == 0 && s.unsupported == 0) {
			continue
		}
		ch[i] = fallbackDirection(list, ch, i)
	}
	return ch
}

func fallbackDirection(list []*stream, ch []int, i int) int {
	s := list[i]
	for j, o := range list { // same address pair
		if ch[j] >= 0 && o.key.src == s.key.src && o.key.dst == s.key.dst {
			return ch[j]
		}
	}
	for j, o := range list { // reverse address pair: the other side
		if ch[j] >= 0 && o.key.src == s.key.dst && o.key.dst == s.key.src {
			return 1 - ch[j]
		}
	}
	for j, o := range list { // shared sender or receiver
		if ch[j] >= 0 && (o.key.src == s.key.src || o.key.dst == s.key.dst) {
			return ch[j]
		}
	}
	var used [2]bool
	var overlap [2]int64
	for j, o := range list {
		if ch[j] < 0 {
			continue
		}
		used[ch[j]] = true
		if lo, hi := max(o.firstNS, s.firstNS), min(o.lastNS, s.lastNS); hi > lo {
			overlap[ch[j]] += hi - lo
		}
	}
	switch {
	case !used[0]:
		return 0
	case !used[1]:
		return 1
	case overlap[1] < overlap[0]:
		return 1
	}
	return 0
}
