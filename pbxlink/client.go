// Package pbxlink holds the service's end of the PBX's App-object
// connection: the AppWebsocket session the innovaphone PBX opens to the
// service as its App object, and the PBX API clients that run on it
// (PbxTableUsers replication, PbxAdminApi licences and App objects).
package pbxlink

import (
	"context"
	"encoding/json"
)

// Msg is one AppWebsocket message received on the App-object connection:
// its envelope decoded, the whole message kept as received.
type Msg struct {
	MT  string
	API string
	Src string
	Raw json.RawMessage
}

// Sender writes one message (a JSON-encodable value carrying mt, api and
// src) on the App-object connection.
type Sender interface {
	Send(ctx context.Context, msg any) error
}

// PbxInfo is what the PBX announces right after its login.
type PbxInfo struct {
	Domain string   `json:"domain"` // the PBX's system name
	PBX    string   `json:"pbx"`    // its PBX name
	PbxDNS string   `json:"pbxDns"`
	APIs   []string `json:"apis"` // the PBX APIs enabled at the App object
}

// Client is a PBX API client running on the App-object connection.
type Client interface {
	// API is the api id it serves, e.g. "PbxTableUsers".
	API() string
	// Connected is called once PbxInfo announced the API; s stays valid and
	// ctx stays alive until the connection ends.
	Connected(ctx context.Context, s Sender, info PbxInfo)
	// Handle gets every message on the connection whose api is API(), in
	// order, from the connection's read loop (it must not block for long).
	Handle(ctx context.Context, m Msg)
	// Disconnected is called when the connection ends.
	Disconnected()
}
