package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var urlRE = regexp.MustCompile(`"?url"?[=:]"?(https?://[0-9.:a-z]+)`)

// start runs the real server in the background and returns its URL and a stop function that waits
// for run to return.
func start(t *testing.T, args []string, env map[string]string) (string, *syncBuffer, func() error) {
	t.Helper()
	return startLogging(t, args, env, io.Discard)
}

// startLogging is start with the server's log also written to also.
func startLogging(t *testing.T, args []string, env map[string]string, also io.Writer) (string, *syncBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, func(k string) string { return env[k] }, io.Discard, io.MultiWriter(logs, also))
	}()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := urlRE.FindStringSubmatch(logs.String()); m != nil {
			return m[1], logs, func() error {
				cancel()
				select {
				case err := <-done:
					return err
				case <-time.After(20 * time.Second):
					t.Fatal("run did not return after cancellation")
					return nil
				}
			}
		}
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v\n%s", err, logs)
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("server did not log its URL:\n%s", logs)
	return "", nil, nil
}

// waitFor waits until the logs contain s.
func waitFor(t *testing.T, logs *syncBuffer, s string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Contains(logs.String(), s) {
			return
		}
	}
	t.Fatalf("logs never showed %q:\n%s", s, logs)
}

func call(t *testing.T, method, url, body string, header map[string]string) (int, map[string]any, []any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var obj map[string]any
	var arr []any
	if json.Unmarshal(raw, &obj) != nil {
		_ = json.Unmarshal(raw, &arr)
	}
	return res.StatusCode, obj, arr
}

// TestEndToEnd walks the README: sign up, sign in with a form, create a project, list departments
// with Basic auth; then restarts on the same data and checks the token still verifies.
func TestEndToEnd(t *testing.T) {
	db := filepath.Join(t.TempDir(), "e2e.db")
	url, logs, stop := start(t, []string{"--addr", "127.0.0.1:0", "--db", db}, nil)
	first := strings.SplitN(logs.String(), "\n", 2)[0]
	for _, want := range []string{"url=http://127.0.0.1:", "engine=sqlite", "data=" + db} {
		if !strings.Contains(first, want) {
			t.Fatalf("first log line %q lacks %q", first, want)
		}
	}
	waitFor(t, logs, "/v1/auth/signup")

	json := map[string]string{"Content-Type": "application/json"}
	status, _, _ := call(t, "POST", url+"/v1/auth/signup", `{"email":"andrea.leo@f21.it","password":"123456","firstname":"Andrea","lastname":"Leo"}`, json)
	if status != 200 {
		t.Fatalf("signup = %d", status)
	}
	status, signin, _ := call(t, "POST", url+"/v1/auth/signin", "email=andrea.leo@f21.it&password=123456",
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if status != 200 {
		t.Fatalf("signin = %d", status)
	}
	token := signin["token"].(string)
	status, project, _ := call(t, "POST", url+"/v1/projects", `{"name":"Acme"}`,
		map[string]string{"Content-Type": "application/json", "Authorization": token})
	if status != 200 {
		t.Fatalf("create project = %d", status)
	}
	pid := project["_id"].(string)
	req, _ := http.NewRequest("GET", url+"/v1/"+pid+"/departments", nil)
	req.SetBasicAuth("andrea.leo@f21.it", "123456")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("departments with Basic auth = %v, %v", res, err)
	}
	res.Body.Close()
	if err := stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	waitFor(t, logs, "stopped")

	// Same data, second start: the generated secret was kept, so the token still works, and the
	// sign-up hint is gone.
	url2, logs2, stop2 := start(t, []string{"--addr", "127.0.0.1:0", "--db", db}, nil)
	defer stop2()
	status, _, arr := call(t, "GET", url2+"/projects", "", map[string]string{"Authorization": token})
	if status != 200 || len(arr) != 1 {
		t.Fatalf("projects after restart = %d %v", status, arr)
	}
	if strings.Contains(logs2.String(), "curl -X POST") {
		t.Fatal("a non-empty database printed the sign-up hint")
	}
	// The start log says where the token secret came from: generated the first time, loaded after.
	if !strings.Contains(logs.String(), "token secret generated") || !strings.Contains(logs2.String(), "token secret loaded") ||
		strings.Contains(logs2.String(), "token_secret=generated") {
		t.Fatalf("token secret source in the start logs:\n%s\n---\n%s", logs, logs2)
	}
}

func TestConfigFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"TILEDESK_ADDR": "127.0.0.1:0", "TILEDESK_DB": "sqlite:" + filepath.Join(dir, "env.db"),
		"TILEDESK_JWT_SECRET": "an explicit secret of 32 bytes!!", "TILEDESK_LOG_FORMAT": "json"}
	url, logs, stop := start(t, nil, env)
	defer stop()
	waitFor(t, logs, `"engine":"sqlite"`)
	if !strings.Contains(logs.String(), filepath.Join(dir, "env.db")) {
		t.Fatalf("environment not applied, logs:\n%s", logs)
	}
	if strings.Contains(logs.String(), "token secret generated") || !strings.Contains(logs.String(), `"token_secret":"configured"`) {
		t.Fatalf("a configured secret was not logged as configured:\n%s", logs)
	}
	if status, _, _ := call(t, "GET", url+"/", "", nil); status != 200 {
		t.Fatalf("GET / = %d", status)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"bad lifetime":    {"--jwt-lifetime", "forever"},
		"bad log format":  {"--log-format", "xml"},
		"bad body limit":  {"--max-body", "12"},
		"stray argument":  {"serve"},
		"unknown flag":    {"--nope"},
		"short secret":    {"--jwt-secret", "short", "--db", filepath.Join(t.TempDir(), "x.db"), "--addr", "127.0.0.1:0"},
		"bad sqlite sync": {"--db", "sqlite:" + filepath.Join(t.TempDir(), "y.db") + "?synchronous=maybe"},
		"bad read bound":  {"--max-active-reads", "-2"},
		"bad mem limit":   {"--memory-limit-mb", "-1"},
		"bad retention":   {"--events-retention", "10m"},
	} {
		t.Run(name, func(t *testing.T) {
			err := run(context.Background(), args, func(string) string { return "" }, io.Discard, io.Discard)
			if err == nil {
				t.Fatal("run accepted a bad configuration")
			}
		})
	}
	// A flag wins over its environment twin.
	cfg, err := parseConfig([]string{"--addr", ":4000"}, func(k string) string {
		return map[string]string{"TILEDESK_ADDR": ":5000", "TILEDESK_DB": "env.db"}[k]
	}, io.Discard)
	if err != nil || cfg.addr != ":4000" || cfg.db != "env.db" {
		t.Fatalf("cfg = %+v, %v", cfg, err)
	}
}

// TestMalformedEnvironment: a number or a truth value in the environment that does not read as one
// stops the start with an error naming the variable, while the flag that replaces it is accepted.
func TestMalformedEnvironment(t *testing.T) {
	for name, want := range map[string]string{
		"TILEDESK_RENDER_CACHE_MB":  `TILEDESK_RENDER_CACHE_MB: "lots" is not a whole number`,
		"TILEDESK_MAX_ACTIVE_READS": `TILEDESK_MAX_ACTIVE_READS: "lots" is not a whole number`,
		"TILEDESK_SSL_ONLY":         `TILEDESK_SSL_ONLY: "lots" is not true or false`,
		"TILEDESK_MAINTENANCE":      `TILEDESK_MAINTENANCE: "lots" is not true or false`,
	} {
		getenv := func(k string) string { return map[string]string{name: "lots"}[k] }
		if _, err := parseConfig(nil, getenv, io.Discard); err == nil || err.Error() != want {
			t.Errorf("%s=lots: %v, want %q", name, err, want)
		}
	}
	cfg, err := parseConfig(nil, func(k string) string {
		return map[string]string{"TILEDESK_RENDER_CACHE_MB": "8", "TILEDESK_SSL_ONLY": "true"}[k]
	}, io.Discard)
	if err != nil || cfg.renderCache != 8<<20 || !cfg.sslOnly {
		t.Fatalf("well-formed environment: %+v, %v", cfg, err)
	}
	cfg, err = parseConfig(nil, func(k string) string {
		return map[string]string{"TILEDESK_MEMORY_LIMIT_MB": "300", "TILEDESK_EVENTS_RETENTION": "48h"}[k]
	}, io.Discard)
	if err != nil || cfg.memoryLimitMB != 300 || cfg.events.retention != 48*time.Hour {
		t.Fatalf("memory limit and retention from the environment: %+v, %v", cfg, err)
	}
}

