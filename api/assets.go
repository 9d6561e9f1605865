package api

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"
)

// The embedded UI is served from memory, read once at start: every file
// with an ETag of its content hash, and, for text that compresses, a gzip
// form made once (level 9) for browsers that accept it.
//
// Caching: the pages (sign-in and app) and any file asked for by its plain
// URL are "no-cache" (the browser asks again and gets 304 Not Modified
// while the ETag matches); a file asked for with ?v=<its hash> — the pages
// refer to their style sheets and entry scripts that way — is "immutable"
// for a year, because that URL's content never changes.

// uiAsset is one file of the UI.
type uiAsset struct {
	body, gz []byte
	hash     string // hex, first 16 digits of the SHA-256 of body
	ctype    string
}

type uiAssets struct {
	files map[string]*uiAsset // by path without the leading slash
}

// compressible are the extensions worth compressing.
var compressible = map[string]bool{".html": true, ".js": true, ".css": true, ".svg": true, ".json": true, ".txt": true, ".map": true, ".mjs": true}

// pageRef finds the style sheets and scripts a page refers to by absolute path.
var pageRef = regexp.MustCompile(`(src|href)="(/[^"?#]+\.(?:js|css))"`)

func loadUIAssets(fsys fs.FS) (*uiAssets, error) {
	a := &uiAssets{files: map[string]*uiAsset{}}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		a.files[p] = &uiAsset{body: b}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ui assets: %w", err)
	}
	// Hash everything but the pages, then let the pages name the hashed
	// URLs and hash them too.
	for p, f := range a.files {
		if path.Ext(p) != ".html" {
			f.finish(p)
		}
	}
	for p, f := range a.files {
		if path.Ext(p) == ".html" {
			f.body = pageRef.ReplaceAllFunc(f.body, func(m []byte) []byte {
				sub := pageRef.FindSubmatch(m)
				if ref, ok := a.files[strings.TrimPrefix(string(sub[2]), "/")]; ok {
					return []byte(fmt.Sprintf(`%s="%s?v=%s"`, sub[1], sub[2], ref.hash))
				}
				return m
			})
			f.finish(p)
		}
	}
	return a, nil
}

// finish computes the hash, type and gzip form of a file.
func (f *uiAsset) finish(p string) {
	sum := sha256.Sum256(f.body)
	f.hash = hex.EncodeToString(sum[:8])
	f.ctype = mime.TypeByExtension(path.Ext(p))
	if f.ctype == "" {
		f.ctype = http.DetectContentType(f.body)
	}
	if compressible[path.Ext(p)] && len(f.body) >= 256 {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(f.body)
		_ = zw.Close()
		if buf.Len() < len(f.body) {
			f.gz = buf.Bytes()
		}
	}
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip
// (not refused with q=0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.ToLower(params), " ", "")
		return !(q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000")
	}
	return false
}

// serve answers r with the file at p (without leading slash); page files
// are never cached without asking.
func (a *uiAssets) serve(w http.ResponseWriter, r *http.Request, p string, page bool) {
	f, ok := a.files[p]
	if !ok {
		httpError(w, http.StatusNotFound, "not found")
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	if v := r.URL.Query().Get("v"); !page && v != "" && v == f.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	body, etag := f.body, `"`+f.hash+`"`
	if f.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			body, etag = f.gz, `"`+f.hash+`-gz"`
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", etag)
	// ServeContent answers If-None-Match with 304 and handles Range.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// serveUIFile serves scripts, styles and images by their path.
func (s *Server) serveUIFile(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if path.Base(p) == "index.html" {
		// As http.FileServer does: a folder's index is served by the folder's URL.
		http.Redirect(w, r, "./", http.StatusMovedPermanently)
		return
	}
	s.assets.serve(w, r, p, path.Ext(p) == ".html")
}
