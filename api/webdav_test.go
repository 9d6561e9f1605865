package api_test

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"recordings/internal/apptest"
	"recordings/internal/callgen"
	"recordings/store"
)

// davListing is the hrefs and sizes of a PROPFIND answer.
type davListing struct {
	Responses []struct {
		Href string `xml:"href"`
		Prop struct {
			Length     string    `xml:"getcontentlength"`
			ETag       string    `xml:"getetag"`
			Collection *struct{} `xml:"resourcetype>collection"`
		} `xml:"propstat>prop"`
		Status string `xml:"propstat>status"`
	} `xml:"response"`
}

func davHrefs(t *testing.T, body string) []string {
	t.Helper()
	var ms davListing
	if err := xml.Unmarshal([]byte(body), &ms); err != nil {
		t.Fatalf("multistatus: %v\n%s", err, body)
	}
	var out []string
	for _, r := range ms.Responses {
		out = append(out, r.Href)
	}
	return out
}

func propfind(depth string) func(auth func(*http.Request)) func(*http.Request) {
	return func(auth func(*http.Request)) func(*http.Request) {
		return func(r *http.Request) {
			r.Header.Set("Depth", depth)
			if auth != nil {
				auth(r)
			}
		}
	}
}

// The Files collection behaves as a class 1 WebDAV collection: OPTIONS,
// PROPFIND at depth 0 and 1 (each caller sees what they may), MKCOL
// idempotent on the collection, and DELETE refused for everyone — nothing
// stored changes.
func TestWebDAVManners(t *testing.T) {
	t.Parallel()
	a, _, recs := ingressEnv(t)
	a.User("bob", store.RoleUser, "bob-password")
	a.User("alice", store.RoleUser, "alice-password")
	before := stored(t, a.DB)
	ready := recs["ready"]
	alice := basicAs("alice", "alice-password")

	t.Run("OPTIONS", func(t *testing.T) {
		for _, p := range []string{secFiles, strings.TrimSuffix(secFiles, "/"), secFiles + ready.Name} {
			req, _ := http.NewRequest("OPTIONS", a.URL+p, nil)
			resp, err := a.Client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Header.Get("DAV") != "1" || !strings.Contains(resp.Header.Get("Allow"), "PROPFIND") {
				t.Errorf("OPTIONS %s: %d DAV=%q Allow=%q", p, resp.StatusCode, resp.Header.Get("DAV"), resp.Header.Get("Allow"))
			}
			if strings.Contains(resp.Header.Get("Allow"), "DELETE") {
				t.Errorf("OPTIONS %s allows DELETE: %q", p, resp.Header.Get("Allow"))
			}
		}
	})

	t.Run("PROPFIND", func(t *testing.T) {
		admin := basicAs("admin", apptest.AdminPassword)
		for _, tc := range []struct {
			name, path, depth string
			auth              func(*http.Request)
			code              int
			want              []string // hrefs, in any order; nil: do not check
		}{
			{"collection, no credentials", secFiles, "0", nil, 401, nil},
			{"collection, wrong upload password", secFiles, "1", basicAs(apptest.UploadUser, "guess"), 401, nil},
			{"collection depth 0, uploader", secFiles, "0", apptest.UploadAuth, 207, []string{secFiles}},
			{"collection depth 1, uploader sees no files", secFiles, "1", apptest.UploadAuth, 207, []string{secFiles}},
			{"file depth 0, uploader", secFiles + ready.Name, "0", apptest.UploadAuth, 207, []string{secFiles + ready.Name}},
			{"collection depth 1, owner", secFiles, "1", alice, 207, []string{secFiles, secFiles + recs["ready"].Name, secFiles + recs["failed"].Name}},
			{"collection depth 1, someone else", secFiles, "1", basicAs("bob", "bob-password"), 207, []string{secFiles}},
			{"file, someone else", secFiles + ready.Name, "0", basicAs("bob", "bob-password"), 404, nil},
			{"collection depth 1, admin sees all", secFiles, "1", admin, 207, []string{secFiles, secFiles + recs["ready"].Name, secFiles + recs["failed"].Name, secFiles + recs["trunk"].Name}},
			{"other domain, admin", "/other.example/recordings/Files/", "1", admin, 207, []string{"/other.example/recordings/Files/"}},
			{"depth infinity refused", secFiles, "infinity", admin, 403, nil},
			{"no such file", secFiles + "nothing.pcap", "0", admin, 404, nil},
		} {
			code, body := send(t, a, "PROPFIND", tc.path, nil, propfind(tc.depth)(tc.auth))
			if code != tc.code {
				t.Errorf("%s: %d %s", tc.name, code, body)
				continue
			}
			if tc.want == nil {
				continue
			}
			got := davHrefs(t, body)
			if fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(tc.want)) {
				t.Errorf("%s: hrefs %v, want %v", tc.name, got, tc.want)
			}
		}
		// The file's size and tag are the stored capture's.
		_, body := send(t, a, "PROPFIND", secFiles+ready.Name, nil, propfind("0")(alice))
		var ms davListing
		if err := xml.Unmarshal([]byte(body), &ms); err != nil || len(ms.Responses) != 1 {
			t.Fatalf("%v %s", err, body)
		}
		if p := ms.Responses[0].Prop; p.Length != fmt.Sprint(ready.Size) || p.ETag != `"`+ready.SHA256+`"` {
			t.Errorf("file props %+v, want size %d tag %s", p, ready.Size, ready.SHA256)
		}
		// A body that is not a propfind is refused.
		for _, b := range []string{"<not-xml", `<?xml version="1.0"?><x xmlns="DAV:"/>`} {
			if code, got := send(t, a, "PROPFIND", secFiles, []byte(b), propfind("0")(admin)); code != 400 {
				t.Errorf("body %q: %d %s", b, code, got)
			}
		}
		if code, got := send(t, a, "PROPFIND", secFiles, []byte(`<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`), propfind("0")(admin)); code != 207 {
			t.Errorf("a prop request: %d %s", code, got)
		}
	})

	t.Run("MKCOL", func(t *testing.T) {
		for i := 0; i < 2; i++ {
			if code, b := send(t, a, "MKCOL", secFiles, nil, apptest.UploadAuth); code != http.StatusCreated {
				t.Errorf("MKCOL #%d on the collection: %d %s", i, code, b)
			}
		}
		if code, b := send(t, a, "MKCOL", secFiles+"sub", nil, apptest.UploadAuth); code != http.StatusForbidden {
			t.Errorf("MKCOL below the collection: %d %s", code, b)
		}
		if code, b := send(t, a, "MKCOL", secFiles, nil, nil); code != http.StatusUnauthorized {
			t.Errorf("MKCOL without credentials: %d %s", code, b)
		}
	})

	t.Run("DELETE and friends refused", func(t *testing.T) {
		for _, m := range []string{"DELETE", "MOVE", "COPY", "LOCK", "PROPPATCH"} {
			for _, auth := range []func(*http.Request){apptest.UploadAuth, alice, nil} {
				if code, b := send(t, a, m, secFiles+ready.Name, nil, auth); code != http.StatusMethodNotAllowed {
					t.Errorf("%s: %d %s", m, code, b)
				}
			}
		}
	})

	if after := stored(t, a.DB); after != before {
		t.Fatal("WebDAV requests changed what is stored")
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// A real WebDAV client uploads a capture: rclone's webdav backend checks
// the collection, PUTs the file and reads its properties back. The test
// runs where rclone is installed (./test.sh installs it).
func TestWebDAVClientRclone(t *testing.T) {
	t.Parallel()
	rclone, err := exec.LookPath("rclone")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("rclone not installed (./test.sh installs it)")
		}
		t.Skip("rclone not installed")
	}
	a := apptest.New(t)
	dir := t.TempDir()
	name := fmt.Sprintf("%032x-009033302ab1-1--alice.pcap", 7)
	capture := callgen.Default(50).Bytes()
	src := filepath.Join(dir, name)
	if err := os.WriteFile(src, capture, 0o600); err != nil {
		t.Fatal(err)
	}
	obscured, err := exec.Command(rclone, "obscure", apptest.UploadPassword).Output()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rclone, "copyto", src, ":webdav:"+name,
		"--webdav-url", a.URL+secFiles, "--webdav-user", apptest.UploadUser,
		"--webdav-pass", strings.TrimSpace(string(obscured)),
		"--config", filepath.Join(dir, "rclone.conf"), "--retries", "1", "--low-level-retries", "1", "-v")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("rclone copyto: %v\n%s", err, out)
	}
	rec, err := a.DB.RecordingByName(a.Ctx, "example.com", name)
	if err != nil {
		t.Fatalf("the upload is not stored: %v\n%s", err, out)
	}
	rec = a.WaitAnalysed(rec.ID)
	if rec.State != store.StateReady || rec.Size != int64(len(capture)) {
		t.Fatalf("uploaded recording %+v, want ready with %d bytes\n%s", rec, len(capture), out)
	}
}
