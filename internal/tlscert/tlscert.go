// Package tlscert provides the service's HTTPS certificate: one given as
// PEM files (re-read when the files change, so that a renewed certificate
// needs no restart), or a self-signed one generated on first use and kept
// in two private files next to the database, regenerated only when they
// are missing or the certificate has expired.
package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// File names of the self-signed certificate and its key in the folder
// SelfSigned keeps them in.
const (
	SelfSignedCert = "recordings-selfsigned.crt"
	SelfSignedKey  = "recordings-selfsigned.key"
)

// Validity is how long a generated certificate is valid: 825 days, the
// longest that Apple's clients accept for a TLS server certificate.
const Validity = 825 * 24 * time.Hour

// recheck is how often Files looks whether the files changed.
const recheck = 30 * time.Second

// Source hands out the current certificate for TLS handshakes.
type Source struct {
	log *slog.Logger
	now func() time.Time

	mu      sync.Mutex
	cert    *tls.Certificate
	checked time.Time // files: when they were last looked at
	stamp   string    // files: modification times and sizes
	// renew replaces an expired certificate (self-signed) or re-reads
	// changed files; nil-safe callers hold mu.
	renew func(now time.Time) error
}

// Options are the clock and the log; zero values take time.Now and no log.
type Options struct {
	Now func() time.Time
	Log *slog.Logger
}

func (o Options) fill() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// Files serves the certificate chain in certFile with the private key in
// keyFile (PEM). A change of either file is picked up at the next
// handshake after at most 30 seconds; a changed pair that does not load is
// logged and the previous certificate stays in use.
func Files(certFile, keyFile string, opt Options) (*Source, error) {
	opt = opt.fill()
	if certFile == "" || keyFile == "" {
		return nil, errors.New("tls: a certificate needs both the certificate file and the key file")
	}
	s := &Source{log: opt.Log, now: opt.Now}
	load := func() error {
		stamp, err := fileStamp(certFile, keyFile)
		if err != nil {
			return err
		}
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return fmt.Errorf("tls: load %s and %s: %w", certFile, keyFile, err)
		}
		s.cert, s.stamp = &c, stamp
		return nil
	}
	if err := load(); err != nil {
		return nil, err
	}
	s.checked = opt.Now()
	s.renew = func(now time.Time) error {
		if now.Sub(s.checked) < recheck {
			return nil
		}
		s.checked = now
		stamp, err := fileStamp(certFile, keyFile)
		if err != nil || stamp == s.stamp {
			return err
		}
		if err := load(); err != nil {
			return err
		}
		s.log.Info("TLS certificate files changed: using the new certificate", Attrs(s.cert.Leaf)...)
		return nil
	}
	return s, nil
}

func fileStamp(paths ...string) (string, error) {
	var b strings.Builder
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return "", fmt.Errorf("tls: %w", err)
		}
		fmt.Fprintf(&b, "%d/%d;", st.ModTime().UnixNano(), st.Size())
	}
	return b.String(), nil
}

// SelfSigned serves a self-signed certificate for hosts (DNS names and IP
// addresses), kept in dir as SelfSignedCert and SelfSignedKey (mode 0600).
// The certificate found there is used as long as it is valid, whatever
// names it holds; a new one is generated (and logged) when the files are
// missing, do not hold a certificate and its key, or the certificate has
// expired — also while the service runs.
func SelfSigned(dir string, hosts []string, opt Options) (*Source, error) {
	opt = opt.fill()
	if len(hosts) == 0 {
		return nil, errors.New("tls: a self-signed certificate needs at least one host name")
	}
	certFile, keyFile := filepath.Join(dir, SelfSignedCert), filepath.Join(dir, SelfSignedKey)
	s := &Source{log: opt.Log, now: opt.Now}
	s.renew = func(now time.Time) error {
		if s.cert != nil && now.Before(s.cert.Leaf.NotAfter) {
			return nil
		}
		if s.cert != nil {
			s.log.Warn("the self-signed TLS certificate expired: generating a new one; clients that trust the old one must be given the new one")
		}
		c, err := generate(certFile, keyFile, hosts, now)
		if err != nil {
			return err
		}
		s.cert = c
		s.log.Warn("generated a self-signed TLS certificate; browsers and phones warn until it is trusted (compare the fingerprint) or replaced by -tls-cert/-tls-key",
			append(Attrs(c.Leaf), "file", certFile)...)
		return nil
	}
	c, err := loadKept(certFile, keyFile, opt.Now())
	switch {
	case err != nil:
		return nil, err
	case c != nil:
		s.cert = c
		return s, nil
	}
	if err := s.renew(opt.Now()); err != nil {
		return nil, err
	}
	return s, nil
}

