package api

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"recordings/store"
)

// WebDAV manners for the capture collection /{domain}/recordings/Files/.
// Phones only PUT, but administrators test an installation with WebDAV
// clients (cadaver, rclone's webdav backend, a file manager), which first
// ask OPTIONS and PROPFIND and may MKCOL the folder. The service is a
// class 1 WebDAV server for this one collection:
//
//   - OPTIONS answers DAV: 1 and the methods allowed, without credentials
//     (it reveals nothing stored).
//   - PROPFIND (Depth 0 or 1; infinity is refused as RFC 4918 allows)
//     lists what the caller may see. A signed-in user (session or Basic
//     with an account) sees the files of the recordings they may view.
//     The upload credentials (or a peer in an anonymous network) see the
//     collection and, at Depth 0, a file named in the request — so a
//     client can check what it just uploaded — but a Depth 1 listing
//     shows them no files: a device that may upload may not enumerate
//     everyone's calls.
//   - MKCOL on the collection itself succeeds every time (201): it always
//     exists. MKCOL anywhere below it is refused (403): there are no
//     sub-folders.
//   - DELETE, MOVE, COPY, PROPPATCH, LOCK and UNLOCK are refused with 405
//     and an Allow header: recordings are deleted in the apps, where the
//     protection and the audit apply.
const (
	davAllowCollection = "OPTIONS, PROPFIND, MKCOL, PUT"
	davAllowFile       = "OPTIONS, GET, HEAD, PUT, PROPFIND"
	// davMaxBody bounds a PROPFIND request body; real ones are < 1 KiB.
	davMaxBody = 64 << 10
	// davMaxEntries bounds a Depth 1 listing (it is paged from the store).
	davMaxEntries = 10000
)

func (s *Server) routeWebDAV(mux *http.ServeMux) {
	for _, p := range []string{"/{domain}/recordings/Files", "/{domain}/recordings/Files/{$}"} {
		mux.HandleFunc("OPTIONS "+p, davOptions(davAllowCollection))
		mux.HandleFunc("PROPFIND "+p, s.davPropfind)
		mux.HandleFunc("MKCOL "+p, s.davMkcolCollection)
		for _, m := range []string{"DELETE", "MOVE", "COPY", "PROPPATCH", "LOCK", "UNLOCK"} {
			mux.HandleFunc(m+" "+p, davRefuse(davAllowCollection, "the Files collection cannot be changed"))
		}
	}
	p := "/{domain}/recordings/Files/{name}"
	mux.HandleFunc("OPTIONS "+p, davOptions(davAllowFile))
	mux.HandleFunc("PROPFIND "+p, s.davPropfind)
	mux.HandleFunc("MKCOL "+p, s.davMkcolBelow)
	mux.HandleFunc("DELETE "+p, davRefuse(davAllowFile, "recordings are deleted in the Recordings app, not over WebDAV"))
	for _, m := range []string{"MOVE", "COPY", "PROPPATCH", "LOCK", "UNLOCK"} {
		mux.HandleFunc(m+" "+p, davRefuse(davAllowFile, "captures are written once and cannot be moved, copied or locked"))
	}
}

func davOptions(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("DAV", "1")
		w.Header().Set("Allow", allow)
		w.Header().Set("MS-Author-Via", "DAV")
		w.WriteHeader(http.StatusOK)
	}
}

func davRefuse(allow, msg string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		httpError(w, http.StatusMethodNotAllowed, msg)
	}
}

