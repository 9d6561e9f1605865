package api_test

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"recordings/store"
)

// get fetches path with cookie and returns the response and its body.
func (e *wsEnv) get(cookie *http.Cookie, path string, header ...string) (*http.Response, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.app.URL+path, nil)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := e.app.Client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return res, b
}

func entryActions(m map[string]any) []string {
	var out []string
	es, _ := m["entries"].([]any)
	for _, x := range es {
		e := x.(map[string]any)
		out = append(out, e["action"].(string)+":"+e["by"].(string))
	}
	return out
}

// TestActivityAndAudit: listening (once per person and recording, however
// many ranges the player asks for), downloading, protecting, unprotecting
// and deleting land in the audit trail; a user's activity shows their own
// actions and others' actions on their recordings, nothing else; the admin
// filters the whole trail.
func TestActivityAndAudit(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t)
	id := e.upload("alice", 50)
	e.waitReady(id)
	other := e.upload("bob", 50)
	e.waitReady(other)
	alice, root := e.login("alice"), e.login("root")
	path := "/api/recordings/" + itoa(id) + "/audio.wav"
	for range 3 { // the player fetches from the start, then seeks
		if res, _ := e.get(alice, path); res.StatusCode != http.StatusOK {
			t.Fatalf("audio: %s", res.Status)
		}
		if res, _ := e.get(alice, path, "Range", "bytes=1000-1999"); res.StatusCode != http.StatusPartialContent {
			t.Fatalf("range: %s", res.Status)
		}
	}
	res, _ := e.get(root, path+"?download=1&tz=Europe/Berlin")
	if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="`) || !strings.HasSuffix(cd, `alice.wav"`) {
		t.Errorf("download Content-Disposition %q", cd)
	}
	if res, _ := e.get(alice, path+"?tz=Mars/Olympus"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown time zone: %s", res.Status)
	}
	ws := e.mustDial("alice")
	for _, p := range []bool{true, false} {
		if r := ws.call("SetProtected", map[string]any{"id": id, "protected": p}); errOf(r) != "" {
			t.Fatal(errOf(r))
		}
	}
	bobWS := e.mustDial("bob")
	if r := bobWS.call("Played", map[string]any{"id": other}); errOf(r) != "" {
		t.Fatal(errOf(r))
	}
	if r := bobWS.call("Played", map[string]any{"id": id}); errOf(r) == "" {
		t.Error("bob noted playing alice's recording")
	}
	if err := e.s.FlushAudit(e.ctx); err != nil {
		t.Fatal(err)
	}
	r := ws.call("GetActivity", map[string]any{})
	want := []string{"unprotected:alice", "protected:alice", "downloaded:root", "listened:alice"}
	if got := entryActions(r); !slices.Equal(got, want) {
		t.Errorf("alice's activity %v, want %v", got, want)
	}
	// The entry names the other party and who acted.
	if es := r["entries"].([]any); len(es) > 0 {
		e0 := es[0].(map[string]any)
		if e0["recording_id"].(float64) != float64(id) || e0["at"] == "" {
			t.Errorf("entry %v", e0)
		}
	}
	// Paging.
	r = ws.call("GetActivity", map[string]any{"limit": 3})
	next, _ := r["next"].(string)
	if len(entryActions(r)) != 3 || next == "" {
		t.Fatalf("first page %v next %q", r, next)
	}
	if r = ws.call("GetActivity", map[string]any{"limit": 3, "cursor": next}); !slices.Equal(entryActions(r), want[3:]) {
		t.Errorf("second page %v", entryActions(r))
	}
	if got := entryActions(bobWS.call("GetActivity", map[string]any{})); !slices.Equal(got, []string{"listened:bob"}) {
		t.Errorf("bob's activity %v", got)
	}
	if r := ws.call("GetAudit", map[string]any{}); errOf(r) != "administrators only" {
		t.Errorf("GetAudit by a user: %v", r)
	}
	if res, _ := e.get(alice, "/api/admin/audit"); res.StatusCode != http.StatusForbidden {
		t.Errorf("REST audit by a user: %s", res.Status)
	}
	// Deleting is noted, also after the recording is gone.
	if r := ws.call("DeleteRecording", map[string]any{"id": id}); errOf(r) != "" {
		t.Fatal(errOf(r))
	}
	rootWS := e.mustDial("root")
	for _, c := range []struct {
		params map[string]any
		want   []string
	}{
		{map[string]any{"action": "deleted"}, []string{"deleted:alice"}},
		{map[string]any{"user": "ROOT"}, []string{"downloaded:root"}},
		{map[string]any{"recording_id": other}, []string{"listened:bob"}},
		{map[string]any{"recording_id": id, "action": "listened"}, []string{"listened:alice"}},
		{map[string]any{"from": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, nil},
	} {
		if got := entryActions(rootWS.call("GetAudit", c.params)); !slices.Equal(got, c.want) {
			t.Errorf("GetAudit %v = %v, want %v", c.params, got, c.want)
		}
	}
	if r := rootWS.call("GetAudit", map[string]any{"action": "sang"}); errOf(r) == "" {
		t.Error("unknown action accepted")
	}
	if res, b := e.get(root, "/api/admin/audit?action=deleted"); res.StatusCode != http.StatusOK ||
		!bytes.Contains(b, []byte(`"action":"deleted"`)) {
		t.Errorf("REST audit: %s %s", res.Status, b)
	}
	if res, b := e.get(alice, "/api/activity?limit=1"); res.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(`"deleted"`)) {
		t.Errorf("REST activity: %s %s", res.Status, b)
	}
}

// TestBulk: deleting many refuses protected and foreign recordings with a
// reason and deletes the rest; protecting many counts the changes; a ZIP
// holds one WAV per recording named by local call time and party.
func TestBulk(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t)
	a1, a2, a3 := e.upload("alice", 30), e.upload("alice", 30), e.upload("alice", 30)
	b1 := e.upload("bob", 30)
	for _, id := range []int64{a1, a2, a3, b1} {
		e.waitReady(id)
	}
	connected := time.Date(2026, 1, 31, 23, 30, 0, 0, time.UTC) // 1 February in Berlin
	if err := e.db.SetCDR(e.ctx, a1, store.CDR{PeerName: "José García", PeerNumber: "+34911", ConnectedAt: connected}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.SetCDR(e.ctx, a2, store.CDR{PeerName: "José García", ConnectedAt: connected}); err != nil {
		t.Fatal(err)
	}
	ws := e.mustDial("alice")
	r := ws.call("SetProtectedMany", map[string]any{"ids": []int64{a1, a3, b1}, "protected": true})
	if errOf(r) != "" || r["changed"].(float64) != 2 {
		t.Fatalf("SetProtectedMany: %v", r)
	}
	if r = ws.call("SetProtectedMany", map[string]any{"ids": []int64{a1}, "protected": true}); r["changed"].(float64) != 0 {
		t.Errorf("protecting again changed %v", r)
	}
	alice := e.login("alice")
	res, body := e.get(alice, "/api/recordings.zip?tz=Europe/Berlin&ids="+itoa(a1)+","+itoa(a2)+","+itoa(a3))
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("zip: %s %s", res.Status, body)
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		head := make([]byte, 4)
		if _, err := io.ReadFull(rc, head); err != nil || string(head) != "RIFF" {
			t.Errorf("%s: not a WAV (%q, %v)", f.Name, head, err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil { // checks the CRC
			t.Errorf("%s: %v", f.Name, err)
		}
		rc.Close()
	}
	if len(names) != 3 || names[0] != "2026-02-01 00-30 Jose Garcia.wav" || names[1] != "2026-02-01 00-30 Jose Garcia (2).wav" {
		t.Errorf("zip entries %q", names)
	}
	// By filter; over the cap or foreign ids are refused clearly.
	if res, body := e.get(alice, "/api/recordings.zip?q=garcia"); res.StatusCode != http.StatusOK {
		t.Errorf("zip by filter: %s %s", res.Status, body)
	} else if zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body))); err != nil || len(zr.File) != 2 {
		t.Errorf("zip by filter: %v entries, %v", len(zr.File), err)
	}
	if res, body := e.get(alice, "/api/recordings.zip?ids="+itoa(b1)); res.StatusCode != http.StatusNotFound {
		t.Errorf("zip of bob's recording: %s %s", res.Status, body)
	}
	many := strings.Repeat("1,", 500) + "1"
	if res, body := e.get(alice, "/api/recordings.zip?ids="+many); res.StatusCode != http.StatusBadRequest || !bytes.Contains(body, []byte("at most 500")) {
		t.Errorf("zip over the cap: %s %s", res.Status, body)
	}
	if res, _ := e.get(alice, "/api/recordings.zip?q=nobody-at-all"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("empty zip: %s", res.Status)
	}
	r = ws.call("DeleteRecordings", map[string]any{"ids": []int64{a1, a2, a3, b1, 999}})
	if errOf(r) != "" || r["deleted"].(float64) != 1 {
		t.Fatalf("DeleteRecordings: %v", r)
	}
	refused := map[int64]string{}
	for _, x := range r["refused"].([]any) {
		m := x.(map[string]any)
		refused[int64(m["id"].(float64))] = m["reason"].(string)
	}
	if refused[a1] != "protected" || refused[a3] != "protected" || refused[b1] != "not_found" || refused[999] != "not_found" {
		t.Errorf("refused %v", refused)
	}
	if _, err := e.db.Recording(e.ctx, a2); err == nil {
		t.Error("a2 not deleted")
	}
	if r := ws.call("DeleteRecordings", map[string]any{"ids": []int64{}}); errOf(r) == "" {
		t.Error("empty ids accepted")
	}
}

// TestAdminPreviews: the admin app can learn what a retention or licence
// change and an account deletion would delete before saving, and settings
// save one at a time.
func TestAdminPreviews(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t)
	id := e.upload("alice", 20)
	e.waitReady(id)
	kept := e.upload("alice", 20)
	e.waitReady(kept)
	root := e.mustDial("root")
	// A retention limit of 0 days deletes nothing; the recordings are new,
	// so 1 day neither.
	r := root.call("PreviewSettings", map[string]any{"changes": map[string]any{"retention_days": 1}})
	if errOf(r) != "" || r["would_delete"].(float64) != 0 {
		t.Fatalf("PreviewSettings retention: %v", r)
	}
	if r := root.call("PreviewSettings", map[string]any{"changes": map[string]any{"retention_days": -1}}); errOf(r) == "" {
		t.Error("negative retention accepted")
	}
	if r := root.call("SetProtectedMany", map[string]any{"ids": []int64{kept}, "protected": true}); errOf(r) != "" {
		t.Fatal(errOf(r))
	}
	// Enforcing licences would delete alice's unprotected recording.
	r = root.call("PreviewSettings", map[string]any{"changes": map[string]any{"licence_count": 5}})
	if errOf(r) != "" || r["would_delete"].(float64) != 1 || len(r["examples"].([]any)) != 1 {
		t.Fatalf("PreviewSettings licences: %v", r)
	}
	r = root.call("PreviewDeleteUser", map[string]any{"name": "alice"})
	if errOf(r) != "" || r["recordings"].(float64) != 2 || r["protected"].(float64) != 1 || r["would_delete"].(float64) != 0 {
		t.Fatalf("PreviewDeleteUser: %v", r)
	}
	// Settings save one at a time: the PBX name alone.
	if r := root.call("SetSettings", map[string]any{"pbx_name": "pbx.example.com"}); errOf(r) != "" {
		t.Fatalf("SetSettings with only the PBX name: %v", r)
	}
	name := "New Name"
	if r := root.call("UpdateUser", map[string]any{"name": "bob", "display_name": name}); errOf(r) != "" ||
		r["user"].(map[string]any)["display_name"] != name {
		t.Errorf("UpdateUser: %v", r)
	}
	if r := root.call("UpdateUser", map[string]any{"name": "nobody"}); errOf(r) == "" {
		t.Error("UpdateUser of nobody accepted")
	}
	r = root.call("DeleteUser", map[string]any{"name": "alice"})
	if errOf(r) != "" || r["recordings"].(float64) != 2 {
		t.Errorf("DeleteUser: %v", r)
	}
	if r := e.mustDial("bob").call("PreviewSettings", map[string]any{"changes": map[string]any{}}); errOf(r) != "administrators only" {
		t.Errorf("PreviewSettings by a user: %v", r)
	}
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
