// Package pcap reads and writes packet captures and decodes the UDP
// datagrams inside them.
//
// Reader streams classic pcap files (microsecond and nanosecond variants, both
// byte orders) and pcapng files (any number of sections and interfaces, EPB,
// SPB and the obsolete OPB packet blocks) with constant memory: one reusable
// record buffer bounded by MaxCaptureLen.
//
// DecodeUDP walks link layer → IPv4/IPv6 → UDP without allocating. Supported
// link types are Ethernet (with any number of 802.1Q/802.1ad tags), Linux
// cooked capture v1 and v2, raw IP and BSD loopback. IP fragments are not
// reassembled: every fragment of a fragmented datagram (including the first)
// is reported as ErrNotUDP, because its UDP payload is incomplete.
//
// Writer and NGWriter produce classic pcap and pcapng files; the tests of the
// whole project use them (together with package pcaptest) to build inputs.
package pcap
