package main

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"recordings/internal/tlscert"
)

// TestServeTLS: serve answers HTTPS on -listen-tls with the self-signed
// certificate it generated next to the database (private files), logs the
// certificate's fingerprint, and keeps the certificate across restarts.
func TestServeTLS(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "rec.db")
	tlsRE := regexp.MustCompile(`listen_tls=(\S+)`)
	fingerprint := regexp.MustCompile(`sha256=([0-9A-F:]{95})`)
	var first string
	for run := range 2 {
		_, logs, stop := startServe(t, dbPath)
		m := tlsRE.FindStringSubmatch(logs.String())
		if m == nil {
			stop()
			t.Fatalf("no HTTPS listener in the log:\n%s", logs.String())
		}
		certFile := filepath.Join(filepath.Dir(dbPath), tlscert.SelfSignedCert)
		pemBytes, err := os.ReadFile(certFile)
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pemBytes)
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
		res, err := (&http.Client{Transport: tr}).Get("https://" + m[1] + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		tr.CloseIdleConnections()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET /healthz over HTTPS: %s", res.Status)
		}
		fp := fingerprint.FindStringSubmatch(logs.String())
		if fp == nil {
			t.Errorf("the log does not name the certificate's fingerprint:\n%s", logs.String())
		} else if fp[1] != tlscert.Fingerprint(res.TLS.PeerCertificates[0]) {
			t.Errorf("logged fingerprint %s is not the served certificate's", fp[1])
		}
		if run == 0 {
			first = tlscert.Fingerprint(res.TLS.PeerCertificates[0])
			if !strings.Contains(logs.String(), "generated a self-signed TLS certificate") {
				t.Error("the first start does not say that it generated a certificate")
			}
		} else if got := tlscert.Fingerprint(res.TLS.PeerCertificates[0]); got != first {
			t.Error("the restart served a new certificate")
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestServeFlagsRefused: contradictory transport settings stop the start
// with a reason.
func TestServeFlagsRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-listen", "off", "-listen-tls", "off"}, "both off"},
		{[]string{"-tls-cert", "c.pem"}, "go together"},
		{[]string{"-tls-cert", "c.pem", "-tls-key", "k.pem", "-listen-tls", "off"}, "-listen-tls is off"},
		{[]string{"-metrics-token", "short"}, "at least 16"},
	} {
		if _, err := parseServeFlags(tc.args, io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want it to say %q", tc.args, err, tc.want)
		}
	}
	c, err := parseServeFlags([]string{"-listen-tls", "127.0.0.1:8443", "-tls-hosts", "recorder.example, 192.0.2.1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	tc := c.tlsConfig()
	if !tc.On || tc.CertFile != "" {
		t.Fatalf("%+v", tc)
	}
	for _, h := range []string{"localhost", "127.0.0.1", "recorder.example", "192.0.2.1"} {
		if !strings.Contains(","+strings.Join(tc.Hosts, ",")+",", ","+h+",") {
			t.Errorf("hosts %q lack %q", tc.Hosts, h)
		}
	}
	if c, err := parseServeFlags([]string{"-listen-tls", "off"}, io.Discard); err != nil || c.tlsConfig().On {
		t.Errorf("-listen-tls off: %+v %v", c.tlsConfig(), err)
	}
}
