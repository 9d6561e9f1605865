// Package s3blob keeps captures in an S3-compatible bucket (Ceph RGW,
// MinIO, SeaweedFS, versitygw, a cloud bucket) through minio-go: it
// implements store.Blobs for a location s3://bucket/prefix.
//
// minio-go rather than the AWS SDK v2: one module instead of a dozen, made
// for S3-compatible servers at any endpoint (path-style addressing, any
// region name), and its ranged GetObject and sized PutObject are all a
// capture store needs.
package s3blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Config is how to reach the object store; FromEnv fills it from the
// environment.
type Config struct {
	// Endpoint is http://host:port, https://host:port or host[:port]
	// (HTTPS); default s3.amazonaws.com.
	Endpoint  string
	Region    string
	AccessKey string
	SecretKey string
}

// FromEnv reads RECORDINGS_S3_ENDPOINT, AWS_REGION, AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY.
func FromEnv() Config {
	return Config{Endpoint: os.Getenv("RECORDINGS_S3_ENDPOINT"), Region: os.Getenv("AWS_REGION"),
		AccessKey: os.Getenv("AWS_ACCESS_KEY_ID"), SecretKey: os.Getenv("AWS_SECRET_ACCESS_KEY")}
}

// ParseURL splits s3://bucket/prefix into its bucket and prefix (without
// slashes at its ends; may be empty).
func ParseURL(s string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return "", "", fmt.Errorf("s3blob: %q: want s3://bucket/prefix", s)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	prefix = strings.Trim(prefix, "/")
	if err := checkBucket(bucket); err != nil {
		return "", "", fmt.Errorf("s3blob: %q: %w", s, err)
	}
	for _, part := range strings.Split(prefix, "/") {
		if prefix != "" && (part == "" || part == "." || part == "..") {
			return "", "", fmt.Errorf("s3blob: %q: empty, . or .. element in the prefix", s)
		}
	}
	for _, c := range prefix {
		if c < 0x20 || c == 0x7f || c == '\\' || c == '?' || c == '#' {
			return "", "", fmt.Errorf("s3blob: %q: character %q not allowed in the prefix", s, c)
		}
	}
	return bucket, prefix, nil
}

// Canonical is location in its canonical form s3://bucket[/prefix].
func Canonical(location string) (string, error) {
	bucket, prefix, err := ParseURL(location)
	if err != nil {
		return "", err
	}
	if prefix == "" {
		return "s3://" + bucket, nil
	}
	return "s3://" + bucket + "/" + prefix, nil
}

// checkBucket applies S3's bucket naming rules (3–63 lower-case letters,
// digits, dots and hyphens, starting and ending with a letter or digit).
func checkBucket(b string) error {
	if len(b) < 3 || len(b) > 63 {
		return errors.New("the bucket name must have 3 to 63 characters")
	}
	for i, c := range b {
		alnum := (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
		if !alnum && c != '.' && c != '-' {
			return fmt.Errorf("character %q not allowed in a bucket name", c)
		}
		if (i == 0 || i == len(b)-1) && !alnum {
			return errors.New("a bucket name starts and ends with a letter or digit")
		}
	}
	return nil
}

// Store is one bucket and prefix.
type Store struct {
	c              *minio.Client
	bucket, prefix string
	loc            string
}

// Open makes the store of location s3://bucket/prefix. It does not
// contact the server (Check does).
func Open(location string, cfg Config) (*Store, error) {
	bucket, prefix, err := ParseURL(location)
	if err != nil {
		return nil, err
	}
	host, secure := cfg.Endpoint, true
	if host == "" {
		host = "s3.amazonaws.com"
	}
	if strings.Contains(host, "://") {
		u, err := url.Parse(host)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("s3blob: endpoint %q: want http(s)://host[:port]", cfg.Endpoint)
		}
		host, secure = u.Host, u.Scheme == "https"
	}
	var creds *credentials.Credentials
	if cfg.AccessKey != "" {
		creds = credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")
	} else {
		creds = credentials.NewIAM("")
	}
	c, err := minio.New(host, &minio.Options{Creds: creds, Secure: secure, Region: cfg.Region,
		BucketLookup: minio.BucketLookupPath, MaxRetries: 3})
	if err != nil {
		return nil, fmt.Errorf("s3blob: %s: %w", location, err)
	}
	loc, _ := Canonical(location)
	return &Store{c: c, bucket: bucket, prefix: prefix, loc: loc}, nil
}

// Location is s3://bucket/prefix.
func (s *Store) Location() string { return s.loc }

func (s *Store) object(key string) string {
	if s.prefix == "" {
		return key
	}
	return s.prefix + "/" + key
}

// partSize bounds the memory of one upload of a large capture.
const partSize = 16 << 20

// Put writes object key with size bytes from r.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	_, err := s.c.PutObject(ctx, s.bucket, s.object(key), r, size,
		minio.PutObjectOptions{ContentType: "application/octet-stream", PartSize: partSize})
	if err != nil {
		return fmt.Errorf("s3blob: put %s/%s: %w", s.loc, key, err)
	}
	return nil
}

// ReadAt reads len(p) bytes of object key at off.
func (s *Store) ReadAt(ctx context.Context, key string, p []byte, off int64) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var opt minio.GetObjectOptions
	if err := opt.SetRange(off, off+int64(len(p))-1); err != nil {
		return 0, fmt.Errorf("s3blob: read %s/%s: %w", s.loc, key, err)
	}
	o, err := s.c.GetObject(ctx, s.bucket, s.object(key), opt)
	if err != nil {
		return 0, fmt.Errorf("s3blob: read %s/%s: %w", s.loc, key, err)
	}
	defer o.Close()
	n, err := io.ReadFull(o, p)
	if err != nil {
		if minio.ToErrorResponse(err).StatusCode == http.StatusRequestedRangeNotSatisfiable || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			err = fmt.Errorf("%w (%w)", io.ErrUnexpectedEOF, err)
		}
		return n, fmt.Errorf("s3blob: read %s/%s at %d: %w", s.loc, key, off, err)
	}
	return n, nil
}

// Delete removes object key (a missing one is not an error).
func (s *Store) Delete(ctx context.Context, key string) error {
	err := s.c.RemoveObject(ctx, s.bucket, s.object(key), minio.RemoveObjectOptions{})
	if err != nil && minio.ToErrorResponse(err).Code != "NoSuchKey" {
		return fmt.Errorf("s3blob: delete %s/%s: %w", s.loc, key, err)
	}
	return nil
}

// List calls fn with each object's key (relative to the prefix) and size.
func (s *Store) List(ctx context.Context, fn func(key string, size int64) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pfx := ""
	if s.prefix != "" {
		pfx = s.prefix + "/"
	}
	for o := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: pfx, Recursive: true}) {
		if o.Err != nil {
			return fmt.Errorf("s3blob: list %s: %w", s.loc, o.Err)
		}
		if err := fn(strings.TrimPrefix(o.Key, pfx), o.Size); err != nil {
			return err
		}
	}
	return nil
}

// Check reports whether the bucket can be reached and exists.
func (s *Store) Check(ctx context.Context) error {
	ok, err := s.c.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("s3blob: %s: %w", s.loc, err)
	}
	if !ok {
		return fmt.Errorf("s3blob: %s: the bucket does not exist", s.loc)
	}
	return nil
}

// MakeBucket creates the bucket (tests, first set-up).
func (s *Store) MakeBucket(ctx context.Context) error {
	if err := s.c.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{}); err != nil {
		return fmt.Errorf("s3blob: make bucket %s: %w", s.bucket, err)
	}
	return nil
}
