package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"recordings/calls"
	"recordings/settings"
	"recordings/store"
)

// maxCDRBody caps a CDR request body (a PBX sends one record per object
// per call, a few KiB; several in one request stay far below this).
const maxCDRBody = 1 << 20

// cdrLogExcerpt is how much of a refused record the log keeps.
const cdrLogExcerpt = 2048

// cdr receives the PBX's and gateways' call detail records at
// /{domain}/recordings/cdr:
//
//   - PBX XML in the form value "msg", by GET query or urlencoded POST
//     (several "msg" values are each taken);
//   - a raw XML body (POST of any other content type);
//   - gateway key/value records: the GET query itself
//     (event=A:Call&…&ref=<confid>) or a POST body in query or text form.
//
// It answers 200 with an empty body once the records are stored (or
// refused for a conference that holds as many records as good already), 400
// for a malformed record (nothing stored from that request), 401 without
// the CDR credentials (or a source in an anonymous network), 413 above 1
// MiB. Refusals are counted in the aggregated log of refused CDR requests.
func (s *Server) cdr(w http.ResponseWriter, r *http.Request) {
	v := s.set.Values()
	if ok, reason := s.ingressCheck(r, v.CDRUser, v.CDRPassword); !ok {
		s.rejects.cdrs.Refused(peerHost(r), "401 "+reason)
		w.Header().Set("WWW-Authenticate", `Basic realm="recordings cdr", charset="UTF-8"`)
		httpError(w, http.StatusUnauthorized, "CDR credentials required")
		return
	}
	if r.ContentLength > maxCDRBody || int64(len(r.URL.RawQuery)) > maxCDRBody {
		s.rejects.cdrs.Refused(peerHost(r), "413 CDR request larger than 1 MiB")
		httpError(w, http.StatusRequestEntityTooLarge, "CDR request larger than 1 MiB")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCDRBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.rejects.cdrs.Refused(peerHost(r), "413 CDR request larger than 1 MiB")
			httpError(w, http.StatusRequestEntityTooLarge, "CDR request larger than 1 MiB")
			return
		}
		httpError(w, http.StatusBadRequest, "read CDR request: "+err.Error())
		return
	}
	xmls, gateway, err := splitCDRRequest(r, body)
	if err != nil {
		s.cdrRefused(w, r, err, body)
		return
	}
	domain := r.PathValue("domain")
	var (
		total   calls.Result
		changed []int64
	)
	add := func(res calls.Result) {
		total.Records += res.Records
		total.Duplicates += res.Duplicates
		total.Refused += res.Refused
		changed = append(changed, res.Recordings...)
	}
	for _, x := range xmls {
		res, err := s.cdrs.AddPBX(r.Context(), domain, x)
		add(res)
		if err != nil {
			s.cdrFailed(w, r, err, x)
			return
		}
	}
	if gateway != nil {
		res, err := s.cdrs.AddGateway(r.Context(), domain, gateway)
		add(res)
		if err != nil {
			s.cdrFailed(w, r, err, gateway)
			return
		}
	}
	if total.Refused > 0 {
		s.rejects.cdrs.Refused(peerHost(r), fmt.Sprintf("%d records not kept: their conferences hold %d records as good",
			total.Refused, store.MaxCDRsPerConf))
	}
	s.cdrLog.Debug("CDRs received", "records", total.Records, "duplicates", total.Duplicates, "refused", total.Refused,
		"recordings", len(changed), "remote", r.RemoteAddr)
	s.m.CDRsReceived(total.Records, len(changed) > 0)
	s.used(r.Context(), settings.PendingCDR)
	w.WriteHeader(http.StatusOK)
}

// errNoCDR: the request carries nothing that could be a CDR.
var errNoCDR = errors.New(`no CDR in the request: want a "msg" form value with XML, a raw XML body or gateway key/value pairs with "event"`)

