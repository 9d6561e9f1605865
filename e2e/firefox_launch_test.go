package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

const firefoxPath = "/usr/bin/firefox-esr"

// firefoxPref is one line of a profile's user.js.
type firefoxPref struct {
	name  string
	value any // bool, int or string
}

// firefoxPrefs are the preferences of the test profile. The remote agent
// sets its own recommended automation preferences at start; these add what
// must hold from the first moment (no first-run pages, no update, telemetry
// or other background traffic: the test machine may have no internet), what
// the tests need (audio may play without a gesture, downloads go to
// downloads without asking), and make focus work in a headless window.
func firefoxPrefs(downloads string) []firefoxPref {
	return []firefoxPref{
		// First run and start page.
		{"browser.shell.checkDefaultBrowser", false},
		{"browser.startup.homepage_override.mstone", "ignore"},
		{"browser.startup.page", 0},
		{"browser.startup.homepage", "about:blank"},
		{"startup.homepage_welcome_url", "about:blank"},
		{"startup.homepage_welcome_url.additional", ""},
		{"browser.newtabpage.enabled", false},
		{"browser.aboutwelcome.enabled", false},
		{"trailhead.firstrun.didSeeAboutWelcome", true},
		{"browser.tabs.warnOnClose", false},
		{"browser.sessionstore.resume_from_crash", false},
		{"toolkit.startup.max_resumed_crashes", -1},
		// Updates, telemetry, experiments and other background requests.
		{"app.update.disabledForTesting", true},
		{"app.update.auto", false},
		{"app.normandy.enabled", false},
		{"app.shield.optoutstudies.enabled", false},
		{"datareporting.policy.dataSubmissionEnabled", false},
		{"datareporting.healthreport.uploadEnabled", false},
		{"toolkit.telemetry.enabled", false},
		{"toolkit.telemetry.unified", false},
		{"toolkit.telemetry.server", "http://127.0.0.1:9/telemetry-dummy"},
		{"services.settings.server", "http://127.0.0.1:9/remote-settings-dummy/v1"},
		{"messaging-system.rsexperimentloader.enabled", false},
		{"extensions.update.enabled", false},
		{"extensions.getAddons.cache.enabled", false},
		{"extensions.blocklist.enabled", false},
		{"browser.safebrowsing.malware.enabled", false},
		{"browser.safebrowsing.phishing.enabled", false},
		{"browser.safebrowsing.downloads.enabled", false},
		{"browser.safebrowsing.downloads.remote.enabled", false},
		{"browser.safebrowsing.blockedURIs.enabled", false},
		{"browser.search.update", false},
		{"browser.region.network.url", ""},
		{"browser.region.update.enabled", false},
		{"network.captive-portal-service.enabled", false},
		{"network.connectivity-service.enabled", false},
		{"network.dns.disablePrefetch", true},
		{"network.prefetch-next", false},
		{"browser.ping-centre.telemetry", false},
		{"browser.newtabpage.activity-stream.feeds.telemetry", false},
		{"browser.newtabpage.activity-stream.telemetry", false},
		{"security.OCSP.enabled", 0},
		// Focus and media.
		{"focusmanager.testmode", true},
		{"media.autoplay.default", 0},
		{"media.autoplay.blocking_policy", 0},
		// No sound device here: cubeb's mock context plays into nothing at
		// the real pace, so that currentTime advances as on a desktop.
		{"media.cubeb.force_mock_context", true},
		// Downloads: straight into downloads, no dialog, no panel.
		{"browser.download.folderList", 2},
		{"browser.download.dir", downloads},
		{"browser.download.useDownloadDir", true},
		{"browser.download.always_ask_before_handling_new_types", false},
		{"browser.download.manager.showWhenStarting", false},
		{"browser.download.alwaysOpenPanel", false},
		{"browser.download.panel.shown", true},
		{"browser.download.start_downloads_in_tmp_dir", false},
	}
}

// writeUserJS writes prefs as the profile's user.js.
func writeUserJS(profile string, prefs []firefoxPref) error {
	var b strings.Builder
	for _, p := range prefs {
		switch p.value.(type) {
		case bool, int, string:
		default:
			return fmt.Errorf("pref %s: value %v of type %T", p.name, p.value, p.value)
		}
		v, err := json.Marshal(p.value) // JSON literals are JavaScript literals
		if err != nil {
			return fmt.Errorf("pref %s: %w", p.name, err)
		}
		fmt.Fprintf(&b, "user_pref(%q, %s);\n", p.name, v)
	}
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write user.js: %w", err)
	}
	return nil
}

// firefox is a headless Firefox with a fresh profile, driven over WebDriver
// BiDi.
type firefox struct {
	cmd     *exec.Cmd
	dir     string // profile and home, removed by stop
	conn    *bidiConn
	exited  chan struct{} // closed when the process has been waited for
	waitErr error         // the process's end; read after exited closes
	output  *tailLog

	version string        // the browser's, from session.new
	startup time.Duration // from exec to an open session
}

// bidiListening is what Firefox prints on stderr once the remote agent
// listens.
var bidiListening = regexp.MustCompile(`WebDriver BiDi listening on (ws://[^\s]+)`)

