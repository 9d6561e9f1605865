package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"recordings/internal/app"
	"recordings/internal/apptest"
	"recordings/internal/callgen"
	"recordings/replica"
	"recordings/store"
)

type replicaReply struct {
	URL    string         `json:"url"`
	Fixed  string         `json:"fixed"`
	Status replica.Status `json:"status"`
}

func (e *opsEnv) putJSON(path, user, body string) (*http.Response, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest("PUT", e.app.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if user != "" {
		req.SetBasicAuth(user, user+"-pw")
	}
	resp, err := e.app.Client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestAdminReplica: the admin turns replication on in the admin API, sees
// it catch up in /api/admin/replica, /api/admin/status and /metrics, and
// turns it off; bad URLs and non-admins are refused.
func TestAdminReplica(t *testing.T) {
	t.Parallel()
	e := newOpsEnv(t, plenty)
	if resp, _ := e.get("/api/admin/replica", "alice"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("user got %d", resp.StatusCode)
	}
	var rep replicaReply
	resp, body := e.get("/api/admin/replica", "admin")
	if err := json.Unmarshal(body, &rep); err != nil || resp.StatusCode != 200 || rep.URL != "" || rep.Status.State != "off" {
		t.Fatalf("before: %d %s %v", resp.StatusCode, body, err)
	}
	for _, bad := range []string{`{"url":"ftp://x/y"}`, `{"url":"file://relative"}`, `{"url":"s3://a:b@bucket/p"}`, `{}`, `{"url":1}`} {
		if resp, body := e.putJSON("/api/admin/replica", "admin", bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("PUT %s: %d %s, want 400", bad, resp.StatusCode, body)
		}
	}
	if resp, _ := e.putJSON("/api/admin/replica", "alice", `{"url":""}`); resp.StatusCode != http.StatusForbidden {
		t.Errorf("user PUT got %d", resp.StatusCode)
	}

	url := "file://" + filepath.Join(t.TempDir(), "replica") + "/"
	resp, body = e.putJSON("/api/admin/replica", "admin", `{"url":"`+url+`"}`)
	if err := json.Unmarshal(body, &rep); err != nil || resp.StatusCode != 200 || rep.URL != strings.TrimSuffix(url, "/") {
		t.Fatalf("PUT: %d %s %v", resp.StatusCode, body, err)
	}
	if code := e.put(captureName(0), bytes.NewReader(callgen.Default(50).Bytes())); code != http.StatusCreated {
		t.Fatalf("upload: %d", code)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		_, body = e.get("/api/admin/replica", "admin")
		rep = replicaReply{}
		_ = json.Unmarshal(body, &rep)
		st := rep.Status
		if st.State == "replicating" && st.ReplicaTXID > 0 && st.ReplicaTXID >= st.LocalTXID && !st.LastSync.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replication did not catch up: %s", body)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition
	}
	_, body = e.get("/api/admin/status", "admin")
	if !strings.Contains(string(body), `"replica":{"url":"`+rep.URL+`","state":"replicating"`) {
		t.Errorf("admin status: %s", body)
	}
	_, body = e.get("/metrics", "admin")
	for _, want := range []string{"recordings_replica_enabled 1", "recordings_replica_healthy 1", "recordings_replica_txid "} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	resp, body = e.putJSON("/api/admin/replica", "admin", `{"url":""}`)
	if resp.StatusCode != 200 {
		t.Fatalf("turning off: %d %s", resp.StatusCode, body)
	}
	for {
		_, body = e.get("/api/admin/replica", "admin")
		if strings.Contains(string(body), `"state":"off"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replication did not stop: %s", body)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition
	}
}

// TestReplicaFixedAtStart: a replica URL given at start-up is in force
// and cannot be changed in the admin API.
func TestReplicaFixedAtStart(t *testing.T) {
	t.Parallel()
	url := "file://" + filepath.Join(t.TempDir(), "replica")
	a := apptest.New(t, func(c *app.Config) { c.ReplicaURL = url })
	a.User("admin", store.RoleAdmin, "admin-pw")
	e := &opsEnv{t: t, db: a.DB, ing: a.Ingest, set: a.Settings, app: a}
	var rep replicaReply
	_, body := e.get("/api/admin/replica", "admin")
	if err := json.Unmarshal(body, &rep); err != nil || rep.URL != url || !strings.Contains(rep.Fixed, "RECORDINGS_REPLICA_URL") {
		t.Fatalf("%s %v", body, err)
	}
	if resp, body := e.putJSON("/api/admin/replica", "admin", `{"url":""}`); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(string(body), "RECORDINGS_REPLICA_URL") {
		t.Errorf("changing a fixed URL: %d %s", resp.StatusCode, body)
	}
}
