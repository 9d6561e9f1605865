// Package ui holds the embedded web front end: plain files, no build step.
package ui

import (
	"embed"
	"io/fs"
)

//go:embed static
var files embed.FS

// Files returns the static files, rooted at the folder that holds index.html.
func Files() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		// fs.Sub fails only for an invalid path; "static" is a constant.
		panic(err)
	}
	return sub
}
