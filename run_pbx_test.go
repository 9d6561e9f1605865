package main

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"recordings/settings"
	"recordings/store"
)

// A real restart of the service deletes the recordings of users without a
// licence, and only when a licence count is configured.
func TestServeStartupLicencePurge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.db")
	ctx := context.Background()
	db, err := store.OpenOptions(ctx, path, nil, store.Options{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"anna", "ben"} {
		if _, err := db.CreateUser(ctx, store.User{Name: n}, ""); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(name, owner string) int64 {
		id, _, err := db.BeginUpload(ctx, "example.com", name, store.FileName{ConfID: "0123456789abcdef0123456789abcdef"}, owner)
		if err != nil {
			t.Fatal(err)
		}
		// Some bytes: an interrupted upload with none is dropped at start.
		if err := db.AppendChunk(ctx, id, []byte("partial capture")); err != nil {
			t.Fatal(err)
		}
		return id
	}
	anna, ben := mk("a.pcap", "anna"), mk("b.pcap", "ben")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	start := func() string {
		t.Helper()
		out := newWatchedLog()
		sctx, cancel := context.WithCancel(ctx)
		defer cancel()
		done := make(chan error, 1)
		go func() {
			done <- Run(sctx, []string{"serve", "-listen", "127.0.0.1:0", "-listen-tls", "off", "-db", path}, out, out)
		}()
		out.await(t, regexp.MustCompile(`recordings started`), done)
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("serve: %v\n%s", err, out)
		}
		return out.String()
	}
	exists := func(id int64) bool {
		db, err := store.OpenOptions(ctx, path, nil, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		_, err = db.Recording(ctx, id)
		return err == nil
	}
	// No licence count: a restart keeps everything.
	if logs := start(); !strings.Contains(logs, "licences not configured") {
		t.Fatalf("start-up did not report the licence state:\n%s", logs)
	}
	if !exists(anna) || !exists(ben) {
		t.Fatal("a recording went without licences configured")
	}
	db, err = store.OpenOptions(ctx, path, nil, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetSettings(ctx, map[string]string{settings.KeyLicenceCount: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetUserLicensed(ctx, "anna", true); err != nil {
		t.Fatal(err)
	}
	db.Close()
	logs := start()
	if !strings.Contains(logs, "deleted recordings of users without licence") || !strings.Contains(logs, "deleted=1") {
		t.Fatalf("purge not logged with its count:\n%s", logs)
	}
	if !exists(anna) || exists(ben) {
		t.Fatalf("after restart: anna kept=%v, ben kept=%v", exists(anna), exists(ben))
	}
}