// splitCDRRequest finds the XML texts and the gateway record text of a
// request.
func splitCDRRequest(r *http.Request, body []byte) (xmls [][]byte, gateway []byte, err error) {
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, nil, errors.Join(errNoCDR, err)
	}
	for _, m := range query["msg"] {
		xmls = append(xmls, []byte(m))
	}
	if len(xmls) == 0 && query.Has("event") {
		gateway = []byte(r.URL.RawQuery)
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch {
		case trimmed[0] == '<':
			xmls = append(xmls, trimmed)
		case ct == "application/x-www-form-urlencoded" || ct == "":
			form, ferr := url.ParseQuery(string(trimmed))
			switch {
			case ferr == nil && len(form["msg"]) > 0:
				for _, m := range form["msg"] {
					xmls = append(xmls, []byte(m))
				}
			case ferr == nil && form.Has("event") && gateway == nil:
				gateway = trimmed
			case gateway == nil:
				gateway = trimmed // text form ("key value" lines, "end"); the parser judges
			}
		default:
			if gateway == nil {
				gateway = trimmed
			}
		}
	}
	if len(xmls) == 0 && gateway == nil {
		return nil, nil, errNoCDR
	}
	return xmls, gateway, nil
}

// cdrRefused answers a malformed request 400 and counts it in the
// aggregated log (with the start of what was sent); the full excerpt goes
// to the debug log.
func (s *Server) cdrRefused(w http.ResponseWriter, r *http.Request, err error, text []byte) {
	s.cdrLog.Debug("CDR refused", "remote", r.RemoteAddr, "err", err,
		"query", excerpt([]byte(r.URL.RawQuery)), "body", excerpt(text))
	s.rejects.cdrs.Refused(peerHost(r), fmt.Sprintf("400 %v; body starts %.64q", err, text))
	httpError(w, http.StatusBadRequest, err.Error())
}

func (s *Server) cdrFailed(w http.ResponseWriter, r *http.Request, err error, text []byte) {
	if errors.Is(err, calls.ErrMalformed) {
		s.cdrRefused(w, r, err, text)
		return
	}
	if store.IsDiskFull(err) {
		httpError(w, http.StatusInsufficientStorage, "storage full: CDR refused")
		return
	}
	s.internalError(w, r, err)
}

func excerpt(b []byte) string {
	if len(b) > cdrLogExcerpt {
		return string(b[:cdrLogExcerpt]) + "…(" + strconv.Itoa(len(b)) + " bytes)"
	}
	return string(b)
}

// listCDRs shows stored CDRs, newest first (?before=<id>&limit=<n>).
func (s *Server) listCDRs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var before int64
	var limit int
	var err error
	if v := q.Get("before"); v != "" {
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before < 0 {
			httpError(w, http.StatusBadRequest, "before: a CDR id")
			return
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 500 {
			httpError(w, http.StatusBadRequest, "limit: a number from 1 to 500")
			return
		}
	}
	// An administrator of a domain sees the CDRs posted under it only.
	recs, err := s.db.CDRsIn(r.Context(), s.managedDomain(userFrom(r.Context())), before, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type cdrJSON struct {
		ID       int64         `json:"id"`
		Kind     string        `json:"kind"`
		Received time.Time     `json:"received"`
		Domain   string        `json:"domain,omitempty"`
		ConfIDs  []string      `json:"conf_ids"`
		Raw      string        `json:"raw"`
		Parsed   rawJSONOrNull `json:"parsed"`
	}
	out := struct {
		CDRs []cdrJSON `json:"cdrs"`
	}{CDRs: make([]cdrJSON, 0, len(recs))}
	for _, c := range recs {
		confs := c.ConfIDs
		if confs == nil {
			confs = []string{}
		}
		out.CDRs = append(out.CDRs, cdrJSON{ID: c.ID, Kind: c.Kind, Received: c.ReceivedAt, Domain: c.Domain,
			ConfIDs: confs, Raw: c.Raw, Parsed: rawJSONOrNull(c.Parsed)})
	}
	writeJSON(w, http.StatusOK, out)
}

// rawJSONOrNull marshals stored JSON as is, or null when empty.
type rawJSONOrNull []byte

func (b rawJSONOrNull) MarshalJSON() ([]byte, error) {
	if len(b) == 0 {
		return []byte("null"), nil
	}
	return b, nil
}
