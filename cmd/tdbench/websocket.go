package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// The websocket scenario (tdbench websocket): N sockets, each subscribed to the messages of one
// conversation, the server's heap once they are connected, and the delay from posting a message
// to its frame reaching the socket, at a fixed rate of posts.

type wsOptions struct {
	sockets, conversations, rate int
	duration                     time.Duration
	jsonOut, heapProfile         string
	cpuProfile                   string
	serverArgs                   stringList
}

type wsResult struct {
	Sockets          int     `json:"sockets"`
	Conversations    int     `json:"conversations"`
	Rate             int     `json:"messages_per_second"`
	Posted           int64   `json:"messages_posted"`
	FramesExpected   int64   `json:"frames_expected"`
	FramesReceived   int64   `json:"frames_received"`
	HeapIdleMB       float64 `json:"heap_inuse_mb_before_sockets"`
	HeapConnectedMB  float64 `json:"heap_inuse_mb_connected"`
	HeapLiveMB       float64 `json:"heap_inuse_mb_connected_after_gc"`
	HeapUnderLoadMB  float64 `json:"heap_inuse_mb_under_load"`
	LatencyP50Millis float64 `json:"latency_p50_ms"`
	LatencyP99Millis float64 `json:"latency_p99_ms"`
	LatencyMaxMillis float64 `json:"latency_max_ms"`
	PostP50Millis    float64 `json:"post_p50_ms"` // the POST's own answer, for comparison
	PostP99Millis    float64 `json:"post_p99_ms"`
}

func parseWSOptions(args []string, out io.Writer) (*wsOptions, error) {
	fs := flag.NewFlagSet("tdbench websocket", flag.ContinueOnError)
	fs.SetOutput(out)
	o := &wsOptions{}
	fs.IntVar(&o.sockets, "sockets", 10000, "websockets connected, each subscribed to one conversation's messages")
	fs.IntVar(&o.conversations, "conversations", 0, "conversations the sockets follow (default: one per socket)")
	fs.IntVar(&o.rate, "rate", 500, "messages posted per second into those conversations")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "how long messages are posted")
	fs.StringVar(&o.jsonOut, "json", "", "also write the result as JSON to this file")
	fs.StringVar(&o.cpuProfile, "cpu-profile", "", "write the server's CPU profile while messages are posted to this file")
	fs.Var(&o.serverArgs, "server-arg", "an extra flag for the server (repeatable), e.g. --server-arg=--memory-limit-mb=280")
	fs.StringVar(&o.heapProfile, "heap-profile", "", "write the server's heap profile, taken once the sockets are connected, to this file")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o.conversations <= 0 {
		o.conversations = o.sockets
	}
	if o.sockets < 1 || o.rate < 1 || o.duration <= 0 || o.conversations > o.sockets {
		return nil, errors.New("--sockets, --rate and --duration must be positive, --conversations at most --sockets")
	}
	return o, nil
}

// raiseFileLimit lifts the soft limit on open files to the hard one: each socket is a file, on
// both sides, and the server started from here inherits the limit.
func raiseFileLimit(need int, out io.Writer) {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		return
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
	if int(l.Cur) < need {
		fmt.Fprintf(out, "tdbench: open files are limited to %d, fewer than the %d this run needs; raise ulimit -n\n", l.Cur, need)
	}
}

// runWebsocket is tdbench websocket.
func runWebsocket(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseWSOptions(args, out)
	if err != nil {
		return err
	}
	raiseFileLimit(o.sockets+1000, out)
	debugAddr, err := freePort()
	if err != nil {
		return err
	}
	srv, stop, err := connectionServer(out, "ws", o.sockets+10, append([]string{"--debug-addr", debugAddr}, o.serverArgs...)...)
	if err != nil {
		return err
	}
	defer stop()
	res, err := measureWebsocket(ctx, o, srv.url, debugAddr, out)
	if err != nil {
		return fmt.Errorf("%w\n%s", err, srv.logs)
	}
	printWSResult(out, res)
	return writeJSONFile(o.jsonOut, res)
}

