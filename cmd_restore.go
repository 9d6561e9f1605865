package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"recordings/internal/sealed"
	"recordings/replica"
	"recordings/store"
)

// s3Flags adds the S3 endpoint and region flags (defaults from the
// environment) to fs; the keys come from the environment only, since
// flags show in ps.
func s3Flags(fs *flag.FlagSet, s *replica.S3) {
	fs.StringVar(&s.Endpoint, "s3-endpoint", s.Endpoint,
		"S3-compatible server of an s3:// replica, e.g. https://s3.example.com:9000; unset: AWS (env RECORDINGS_S3_ENDPOINT; keys in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	fs.StringVar(&s.Region, "s3-region", s.Region, "region of an s3:// replica; default us-east-1 (env AWS_REGION)")
}

// restoreCmd rebuilds a database from its continuous replica into a new
// file, checks it, and says how to put it in place.
func restoreCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", os.Getenv("RECORDINGS_REPLICA_URL"),
		"the replica: file:///folder or s3://bucket/prefix (env RECORDINGS_REPLICA_URL)")
	ts := fs.String("timestamp", "", "restore the database as it was at this time (RFC 3339, e.g. 2026-12-01T08:00:00Z); default: the latest")
	keyFile := fs.String("key-file", os.Getenv("RECORDINGS_KEY_FILE"),
		"master key the replica was encrypted under (the service's -key-file; env RECORDINGS_KEY_FILE)")
	s3 := replica.S3FromEnv(os.Getenv)
	s3Flags(fs, &s3)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *from == "" {
		return errors.New("usage: recordings restore -from URL [-key-file FILE] [-timestamp TIME] OUT.db")
	}
	out := fs.Arg(0)
	var at time.Time
	if *ts != "" {
		t, err := time.Parse(time.RFC3339Nano, *ts)
		if err != nil {
			return fmt.Errorf("restore: -timestamp %q: want RFC 3339, e.g. 2026-12-01T08:00:00Z", *ts)
		}
		at = t
	}
	var key *sealed.Key
	if *keyFile != "" {
		k, err := sealed.LoadKeyFile(*keyFile)
		if err != nil {
			return fmt.Errorf("restore: -key-file: %w", err)
		}
		key = k
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	replica.DropCABundle(log)
	res, err := replica.Restore(ctx, *from, out, replica.RestoreOptions{S3: s3, Timestamp: at, Log: log, Key: key})
	if err != nil {
		return err
	}
	note := ""
	if res.SchemaVersion < store.SchemaVersion() {
		note = fmt.Sprintf("; the service migrates it to %d at start", store.SchemaVersion())
	}
	fmt.Fprintf(stdout, "restored %s from %s (%d bytes, integrity ok, schema version %d%s)\n",
		res.Path, *from, res.Bytes, res.SchemaVersion, note)
	fmt.Fprintf(stdout, "to use it: stop the service, move it to the -db path (RECORDINGS_DB), start the service\n")
	return nil
}
