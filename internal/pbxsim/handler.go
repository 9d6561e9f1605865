// Package pbxsim is a simulated innovaphone PBX for tests, written from
// innovaphone's public SDK documents: it connects to the service as the
// App object, logs in, announces itself with PbxInfo, serves PBX APIs
// (PbxTableUsers, PbxAdminApi) on that connection, can drop and restore
// it, and can post CDRs.
package pbxsim

import "encoding/json"

// Handler serves one PBX API on the simulated PBX's side of the
// App-object connection.
type Handler interface {
	// Serve answers one message of its api. send writes messages on the
	// connection; a handler may keep it for later indications (e.g.
	// ReplicateUpdate) until Reset.
	Serve(send func(msg any) error, mt, src string, raw json.RawMessage) error
	// Reset forgets the connection: it dropped.
	Reset()
}
