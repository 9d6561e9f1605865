package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"recordings/applog"
	"recordings/internal/sealed"
	"recordings/replica"
	"recordings/s3blob"
	"recordings/store"
)

// s3Config is the object store's share of the S3 configuration.
func s3Config(s replica.S3) s3blob.Config {
	return s3blob.Config{Endpoint: s.Endpoint, Region: s.Region, AccessKey: s.AccessKeyID, SecretKey: s.SecretAccessKey}
}

// loadKey reads the master key for encryption at rest. A key file that
// cannot be used is logged and returned as a problem: the service starts
// without a key (new captures in clear, encrypted ones unreadable, nothing
// deleted) rather than refuse every call.
func loadKey(path string, log *slog.Logger) (*sealed.Key, string) {
	if path == "" {
		return nil, ""
	}
	k, err := sealed.LoadKeyFile(path)
	if err != nil {
		log.Error("RECORDINGS_KEY_FILE unusable: starting without encryption at rest; new captures are stored in clear "+
			"and encrypted ones cannot be played until the key is fixed", "category", applog.System, "err", err)
		return nil, err.Error()
	}
	log.Info("encryption at rest on", "category", applog.System, "master_key_id", k.ID())
	return k, ""
}

// blobResolver opens the object store of a location recorded with a
// capture, with the configured endpoint and credentials.
func blobResolver(cfg s3blob.Config) store.BlobResolver {
	return func(loc string) (store.Blobs, error) {
		if !strings.HasPrefix(loc, "s3://") {
			return nil, fmt.Errorf("unknown capture store %q", loc)
		}
		return s3blob.Open(loc, cfg)
	}
}

// ParseCaptureStore checks a RECORDINGS_CAPTURE_STORE value and returns its
// canonical form: store.SQLiteTarget or s3://bucket/prefix.
func ParseCaptureStore(v string) (string, error) {
	switch {
	case v == "" || v == store.SQLiteTarget:
		return store.SQLiteTarget, nil
	case strings.HasPrefix(v, "s3://"):
		return s3blob.Canonical(v)
	}
	return "", fmt.Errorf("capture store %q: want sqlite or s3://bucket/prefix", v)
}

// setCaptureStore makes the configured capture store the target of
// completed captures. Captures already elsewhere stay where they are and
// stay readable; `recordings migrate-captures` moves them.
func setCaptureStore(ctx context.Context, db *store.DB, v string, cfg s3blob.Config, log *slog.Logger) error {
	target, err := ParseCaptureStore(v)
	if err != nil {
		return fmt.Errorf("RECORDINGS_CAPTURE_STORE: %w", err)
	}
	if target != store.SQLiteTarget {
		b, err := s3blob.Open(target, cfg)
		if err != nil {
			return fmt.Errorf("RECORDINGS_CAPTURE_STORE: %w", err)
		}
		db.AddBlobs(b)
	}
	old, err := db.CaptureTarget(ctx)
	if err != nil {
		return err
	}
	if old != target {
		log.Info("capture store changed: new captures go to the new one; run recordings migrate-captures to move the others",
			"category", applog.System, "from", old, "to", target)
	}
	return db.SetCaptureTarget(ctx, target)
}
