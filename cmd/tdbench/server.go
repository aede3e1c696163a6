package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for creating and dropping the bench database
)

// moduleRoot finds the directory of the tiledesk module (go env GOMOD), so the harness runs from
// any directory of the clone.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run tdbench inside the tiledesk module")
	}
	return filepath.Dir(mod), nil
}

// buildServer compiles cmd/tiledesk into dir and returns the binary's path.
func buildServer(dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "tiledesk")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/tiledesk")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/tiledesk: %v\n%s", err, out)
	}
	return bin, nil
}

// limitFlags are the server's rate limits and budgets, all off in a benchmark: the load comes from
// one address and one credential, and would otherwise measure the 429 path.
var limitFlags = []string{"rate-limit", "signin-rate-limit", "login-failure-limit", "login-failure-ip-limit",
	"login-known-failure-limit", "search-rate-limit", "anonymous-signin-limit", "anonymous-signin-project-limit",
	"guest-write-limit", "mail-rate-limit", "project-mail-limit"}

// serverFlags returns the flags that turn off what would distort a benchmark, for the flags this
// binary has: each rate limit is switched off (0) only if --help lists its flag, so the harness works
// with servers built before and after the limits existed.
func serverFlags(bin string) []string {
	out, _ := exec.Command(bin, "--help").CombinedOutput()
	var flags []string
	for _, f := range limitFlags {
		if bytes.Contains(out, []byte("-"+f+" ")) || bytes.Contains(out, []byte("-"+f+"\n")) {
			flags = append(flags, "--"+f+"=0")
		}
	}
	if bytes.Contains(out, []byte("-webhook-allow ")) { // the webhook scenarios' receiver is local, and holds a delivery
		flags = append(flags, "--webhook-allow=127.0.0.1", "--webhook-timeout=5m")
	}
	return flags
}

// connectionServer builds the server into a new temporary directory and starts it there on an
// SQLite database, its limits off and room for capacity websocket (or MQTT) connections per user
// and per address, with extra flags; stop ends it and removes the directory.
func connectionServer(out io.Writer, name string, capacity int, extra ...string) (srv *process, stop func(), err error) {
	dir, err := os.MkdirTemp("", "tdbench-"+name+"-")
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintln(out, "tdbench: building the server")
	bin, err := buildServer(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	c := strconv.Itoa(capacity)
	args := append(serverFlags(bin), "--db", filepath.Join(dir, name+".db"), "--log-level", "warn",
		"--ws-max-per-user", c, "--ws-max-per-address", c)
	if srv, err = start(bin, append(args, extra...), "/healthz", nil); err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return srv, func() { srv.stop(); os.RemoveAll(dir) }, nil
}

// writeJSONFile writes a run's result as indented JSON, when path is set.
func writeJSONFile(path string, v any) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// freePort returns a loopback address nobody listens on now.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// process is a started server (the real one or the baseline).
type process struct {
	cmd  *exec.Cmd
	url  string
	logs *tailBuffer
	done chan error
}

// tailBuffer keeps the last 64 KiB written to it: the server's logs, shown when something fails.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - 64<<10; over > 0 {
		b.buf = append([]byte(nil), b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// start runs bin with args on a free port (given as --addr) and waits until probe answers. With
// cpus, bin runs on those CPUs only, through "tdbench on-cpus".
func start(bin string, args []string, probe string, cpus []int) (*process, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &process{url: "http://" + addr, logs: &tailBuffer{}, done: make(chan error, 1)}
	name := filepath.Base(bin)
	args = append(args, "--addr", addr)
	if len(cpus) > 0 {
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		args = append([]string{"on-cpus", formatCPUList(cpus), bin}, args...)
		bin = self
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.done <- p.cmd.Wait() }()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		select {
		case err := <-p.done:
			return nil, fmt.Errorf("%s exited during start: %v\n%s", name, err, p.logs)
		case <-time.After(20 * time.Millisecond):
		}
		if resp, err := http.Get(p.url + probe); err == nil {
			resp.Body.Close()
			return p, nil
		}
	}
	p.stop()
	return nil, fmt.Errorf("%s did not answer on %s within 30s\n%s", name, addr, p.logs)
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// stop sends SIGTERM and waits (SIGKILL after 20s).
func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// freshPostgres creates an empty database beside the one base names and returns its URL and a
// function that drops it.
func freshPostgres(ctx context.Context, base string) (string, func(), error) {
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	name := fmt.Sprintf("tdbench_%d_%d", os.Getpid(), time.Now().Unix())
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		admin.Close()
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		if _, err := admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
			fmt.Fprintf(os.Stderr, "tdbench: drop database %s: %v\n", name, err)
		}
		admin.Close()
	}
	return u.String(), drop, nil
}
