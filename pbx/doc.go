// Package pbx holds the pure innovaphone logic of the recording appliance: parsing recording
// file names, PBX XML CDRs and gateway CDRs, resolving who owns a recording and what the call
// looked like (direction, peer, times), and the AppLogin digest of the innovaphone
// AppWebsocket protocol. It does no I/O: the HTTP and database layers call into it.
package pbx
