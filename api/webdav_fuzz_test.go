package api

import (
	"strings"
	"testing"
)

// FuzzPropfindBody: any PROPFIND body is either accepted or refused with
// an error, never a panic, and a refused one is never the empty body.
func FuzzPropfindBody(f *testing.F) {
	for _, s := range []string{
		"",
		`<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`,
		`<?xml version="1.0" encoding="utf-8"?><propfind xmlns="DAV:"><prop><getcontentlength/><getetag/></prop></propfind>`,
		`<propfind xmlns="DAV:"><propname/></propfind><trailing`,
		`<x/>`,
		"<",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		err := davPropfindBody(strings.NewReader(body))
		if err != nil && strings.TrimSpace(body) == "" {
			t.Fatalf("empty body refused: %v", err)
		}
	})
}
