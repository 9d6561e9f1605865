package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"

	"golang.org/x/sync/errgroup"

	"recordings/internal/rejectlog"
)

// Ingress: who may upload captures and post CDRs. Both need HTTP Basic
// credentials (settings upload_user/upload_password and
// cdr_user/cdr_password), except from the networks the admin lists as
// anonymous (setting anonymous_networks, for devices that cannot send
// credentials). The source is the TCP peer: no forwarding header is
// trusted here. Refused requests are logged in aggregated form, per source
// and minute (package rejectlog).

// ingressCheck says whether r may pass with the credentials user and pw,
// and why not.
func (s *Server) ingressCheck(r *http.Request, user, pw string) (ok bool, reason string) {
	if peerIn(r.RemoteAddr, s.set.Values().AnonymousNets) {
		return true, ""
	}
	name, got, has := r.BasicAuth()
	switch {
	case !has:
		return false, "no credentials"
	case pw == "":
		return false, "no password configured"
	case !equalSecret(name, user) || !equalSecret(got, pw):
		return false, "wrong user name or password"
	}
	return true, ""
}

// peerIn reports whether the TCP peer address remote lies in one of nets.
func peerIn(remote string, nets []netip.Prefix) bool {
	if len(nets) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return false
	}
	a := ap.Addr().Unmap().WithZone("")
	for _, p := range nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peerHost is the address part of the TCP peer, the source rejections are
// counted under.
func peerHost(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// used notes that a device used the ingress part successfully (ending the
// "credentials pending since the upgrade" problem).
func (s *Server) used(ctx context.Context, part string) {
	if err := s.set.Used(context.WithoutCancel(ctx), part); err != nil {
		s.log.Warn("noting the first use of the generated credentials", "part", part, "err", err)
	}
}

// equalSecret compares in constant time, also for secrets of different
// lengths.
func equalSecret(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// rejects are the aggregated logs of refused uploads and CDR requests.
type rejects struct {
	uploads, cdrs *rejectlog.Log
}

func (s *Server) newRejects() rejects {
	return rejects{
		uploads: rejectlog.New(s.recLog, rejectlog.Options{Now: s.opt.Now, Message: "uploads refused"}),
		cdrs:    rejectlog.New(s.cdrLog, rejectlog.Options{Now: s.opt.Now, Message: "CDR requests refused"}),
	}
}

// Run writes the aggregated logs of refused requests until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.rejects.uploads.Run(gctx, 0) })
	g.Go(func() error { return s.rejects.cdrs.Run(gctx, 0) })
	g.Go(func() error { return s.audits.run(gctx) })
	return g.Wait()
}
