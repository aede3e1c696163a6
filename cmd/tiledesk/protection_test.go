package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/api"
	"github.com/tiledesk-go/tiledesk/internal/auth"
	"github.com/tiledesk-go/tiledesk/internal/redistest"
)

// TestMain lets a test start this test binary as a real server process: with TILEDESK_TEST_SERVE=1
// it runs main() on its arguments instead of the tests.
func TestMain(m *testing.M) {
	if os.Getenv("TILEDESK_TEST_SERVE") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// get sends a request and returns the response with its body read.
func get(t *testing.T, client *http.Client, method, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// waitUntil polls cond for up to 10 seconds; it asserts an eventual state, not a duration.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("never happened: %s", what)
}

func TestDefaultRateLimitHeaders(t *testing.T) {
	url, _, stop := start(t, []string{"--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "d.db")}, nil)
	defer stop()
	res, _ := get(t, nil, "GET", url+"/", nil)
	if res.StatusCode != 200 || res.Header.Get("RateLimit-Limit") != "200" || res.Header.Get("RateLimit-Remaining") != "199" {
		t.Fatalf("default limits not on: %d %v", res.StatusCode, res.Header)
	}
	res, body := get(t, nil, "GET", url+"/metrics", nil)
	for _, want := range []string{"go_goroutines", "process_", "tiledesk_http_requests_total", "tiledesk_db_open_connections"} {
		if res.StatusCode != 200 || !strings.Contains(body, want) {
			t.Fatalf("/metrics lacks %s", want)
		}
	}
}

// testServer is a real api.Server on SQLite, for tests of serve().
func testServer(t *testing.T) *api.Server {
	t.Helper()
	store, err := openStore(context.Background(), filepath.Join(t.TempDir(), "s.db"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tokens, err := auth.NewTokens([]byte("a secret of sufficient length!!!"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return api.New(api.Config{Store: store, Tokens: tokens, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// slowServer serves /slow, which waits for release, and everything else from the API.
func slowServer(t *testing.T, a *api.Server) (*http.Server, net.Listener, chan struct{}, chan struct{}) {
	entered, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "done")
	})
	mux.Handle("/", a)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return &http.Server{Handler: mux}, ln, entered, release
}

func readyz(a *api.Server) int {
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	return rec.Code
}

// TestGracefulShutdown: when shutdown starts, readiness turns 503 at once, and the in-flight
// request still finishes before serve returns.
func TestGracefulShutdown(t *testing.T) {
	a := testServer(t)
	srv, ln, entered, release := slowServer(t, a)
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- serve(ctx, srv, ln, a, 0, time.Minute, slog.New(slog.NewTextHandler(logs, nil))) }()
	body := make(chan string, 1)
	go func() {
		res, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			body <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		body <- string(b)
	}()
	<-entered
	if readyz(a) != 200 {
		t.Fatal("not ready before shutdown")
	}
	cancel()
	waitUntil(t, "readyz answers 503 once shutdown starts", func() bool { return readyz(a) == 503 })
	select {
	case err := <-done:
		t.Fatalf("serve returned with a request in flight: %v", err)
	default:
	}
	close(release)
	if b := <-body; b != "done" {
		t.Fatalf("the in-flight request got %q", b)
	}
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if !strings.Contains(logs.String(), "stopped") || strings.Contains(logs.String(), "did not finish") {
		t.Fatalf("logs:\n%s", logs)
	}
}

// TestShutdownDeadline: a request that outlives the grace period is cut and serve still returns.
func TestShutdownDeadline(t *testing.T) {
	a := testServer(t)
	srv, ln, entered, release := slowServer(t, a)
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, srv, ln, a, 0, 50*time.Millisecond, slog.New(slog.NewTextHandler(logs, nil)))
	}()
	failed := make(chan error, 1)
	go func() {
		res, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err == nil {
			_, err = io.ReadAll(res.Body)
			res.Body.Close()
		}
		failed <- err
	}()
	<-entered
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return after its grace period")
	}
	if !strings.Contains(logs.String(), "did not finish in time") {
		t.Fatalf("the cut was not logged:\n%s", logs)
	}
	if err := <-failed; err == nil {
		t.Fatal("the cut request completed")
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns their paths and a pool.
func selfSigned(t *testing.T) (string, string, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return certPath, keyPath, pool
}

func TestTLSAndSSLOnly(t *testing.T) {
	certPath, keyPath, pool := selfSigned(t)
	url, _, stop := start(t, []string{"--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "t.db"),
		"--tls-cert", certPath, "--tls-key", keyPath, "--ssl-only"}, nil)
	defer stop()
	if !strings.HasPrefix(url, "https://127.0.0.1:") {
		t.Fatalf("served at %s", url)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if res, _ := get(t, client, "GET", url+"/", nil); res.StatusCode != 200 {
		t.Fatalf("GET / over TLS = %d", res.StatusCode)
	}
	if res, _ := get(t, client, "GET", url+"/v1/users", nil); res.StatusCode != 401 {
		t.Fatalf("GET /v1/users over TLS = %d, want 401 (through to authentication)", res.StatusCode)
	}

	// Behind a TLS-terminating proxy: plain HTTP is refused unless the trusted proxy says https.
	plain, _, stop2 := start(t, []string{"--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "p.db"),
		"--ssl-only", "--trusted-proxy", "127.0.0.1"}, nil)
	defer stop2()
	res, body := get(t, nil, "GET", plain+"/", nil)
	if res.StatusCode != 403 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") || !strings.Contains(body, "SSL-only") {
		t.Fatalf("plain HTTP = %d %q %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	if res, _ := get(t, nil, "GET", plain+"/", map[string]string{"X-Forwarded-Proto": "https"}); res.StatusCode != 200 {
		t.Fatalf("trusted proxy's https = %d", res.StatusCode)
	}
}

func TestMaintenanceSignal(t *testing.T) {
	url, logs, stop := start(t, []string{"--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "m.db"),
		"--maintenance", "--maintenance-retry-after", "2m"}, nil)
	defer stop()
	res, body := get(t, nil, "GET", url+"/v1/users", nil)
	if res.StatusCode != 503 || res.Header.Get("Retry-After") != "120" || !strings.Contains(body, `"code":"maintenance"`) {
		t.Fatalf("maintenance answer = %d %v %s", res.StatusCode, res.Header, body)
	}
	if res, _ := get(t, nil, "GET", url+"/healthz", nil); res.StatusCode != 200 {
		t.Fatalf("healthz in maintenance = %d", res.StatusCode)
	}
	status := func() int { res, _ := get(t, nil, "GET", url+"/", nil); return res.StatusCode }
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "SIGUSR1 ends maintenance", func() bool { return status() == 200 })
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "SIGUSR1 starts maintenance", func() bool { return status() == 503 })
	waitFor(t, logs, "maintenance mode switched by SIGUSR1")
}

func TestProtectionConfig(t *testing.T) {
	cfg, err := parseConfig([]string{"--trusted-proxy", "10.0.0.0/8, 192.168.1.7", "--trusted-proxy", "::1",
		"--cors-origins", "https://a.example,https://b.example", "--rate-limit", "300/1m,burst=50"},
		func(k string) string {
			return map[string]string{"TILEDESK_RATE_LIMIT_ROUTES": "GET /users=5/1m; POST /projects = 7/1h",
				"TILEDESK_TRUSTED_PROXIES": "1.2.3.4", "TILEDESK_SSL_ONLY": "true"}[k]
		}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var proxies []string
	for _, p := range cfg.trustedProxies {
		proxies = append(proxies, p.String())
	}
	if strings.Join(proxies, " ") != "10.0.0.0/8 192.168.1.7/32 ::1/128" { // the flag replaced the environment
		t.Errorf("trusted proxies = %v", proxies)
	}
	if strings.Join(cfg.corsOrigins, " ") != "https://a.example https://b.example" || !cfg.sslOnly {
		t.Errorf("cors %v ssl-only %v", cfg.corsOrigins, cfg.sslOnly)
	}
	if d := cfg.limits.Default; d.Count != 300 || d.Period != time.Minute || d.Burst != 50 {
		t.Errorf("default limit = %+v", d)
	}
	want := map[string]tiledesk.RateLimit{"GET /users": {Name: "GET /users", Count: 5, Period: time.Minute},
		"POST /projects": {Name: "POST /projects", Count: 7, Period: time.Hour}}
	if len(cfg.limits.Routes) != 2 || cfg.limits.Routes["GET /users"] != want["GET /users"] ||
		cfg.limits.Routes["POST /projects"] != want["POST /projects"] {
		t.Errorf("route limits = %+v", cfg.limits.Routes)
	}
	defaults, err := parseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil || defaults.limits.Default.String() != "200/1m0s" || !defaults.limits.SignIn.Enabled() ||
		!defaults.limits.LoginFailures.Enabled() || defaults.corsOrigins != nil || defaults.sslOnly || defaults.maintenance {
		t.Fatalf("defaults = %+v, %v", defaults, err)
	}
	if l := defaults.limits.Search; l.String() != "60/1m0s,burst=20" {
		t.Errorf("default search limit = %v", l)
	}
	search, err := parseConfig(nil, func(k string) string { return map[string]string{"TILEDESK_SEARCH_RATE_LIMIT": "5/10s"}[k] }, io.Discard)
	if err != nil || search.limits.Search.String() != "5/10s" {
		t.Errorf("TILEDESK_SEARCH_RATE_LIMIT=5/10s: %+v, %v", search.limits.Search, err)
	}
	off, err := parseConfig([]string{"--rate-limit", "0"}, func(string) string { return "" }, io.Discard)
	if err != nil || off.limits.Default.Enabled() {
		t.Fatalf("--rate-limit 0 = %+v, %v", off.limits.Default, err)
	}

	db := filepath.Join(t.TempDir(), "c.db")
	for name, args := range map[string][]string{
		"bad rate limit":       {"--rate-limit", "lots"},
		"bad route limit":      {"--rate-limit-route", "GET /users"},
		"bad route limit spec": {"--rate-limit-route", "GET /users=fast"},
		"unknown route":        {"--rate-limit-route", "GET /nosuch=5/1m", "--db", db, "--addr", "127.0.0.1:0"},
		"bad signin limit":     {"--signin-rate-limit", "-3"},
		"bad search limit":     {"--search-rate-limit", "often"},
		"cert without key":     {"--tls-cert", "cert.pem"},
		"missing cert files":   {"--tls-cert", "/nonexistent/c.pem", "--tls-key", "/nonexistent/k.pem", "--db", db, "--addr", "127.0.0.1:0"},
		"bad proxy":            {"--trusted-proxy", "proxy.example"},
		"bad ssl-only":         {"--ssl-only=maybe"},
		"bad ssl-only env":     {"--db", db},
		"bad maintenance":      {"--maintenance=sometimes"},
		"short retry-after":    {"--maintenance-retry-after", "0s"},
		"bad shutdown delay":   {"--shutdown-delay", "soon"},
		"bad redis url":        {"--redis-url", "http://not-redis", "--db", db, "--addr", "127.0.0.1:0"},
	} {
		t.Run(name, func(t *testing.T) {
			getenv := func(k string) string { return map[string]string{"TILEDESK_SSL_ONLY": "maybe"}[k] }
			if name != "bad ssl-only env" {
				getenv = func(string) string { return "" }
			}
			if err := run(context.Background(), args, getenv, io.Discard, io.Discard); err == nil {
				t.Fatal("run accepted a bad configuration")
			}
		})
	}
}

// startProcess runs this test binary as a tiledesk server process and returns its URL.
func startProcess(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "TILEDESK_TEST_SERVE=1")
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("a server process did not stop on SIGTERM")
		}
	})
	var url string
	waitUntil(t, "the server process logs its URL", func() bool {
		if m := urlRE.FindStringSubmatch(logs.String()); m != nil {
			url = m[1]
			return true
		}
		select {
		case err := <-exited:
			t.Fatalf("server process exited: %v\n%s", err, logs)
		default:
		}
		return false
	})
	return url
}

// TestTwoProcessesShareOneBudget starts two server processes on one Redis and sends one client's
// requests to both, alternately: together they allow the budget once, not once each.
func TestTwoProcessesShareOneBudget(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	dir := t.TempDir()
	// An hour per 15 requests: nothing refills while the test runs, however slow the machine.
	common := []string{"--addr", "127.0.0.1:0", "--redis-url", url, "--redis-prefix", prefix, "--rate-limit", "15/1h"}
	servers := []string{
		startProcess(t, append(common, "--db", filepath.Join(dir, "a.db"))...),
		startProcess(t, append(common, "--db", filepath.Join(dir, "b.db"))...),
	}
	allowed, refused := [2]int{}, [2]int{}
	for i := range 40 {
		res, _ := get(t, nil, "GET", servers[i%2]+"/", nil)
		switch res.StatusCode {
		case 200:
			allowed[i%2]++
		case 429:
			refused[i%2]++
		default:
			t.Fatalf("status %d", res.StatusCode)
		}
	}
	if allowed[0]+allowed[1] != 15 || allowed[0] == 0 || allowed[1] == 0 || refused[0] == 0 || refused[1] == 0 {
		t.Fatalf("allowed %v, refused %v: want 15 allowed in all, by both processes", allowed, refused)
	}
}

// TestRedisDownServesWithLocalLimits: with Redis unreachable the server starts, serves, and still
// limits, per process.
func TestRedisDownServesWithLocalLimits(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // nothing listens there now
	url, logs, stop := start(t, []string{"--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "r.db"),
		"--redis-url", "redis://" + dead, "--rate-limit", "3/1h"}, nil)
	defer stop()
	for i := range 4 {
		res, _ := get(t, nil, "GET", url+"/", nil)
		if want := map[bool]int{true: 200, false: 429}[i < 3]; res.StatusCode != want {
			t.Fatalf("request %d = %d, want %d", i+1, res.StatusCode, want)
		}
	}
	waitFor(t, logs, "Redis does not answer yet")
	waitFor(t, logs, "shared store unreachable")
}