func printWSResult(out io.Writer, r *wsResult) {
	fmt.Fprintf(out, "\nwebsocket: %d sockets on %d conversations, %d messages/s\n", r.Sockets, r.Conversations, r.Rate)
	fmt.Fprintf(out, "  heap in use: %.0f MB before the sockets, %.0f MB connected (%.0f MB live after a GC), %.0f MB under load\n",
		r.HeapIdleMB, r.HeapConnectedMB, r.HeapLiveMB, r.HeapUnderLoadMB)
	fmt.Fprintf(out, "  frames: %d of %d expected; post-to-frame latency p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		r.FramesReceived, r.FramesExpected, r.LatencyP50Millis, r.LatencyP99Millis, r.LatencyMaxMillis)
	fmt.Fprintf(out, "  the POSTs' own answers: p50 %.1f ms, p99 %.1f ms\n", r.PostP50Millis, r.PostP99Millis)
}

// wsBench is one run's state: the API, the sockets' latencies.
type wsBench struct {
	api, token, pid string
	client          *http.Client
	mu              sync.Mutex
	latencies       []time.Duration
	posts           []time.Duration
	received        atomic.Int64
}

func measureWebsocket(ctx context.Context, o *wsOptions, base, debugAddr string, out io.Writer) (*wsResult, error) {
	b := &wsBench{api: base + "/v1", client: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	if err := b.setUp(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "tdbench: creating %d conversations\n", o.conversations)
	rids, err := b.conversations(ctx, o.conversations)
	if err != nil {
		return nil, err
	}
	heap := goStatsReader(base)
	res := &wsResult{Sockets: o.sockets, Conversations: o.conversations, Rate: o.rate}
	st, _ := heap()
	res.HeapIdleMB = st.heapInuse / (1 << 20)
	fmt.Fprintf(out, "tdbench: connecting %d websockets\n", o.sockets)
	conns, err := b.connect(ctx, base, rids, o.sockets)
	defer func() {
		for _, c := range conns {
			c.CloseNow()
		}
	}()
	if err != nil {
		return nil, err
	}
	st, _ = heap()
	res.HeapConnectedMB = st.heapInuse / (1 << 20)
	if err := saveHeapProfile("http://"+debugAddr+"/debug/pprof/heap?gc=1", o.heapProfile); err != nil {
		return nil, err
	}
	st, _ = heap()
	res.HeapLiveMB = st.heapInuse / (1 << 20)
	fmt.Fprintf(out, "tdbench: posting %d messages/s for %s\n", o.rate, o.duration)
	profiled := make(chan error, 1)
	go func() {
		secs := max(int(o.duration.Seconds())-1, 1)
		profiled <- saveHeapProfile(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", debugAddr, secs), o.cpuProfile)
	}()
	defer func() { <-profiled }()
	res.Posted, err = b.post(ctx, rids, o.rate, o.duration, func() {
		if s, ok := heap(); ok {
			res.HeapUnderLoadMB = max(res.HeapUnderLoadMB, s.heapInuse/(1<<20))
		}
	})
	if err != nil {
		return nil, err
	}
	res.FramesExpected = res.Posted * int64(o.sockets/o.conversations)
	for deadline := time.Now().Add(10 * time.Second); b.received.Load() < res.FramesExpected && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	res.FramesReceived = b.received.Load()
	b.mu.Lock()
	lat, posts := slices.Clone(b.latencies), slices.Clone(b.posts)
	b.mu.Unlock()
	res.LatencyP50Millis, res.LatencyP99Millis, res.LatencyMaxMillis = percentiles(lat)
	res.PostP50Millis, res.PostP99Millis, _ = percentiles(posts)
	return res, nil
}

// percentiles are the median, 99th percentile and maximum of ds, in milliseconds.
func percentiles(ds []time.Duration) (p50, p99, maxMS float64) {
	slices.Sort(ds)
	n := len(ds)
	if n == 0 {
		return 0, 0, 0
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return ms(ds[n/2]), ms(ds[n*99/100]), ms(ds[n-1])
}

func (b *wsBench) call(ctx context.Context, method, path, body string, into any) error {
	req, err := http.NewRequestWithContext(ctx, method, b.api+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if b.token != "" {
		req.Header.Set("Authorization", b.token)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if into != nil {
		return json.Unmarshal(data, into)
	}
	return nil
}

func (b *wsBench) setUp(ctx context.Context) error {
	account := `{"email":"ws@example.com","password":"Passw0rd!","firstname":"W","lastname":"S"}`
	if err := b.call(ctx, "POST", "/auth/signup", account, nil); err != nil {
		return err
	}
	var signin struct{ Token string }
	if err := b.call(ctx, "POST", "/auth/signin", account, &signin); err != nil {
		return err
	}
	b.token = signin.Token
	var p struct {
		ID string `json:"_id"`
	}
	if err := b.call(ctx, "POST", "/projects", `{"name":"Websocket bench"}`, &p); err != nil {
		return err
	}
	b.pid = p.ID
	return nil
}

// parallel runs fn(i) for i in [0, n) on workers goroutines; the first error stops it.
func parallel(n, workers int, fn func(i int) error) error {
	var next atomic.Int64
	var first atomic.Value
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for first.Load() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					first.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	wg.Wait()
	if err, ok := first.Load().(error); ok {
		return err
	}
	return nil
}

func (b *wsBench) conversations(ctx context.Context, n int) ([]string, error) {
	rids := make([]string, n)
	err := parallel(n, 16, func(i int) error {
		rids[i] = fmt.Sprintf("support-group-%s-ws%d", b.pid, i)
		return b.call(ctx, "POST", "/"+b.pid+"/requests/"+rids[i]+"/messages", `{"text":"hello"}`, nil)
	})
	return rids, err
}

// connect opens n sockets, the i-th following conversation i modulo len(rids), and returns once
// each has its snapshot; their frames are then timed on goroutines of their own.
func (b *wsBench) connect(ctx context.Context, base string, rids []string, n int) ([]*websocket.Conn, error) {
	conns := make([]*websocket.Conn, n)
	u := "ws" + strings.TrimPrefix(base, "http") + "/?token=" + url.QueryEscape(b.token)
	err := parallel(n, 32, func(i int) error {
		c, _, err := websocket.Dial(ctx, u, nil)
		if err != nil {
			return fmt.Errorf("socket %d: %w", i, err)
		}
		c.SetReadLimit(-1)
		conns[i] = c
		sub, _ := json.Marshal(map[string]any{"action": "subscribe",
			"payload": map[string]any{"topic": "/" + b.pid + "/requests/" + rids[i%len(rids)] + "/messages"}})
		if err := c.Write(ctx, websocket.MessageText, sub); err != nil {
			return err
		}
		if _, _, err := c.Read(ctx); err != nil { // the snapshot
			return fmt.Errorf("socket %d's snapshot: %w", i, err)
		}
		go b.time(c)
		return nil
	})
	return conns, err
}

// time reads a socket's frames and records how long after its post each message arrived.
func (b *wsBench) time(c *websocket.Conn) {
	for {
		_, data, err := c.Read(context.Background())
		if err != nil {
			return
		}
		i := bytes.Index(data, []byte(`"text":"t=`))
		if i < 0 {
			continue
		}
		rest := data[i+len(`"text":"t=`):]
		j := bytes.IndexByte(rest, '"')
		sent, err := strconv.ParseInt(string(rest[:max(j, 0)]), 10, 64)
		if err != nil {
			continue
		}
		d := time.Since(time.Unix(0, sent))
		b.received.Add(1)
		b.mu.Lock()
		b.latencies = append(b.latencies, d)
		b.mu.Unlock()
	}
}

// post posts rate messages a second for d, round robin over the conversations, each stamped with
// when it was sent; sample runs once a second.
func (b *wsBench) post(ctx context.Context, rids []string, rate int, d time.Duration, sample func()) (int64, error) {
	total := int(float64(rate) * d.Seconds())
	start := time.Now()
	interval := time.Second / time.Duration(rate)
	var lastSample atomic.Int64
	err := parallel(total, 64, func(i int) error {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		if s := int64(time.Since(start) / time.Second); lastSample.Swap(s) != s {
			sample()
		}
		sent := time.Now()
		body := fmt.Sprintf(`{"text":"t=%d"}`, sent.UnixNano())
		err := b.call(ctx, "POST", "/"+b.pid+"/requests/"+rids[i%len(rids)]+"/messages", body, nil)
		b.mu.Lock()
		b.posts = append(b.posts, time.Since(sent))
		b.mu.Unlock()
		return err
	})
	return int64(total), err
}

// saveHeapProfile asks the server for a profile (its heap profile collects garbage first), and
// keeps it in file unless file is "".
func saveHeapProfile(url, file string) error {
	r, err := http.Get(url)
	if err != nil {
		return err
	}
	defer r.Body.Close()
	data, err := io.ReadAll(r.Body)
	if err != nil || file == "" {
		return err
	}
	return os.WriteFile(file, data, 0o644)
}
