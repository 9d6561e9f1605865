package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"recordings/codec/snap"
)

// The stored form of a checkpoint set (what MarshalBinary writes and
// ParseCheckpoints reads):
//
//	"RCP" | version (1 byte, 1 or 2) | body | CRC-32 (IEEE) of everything before it, big-endian
//
// where body is, in snap encoding: Samples, SampleRate, Packets, Header,
// the number of checkpoints and each one's Sample, Offset, Packet, TimeNS
// and State (length-prefixed), then the number of Touch entries and each
// entry; in version 2 then the render plan (length-prefixed, not empty,
// with its own version and checksum: plan.go). A set without a plan is
// written as version 1, as sets were before plans were stored. The
// checksum tells storage damage from a state that merely fails to resume,
// so a damaged set is refused whole before anything renders.

const (
	checkpointsMagic   = "RCP"
	checkpointsVersion = 1
	// checkpointsPlanVersion is the version of a set with its plan.
	checkpointsPlanVersion = 2
	// Limits of a stored set: a day of audio at 48 kHz with a checkpoint
	// every second stays below them.
	maxStoredCheckpoints = 1 << 17
	maxStoredTouch       = 1 << 22
	// MaxStoredCheckpoints bounds the size of a stored checkpoint set.
	MaxStoredCheckpoints = 256 << 20
)

// ErrCheckpointsDamaged means stored checkpoints do not parse: truncated,
// of another version, failing their checksum or with values out of range.
var ErrCheckpointsDamaged = errors.New("media: stored checkpoints damaged")

// MarshalBinary encodes c for storage (nil encodes to nil).
func (c *Checkpoints) MarshalBinary() ([]byte, error) {
	if c == nil {
		return nil, nil
	}
	if len(c.List) > maxStoredCheckpoints || len(c.Touch) > maxStoredTouch || len(c.Plan) > MaxStoredPlan {
		return nil, fmt.Errorf("media: %d checkpoints, %d touch entries, a plan of %d bytes: too many to store",
			len(c.List), len(c.Touch), len(c.Plan))
	}
	w := snap.Writer{B: make([]byte, 0, c.Size()+64)}
	w.B = append(w.B, checkpointsMagic...)
	if len(c.Plan) > 0 {
		w.Byte(checkpointsPlanVersion)
	} else {
		w.Byte(checkpointsVersion)
	}
	w.Int(c.Samples)
	w.Int(int64(c.SampleRate))
	w.Int(c.Packets)
	w.Int(c.Header)
	w.Uint(uint64(len(c.List)))
	for _, cp := range c.List {
		w.Int(cp.Sample)
		w.Int(cp.Offset)
		w.Int(cp.Packet)
		w.Int(cp.TimeNS)
		w.Bytes(cp.State)
	}
	w.Uint(uint64(len(c.Touch)))
	for _, t := range c.Touch {
		w.Uint(uint64(t))
	}
	if len(c.Plan) > 0 {
		w.Bytes(c.Plan)
	}
	if len(w.B) > MaxStoredCheckpoints-4 {
		return nil, fmt.Errorf("media: checkpoints of %d bytes: over %d", len(w.B), MaxStoredCheckpoints)
	}
	return binary.BigEndian.AppendUint32(w.B, crc32.ChecksumIEEE(w.B)), nil
}

// ParseCheckpoints decodes what MarshalBinary wrote. It fails with
// ErrCheckpointsDamaged on anything else; the result's states alias b.
// Whether the set fits an analysis is for Matches to tell, and whether a
// state resumes is checked when it is used (RenderFrom).
func ParseCheckpoints(b []byte) (*Checkpoints, error) {
	if len(b) > MaxStoredCheckpoints {
		return nil, fmt.Errorf("%w: %d bytes", ErrCheckpointsDamaged, len(b))
	}
	if len(b) < len(checkpointsMagic)+1+4 || string(b[:len(checkpointsMagic)]) != checkpointsMagic {
		return nil, fmt.Errorf("%w: not a checkpoint set", ErrCheckpointsDamaged)
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCheckpointsDamaged)
	}
	v := body[len(checkpointsMagic)]
	if v != checkpointsVersion && v != checkpointsPlanVersion {
		return nil, fmt.Errorf("%w: version %d", ErrCheckpointsDamaged, v)
	}
	r := snap.NewReader(body[len(checkpointsMagic)+1:])
	c := &Checkpoints{
		Samples:    r.Range(0, 1<<50, "samples"),
		SampleRate: int(r.Range(1, 1<<20, "sample rate")),
		Packets:    r.Range(0, 1<<50, "packets"),
		Header:     r.Range(0, 1<<40, "header"),
	}
	n := r.Len(maxStoredCheckpoints, "checkpoints")
	// Every checkpoint takes at least 5 bytes: no allocation beyond what
	// the input can hold.
	if n > r.Left()/5 {
		r.Fail("%d checkpoints in %d bytes", n, r.Left())
		n = 0
	}
	c.List = make([]Checkpoint, 0, n)
	prev := int64(-1)
	for range n {
		cp := Checkpoint{
			Sample: r.Range(0, c.Samples, "checkpoint sample"),
			Offset: r.Range(0, 1<<50, "checkpoint offset"),
			Packet: r.Range(0, c.Packets, "checkpoint packet"),
			TimeNS: r.Int(),
			State:  r.Bytes(maxRawState),
		}
		if r.Err() != nil {
			break
		}
		if cp.Sample < prev {
			r.Fail("checkpoint at sample %d after %d", cp.Sample, prev)
			break
		}
		prev = cp.Sample
		c.List = append(c.List, cp)
	}
	nt := r.Len(maxStoredTouch, "touch entries")
	if nt > r.Left() {
		r.Fail("%d touch entries in %d bytes", nt, r.Left())
		nt = 0
	}
	if nt > 0 {
		c.Touch = make([]uint32, nt)
		for i := range c.Touch {
			c.Touch[i] = uint32(r.UintMax(1<<32-1, "touch"))
		}
	}
	if v == checkpointsPlanVersion {
		// Parsed when it is used (ParsePlan), against the options of the
		// analysis it stands for.
		if c.Plan = r.Bytes(MaxStoredPlan); len(c.Plan) == 0 {
			r.Fail("set of version %d without a plan", v)
		}
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCheckpointsDamaged, err)
	}
	return c, nil
}
