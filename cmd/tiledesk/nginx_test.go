package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The topology of deploy/compose.yaml on this machine, without containers: server processes (this
// test binary re-executed, as in crash_test.go) behind nginx running deploy/nginx.conf itself, with
// its addresses and /tmp paths replaced.

// requireNginxEnv turns a missing nginx from a skip into a failure (CI sets it).
const requireNginxEnv = "TILEDESK_TEST_REQUIRE_NGINX"

// nginxBinary returns the path of nginx, or skips (fails under TILEDESK_TEST_REQUIRE_NGINX=1).
func nginxBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil { // not on a non-root PATH
		return "/usr/sbin/nginx"
	}
	if os.Getenv(requireNginxEnv) == "1" {
		t.Fatalf("nginx is not installed and %s=1 requires it (apt-get install nginx)", requireNginxEnv)
	}
	t.Skipf("nginx is not installed (apt-get install nginx); set %s=1 to fail instead", requireNginxEnv)
	return ""
}

// serverProc is one server process; its log is kept whole.
type serverProc struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan error
	url  string
	addr string // host:port, for nginx's upstream
}

// launchServer starts a server process without waiting for it: several start at once, as they do
// in a deployment, and race for the migrations and the token secret.
func launchServer(t *testing.T, args ...string) *serverProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "TILEDESK_TEST_SERVE=1")
	p := &serverProc{cmd: cmd, logs: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM) // an error when it is gone already (kill)
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			_ = p.cmd.Process.Kill()
			t.Error("a server process did not stop on SIGTERM")
		}
	})
	return p
}

// waitServing waits until the process logs its URL.
func (p *serverProc) waitServing(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := childURL.FindStringSubmatch(p.logs.String()); m != nil {
			p.url, p.addr = m[1], strings.TrimPrefix(m[1], "http://")
			return
		}
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("a server process exited: %v\n%s", err, p.logs)
		default:
		}
	}
	t.Fatalf("a server process did not start in 30 s:\n%s", p.logs)
}

// kill ends the process with SIGKILL and waits until it is gone.
func (p *serverProc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.done <- <-p.done // for the cleanup, which waits for it too
}

// freeAddr returns a loopback address nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var deployUpstreamLine = regexp.MustCompile(`server 172\.30\.0\.1[1-3]:3000 `)

// nginxConfig is deploy/nginx.conf with its listen address, upstream servers and writable paths
// replaced; each replaced line must be found as often as expected, so that a change of the
// deployed file that the test no longer follows fails here rather than testing something else.
func nginxConfig(t *testing.T, dir, listen string, upstreams []string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf := string(raw)
	replace := func(old, new string, n int) {
		if c := strings.Count(conf, old); c != n {
			t.Fatalf("deploy/nginx.conf has %q %d times, the test expects %d: update one or the other", old, c, n)
		}
		conf = strings.ReplaceAll(conf, old, new)
	}
	replace("pid /tmp/nginx.pid;", "pid "+dir+"/nginx.pid;", 1)
	replace(" /tmp/nginx-", " "+dir+"/nginx-", 5)
	replace("access_log /dev/stdout upstream;", "access_log "+dir+"/access.log upstream;", 1)
	replace("listen 8080;", "listen "+listen+";", 1)
	if n := len(deployUpstreamLine.FindAllString(conf, -1)); n != len(upstreams) {
		t.Fatalf("deploy/nginx.conf has %d upstream servers, the test runs %d", n, len(upstreams))
	}
	i := 0
	conf = deployUpstreamLine.ReplaceAllStringFunc(conf, func(string) string {
		i++
		return "server " + upstreams[i-1] + " "
	})
	if os.Geteuid() == 0 {
		// As root nginx would run its workers as nobody, who cannot enter the test's private
		// directory to buffer a large body there.
		conf = "user root;\n" + conf
	}
	return conf
}

// nginxProc is nginx in the foreground; accessLog reads its access log.
type nginxProc struct {
	url       string
	dir       string
	logs      *syncBuffer
	accessLog func() string
}

// startNginx runs nginx in front of upstreams and waits until it answers /healthz through them.
func startNginx(t *testing.T, bin string, upstreams []string) *nginxProc {
	t.Helper()
	dir := t.TempDir()
	listen := freeAddr(t)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(nginxConfig(t, dir, listen, upstreams)), 0o644); err != nil {
		t.Fatal(err)
	}
	n := &nginxProc{url: "http://" + listen, dir: dir, logs: &syncBuffer{}}
	n.accessLog = func() string { b, _ := os.ReadFile(filepath.Join(dir, "access.log")); return string(b) }
	cmd := exec.Command(bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", confPath, "-g", "daemon off;")
	cmd.Stdout, cmd.Stderr = n.logs, n.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM) // nginx's fast shutdown
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-done:
			errLog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx exited: %v\n%s%s", err, n.logs, errLog)
		default:
		}
		if status, err := httpStatus(n.url + "/healthz"); err == nil && status == 200 {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not answer /healthz in 10 s:\n%s", n.logs)
		}
	}
}

func httpStatus(url string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, nil
}

// accessLine is one line of deploy/nginx.conf's "upstream" access log.
type accessLine struct {
	remote, method, path string
	status               int
	upstream             string // the last server tried
}

var accessLineRE = regexp.MustCompile(`^(\S+) \[[^\]]*\] "(\S+) (\S+) [^"]*" (\d+) \d+ upstream=(\S+(?:, \S+)*) `)

// accessLines parses the access log; lines nginx answered itself (no upstream) are left out.
func (n *nginxProc) accessLines(t *testing.T) []accessLine {
	t.Helper()
	var out []accessLine
	for _, line := range strings.Split(n.accessLog(), "\n") {
		m := accessLineRE.FindStringSubmatch(line)
		if m == nil || m[5] == "-" {
			continue
		}
		var status int
		fmt.Sscan(m[4], &status)
		ups := strings.Split(m[5], ", ")
		out = append(out, accessLine{remote: m[1], method: m[2], path: m[3], status: status, upstream: ups[len(ups)-1]})
	}
	return out
}
