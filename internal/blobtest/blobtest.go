// Package blobtest gives the capture-store tests an s3blob.Store on a
// fresh bucket of the real S3-compatible server that ./test.sh starts
// (versitygw, see internal/s3test); no in-process fake stands in for S3.
package blobtest

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"

	"recordings/internal/s3test"
	"recordings/s3blob"
)

// Server returns how to reach the test server (skipped under -short and
// failing otherwise when ./test.sh has not named one).
func Server(t testing.TB) s3blob.Config {
	t.Helper()
	s := s3test.Env(t)
	return s3blob.Config{Endpoint: s.Endpoint, Region: s.Region, AccessKey: s.AccessKey, SecretKey: s.SecretKey}
}

// Bucket makes a fresh bucket (removed when the test ends) and returns its
// store at s3://bucket/prefix.
func Bucket(t testing.TB, prefix string) (*s3blob.Store, s3blob.Config) {
	t.Helper()
	cfg := Server(t)
	loc := "s3://" + s3test.Env(t).Bucket(t)
	if prefix != "" {
		loc += "/" + prefix
	}
	s, err := s3blob.Open(loc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, cfg
}

// Missing returns a store for a bucket that does not exist (yet: MakeBucket
// creates it, and the test's end does not remove it).
func Missing(t testing.TB) *s3blob.Store {
	t.Helper()
	s, err := s3blob.Open("s3://missing-"+strings.ToLower(rand.Text()[:12])+"/p", Server(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Empty what the test put there; the empty bucket stays (the
		// server's folder goes when ./test.sh ends).
		_ = s.List(context.Background(), func(k string, _ int64) error { return s.Delete(context.Background(), k) })
	})
	return s
}
