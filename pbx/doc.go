// Package pbx holds the pure innovaphone logic of the recording appliance: parsing recording
// file names, PBX XML CDRs and gateway CDRs, resolving who owns a recording and what the call
// looked like (direction, peer, times), and the AppLogin digest of the innovaphone
// AppWebsocket protocol. It does no I/O: the HTTP and database layers call into it.
//
// Wire formats, for the HTTP layer:
//
//   - Recordings are uploaded under names `<confid>-<mac>-<serial>[-[-]<reg-name>].pcap`;
//     ParseFileName validates them (errors wrap ErrInvalidFileName: answer 400 with the text).
//   - PBX CDRs (CDR0/CDR1 interface of the PBX) arrive as the form value `msg` of a GET query
//     or a urlencoded POST, or as a raw XML body; pass the XML text to ParseCDRs. One request
//     may hold several <cdr> elements. Store CDR.Raw and index each record under every id of
//     CDR.ConfIDs(): after a transfer a record names more than one conference.
//   - Gateway CDRs arrive one record per request as the query of a GET
//     (`GET /path?event=B:Connect&time=879&date=…&ref=<confid>&…`); pass the raw query
//     (r.URL.RawQuery, not the decoded form) to ParseGatewayCDR and index by GatewayCDR.Ref.
//     In the captured sample traffic the server answers each request with 200 and an empty body.
//   - Resolve(recording, cdrs, gatewayCDRs, directory) gives owner and call facts; pass the
//     records indexed under the recording's conference id.
package pbx
