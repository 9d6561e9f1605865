// Package settings is the one place that knows the admin settings: their
// keys, how each is validated and normalised, their defaults, and how a
// change takes effect while the service runs (trace levels at once,
// retention at its next run, which a change also starts).
package settings

import (
	"crypto/rand"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"recordings/applog"
	"recordings/internal/invalid"
)

// Setting keys as stored in the database. Every package names a setting
// by these constants.
const (
	KeyPBXName          = "pbx_name"
	KeyRetentionDays    = "retention_days"     // recordings; 0 or unset keeps them forever
	KeyLogRetentionDays = "log_retention_days" // log entries; unset means DefaultLogRetentionDays
	KeyLicenceCount     = "licence_count"      // unset: licences are not enforced
	KeyCDRUser          = "cdr_user"
	KeyCDRPassword      = "cdr_password"
	KeyAppPassword      = "instance_password"   // the AppLogin password of this instance
	KeyUploadUser       = "upload_user"         // HTTP Basic user of capture uploads
	KeyUploadPassword   = "upload_password"     // HTTP Basic password of capture uploads
	KeyAnonymousNets    = "anonymous_networks"  // source networks that may upload and post CDRs without credentials
	KeyIngressPending   = "ingress_pending"     // credentials generated at an upgrade and not yet used: "upload", "cdr"
	KeyNoCDRGrace       = "nocdr_grace_seconds" // how long a recording waits for its CDR
	KeyTracePrefix      = "trace."              // + category, e.g. "trace.Converting"
	// KeyDomain is the domain this instance serves (the App Platform's
	// instance domain, the {domain} of its URLs); unset: any.
	KeyDomain = "domain"
	// KeyPBXSeen lists the domains whose PBX has logged in as the App
	// object at least once: from then on a PBX is expected, and the
	// licences come from it.
	KeyPBXSeen = "pbx_seen"
)

// Bounds and defaults.
const (
	MaxRetentionDays        = 11000
	DefaultLogRetentionDays = 30
	MaxPBXName              = 128
	MaxDomain               = 253
	// MaxDomains is how many domains one instance serves at most.
	MaxDomains        = 16
	MaxLicences       = 1_000_000
	MaxCredential     = 256
	MaxAnonymousNets  = 64            // entries of anonymous_networks
	MaxNoCDRGrace     = 7 * 24 * 3600 // seconds
	DefaultNoCDRGrace = 15 * time.Minute
	DefaultTrace      = "info"
)

// PBXNameMissing is what the admin view and the API report until the PBX
// name is set.
const PBXNameMissing = "PBX Name missing"

// The user names the first start gives the upload and CDR credentials when
// none are configured (the passwords are generated).
const (
	DefaultUploadUser = "recorder"
	DefaultCDRUser    = "pbx-cdr"
)

// The parts of KeyIngressPending: which generated credentials the devices
// have not used yet.
const (
	PendingUpload = "upload"
	PendingCDR    = "cdr"
)

// Problems reported while KeyIngressPending names a part.
const (
	UploadCredentialsPending = "Uploads need credentials since the upgrade: enter the upload user and password " +
		"in the phones' and gateways' Record-to URL (Settings, PBX integration)"
	CDRCredentialsPending = "CDRs need credentials since the upgrade: enter the CDR user and password " +
		"in the PBX's CDR interface (Settings, PBX integration)"
)

// GenerateSecret returns a new random password: 26 characters (A–Z, 2–7)
// holding 130 random bits, safe to put in a URL as they are. Every
// credential the service generates (upload, CDR, instance password) comes
// from here.
func GenerateSecret() string { return rand.Text() }

// ErrInvalid matches every rejected value (errors.Is). The errors are
// *invalid.Error: Field is the setting key, Message says what is wrong in
// words for the admin.
var ErrInvalid = invalid.Err

// TraceLevels are the values a category's trace level may take, quietest
// first.
func TraceLevels() []string { return []string{"off", "error", "warn", "info", "debug"} }

// TraceKey is the key of category's trace level.
func TraceKey(category string) string { return KeyTracePrefix + category }

// ParseDays reads a retention period: a whole number of days, 0–11000.
func ParseDays(key, s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, invalid.New(key, "%.20q is not a whole number of days", s)
	}
	if n < 0 || n > MaxRetentionDays {
		return 0, invalid.New(key, "%d days is outside 0–%d", n, MaxRetentionDays)
	}
	return n, nil
}

