package api_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"testing"

	"recordings/store"
)

// digest hashes everything stored about every recording, captures included,
// so that a test can prove that a series of requests changed nothing.
func digest(t *testing.T, db *store.DB) string {
	t.Helper()
	ctx := context.Background()
	h := sha256.New()
	f := store.ListFilter{Limit: store.MaxListLimit, Full: true}
	for {
		recs, next, err := db.ListRecordings(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			fmt.Fprintf(h, "%d|%s|%s|%+v|%s|%s|%d|%s|%d|%v|%v|%s|%d|%x|%x|%v|%s|%s|%s|%v|%d|%v\n",
				r.ID, r.Domain, r.Name, r.FileName, r.State, r.Reason, r.Size, r.SHA256, r.Chunks,
				r.CreatedAt.UnixMilli(), r.UpdatedAt.UnixMilli(), r.Codec, r.DurationMS, r.Stats, r.Envelope,
				r.Protected, r.Owner, r.Direction, r.PeerName, r.ConnectedAt.UnixMilli(), r.CallMS, r.CDR)
			c, err := db.OpenCapture(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(h, c); err != nil {
				t.Fatal(err)
			}
			c.Close()
		}
		if next == "" {
			break
		}
		f.Cursor = next
	}
	users, err := db.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		fmt.Fprintf(h, "user %+v\n", u)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// integrityCheck runs PRAGMA integrity_check on the database file over a
// connection of its own.
func integrityCheck(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil {
		t.Fatalf("integrity_check: %v", err)
	}
	if res != "ok" {
		t.Fatalf("integrity_check: %s", res)
	}
}