// loadKept reads the kept certificate: nil (and no error) when it has to
// be generated anew.
func loadKept(certFile, keyFile string, now time.Time) (*tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	var pathErr *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case errors.As(err, &pathErr):
		// Present but unreadable: not ours to overwrite.
		return nil, fmt.Errorf("tls: %w", err)
	case err != nil:
		return nil, nil // not a certificate and its key: generate anew
	case !now.Before(c.Leaf.NotAfter):
		return nil, nil // expired
	}
	return &c, nil
}

// generate makes a new ECDSA P-256 key and a self-signed certificate for
// hosts, valid from an hour ago for Validity, and writes both files.
func generate(certFile, keyFile string, hosts []string, now time.Time) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tls: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("tls: serial number: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: hosts[0], Organization: []string{"recordings (self-signed)"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(Validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("tls: create certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("tls: encode key: %w", err)
	}
	// The key first: a certificate file never names a key that is not
	// there yet.
	if err := writePrivate(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})); err != nil {
		return nil, err
	}
	if err := writePrivate(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})); err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("tls: parse new certificate: %w", err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// writePrivate replaces path atomically with data, mode 0600 whatever the
// umask.
func writePrivate(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".tls-*")
	if err != nil {
		return fmt.Errorf("tls: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("tls: write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("tls: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("tls: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("tls: write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("tls: write %s: %w", path, err)
	}
	return nil
}

// Certificate is the certificate in use now.
func (s *Source) Certificate() *tls.Certificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.renew(s.now()); err != nil {
		s.log.Error("TLS certificate: keeping the current one", "err", err)
	}
	return s.cert
}

// Config is the server's TLS configuration: TLS 1.2 or newer, HTTP/1.1
// (the websocket API and the phones' streamed uploads need nothing else),
// with this source's certificate.
func (s *Source) Config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return s.Certificate(), nil
		},
	}
}

// Fingerprint is the SHA-256 of the certificate's DER encoding as
// colon-separated hex, the form browsers show.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// Attrs describe a certificate for the log: its names, expiry and
// fingerprint.
func Attrs(c *x509.Certificate) []any {
	names := slices.Clone(c.DNSNames)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	return []any{"names", strings.Join(names, ","), "not_after", c.NotAfter.UTC().Format(time.DateOnly),
		"sha256", Fingerprint(c)}
}

// DefaultHosts are the names a self-signed certificate is made for: the
// machine's host name, localhost, the loopback addresses and the address
// the HTTPS listener is bound to, or, when it listens on every address,
// the machine's own unicast addresses (link-local ones aside).
func DefaultHosts(listen string) []string {
	var hosts []string
	add := func(h string) {
		if h != "" && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	if name, err := os.Hostname(); err == nil {
		add(strings.ToLower(name))
	}
	add("localhost")
	add("127.0.0.1")
	add("::1")
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		host = listen
	}
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		add(host) // a bound address (or name)
		return hosts
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return hosts
	}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLinkLocalUnicast() || ipn.IP.IsMulticast() {
			continue
		}
		add(ipn.IP.String())
	}
	return hosts
}
