package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// soakDuration is how long TestSoak loads the server: a few seconds in CI, longer with
// TILEDESK_SOAK=10m (any Go duration).
func soakDuration(t *testing.T) time.Duration {
	if v := os.Getenv("TILEDESK_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("TILEDESK_SOAK=%q: %v", v, err)
		}
		return d
	}
	return 4 * time.Second
}

// openFDs counts this process's open sockets: client and server ends of its connections and its
// listeners (database files are left out: the read pool opens them as it grows to its bound).
func openFDs(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd to count open connections: %v", err)
	}
	n := 0
	for _, e := range entries {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && strings.HasPrefix(target, "socket:") {
			n++
		}
	}
	return n
}

func heapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// TestSoak runs the real server in this process and loads it with mixed reads and writes from
// long-lived keep-alive clients, short-lived clients that each open and close their own
// connections, clients that walk away in the middle of a CSV export, and clients that send half a
// request and stall. Afterwards the goroutines and open descriptors must return to where they
// started (the stalled connections are cut by the server's header timeout), and the heap must not
// keep growing from one phase of the run to the next.
func TestSoak(t *testing.T) {
	dur := soakDuration(t)
	// Rate limits stay on (their per-client state is soaked too) but far above what the soak sends.
	url, _, stop := start(t, []string{"--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "soak.db"),
		"--rate-limit", "1000000/1m", "--signin-rate-limit", "1000000/1m", "--search-rate-limit", "1000000/1m"}, nil)
	defer stop()
	setup := &http.Client{Transport: &http.Transport{}}
	do := func(c *http.Client, method, path, body, token string) (int, []byte, error) {
		req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", token)
		}
		res, err := c.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		return res.StatusCode, raw, err
	}
	if status, _, err := do(setup, "POST", "/v1/auth/signup", `{"email":"soak@example.com","password":"Passw0rd!","firstname":"S","lastname":"K"}`, ""); err != nil || status != 200 {
		t.Fatalf("signup: %d %v", status, err)
	}
	_, raw, _ := do(setup, "POST", "/v1/auth/signin", `{"email":"soak@example.com","password":"Passw0rd!"}`, "")
	token := jsonField(raw, "token")
	_, raw, _ = do(setup, "POST", "/v1/projects", `{"name":"Soak"}`, token)
	pid := jsonField(raw, "_id")
	if token == "" || pid == "" {
		t.Fatal("setup failed")
	}
	for i := 0; i < 300; i++ { // enough leads for a CSV export that takes more than one page
		do(setup, "POST", "/v1/"+pid+"/leads", fmt.Sprintf(`{"fullname":"Soak %d","email":"soak%d@example.com"}`, i, i), token)
	}
	setup.CloseIdleConnections()

	time.Sleep(100 * time.Millisecond)
	baseGoroutines, baseFDs := runtime.NumGoroutine(), openFDs(t)

	var (
		requests, failures atomic.Int64
		firstFailure       atomic.Value
		stalled            []net.Conn
		stalledMu          sync.Mutex
	)
	// mixed is one request of the mix; a non-2xx answer other than an expected 404 is a failure.
	mixed := func(c *http.Client, n int) {
		var status int
		var err error
		switch n % 6 {
		case 0:
			status, _, err = do(c, "POST", "/v1/"+pid+"/leads", fmt.Sprintf(`{"fullname":"Mixed %d"}`, n), token)
		case 1:
			status, _, err = do(c, "GET", "/v1/"+pid+"/leads?limit=20", "", token)
		case 2:
			status, _, err = do(c, "GET", "/v1/"+pid+"/leads?full_text=soak", "", token)
		case 3:
			status, _, err = do(c, "PUT", "/v1/"+pid+"/leads/0123456789abcdef01234567", `{"company":"x"}`, token)
			if status == 404 {
				status = 200 // a write that fails inside its transaction, on purpose
			}
		case 4:
			status, _, err = do(c, "GET", "/v1/"+pid+"/departments", "", "")
		case 5:
			status, _, err = do(c, "POST", "/v1/"+pid+"/leads", `{"fullname":`, token) // 400, on purpose
			if status == 400 {
				status = 200
			}
		}
		requests.Add(1)
		if err != nil || status/100 != 2 {
			failures.Add(1)
			firstFailure.CompareAndSwap(nil, fmt.Sprintf("request %d: %d %v", n, status, err))
		}
	}
	phase := func(d time.Duration) {
		deadline := time.Now().Add(d)
		var wg sync.WaitGroup
		long := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 30 * time.Second}
		for w := 0; w < 8; w++ { // long-lived keep-alive clients
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for n := w; time.Now().Before(deadline); n += 8 {
					mixed(long, n)
				}
			}(w)
		}
		for w := 0; w < 4; w++ { // short-lived clients: a new connection pool for every few requests
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for n := w; time.Now().Before(deadline); n++ {
					c := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
					for k := 0; k < 1+n%4; k++ {
						mixed(c, n*4+k)
					}
					c.CloseIdleConnections()
				}
			}(w)
		}
		wg.Add(1)
		go func() { // clients that walk away: half a CSV export, then half a request that stalls
			defer wg.Done()
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest("GET", url+"/v1/"+pid+"/leads/csv", nil)
				req.Header.Set("Authorization", token)
				c := &http.Client{Transport: &http.Transport{}}
				if res, err := c.Do(req); err == nil {
					_, _ = res.Body.Read(make([]byte, 512))
					res.Body.Close()
				}
				c.CloseIdleConnections()
				if conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://")); err == nil {
					fmt.Fprintf(conn, "GET /v1/%s/leads HTTP/1.1\r\nHost: x\r\nAuthoriz", pid)
					stalledMu.Lock()
					stalled = append(stalled, conn)
					stalledMu.Unlock()
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
		wg.Wait()
		long.CloseIdleConnections()
	}

	var heaps []float64
	for i := 0; i < 3; i++ {
		phase(dur / 3)
		heaps = append(heaps, heapMB())
	}
	if f := failures.Load(); f > 0 {
		t.Fatalf("%d of %d requests failed, first: %v", f, requests.Load(), firstFailure.Load())
	}
	// The stalled clients keep their half-sent requests open; the server must cut them by itself.
	// Their client-side descriptors stay open until the end, so they are allowed for.
	stalledMu.Lock()
	nStalled := len(stalled)
	stalledMu.Unlock()
	goroutines, fds := 0, 0
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		goroutines, fds = runtime.NumGoroutine(), openFDs(t)
		if goroutines <= baseGoroutines+2 && fds <= baseFDs+nStalled+2 {
			break
		}
	}
	for _, c := range stalled {
		c.Close()
	}
	if goroutines > baseGoroutines+2 || fds > baseFDs+nStalled+2 {
		var dump bytes.Buffer
		_ = pprof.Lookup("goroutine").WriteTo(&dump, 1)
		t.Fatalf("after %d requests (and %d stalled connections) the process has %d goroutines (started with %d) and %d open sockets (started with %d, allowing %d for the stalled clients' own ends):\n%s",
			requests.Load(), nStalled, goroutines, baseGoroutines, fds, baseFDs, nStalled, dump.String())
	}
	if heaps[2] > 2*heaps[0]+16 {
		t.Fatalf("the heap keeps growing: %.1f MB, %.1f MB, %.1f MB after each third of the run", heaps[0], heaps[1], heaps[2])
	}
	t.Logf("%d requests in %v, %d stalled connections cut; goroutines %d -> %d, sockets %d -> %d, heap %.1f/%.1f/%.1f MB",
		requests.Load(), dur, nStalled, baseGoroutines, goroutines, baseFDs, fds, heaps[0], heaps[1], heaps[2])
}

func jsonField(raw []byte, field string) string {
	_, after, ok := strings.Cut(string(raw), `"`+field+`":"`)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, `"`)
	return v
}
