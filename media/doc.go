// Package media turns the UDP packets of one call capture into a stereo
// 16-bit PCM timeline: left channel = local side, right channel = remote side.
//
// The work is split in two passes over the capture so that calls of any
// length convert in constant memory:
//
//   - Analyze (pass 1) reads SIP/SDP and RTP headers, groups RTP packets into
//     streams by (source, destination, SSRC), maps payload types, assigns
//     directions, computes statistics and the exact length of the timeline.
//     It keeps no payloads.
//   - Analysis.Render (pass 2) reads the same packets again, decodes them and
//     writes exactly Analysis.Samples interleaved stereo frames to a PCMSink.
//
// Both passes drive the same per-stream state machine (sequence extension,
// reorder buffer, timestamp placement), so every decision made while
// rendering was already made — and counted — during analysis.
//
// # Timeline rules
//
// Streams: packets are grouped by (src, dst, SSRC). Direction: a stream
// whose source or destination UDP port is 16386 is local, 16388 remote
// (innovaphone convention; the source port is checked first). Streams
// without those ports are assigned in order of first appearance: a stream
// with the same (src, dst) as an assigned one joins its side; the reverse
// pair goes to the other side; a shared source or destination address:port
// joins that side; otherwise the first such stream is local, the next
// remote, and any further one joins the side that has less audio
// overlapping it in capture time (local on a tie).
//
// Placement: the first packet of a stream (a "segment") is anchored at its
// capture time; later packets are placed by their extended RTP timestamp.
// A timestamp that does not advance (goes backwards) continues the stream
// seamlessly after the previous packet. A position more than ResyncAhead
// ahead of, or more than ResyncBehind behind, the packet's capture time is
// treated as a clock jump: the segment is re-anchored at the capture time
// (counted as a resync) instead of filling the jump with silence. Packets
// arriving late because of a network stall are thus still placed by their
// timestamps, while absurd jumps cannot stretch the timeline or shift one
// channel against the other.
//
// Gaps between consecutive packets are filled with the decoder's Conceal
// frames (loss when sequence numbers are missing, DTX otherwise); after an
// RFC 3389 comfort-noise packet the gap is filled with deterministic noise
// at the signalled level. Telephone events (RFC 4733) are counted and
// skipped.
//
// Overlap: on each channel the first write to an output sample wins. Since
// gap fills are written only when the packet ending the gap arrives, real
// audio of a concurrent stream on the same channel normally wins over fill.
//
// Resampling: the output rate is the highest decoder rate of the rendered
// streams; lower-rate streams are interpolated by an integer factor with a
// 32-taps-per-phase Kaiser-windowed sinc polyphase filter (see resample.go).
package media
