package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"recordings/internal/callgen"
	"recordings/settings"
	"recordings/store"
)

// An installation that took uploads and CDRs without credentials gets them
// generated at the upgrade; the start-up log says exactly what to enter on
// the phones and the PBX, the admin app reports it until they are used,
// and uploads with the logged credentials work.
func TestServeUpgradeGeneratesIngressCredentials(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.db")
	ctx := context.Background()
	db, err := store.OpenOptions(ctx, path, nil, store.Options{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, store.User{Name: "admin", Role: store.RoleAdmin}, "admin-password"); err != nil {
		t.Fatal(err)
	}
	id, _, err := db.BeginUpload(ctx, "pbx.example", "old.pcap", store.FileName{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AppendChunk(ctx, id, []byte("an old capture")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddCDRs(ctx, []store.NewCDR{{Kind: store.CDRKindPBX, Domain: "pbx.example", Raw: "<cdr/>"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	addr, logs, stop := startServe(t, path)
	out := logs.String()
	re := regexp.MustCompile(`UPGRADE: capture uploads now need credentials.* user=recorder password=(\w+) ` +
		`record_to=http://recorder:(\w+)@<server>/pbx\.example/recordings/Files/`)
	m := re.FindStringSubmatch(out)
	if m == nil || m[1] != m[2] || len(m[1]) < 16 {
		t.Fatalf("no upgrade instructions for the uploads:\n%s", out)
	}
	pw := m[1]
	if !regexp.MustCompile(`UPGRADE: CDRs now need credentials.* user=pbx-cdr password=\w{16,} ` +
		`cdr_url=http://<server>/pbx\.example/recordings/cdr`).MatchString(out) {
		t.Fatalf("no upgrade instructions for the CDRs:\n%s", out)
	}
	problems := func() string {
		req, _ := http.NewRequest("GET", addr+"/api/admin/status", nil)
		req.SetBasicAuth("admin", "admin-password")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if p := problems(); !strings.Contains(p, "Uploads need credentials since the upgrade") ||
		!strings.Contains(p, "CDRs need credentials since the upgrade") {
		t.Fatalf("status does not report the new credentials: %s", p)
	}
	put := func(user, pw string) int {
		name := fmt.Sprintf("%032x-009033302ab1-1-alice.pcap", 1)
		req, _ := http.NewRequest("PUT", addr+"/pbx.example/recordings/Files/"+name, bytes.NewReader(callgen.Default(10).Bytes()))
		if user != "" {
			req.SetBasicAuth(user, pw)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := put("", ""); code != http.StatusUnauthorized {
		t.Fatalf("anonymous upload after the upgrade: %d", code)
	}
	if code := put(settings.DefaultUploadUser, pw); code != http.StatusCreated {
		t.Fatalf("upload with the logged credentials: %d", code)
	}
	if p := problems(); strings.Contains(p, "Uploads need credentials") || !strings.Contains(p, "CDRs need credentials") {
		t.Fatalf("after the first authenticated upload: %s", p)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// The next start generates nothing and says nothing of it.
	_, logs, stop = startServe(t, path)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "generated") || strings.Contains(logs.String(), "UPGRADE") {
		t.Fatalf("second start:\n%s", logs)
	}
}

// Credentials in the environment are in force over the stored ones and
// are not generated; a bad network list stops the start with its name.
func TestServeIngressFromEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.db")
	t.Setenv("RECORDINGS_UPLOAD_USER", "env-phone")
	t.Setenv("RECORDINGS_UPLOAD_PASSWORD", "env-upload-password")
	t.Setenv("RECORDINGS_CDR_PASSWORD", "env-cdr-password")
	t.Setenv("RECORDINGS_INSTANCE_PASSWORD", "env-instance-password")
	_, logs, stop := startServe(t, path, "-anonymous-networks", "192.0.2.0/24")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if strings.Contains(out, "generated the upload") || strings.Contains(out, "generated the CDR") ||
		strings.Contains(out, "instance password") || strings.Contains(out, "env-upload-password") {
		t.Fatalf("start-up with credentials from the environment:\n%s", out)
	}
	db, err := store.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := db.Settings(context.Background())
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Nothing given is stored, nothing is generated (the CDR user stays
	// empty: the PBX sends the password with an empty user name).
	if len(m) != 0 {
		t.Fatalf("stored settings: %v", m)
	}

	t.Setenv("RECORDINGS_ANONYMOUS_NETWORKS", "10.0.0.1/8")
	err = Run(context.Background(), []string{"serve", "-listen", "127.0.0.1:0", "-db", path}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "RECORDINGS_ANONYMOUS_NETWORKS") || !strings.Contains(err.Error(), "10.0.0.0/8") {
		t.Fatalf("bad network list: %v", err)
	}
}

// An installation that took uploads but never CDRs gets CDR credentials
// too, without a problem it could never clear.
func TestServeUpgradeWithoutCDRs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.db")
	ctx := context.Background()
	db, err := store.OpenOptions(ctx, path, nil, store.Options{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.BeginUpload(ctx, "pbx.example", "old.pcap", store.FileName{}, ""); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	_, logs, stop := startServe(t, path)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, "UPGRADE: capture uploads") || strings.Contains(out, "UPGRADE: CDRs") ||
		!strings.Contains(out, "generated the CDR credentials") || strings.Contains(out, "CDRs need credentials since the upgrade") {
		t.Fatalf("start-up log:\n%s", out)
	}
}
