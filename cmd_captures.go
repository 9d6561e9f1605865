package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"recordings/internal/app"
	"recordings/internal/sealed"
	"recordings/s3blob"
	"recordings/store"
)

// openWithKey opens an existing database with the master key of keyFile
// ("" = none) and the object stores reachable with the environment's S3
// configuration.
func openWithKey(ctx context.Context, path, keyFile string, stderr io.Writer) (*store.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	var key *sealed.Key
	if keyFile != "" {
		var err error
		if key, err = sealed.LoadKeyFile(keyFile); err != nil {
			return nil, err
		}
	}
	cfg := s3blob.FromEnv()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := store.OpenOptions(ctx, path, log, store.Options{MasterKey: key,
		Blobs: func(loc string) (store.Blobs, error) { return s3blob.Open(loc, cfg) }})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return db, nil
}

// migrateCapturesCmd moves every capture to the object store given by -to,
// or back into the database (-to sqlite), while the service may run. Each
// capture is copied, verified by SHA-256 and switched over in one
// transaction; a stop leaves every capture in one place or the other, and
// running the command again continues.
func migrateCapturesCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate-captures", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := dbFlag(fs)
	to := fs.String("to", "", "where the captures go: sqlite, or s3://bucket/prefix (S3 endpoint and credentials from RECORDINGS_S3_ENDPOINT, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")
	keyFile := fs.String("key-file", os.Getenv("RECORDINGS_KEY_FILE"), "master key of encryption at rest, needed to move encrypted captures; captures in clear are encrypted on the way when it is set (env RECORDINGS_KEY_FILE)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 || *to == "" {
		return errors.New("usage: recordings migrate-captures [-db FILE] [-key-file FILE] -to sqlite|s3://bucket/prefix")
	}
	target, err := app.ParseCaptureStore(*to)
	if err != nil {
		return fmt.Errorf("-to: %w", err)
	}
	d, err := openWithKey(ctx, *db, *keyFile, stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	toBlobs := target != store.SQLiteTarget
	var b store.Blobs
	if toBlobs {
		if b, err = d.BlobsAt(target); err != nil {
			return err
		}
		if err := b.Check(ctx); err != nil {
			return fmt.Errorf("migrate-captures: %w", err)
		}
	}
	// The running service ships new captures to the same place from now on.
	if err := d.SetCaptureTarget(ctx, target); err != nil {
		return err
	}
	var moved, failed int
	var firstErr error
	for after := int64(0); ; {
		ids, err := d.CapturesToMove(ctx, toBlobs, after, 100)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			break
		}
		for _, id := range ids {
			after = id
			var ok bool
			if toBlobs {
				ok, err = d.ShipCapture(ctx, id, b)
			} else {
				ok, err = d.UnshipCapture(ctx, id)
			}
			if ctx.Err() != nil {
				return fmt.Errorf("migrate-captures: stopped after %d captures (run it again to continue): %w", moved, ctx.Err())
			}
			if err != nil {
				failed++
				firstErr = cmp(firstErr, err)
				fmt.Fprintf(stderr, "recording %d: %v\n", id, err)
				continue
			}
			if ok {
				moved++
				if moved%100 == 0 {
					fmt.Fprintf(stdout, "%d captures moved\n", moved)
				}
			}
		}
	}
	if _, err := d.CollectBlobGarbage(ctx, 100000); err != nil {
		fmt.Fprintf(stderr, "objects no longer used could not all be deleted yet (the service retries): %v\n", err)
	}
	fmt.Fprintf(stdout, "%d captures moved to %s\n", moved, target)
	fmt.Fprintf(stdout, "set RECORDINGS_CAPTURE_STORE=%s before the service starts again\n", target)
	if failed > 0 {
		return fmt.Errorf("migrate-captures: %d captures not moved (run it again once the cause is fixed): %w", failed, firstErr)
	}
	return nil
}

func cmp(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// rotateKeyCmd rewraps every recording's data key from the old master key
// to the new one; the captures are not rewritten.
func rotateKeyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rotate-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := dbFlag(fs)
	oldFile := fs.String("old-key-file", "", "the master key in use now")
	newFile := fs.String("key-file", "", "the new master key (e.g. from: openssl rand -hex 32 > FILE; chmod 600 FILE)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 || *oldFile == "" || *newFile == "" {
		return errors.New("usage: recordings rotate-key [-db FILE] -old-key-file OLD -key-file NEW")
	}
	oldKey, err := sealed.LoadKeyFile(*oldFile)
	if err != nil {
		return fmt.Errorf("-old-key-file: %w", err)
	}
	newKey, err := sealed.LoadKeyFile(*newFile)
	if err != nil {
		return fmt.Errorf("-key-file: %w", err)
	}
	d, err := openWithKey(ctx, *db, "", stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	n, err := d.RotateKey(ctx, oldKey, newKey)
	if err != nil {
		return fmt.Errorf("rotate-key: %d keys rewrapped before: %w (run it again to continue)", n, err)
	}
	masters, err := d.KeyMasters(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d data keys rewrapped from master key %s to %s\n", n, oldKey.ID(), newKey.ID())
	for m, c := range masters {
		if m != newKey.ID() {
			fmt.Fprintf(stdout, "note: %d data keys are wrapped by another master key %s\n", c, m)
		}
	}
	fmt.Fprintf(stdout, "point RECORDINGS_KEY_FILE at %s and restart the service\n", *newFile)
	return nil
}
