package settings

import (
	"strings"

	"recordings/internal/invalid"
)

// Per-domain settings (docs/pbx.md, Domains): each served domain may have
// its own PBX name and retention period, stored under the instance-wide
// key with "@" and the domain (lower case), e.g. "retention_days@a.example".
// A domain without its own value uses the instance-wide one. Everything
// else (credentials, trace levels, anonymous networks, the NoCDR grace,
// the log retention) is instance-wide: the upload and CDR URLs and the
// App objects' password are one per instance on the App Platform, and the
// log and its trace levels are the process's.

// DomainSep separates a per-domain key from its domain.
const DomainSep = "@"

// PerDomainKeys are the settings a domain may have its own value of.
func PerDomainKeys() []string { return []string{KeyPBXName, KeyRetentionDays} }

// DomainKey is the key of domain's own value of key (one of
// PerDomainKeys); the domain is stored in lower case.
func DomainKey(key, domain string) string { return key + DomainSep + strings.ToLower(domain) }

// SplitDomainKey splits a per-domain key into the instance-wide key and
// the domain; ok is false for any other key.
func SplitDomainKey(key string) (base, domain string, ok bool) {
	base, domain, ok = strings.Cut(key, DomainSep)
	if !ok {
		return key, "", false
	}
	return base, domain, true
}

// validateDomainKey checks a per-domain setting: its domain is one System
// Name and its value is what the instance-wide key takes, or "" (which
// removes the domain's own value: the instance-wide one applies again).
func validateDomainKey(key, base, domain, value string) (string, error) {
	isPerDomain := false
	for _, k := range PerDomainKeys() {
		isPerDomain = isPerDomain || k == base
	}
	if !isPerDomain {
		return "", invalid.New(key, "%.64q has no per-domain value (only %s do)", base, strings.Join(PerDomainKeys(), ", "))
	}
	if err := checkDomainName(key, domain); err != nil {
		return "", err
	}
	if strings.ContainsRune(domain, ',') || domain != strings.ToLower(domain) {
		return "", invalid.New(key, "%.64q is not one System Name in lower case", domain)
	}
	if strings.TrimSpace(value) == "" {
		return "", nil
	}
	return Validate(base, value)
}

// checkDomainName accepts one System Name (as KeyDomain's entries).
func checkDomainName(key, d string) error {
	if d == "" {
		return invalid.New(key, "the domain is missing")
	}
	if err := checkText(key, d, MaxDomain); err != nil {
		return err
	}
	if strings.ContainsAny(d, "/?#%\\ @") {
		return invalid.New(key, "%.64q: no '/', '?', '#', '%%', '\\', '@' or spaces allowed (a System Name such as example.com)", d)
	}
	if d == "api" {
		return invalid.New(key, "\"api\" is reserved: the service's own paths begin with /api/")
	}
	return nil
}

// DomainValues are the per-domain settings in force for one domain: its
// own values where it has them, else the instance-wide ones.
type DomainValues struct {
	Domain        string `json:"domain"`
	PBXName       string `json:"pbx_name"`
	PBXNameOwn    bool   `json:"pbx_name_own"` // the domain has its own PBX name
	RetentionDays int    `json:"retention_days"`
	RetentionSet  bool   `json:"retention_set"` // a retention period applies (0 included)
	RetentionOwn  bool   `json:"retention_own"` // the domain has its own retention period
}

// ownValues are a domain's own stored values.
type ownValues struct {
	pbxName       string
	pbxNameSet    bool
	retentionDays int
	retentionSet  bool
}

// ForDomain returns the per-domain settings in force for domain (matched
// in any case); with domain "" the instance-wide ones.
func (v Values) ForDomain(domain string) DomainValues {
	out := DomainValues{Domain: domain, PBXName: v.PBXName, RetentionDays: v.RetentionDays, RetentionSet: v.RetentionSet}
	if domain == "" {
		return out
	}
	own, ok := v.perDomain[strings.ToLower(domain)]
	if !ok {
		return out
	}
	if own.pbxNameSet {
		out.PBXName, out.PBXNameOwn = own.pbxName, true
	}
	if own.retentionSet {
		out.RetentionDays, out.RetentionSet, out.RetentionOwn = own.retentionDays, true, true
	}
	return out
}

// readPerDomain collects the stored per-domain values of m; values that
// no longer validate are left out (the instance-wide one applies).
func readPerDomain(m map[string]string) map[string]ownValues {
	out := map[string]ownValues{}
	for k, raw := range m {
		base, d, ok := SplitDomainKey(k)
		if !ok {
			continue
		}
		val, err := validateDomainKey(k, base, d, raw)
		if err != nil || val == "" {
			continue
		}
		o := out[d]
		switch base {
		case KeyPBXName:
			o.pbxName, o.pbxNameSet = val, true
		case KeyRetentionDays:
			n, err := ParseDays(k, val)
			if err != nil {
				continue
			}
			o.retentionDays, o.retentionSet = n, true
		}
		out[d] = o
	}
	return out
}

// pbxNameProblems is PBXNameMissing while the instance has no PBX name
// and no domain its own; with domains configured and some named, a
// problem per configured domain that still has none.
func (v Values) pbxNameProblems() []string {
	anyNamed := v.PBXName != ""
	for _, d := range v.Domains {
		anyNamed = anyNamed || v.ForDomain(d).PBXName != ""
	}
	if !anyNamed {
		return []string{PBXNameMissing}
	}
	var out []string
	for _, d := range v.Domains {
		if v.ForDomain(d).PBXName == "" {
			out = append(out, PBXNameMissing+" for "+d)
		}
	}
	return out
}