// startFirefox starts Firefox with its own profile, connects to its remote
// agent and opens a BiDi session; onEvent receives the session's events.
// The caller must call stop.
func startFirefox(ctx context.Context, downloads string, onEvent bidiEvent) (*firefox, error) {
	dir, err := os.MkdirTemp("", "e2e-firefox-")
	if err != nil {
		return nil, fmt.Errorf("profile folder: %w", err)
	}
	profile, home := filepath.Join(dir, "profile"), filepath.Join(dir, "home")
	for _, d := range []string{profile, home} {
		if err := os.Mkdir(d, 0o700); err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("profile folder: %w", err)
		}
	}
	if err := writeUserJS(profile, firefoxPrefs(downloads)); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.Command(firefoxPath, "--headless", "--no-remote", "--remote-debugging-port=0",
		"--profile", profile, "about:blank")
	// Its own home: nothing is read from or written to the real one.
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "XDG_CACHE_HOME="+home,
		"MOZ_CRASHREPORTER_DISABLE=1", "MOZ_HEADLESS=1")
	// Its own process group, so that stop can end the content processes too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// One pipe for stdout and stderr, read to its end (when Firefox and its
	// content processes have all closed it) independently of cmd.Wait.
	out, outW, err := os.Pipe()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("firefox output pipe: %w", err)
	}
	cmd.Stdout, cmd.Stderr = outW, outW
	err = cmd.Start()
	_ = outW.Close() // Firefox holds its own copy
	if err != nil {
		_ = out.Close()
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", firefoxPath, err)
	}
	began := time.Now()
	f := &firefox{cmd: cmd, dir: dir, exited: make(chan struct{}), output: &tailLog{max: 200}}
	urls := make(chan string, 1)
	go func() {
		f.readOutput(out, urls)
		_ = out.Close()
	}()
	go func() {
		f.waitErr = cmd.Wait()
		close(f.exited)
	}()

	fail := func(err error) (*firefox, error) {
		f.stop()
		return nil, fmt.Errorf("%w; firefox said:\n%s", err, f.output)
	}
	var url string
	select {
	case url = <-urls:
	case <-f.exited:
		return fail(fmt.Errorf("firefox exited before its remote agent listened: %v", f.waitErr))
	case <-ctx.Done():
		return fail(fmt.Errorf("waiting for firefox's remote agent: %w", ctx.Err()))
	}
	f.output.add(fmt.Sprintf("[test] remote agent listening after %v", time.Since(began).Round(time.Millisecond)))
	f.conn, err = dialBiDi(ctx, url+"/session", onEvent)
	if err != nil {
		return fail(err)
	}
	// Prompts are left open (ignore) for the test to see and close itself.
	caps := map[string]any{"alwaysMatch": map[string]any{
		"acceptInsecureCerts":     false,
		"unhandledPromptBehavior": map[string]string{"default": "ignore"},
	}}
	var session struct {
		SessionID    string `json:"sessionId"`
		Capabilities struct {
			BrowserName    string `json:"browserName"`
			BrowserVersion string `json:"browserVersion"`
		} `json:"capabilities"`
	}
	if err := f.conn.call(ctx, "session.new", map[string]any{"capabilities": caps}, &session); err != nil {
		return fail(err)
	}
	if session.Capabilities.BrowserName != "firefox" {
		return fail(fmt.Errorf("session.new: browser %q, want firefox", session.Capabilities.BrowserName))
	}
	f.version, f.startup = session.Capabilities.BrowserVersion, time.Since(began)
	f.output.add(fmt.Sprintf("[test] session %s with firefox %s after %v", session.SessionID,
		f.version, f.startup.Round(time.Millisecond)))
	return f, nil
}

// readOutput keeps Firefox's output for failure reports and sends the BiDi
// address when it appears.
func (f *firefox) readOutput(r io.Reader, urls chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sent := false
	for sc.Scan() {
		line := sc.Text()
		f.output.add(line)
		if m := bidiListening.FindStringSubmatch(line); m != nil && !sent {
			urls <- m[1]
			sent = true
		}
	}
	// Keep draining after a too-long line so that Firefox never blocks on
	// a full pipe.
	_, _ = io.Copy(io.Discard, r)
}

// stop closes the browser (browser.close; SIGKILL to its process group if
// it does not end) and removes the profile.
func (f *firefox) stop() {
	wait := time.Duration(0)
	if f.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = f.conn.call(ctx, "browser.close", nil, nil)
		cancel()
		f.conn.close()
		wait = 10 * time.Second // to shut down in order
	}
	select {
	case <-f.exited:
	case <-time.After(wait):
		// Still running, so the group is still Firefox's: end it with its
		// content processes.
		_ = syscall.Kill(-f.cmd.Process.Pid, syscall.SIGKILL)
		<-f.exited
	}
	// Files may still be closed by exiting helpers: retry for a moment.
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := os.RemoveAll(f.dir)
		if err == nil || time.Now().After(deadline) {
			if err != nil {
				f.output.add("[test] remove profile: " + err.Error())
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tailLog keeps the last max lines written to it.
type tailLog struct {
	max   int
	mu    sync.Mutex
	lines []string
}

func (l *tailLog) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	if len(l.lines) > l.max {
		l.lines = l.lines[len(l.lines)-l.max:]
	}
}

func (l *tailLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
