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
// # Packets
//
// A UDP payload starting with a SIP request line or "SIP/2.0 " is SIP; the
// a=rtpmap lines of m=audio sections in its SDP body map dynamic payload
// types 96-127 for the rest of the capture (the first mapping of a type
// wins, a conflicting one is a warning; static types keep their RFC 3551
// meaning). Payloads whose second byte is 192-223 are RTCP. Anything else
// must parse as an RTP version 2 header (github.com/pion/rtp) with valid
// padding, or it is counted as non-RTP and ignored. Packets of a dynamic
// type that has no mapping yet when they are released are counted and
// skipped; a stream with only such packets is reported as unsupported.
//
// # Directions
//
// A stream whose source or destination UDP port is 16386 is local, 16388
// remote (innovaphone convention; the source port is checked first; if a
// stream and its reverse address pair end up on the same side, the later
// one moves to the other side). Streams without those ports are assigned in
// order of first appearance: the same (src, dst) as an assigned stream joins
// its side; the reverse pair goes to the other side; a shared source or
// destination address:port joins that side; otherwise the stream takes a
// side that has no stream yet (local first), and when both have one it
// joins the side whose streams overlap it less in capture time (local on a
// tie).
//
// # Placement
//
// Sequence numbers and timestamps are extended to 64 bits (wrap-around).
// Duplicates are dropped. Out-of-order packets are held for up to
// ReorderWindow of capture time or ReorderPackets packets; a packet arriving
// after its place was given up is counted late and dropped. A sequence jump
// of more than 3000 forward or 1024 backward restarts the numbering once the
// next packet confirms it (RFC 3550 A.1 probation; the lone packet is
// dropped as late).
//
// The first packet of a stream is anchored at its capture time, or, after an
// SSRC change, at the end of the stream it continues: when a stream sharing
// its source or its destination address:port has audio ending at E, and the
// new stream's first audio packet arrives no earlier than E − tol and no
// later than E + (the old stream's last packet time) + tol, with tol = 10 ms
// + twice the old stream's RFC 3550 interarrival jitter (that part at most
// 60 ms), the new audio starts exactly at E (no overlap, no gap; of several
// candidates the end nearest to the arrival wins). A later arrival is a real
// pause and is placed by its capture time. Later packets are placed by
// their RTP timestamp (scaled by the codec's clock rate), which
// keeps both channels in sync with each other and with the capture clock. A
// timestamp that does not advance continues the stream seamlessly after the
// previous packet. A position more than ResyncAhead (default 2 s) ahead of,
// or more than ResyncBehind (default 10 s) behind the packet's capture time
// re-anchors the stream at the capture time (a counted "resync", with a
// warning): absurd timestamp jumps cannot stretch the timeline or shift one
// channel against the other, while packets delayed by a network stall are
// still placed by their timestamps.
//
// Work is bounded by the input, not by the time a capture claims. A gap of
// more than MaxIdle (default 60 s) between two consecutive packets of one
// stream (after the placement above, so whether the RTP timestamps, the
// capture times or both jump) is a discontinuity: the packet after it is
// placed at its capture time, a new segment of the stream starts, and the
// gap is neither filled nor counted as GapMS. The stretches of capture time
// covered by the segments of the rendered streams (each from its first
// placed sample to the end of its last audio, the gaps of up to MaxIdle
// inside included) are merged; where no rendered stream has audio for more
// than MaxIdle, the timeline keeps only MaxIdle of that idle stretch (with a
// warning), so a stream's timeline never extends more than MaxIdle beyond
// what its packets can explain. Reason: a few packets whose timestamps and
// capture times jump by twelve hours used to render twelve hours of
// concealment (2.76 GB of WAV at 16 kHz, 46 s of CPU for a 664-byte upload);
// now they render one minute of silence. The threshold is generous enough
// that real pauses (DTX on both sides, a short inactive hold) stay as they
// were, and low enough that a tiny capture cannot claim more than MaxIdle per
// packet. The timeline spans the merged stretches, capped at MaxDuration
// (default 12 h).
//
// Gaps between consecutive packets are filled with the decoder's Conceal
// frames (loss when sequence numbers are missing, DTX otherwise; G.711's
// concealment is silence, codecs with built-in comfort noise produce it),
// but for at most 2 s per gap: the rest of a longer gap is silence that costs
// no decoding (the stream's run breaks and restarts at the next packet).
// For G.711 and G.722 (whose concealment fades to zero within two frames)
// the samples are the same as with concealment through the whole gap, except
// that a stream interpolated to a higher output rate loses the filter's
// ramp-in of a few samples before the packet after the gap; a G.729
// decoder's concealment or built-in comfort noise stops after 2 s of a gap
// instead of running on through it.
// After an RFC 3389 comfort-noise packet (payload type 13 or a "CN" rtpmap)
// the gap up to the next audio is filled with white noise at the signalled
// level from a per-stream deterministic generator. Telephone events (RFC
// 4733) are counted and skipped. Silences are filled before their part of
// the timeline is written out, so DTX periods of up to MaxIdle get their
// comfort noise (generated, not decoded: its cost is that of the samples).
//
// Overlap: on each channel the first write to an output sample wins. Gap
// fills are written only when the packet ending the gap arrives (or when
// the region is written out), so real audio of a concurrent stream on the
// same channel normally wins over fill.
//
// # Output
//
// The output rate is the highest decoder rate of the rendered streams
// (16 kHz when G.722 is present, else 8 kHz); streams at a lower rate are
// interpolated by the integer factor with a 32-taps-per-phase Kaiser-windowed
// sinc polyphase filter (see resample.go for its measured quality). A stream
// whose rate does not divide the output rate is not rendered (warning).
//
// # Random access
//
// RenderCheckpoints is Render that also records, every so many samples of
// output, the whole render state at a packet boundary (checkpoint.go):
// every stream's reorder buffer (with held payloads), placer, payload
// types and decoder states (codec.Snapshotter), its run, resampler
// history, comfort-noise generator and concealment count, the SDP
// payload-type table and the timeline's written-out position. A checkpoint
// is taken only where nothing at or above its Sample has been written yet,
// and it waits (up to ReorderWindow + 1 s) for a moment when no packet is
// held. RenderFrom restores one into a fresh renderer, reads the capture
// on from the checkpoint's packet and writes samples [from, Samples) —
// bit for bit what a render from the start writes there: the samples
// below Sample that the restored ring lacks are never sent, and every
// later write, fill and emission happens in the same order from the same
// state. It sends each block of 2048 samples as soon as the packet that
// last wrote into it (noted in Checkpoints.Touch during the recording
// render) has been fed, rather than when the ring moves past the block.
// States are versioned, DEFLATE-compressed and range-checked on restore
// (a refused one is ErrCheckpoint: render from the start).
//
// Render keeps a ring of ResyncAhead+ResyncBehind+ReorderWindow+2 s of
// output per channel (about 0.7 MB at 8 kHz, 1.4 MB at 16 kHz with the
// defaults) plus at most ReorderPackets held payloads per stream: memory does
// not depend on the call length.
package media
