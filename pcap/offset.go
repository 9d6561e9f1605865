package pcap

// Offset is the input offset of the next unread byte: after Next returned a
// packet, where the record after it starts. A reader created over the
// file's first Offset bytes followed by the input from a later record
// boundary reads on from that record (see convert's resumed renders).
func (r *Reader) Offset() int64 { return r.offset }
