// Package s3blob keeps captures in an S3-compatible bucket (Ceph RGW,
// MinIO, SeaweedFS, versitygw, a cloud bucket) through the AWS SDK v2 S3
// client: it implements store.Blobs for a location s3://bucket/prefix.
//
// The AWS SDK v2 rather than minio-go: Litestream (the database replica)
// already brings the SDK into the module, so the capture store adds no
// dependency; it is maintained by the largest S3 vendor and speaks
// path-style requests to any endpoint.
package s3blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
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
	c              *s3.Client
	up             *manager.Uploader
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
	opt := s3.Options{Region: cfg.Region, UsePathStyle: true,
		// S3-compatible servers differ in the newer default checksums;
		// integrity is checked end to end by the capture's SHA-256.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired}
	if opt.Region == "" {
		opt.Region = "us-east-1"
	}
	if cfg.Endpoint != "" {
		ep := cfg.Endpoint
		if !strings.Contains(ep, "://") {
			ep = "https://" + ep
		}
		u, err := url.Parse(ep)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("s3blob: endpoint %q: want http(s)://host[:port]", cfg.Endpoint)
		}
		opt.BaseEndpoint = aws.String(u.Scheme + "://" + u.Host)
	}
	if cfg.AccessKey != "" {
		opt.Credentials = credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, "")
	} else {
		// The SDK's default chain: instance role, shared files.
		def, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion(opt.Region))
		if err != nil {
			return nil, fmt.Errorf("s3blob: %s: credentials: %w", location, err)
		}
		opt.Credentials = def.Credentials
	}
	c := s3.New(opt)
	loc, _ := Canonical(location)
	up := manager.NewUploader(c, func(u *manager.Uploader) { u.PartSize = partSize; u.Concurrency = 2 })
	return &Store{c: c, up: up, bucket: bucket, prefix: prefix, loc: loc}, nil
}

// Location is s3://bucket/prefix.
func (s *Store) Location() string { return s.loc }

func (s *Store) object(key string) string {
	if s.prefix == "" {
		return key
	}
	return s.prefix + "/" + key
}

// partSize bounds the memory of one upload of a large capture: the
// uploader buffers parts of this size (a capture below it goes in one
// request).
const partSize = 16 << 20

// Put writes object key with size bytes from r.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	cr := &countReader{r: r}
	_, err := s.up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.object(key)),
		Body: cr, ContentType: aws.String("application/octet-stream")})
	if err == nil && cr.n != size {
		err = fmt.Errorf("wrote %d bytes, want %d", cr.n, size)
	}
	if err != nil {
		return fmt.Errorf("s3blob: put %s/%s: %w", s.loc, key, err)
	}
	return nil
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ReadAt reads len(p) bytes of object key at off.
func (s *Store) ReadAt(ctx context.Context, key string, p []byte, off int64) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	out, err := s.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.object(key)),
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, off+int64(len(p))-1))})
	if err != nil {
		var nk *types.NoSuchKey
		if errors.As(err, &nk) || apiCode(err) == "InvalidRange" {
			err = fmt.Errorf("%w (%w)", io.ErrUnexpectedEOF, err)
		}
		return 0, fmt.Errorf("s3blob: read %s/%s at %d: %w", s.loc, key, off, err)
	}
	defer out.Body.Close()
	n, err := io.ReadFull(out.Body, p)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return n, fmt.Errorf("s3blob: read %s/%s at %d: %w", s.loc, key, off, err)
	}
	return n, nil
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// Delete removes object key (a missing one is not an error).
func (s *Store) Delete(ctx context.Context, key string) error {
	_, err := s.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.object(key))})
	if err != nil && apiCode(err) != "NoSuchKey" {
		return fmt.Errorf("s3blob: delete %s/%s: %w", s.loc, key, err)
	}
	return nil
}

// List calls fn with each object's key (relative to the prefix) and size.
func (s *Store) List(ctx context.Context, fn func(key string, size int64) error) error {
	pfx := ""
	if s.prefix != "" {
		pfx = s.prefix + "/"
	}
	p := s3.NewListObjectsV2Paginator(s.c, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(pfx)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("s3blob: list %s: %w", s.loc, err)
		}
		for _, o := range page.Contents {
			if err := fn(strings.TrimPrefix(aws.ToString(o.Key), pfx), aws.ToInt64(o.Size)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Check reports whether the bucket can be reached and exists.
func (s *Store) Check(ctx context.Context) error {
	_, err := s.c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)})
	if err != nil {
		var nf *types.NotFound
		if errors.As(err, &nf) || apiCode(err) == "NoSuchBucket" || apiCode(err) == "NotFound" {
			return fmt.Errorf("s3blob: %s: the bucket does not exist", s.loc)
		}
		return fmt.Errorf("s3blob: %s: %w", s.loc, err)
	}
	return nil
}

// MakeBucket creates the bucket (tests, first set-up).
func (s *Store) MakeBucket(ctx context.Context) error {
	if _, err := s.c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.bucket)}); err != nil {
		return fmt.Errorf("s3blob: make bucket %s: %w", s.bucket, err)
	}
	return nil
}