// davCaller is who asks: a signed-in user, or an uploader (upload
// credentials or an anonymous network). ok is false when the request was
// answered (refused).
func (s *Server) davCaller(w http.ResponseWriter, r *http.Request) (u store.User, uploader, ok bool) {
	// The upload account is tried first when named (so a phone's Basic
	// credentials never count as a failed sign-in of a person), and an
	// anonymous network's peer without credentials is an uploader too.
	v := s.set.Values()
	name, _, basic := r.BasicAuth()
	_, cookieErr := r.Cookie(sessionCookie)
	if (basic && equalSecret(name, v.UploadUser)) || (!basic && cookieErr != nil && peerIn(r.RemoteAddr, v.AnonymousNets)) {
		if yes, _ := s.ingressCheck(r, v.UploadUser, v.UploadPassword); yes {
			return store.User{}, true, true
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="recordings upload", charset="UTF-8"`)
		httpError(w, http.StatusUnauthorized, "wrong upload credentials")
		return store.User{}, false, false
	}
	u, err := s.identify(r)
	if err == nil {
		return u, false, true
	}
	if s.refuseSignIn(w, err) {
		return store.User{}, false, false
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrBadCredentials) || errors.Is(err, errNoCredentials) {
		w.Header().Set("WWW-Authenticate", `Basic realm="recordings", charset="UTF-8"`)
		httpError(w, http.StatusUnauthorized, "sign-in or upload credentials required")
		return store.User{}, false, false
	}
	s.internalError(w, r, err)
	return store.User{}, false, false
}

func (s *Server) davMkcolCollection(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := s.davCaller(w, r); !ok {
		return
	}
	if r.ContentLength > 0 {
		// RFC 4918 9.3: a body MKCOL does not understand is 415.
		httpError(w, http.StatusUnsupportedMediaType, "MKCOL takes no body")
		return
	}
	w.WriteHeader(http.StatusCreated)
}

func (s *Server) davMkcolBelow(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := s.davCaller(w, r); !ok {
		return
	}
	httpError(w, http.StatusForbidden, "no folders below Files: upload captures into the Files collection itself")
}

// davPropfindBody checks a PROPFIND request body: empty (= allprop) or
// well-formed XML whose root is DAV:propfind. The properties asked for are
// not honoured one by one: every answer carries the same live properties,
// which RFC 4918 permits for allprop and which clients read as they need.
func davPropfindBody(r io.Reader) error {
	body, err := io.ReadAll(io.LimitReader(r, davMaxBody+1))
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if len(body) > davMaxBody {
		return fmt.Errorf("body larger than %d bytes", davMaxBody)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	var root struct {
		XMLName xml.Name
	}
	if err := dec.Decode(&root); err != nil {
		return fmt.Errorf("not well-formed XML: %w", err)
	}
	if root.XMLName.Space != "DAV:" || root.XMLName.Local != "propfind" {
		return fmt.Errorf("root element is {%s}%s, want {DAV:}propfind", root.XMLName.Space, root.XMLName.Local)
	}
	for {
		if _, err := dec.Token(); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("not well-formed XML: %w", err)
		}
	}
}

func (s *Server) davPropfind(w http.ResponseWriter, r *http.Request) {
	u, uploader, ok := s.davCaller(w, r)
	if !ok {
		return
	}
	depth := r.Header.Get("Depth")
	switch depth {
	case "0", "1":
	case "", "infinity":
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, xml.Header+`<D:error xmlns:D="DAV:"><D:propfind-finite-depth/></D:error>`)
		return
	default:
		httpError(w, http.StatusBadRequest, "Depth: want 0 or 1")
		return
	}
	if err := davPropfindBody(r.Body); err != nil {
		httpError(w, http.StatusBadRequest, "PROPFIND: "+err.Error())
		return
	}
	domain, name := r.PathValue("domain"), r.PathValue("name")
	base := "/" + url.PathEscape(domain) + "/recordings/Files/"
	var ms davMultistatus
	if name != "" {
		rec, err := s.db.RecordingByName(r.Context(), domain, name)
		if err == nil && !uploader && !canView(u, rec.Domain, rec.Owner) {
			err = store.ErrNotFound
		}
		if err != nil {
			if isNotFound(err) {
				httpError(w, http.StatusNotFound, "no such file")
				return
			}
			s.internalError(w, r, err)
			return
		}
		ms.add(base, rec)
		writeMultistatus(w, ms)
		return
	}
	ms.Responses = append(ms.Responses, davCollection(base))
	if depth == "1" && !uploader {
		f := visibleFilter(u)
		f.Limit = store.MaxListLimit
		for n := 0; n < davMaxEntries; {
			recs, next, err := s.db.ListRecordings(r.Context(), f)
			if err != nil {
				s.internalError(w, r, err)
				return
			}
			for _, rec := range recs {
				if rec.Domain == domain && n < davMaxEntries {
					ms.add(base, rec)
					n++
				}
			}
			if next == "" {
				break
			}
			f.Cursor = next
		}
	}
	writeMultistatus(w, ms)
}

type davMultistatus struct {
	XMLName   xml.Name      `xml:"D:multistatus"`
	NS        string        `xml:"xmlns:D,attr"`
	Responses []davResponse `xml:"D:response"`
}

type davResponse struct {
	Href     string      `xml:"D:href"`
	Propstat davPropstat `xml:"D:propstat"`
}

type davPropstat struct {
	Prop   davProp `xml:"D:prop"`
	Status string  `xml:"D:status"`
}

type davProp struct {
	DisplayName   string     `xml:"D:displayname"`
	ResourceType  davResType `xml:"D:resourcetype"`
	ContentLength *int64     `xml:"D:getcontentlength,omitempty"`
	ContentType   string     `xml:"D:getcontenttype,omitempty"`
	LastModified  string     `xml:"D:getlastmodified,omitempty"`
	CreationDate  string     `xml:"D:creationdate,omitempty"`
	ETag          string     `xml:"D:getetag,omitempty"`
}

type davResType struct {
	Collection *struct{} `xml:"D:collection,omitempty"`
}

func davCollection(href string) davResponse {
	return davResponse{Href: href, Propstat: davPropstat{
		Prop:   davProp{DisplayName: "Files", ResourceType: davResType{Collection: &struct{}{}}},
		Status: "HTTP/1.1 200 OK",
	}}
}

func (ms *davMultistatus) add(base string, rec store.Recording) {
	size := rec.Size
	p := davProp{
		DisplayName:   rec.Name,
		ContentLength: &size,
		ContentType:   "application/vnd.tcpdump.pcap",
		LastModified:  rec.UpdatedAt.UTC().Format(http.TimeFormat),
		CreationDate:  rec.CreatedAt.UTC().Format(time.RFC3339),
	}
	if rec.SHA256 != "" {
		p.ETag = `"` + rec.SHA256 + `"`
	} else {
		// Still being uploaded: the size and time change, so does the tag.
		p.ETag = `"` + strconv.FormatInt(rec.Size, 16) + "-" + strconv.FormatInt(rec.UpdatedAt.UnixNano(), 16) + `"`
	}
	ms.Responses = append(ms.Responses, davResponse{
		Href:     base + url.PathEscape(rec.Name),
		Propstat: davPropstat{Prop: p, Status: "HTTP/1.1 200 OK"},
	})
}

func writeMultistatus(w http.ResponseWriter, ms davMultistatus) {
	ms.NS = "DAV:"
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(ms); err != nil {
		// Only an unencodable value could fail; the fields are plain text.
		httpError(w, http.StatusInternalServerError, "PROPFIND: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusMultiStatus)
	_, _ = w.Write(buf.Bytes())
}