// ParseTrace reads a trace level setting (off, error, warn, info, debug;
// any case) into the slog level it stands for.
func ParseTrace(s string) (slog.Level, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	for _, ok := range TraceLevels() {
		if v == ok {
			return applog.ParseLevel(v)
		}
	}
	return 0, invalid.New("", "trace level %.20q is not one of %s", s, strings.Join(TraceLevels(), ", "))
}

// ParseNoCDRGrace reads the NoCDR grace setting: whole seconds from 0 to
// MaxNoCDRGrace.
func ParseNoCDRGrace(s string) (time.Duration, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > MaxNoCDRGrace {
		return 0, invalid.New(KeyNoCDRGrace, "%.20q is not a number of seconds from 0 to %d", s, MaxNoCDRGrace)
	}
	return time.Duration(n) * time.Second, nil
}

// checkText accepts printable UTF-8 of at most max bytes.
func checkText(key, s string, max int) error {
	if len(s) > max {
		return invalid.New(key, "at most %d bytes", max)
	}
	if !utf8.ValidString(s) {
		return invalid.New(key, "not valid UTF-8")
	}
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			return invalid.New(key, "control characters are not allowed")
		}
	}
	return nil
}

// Validate checks a value for key and returns it normalised as it is to be
// stored. Every writer of settings (the UI's API, the command line) goes
// through it (Service.Set calls it). An empty result removes the setting:
// allowed for the PBX name, the user names, the anonymous networks and the
// licence count (whose absence means licences are not enforced); the
// passwords cannot be removed, only replaced.
func Validate(key, value string) (string, error) {
	switch key {
	case KeyPBXName:
		v := strings.TrimSpace(value)
		if err := checkText(key, v, MaxPBXName); err != nil {
			return "", err
		}
		return v, nil
	case KeyDomain:
		// One domain or a comma-separated list; the first is the default
		// (docs/pbx.md, Domains). Order kept, duplicates dropped.
		var out []string
		for d := range strings.SplitSeq(value, ",") {
			d = strings.TrimSpace(d)
			if d == "" {
				continue
			}
			if err := checkText(key, d, MaxDomain); err != nil {
				return "", err
			}
			if strings.ContainsAny(d, "/?#%\\ ") {
				return "", invalid.New(key, "%.64q: no '/', '?', '#', '%%', '\\' or spaces allowed (a System Name such as example.com)", d)
			}
			if d == "api" {
				return "", invalid.New(key, "\"api\" is reserved: the service's own paths begin with /api/")
			}
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
		if len(out) > MaxDomains {
			return "", invalid.New(key, "%d System Names: at most %d", len(out), MaxDomains)
		}
		v := strings.Join(out, ",")
		if len(v) > MaxCredential {
			return "", invalid.New(key, "the list is %d bytes long: at most %d", len(v), MaxCredential)
		}
		return v, nil
	case KeyPBXSeen:
		// Only whether it is empty matters; the list is kept short (the
		// domains that do not fit are left out).
		var out []string
		size := 0
		for _, d := range strings.FieldsFunc(value, isListSep) {
			if err := checkText(key, d, MaxDomain); err != nil || strings.ContainsAny(d, "/?#%") {
				return "", invalid.New(key, "%.64q is not a System Name", d)
			}
			if slices.Contains(out, d) || size+len(d)+1 > MaxCredential {
				continue
			}
			out = append(out, d)
			size += len(d) + 1
		}
		slices.Sort(out)
		return strings.Join(out, ","), nil
	case KeyRetentionDays, KeyLogRetentionDays:
		n, err := ParseDays(key, value)
		if err != nil {
			return "", err
		}
		return strconv.Itoa(n), nil
	case KeyLicenceCount:
		if strings.TrimSpace(value) == "" {
			return "", nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil || n < 0 || n > MaxLicences {
			return "", invalid.New(key, "%.20q is not a count from 0 to %d", value, MaxLicences)
		}
		return strconv.Itoa(n), nil
	case KeyCDRUser, KeyUploadUser:
		v := strings.TrimSpace(value)
		if err := checkText(key, v, MaxCredential); err != nil {
			return "", err
		}
		if strings.ContainsRune(v, ':') {
			return "", invalid.New(key, "':' is not allowed in a user name (HTTP Basic)")
		}
		return v, nil
	case KeyCDRPassword, KeyAppPassword, KeyUploadPassword:
		if value == "" {
			return "", invalid.New(key, "a password is required: it cannot be cleared (enter a new one instead)")
		}
		if err := checkText(key, value, MaxCredential); err != nil {
			return "", err
		}
		return value, nil
	case KeyAnonymousNets:
		nets, err := ParseNetworks(value)
		if err != nil {
			return "", err
		}
		return FormatNetworks(nets), nil
	case KeyIngressPending:
		var out []string
		for _, p := range strings.FieldsFunc(value, isListSep) {
			if p != PendingUpload && p != PendingCDR {
				return "", invalid.New(key, "%.20q is not %q or %q", p, PendingUpload, PendingCDR)
			}
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
		slices.Sort(out)
		return strings.Join(out, ","), nil
	case KeyReplicaURL:
		return validateReplicaURL(value)
	case KeyAppPasswordUnseen:
		return validateUnseen(value)
	case KeyNoCDRGrace:
		d, err := ParseNoCDRGrace(value)
		if err != nil {
			return "", err
		}
		return strconv.Itoa(int(d / time.Second)), nil
	}
	if base, domain, ok := SplitDomainKey(key); ok {
		return validateDomainKey(key, base, domain, value)
	}
	if cat, ok := strings.CutPrefix(key, KeyTracePrefix); ok {
		if _, known := applog.Canonical(cat); !known || cat == applog.System {
			return "", invalid.New(key, "unknown category %.64q (known: %s)", cat, strings.Join(applog.Categories(), ", "))
		}
		if _, err := ParseTrace(value); err != nil {
			return "", invalid.New(key, "trace level %.20q is not one of %s", value, strings.Join(TraceLevels(), ", "))
		}
		return strings.ToLower(strings.TrimSpace(value)), nil
	}
	return "", invalid.New(key, "unknown setting")
}

// CanonicalKey returns key with a trace category spelled canonically
// ("trace.converting" → "trace.Converting") and a per-domain key's domain
// in lower case ("pbx_name@A.example" → "pbx_name@a.example"); other keys are returned as
// they are.
func CanonicalKey(key string) string {
	if base, domain, ok := SplitDomainKey(key); ok {
		return DomainKey(base, domain)
	}
	if cat, ok := strings.CutPrefix(key, KeyTracePrefix); ok {
		if c, known := applog.Canonical(cat); known {
			return KeyTracePrefix + c
		}
	}
	return key
}

// Secret reports whether a setting's value must not be shown or logged.
func Secret(key string) bool {
	return key == KeyCDRPassword || key == KeyAppPassword || key == KeyUploadPassword
}

func isListSep(r rune) bool {
	return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == ';'
}

// ParseNetworks reads a list of source networks (commas or spaces between
// entries), each a CIDR prefix ("192.0.2.0/24", "2001:db8::/32") or a
// single address ("192.0.2.7"). A prefix with host bits set is refused, so
// that a typo cannot open more (or less) than the admin meant.
func ParseNetworks(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(s, isListSep) {
		if len(out) == MaxAnonymousNets {
			return nil, invalid.New(KeyAnonymousNets, "at most %d networks", MaxAnonymousNets)
		}
		var p netip.Prefix
		if strings.Contains(f, "/") {
			var err error
			if p, err = netip.ParsePrefix(f); err != nil {
				return nil, invalid.New(KeyAnonymousNets, "%.64q is not a network such as 192.0.2.0/24 or 2001:db8::/32", f)
			}
			if p.Addr().Is4In6() {
				return nil, invalid.New(KeyAnonymousNets, "%.64q: write an IPv4 network as such (e.g. 192.0.2.0/24)", f)
			}
			if m := p.Masked(); m != p {
				return nil, invalid.New(KeyAnonymousNets, "%.64q has host bits set: did you mean %s?", f, m)
			}
		} else {
			a, err := netip.ParseAddr(f)
			if err != nil || a.Zone() != "" {
				return nil, invalid.New(KeyAnonymousNets, "%.64q is not an IP address or a network such as 192.0.2.0/24", f)
			}
			a = a.Unmap()
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// FormatNetworks writes networks as ParseNetworks reads them, single
// addresses without their prefix length.
func FormatNetworks(nets []netip.Prefix) string {
	parts := make([]string, len(nets))
	for i, p := range nets {
		if p.IsSingleIP() {
			parts[i] = p.Addr().String()
		} else {
			parts[i] = p.String()
		}
	}
	return strings.Join(parts, ", ")
}
