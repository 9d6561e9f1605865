package settings

import (
	"net/url"
	"path"
	"strings"
	"unicode"

	"recordings/internal/invalid"
)

// KeyReplicaURL is where the database is replicated continuously:
// "file:///absolute/folder" or "s3://bucket/prefix"; empty or unset: no
// replication. RECORDINGS_REPLICA_URL fixes it at start-up.
const KeyReplicaURL = "replica_url"

// MaxReplicaURL is the longest replica URL accepted, in bytes.
const MaxReplicaURL = 256

// ReplicaURL is a parsed replica target.
type ReplicaURL struct {
	Scheme string // "file" or "s3"
	Bucket string // s3: the bucket
	Path   string // file: the absolute folder; s3: the key prefix without slashes at either end ("" = the bucket's root)
}

// String is the canonical form of u, as Validate stores it.
func (u ReplicaURL) String() string {
	switch u.Scheme {
	case "file":
		return "file://" + u.Path
	case "s3":
		if u.Path == "" {
			return "s3://" + u.Bucket
		}
		return "s3://" + u.Bucket + "/" + u.Path
	}
	return ""
}

// ParseReplicaURL reads a replica target: file:///absolute/folder or
// s3://bucket/prefix (S3 bucket naming: 3–63 lower-case letters, digits,
// dots and hyphens). The endpoint, region and keys of S3 are not part of
// the URL: they come from the environment (RECORDINGS_S3_ENDPOINT,
// AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY). A refusal is an
// *invalid.Error for KeyReplicaURL.
func ParseReplicaURL(s string) (ReplicaURL, error) {
	s = strings.TrimSpace(s)
	if err := checkText(KeyReplicaURL, s, MaxReplicaURL); err != nil {
		return ReplicaURL{}, err
	}
	if strings.ContainsFunc(s, unicode.IsSpace) {
		return ReplicaURL{}, invalid.New(KeyReplicaURL, "%.64q: no spaces in a replica URL", s)
	}
	if strings.ContainsAny(s, "?#%\\") {
		return ReplicaURL{}, invalid.New(KeyReplicaURL,
			"%.64q: no query, fragment, %%-escapes or backslashes here (S3 keys and endpoint come from the environment)", s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return ReplicaURL{}, invalid.New(KeyReplicaURL, "%.64q is not a URL: want file:///folder or s3://bucket/prefix", s)
	}
	if u.Opaque != "" {
		return ReplicaURL{}, invalid.New(KeyReplicaURL, "%.64q: the folder must be an absolute path (file:///var/backups/recordings)", s)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return ReplicaURL{}, invalid.New(KeyReplicaURL,
			"%.64q: no user, query or fragment here (S3 keys and endpoint come from the environment)", s)
	}
	switch strings.ToLower(u.Scheme) {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return ReplicaURL{}, invalid.New(KeyReplicaURL, "%.64q: a file URL names a local folder: file:///folder", s)
		}
		if !strings.HasPrefix(u.Path, "/") || strings.ContainsRune(u.Path, 0) {
			return ReplicaURL{}, invalid.New(KeyReplicaURL, "%.64q: the folder must be an absolute path (file:///var/backups/recordings)", s)
		}
		p := path.Clean(u.Path)
		if p == "/" {
			return ReplicaURL{}, invalid.New(KeyReplicaURL, "%.64q: the root folder cannot be the replica", s)
		}
		return ReplicaURL{Scheme: "file", Path: p}, nil
	case "s3":
		if !validBucket(u.Host) {
			return ReplicaURL{}, invalid.New(KeyReplicaURL,
				"%.64q: the bucket must be 3 to 63 lower-case letters, digits, dots and hyphens (s3://bucket/prefix)", s)
		}
		p := strings.Trim(u.Path, "/")
		if p != "" {
			p = path.Clean(p)
			if p == "." || p == ".." || strings.HasPrefix(p, "../") {
				return ReplicaURL{}, invalid.New(KeyReplicaURL, "%.64q: the prefix must not climb out of the bucket", s)
			}
		}
		return ReplicaURL{Scheme: "s3", Bucket: u.Host, Path: p}, nil
	}
	return ReplicaURL{}, invalid.New(KeyReplicaURL, "%.64q: want file:///folder or s3://bucket/prefix", s)
}

func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	first, last := b[0], b[len(b)-1]
	return first != '-' && first != '.' && last != '-' && last != '.' && !strings.Contains(b, "..")
}

// validateReplicaURL is Validate for KeyReplicaURL: empty removes it.
func validateReplicaURL(value string) (string, error) {
	if strings.TrimSpace(value) == "" {
		return "", nil
	}
	u, err := ParseReplicaURL(value)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}
