// Package s3test gives tests a fresh bucket on the real S3-compatible
// server that ./test.sh starts (versitygw, posix backend, on loopback). No
// in-process fake stands in for it.
//
// The server is named by the environment:
//
//	RECORDINGS_TEST_S3_ENDPOINT    e.g. http://127.0.0.1:27070
//	RECORDINGS_TEST_S3_ACCESS_KEY  the root access key
//	RECORDINGS_TEST_S3_SECRET_KEY  the root secret key
//	RECORDINGS_TEST_S3_REGION      optional; default us-east-1
//
// Without them a test that needs S3 is skipped under go test -short and
// fails otherwise, so ./test.sh (which never uses -short) always runs it.
package s3test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// The environment variables that name the test server.
const (
	EnvEndpoint  = "RECORDINGS_TEST_S3_ENDPOINT"
	EnvAccessKey = "RECORDINGS_TEST_S3_ACCESS_KEY"
	EnvSecretKey = "RECORDINGS_TEST_S3_SECRET_KEY"
	EnvRegion    = "RECORDINGS_TEST_S3_REGION"
)

// Server is the S3-compatible server of the tests.
type Server struct {
	Endpoint  string
	Region    string
	AccessKey string
	SecretKey string
}

// Env returns the server named by the environment. Where it is not named,
// the test is skipped under -short and fails otherwise.
func Env(t testing.TB) Server {
	t.Helper()
	s := Server{Endpoint: os.Getenv(EnvEndpoint), AccessKey: os.Getenv(EnvAccessKey),
		SecretKey: os.Getenv(EnvSecretKey), Region: os.Getenv(EnvRegion)}
	if s.Region == "" {
		s.Region = "us-east-1"
	}
	if s.Endpoint == "" || s.AccessKey == "" || s.SecretKey == "" {
		msg := fmt.Sprintf("no S3 test server: %s, %s and %s are not set (./test.sh starts versitygw and sets them)",
			EnvEndpoint, EnvAccessKey, EnvSecretKey)
		if testing.Short() {
			t.Skip(msg)
		}
		t.Fatal(msg)
	}
	return s
}

// Client is an S3 client of the server (path-style requests).
func (s Server) Client() *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(s.Endpoint),
		Region:       s.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		UsePathStyle: true,
	})
}

// Bucket creates a new, empty bucket for this test and removes it, with
// everything in it, when the test ends. Its name is derived from the
// test's name and is unique.
func (s Server) Bucket(t testing.TB) string {
	t.Helper()
	name := bucketName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := s.Client()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("s3test: create bucket %s on %s: %v", name, s.Endpoint, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := s.removeBucket(ctx, name); err != nil {
			t.Errorf("s3test: remove bucket %s: %v", name, err)
		}
	})
	return name
}

// Keys lists the keys in bucket under prefix.
func (s Server) Keys(t testing.TB, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.Client(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("s3test: list %s/%s: %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

func (s Server) removeBucket(ctx context.Context, bucket string) error {
	c := s.Client()
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
		if len(page.Contents) == 0 {
			break
		}
		var ids []types.ObjectIdentifier
		for _, o := range page.Contents {
			ids = append(ids, types.ObjectIdentifier{Key: o.Key})
		}
		out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &types.Delete{Objects: ids}})
		if err != nil {
			return fmt.Errorf("delete objects: %w", err)
		}
		if len(out.Errors) > 0 {
			return fmt.Errorf("delete %s: %s", aws.ToString(out.Errors[0].Key), aws.ToString(out.Errors[0].Message))
		}
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)}); err != nil {
		var nb *types.NoSuchBucket
		if errors.As(err, &nb) {
			return nil
		}
		return fmt.Errorf("delete bucket: %w", err)
	}
	return nil
}

// bucketName makes a valid, unique bucket name (3–63 lower-case letters,
// digits and hyphens) from a test name.
func bucketName(test string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(test) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			if s := b.String(); s != "" && !strings.HasSuffix(s, "-") {
				b.WriteByte('-')
			}
		}
		if b.Len() >= 40 {
			break
		}
	}
	base := strings.Trim(b.String(), "-")
	if base == "" {
		base = "test"
	}
	return base + "-" + strings.ToLower(rand.Text()[:12])
}