// TestUnknownDBScheme: a --db that names a database this server does not speak stops the start
// with an error naming the flag, instead of serving from a new SQLite file named after it.
func TestUnknownDBScheme(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, db := range []string{"mysql://root@localhost/tiledesk", "postgress://postgres@127.0.0.1/test", "sqlite3:t.db"} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // a server that starts stops
		err := run(ctx, []string{"--db", db, "--addr", "127.0.0.1:0"}, func(string) string { return "" }, io.Discard, io.Discard)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "--db") || !strings.Contains(err.Error(), "unknown database scheme") {
			t.Fatalf("--db %s: %v", db, err)
		}
	}
	if names, _ := filepath.Glob("*"); len(names) > 0 {
		t.Fatalf("refused --db values left files behind: %v", names)
	}
}

type engineName string

func (e engineName) Engine() (string, string) { return string(e), "" }

func TestActiveReadsByEngine(t *testing.T) {
	for _, c := range []struct {
		flag   int
		engine string
		want   int
	}{{-1, "sqlite", runtime.GOMAXPROCS(0)}, {-1, "postgres", 0}, {0, "sqlite", 0}, {3, "postgres", 3}} {
		if got := activeReadsFor(c.flag, engineName(c.engine)); got != c.want {
			t.Errorf("--max-active-reads %d on %s = %d, want %d", c.flag, c.engine, got, c.want)
		}
	}
	cfg, err := parseConfig(nil, func(k string) string {
		return map[string]string{"TILEDESK_MAX_ACTIVE_READS": "7"}[k]
	}, io.Discard)
	if err != nil || cfg.activeReads != 7 {
		t.Fatalf("TILEDESK_MAX_ACTIVE_READS=7: cfg.activeReads = %d, %v", cfg.activeReads, err)
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "tiledesk ") {
		t.Fatalf("version output = %q", out.String())
	}
}

// TestHelpAndVersion: --help, -h, help, --version and version print to stdout, nothing to stderr,
// and the process exits 0, whatever the environment holds.
func TestHelpAndVersion(t *testing.T) {
	for _, c := range []struct {
		args []string
		help bool
	}{{[]string{"--help"}, true}, {[]string{"-h"}, true}, {[]string{"help"}, true}, {[]string{"-help"}, true},
		{[]string{"--addr", ":0", "--help"}, true}, {[]string{"--version"}, false}, {[]string{"version"}, false},
		{[]string{"-version"}, false}} {
		args, help := c.args, c.help
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			check := func(stdout, stderr string) {
				t.Helper()
				if help && (!strings.Contains(stdout, "Usage: tiledesk") || !strings.Contains(stdout, "-db string") ||
					!strings.Contains(stdout, "TILEDESK_DB")) || !help && !strings.HasPrefix(stdout, "tiledesk ") {
					t.Fatalf("stdout = %q", stdout)
				}
				if stderr != "" {
					t.Fatalf("stderr = %q", stderr)
				}
			}
			var out, errOut bytes.Buffer
			badEnv := func(k string) string { return map[string]string{"TILEDESK_MAX_ACTIVE_READS": "many"}[k] }
			if err := run(context.Background(), args, badEnv, &out, &errOut); err != nil {
				t.Fatalf("run = %v", err)
			}
			check(out.String(), errOut.String())

			cmd := exec.Command(os.Args[0], args...)
			cmd.Env = append(os.Environ(), "TILEDESK_TEST_SERVE=1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdout, err := cmd.Output()
			if err != nil {
				t.Fatalf("exit: %v; stderr %s", err, stderr.String())
			}
			check(string(stdout), stderr.String())
		})
	}
	// A mistake still fails, on stderr, and says where the flags are listed.
	err := run(context.Background(), []string{"--nope"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--help") {
		t.Fatalf("--nope: %v", err)
	}
}
