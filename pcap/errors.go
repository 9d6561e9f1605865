package pcap

import "errors"

// Sentinel errors. Errors returned by this package wrap one of them with
// context, so test with errors.Is.
var (
	// ErrNotCapture means the input does not start like a pcap or pcapng file
	// (this includes empty input).
	ErrNotCapture = errors.New("pcap: not a pcap or pcapng capture")
	// ErrTruncated means the input ended inside a header or record. All
	// complete records before it were returned normally.
	ErrTruncated = errors.New("pcap: capture truncated")
	// ErrMalformed means the capture file's structure is invalid (bad block
	// length, unknown interface, unsupported version, ...).
	ErrMalformed = errors.New("pcap: malformed capture")
	// ErrTooLarge means a record's captured length exceeds MaxCaptureLen.
	ErrTooLarge = errors.New("pcap: record too large")
	// ErrUnsupportedLink means DecodeUDP does not know the link type.
	ErrUnsupportedLink = errors.New("pcap: unsupported link type")
	// ErrNotUDP means the packet is valid but does not carry a complete UDP
	// datagram: TCP, ICMP, ARP, other ethertypes, IP fragments.
	ErrNotUDP = errors.New("pcap: not a UDP packet")
	// ErrMalformedPacket means a link, IP or UDP header is invalid or cut
	// short (for example by the capture's snap length).
	ErrMalformedPacket = errors.New("pcap: malformed packet")
)
