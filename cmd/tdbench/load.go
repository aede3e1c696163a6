package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// requestFunc builds the next request of a scenario; each worker has its own rng.
type requestFunc func(rng *rand.Rand) (*http.Request, error)

// result is one scenario at one concurrency.
type result struct {
	Scenario    string  `json:"scenario"`
	Concurrency int     `json:"concurrency"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	Seconds     float64 `json:"seconds"`
	RPS         float64 `json:"rps"`
	P50ms       float64 `json:"p50_ms"`
	P90ms       float64 `json:"p90_ms"`
	P99ms       float64 `json:"p99_ms"`
	// CPUPer1k is the server process's CPU seconds (user+system) per 1,000 requests; PeakRSSMB its
	// peak resident memory during the scenario (VmHWM after a reset, or since start where the kernel
	// cannot reset it).
	CPUPer1k  float64 `json:"server_cpu_s_per_1k"`
	PeakRSSMB float64 `json:"server_peak_rss_mb"`
	// PeakHeapMB is the most heap in use (Go's HeapInuse) of the samples taken every
	// heapSampleEvery while measuring, for the scenarios that sample it.
	PeakHeapMB float64 `json:"server_peak_heap_mb,omitempty"`
	// LoadCPUPer1k is the load generator's own CPU seconds per 1,000 requests (tdbench's process),
	// so that a run shows which side of the shared machine a scenario's time went to. The write
	// baseline has none: its loop runs in tdbench, and its CPUPer1k is the loop's.
	LoadCPUPer1k float64 `json:"load_cpu_s_per_1k,omitempty"`
	// AllocKBPerReq is what the server's Go code allocated per request, and GCPerSec the garbage
	// collections it ran per second, over the measured time (from its /metrics; 0 for the baseline,
	// which has none). A collection's marking takes CPU from the answers in flight.
	AllocKBPerReq float64 `json:"server_alloc_kb_per_req,omitempty"`
	GCPerSec      float64 `json:"server_gc_per_s,omitempty"`
	Baseline      string  `json:"baseline,omitempty"`
	BaselineRPS   float64 `json:"baseline_rps,omitempty"` // measured right before this scenario
	Ratio         float64 `json:"ratio_to_baseline,omitempty"`
	// Floor is the bare server writing the same size of answer (a page of 40 leads from memory),
	// measured right before a page scenario: what the machine and the load generator allow.
	Floor      string  `json:"floor,omitempty"`
	FloorRPS   float64 `json:"floor_rps,omitempty"`
	FloorP99ms float64 `json:"floor_p99_ms,omitempty"`
	// Processes is how many server processes answered (--processes; 0 or 1: one). A row of several
	// follows the same scenario's row of one, whose rate is OneProcessRPS, and ProcessRatio is its
	// rate divided by that one. Its CPU is summed over the processes, and so is its peak RSS.
	Processes     int     `json:"processes,omitempty"`
	OneProcessRPS float64 `json:"one_process_rps,omitempty"`
	ProcessRatio  float64 `json:"ratio_to_one_process,omitempty"`
	// BaselineRow says what row the write baseline inserted, when it is not the default (--baseline-db).
	BaselineRow string `json:"baseline_row,omitempty"`
	// BesideConcurrency is, for a scenario's side load, how many clients the scenario measured beside it.
	BesideConcurrency int `json:"beside_concurrency,omitempty"`
	// FirstErrors are a few failures verbatim, so that a failed run says why.
	FirstErrors []string `json:"first_errors,omitempty"`
}

// loadConfig says how hard and how long to push.
type loadConfig struct {
	concurrency int
	warmup      time.Duration
	duration    time.Duration
	timeout     time.Duration
	goStats     func() (goStats, bool) // the server's runtime totals; nil when it has none
	sampleHeap  bool                   // sample the server's heap in use every heapSampleEvery (goStats)
	// acked, when set, is called with every request answered as expected, warm-up included, from
	// every worker at once: what the write checks of a multi-process run count.
	acked func(req *http.Request)
}

// heapSampleEvery is how often a scenario that samples the server's heap reads it.
const heapSampleEvery = 100 * time.Millisecond

// loadClient sends one scenario request and says what went wrong ("" for a 2xx answer, or the
// status the request expects (see expecting), read to its end). Every worker calls it concurrently.
type loadClient interface {
	send(req *http.Request) string
	closeIdle()
}

// newClient returns the load generator's keep-alive client with a connection per worker: "fasthttp"
// (the default) or "net/http". On a machine shared with the server the generator's own CPU time
// is taken from the server and its scheduling delays land in every latency; fasthttp's client
// reads and writes on the worker's goroutine without allocating, where net/http's runs two more
// goroutines per connection and hands every answer across them.
func newClient(kind string, concurrency int, timeout time.Duration) loadClient {
	if kind == "net/http" {
		return stdClient{&http.Client{Timeout: timeout, Transport: &http.Transport{
			MaxIdleConns: concurrency * 2, MaxIdleConnsPerHost: concurrency * 2, IdleConnTimeout: time.Minute,
			DisableCompression: true, ForceAttemptHTTP2: false,
		}}}
	}
	return fastClient{c: &fasthttp.Client{
		MaxConnsPerHost: concurrency * 2, MaxIdleConnDuration: time.Minute,
		ReadTimeout: timeout, WriteTimeout: timeout, MaxConnWaitTimeout: timeout,
		NoDefaultUserAgentHeader: true, DisableHeaderNamesNormalizing: true, DisablePathNormalizing: true,
	}, timeout: timeout}
}

type stdClient struct{ c *http.Client }

func (s stdClient) closeIdle() { s.c.CloseIdleConnections() }

func (s stdClient) send(req *http.Request) string {
	resp, err := s.c.Do(req)
	if err != nil {
		return req.Method + " " + req.URL.RequestURI() + ": " + err.Error()
	}
	defer resp.Body.Close()
	if !answeredAsExpected(req, resp.StatusCode) {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Sprintf("%s %s: %d %s", req.Method, req.URL.RequestURI(), resp.StatusCode, body)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return req.Method + " " + req.URL.RequestURI() + ": reading the body: " + err.Error()
	}
	return ""
}

// answers keeps responses with their body buffers: fasthttp's own pool lets a large body's buffer
// go, and allocating 100 KB afresh for every page of conversations cost the load generator more CPU
// than the server spent answering it.
var answers = sync.Pool{New: func() any { return &fasthttp.Response{KeepBodyBuffer: true} }}

type fastClient struct {
	c       *fasthttp.Client
	timeout time.Duration
}

func (f fastClient) closeIdle() { f.c.CloseIdleConnections() }

// send copies the scenario's request (built once with net/http's types, so that scenarios do not
// depend on the client) and reads the whole answer.
func (f fastClient) send(req *http.Request) string {
	freq := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(freq)
	resp := answers.Get().(*fasthttp.Response)
	defer func() { resp.Reset(); answers.Put(resp) }()
	freq.Header.SetMethod(req.Method)
	freq.SetRequestURI(req.URL.String())
	for k, vs := range req.Header {
		for _, v := range vs {
			freq.Header.Add(k, v)
		}
	}
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return req.Method + " " + req.URL.RequestURI() + ": reading the request body: " + err.Error()
		}
		freq.SetBodyRaw(body)
	}
	if err := f.c.DoTimeout(freq, resp, f.timeout); err != nil {
		return req.Method + " " + req.URL.RequestURI() + ": " + err.Error()
	}
	if code := resp.StatusCode(); !answeredAsExpected(req, code) {
		body := resp.Body()
		return fmt.Sprintf("%s %s: %d %s", req.Method, req.URL.RequestURI(), code, body[:min(len(body), 300)])
	}
	return ""
}

// drive runs concurrency workers that send requests back to back for warmup+duration and records
// the latency and outcome of those that start after the warm-up. Every answer other than the one
// the request expects (a 2xx unless marked by expecting) and every transport error counts as an error. pid is the server process to account CPU and memory to (0:
// none).
func drive(ctx context.Context, client loadClient, next requestFunc, cfg loadConfig, pid int) result {
	var pids []int
	if pid > 0 {
		pids = []int{pid}
	}
	return driveSpread(ctx, client, []requestFunc{next}, cfg, pids)
}

// spreadOver is the request builder of worker w: client i sends to process i mod N.
func spreadOver(nexts []requestFunc, w int) requestFunc { return nexts[w%len(nexts)] }

// driveSpread is drive with the workers spread over several servers, nexts[k] building the
// requests of server k (see spreadOver); the servers' CPU is summed over pids, and so is their peak
// resident memory.
func driveSpread(ctx context.Context, client loadClient, nexts []requestFunc, cfg loadConfig, pids []int) result {
	res := result{Concurrency: cfg.concurrency}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		wg        sync.WaitGroup
	)
	start := time.Now()
	measureFrom := start.Add(cfg.warmup)
	end := measureFrom.Add(cfg.duration)
	var cpuBefore, loadCPUBefore float64
	var statsBefore goStats
	statsOK := false
	var before = make(chan struct{})
	go func() {
		time.Sleep(time.Until(measureFrom))
		loadCPUBefore = cpuSeconds(os.Getpid())
		for _, pid := range pids {
			resetPeakRSS(pid)
			cpuBefore += cpuSeconds(pid)
		}
		if cfg.goStats != nil {
			statsBefore, statsOK = cfg.goStats()
		}
		close(before)
	}()
	for w := 0; w < cfg.concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w)+1, uint64(start.UnixNano())))
			mine, errs := work(ctx, client, spreadOver(nexts, w), cfg.acked, rng, measureFrom, end)
			mu.Lock()
			latencies = append(latencies, mine...)
			res.Errors += len(errs)
			for _, e := range errs {
				if len(res.FirstErrors) < 5 {
					res.FirstErrors = append(res.FirstErrors, e)
				}
			}
			mu.Unlock()
		}(w)
	}
	peakHeap := make(chan float64, 1)
	if cfg.sampleHeap && cfg.goStats != nil {
		go func() { peakHeap <- sampleHeap(ctx, cfg.goStats, measureFrom, end) }()
	} else {
		peakHeap <- 0
	}
	wg.Wait()
	<-before
	res.PeakHeapMB = <-peakHeap / (1 << 20)
	elapsed := time.Since(measureFrom)
	if len(latencies) > 0 {
		res.LoadCPUPer1k = (cpuSeconds(os.Getpid()) - loadCPUBefore) / float64(len(latencies)) * 1000
	}
	if len(pids) > 0 {
		cpu := -cpuBefore
		for _, pid := range pids {
			cpu += cpuSeconds(pid)
			res.PeakRSSMB += peakRSSMB(pid)
		}
		if len(latencies) > 0 {
			res.CPUPer1k = cpu / float64(len(latencies)) * 1000
		}
	}
	if statsOK && len(latencies) > 0 {
		if after, ok := cfg.goStats(); ok {
			res.AllocKBPerReq = (after.allocBytes - statsBefore.allocBytes) / 1024 / float64(len(latencies))
			res.GCPerSec = (after.gcCycles - statsBefore.gcCycles) / elapsed.Seconds()
		}
	}
	res.Requests = len(latencies)
	res.Seconds = elapsed.Seconds()
	res.RPS = float64(res.Requests) / elapsed.Seconds()
	slices.Sort(latencies)
	res.P50ms, res.P90ms, res.P99ms = pct(latencies, 50), pct(latencies, 90), pct(latencies, 99)
	return res
}

// work sends requests back to back until end, and returns the latencies of those that started at
// measureFrom or later and every error met (those of the warm-up marked as such). acked, when not
// nil, is told of every request answered as expected.
func work(ctx context.Context, client loadClient, next requestFunc, acked func(*http.Request), rng *rand.Rand, measureFrom, end time.Time) ([]time.Duration, []string) {
	var latencies []time.Duration
	var errs []string
	for ctx.Err() == nil {
		t0 := time.Now()
		if t0.After(end) {
			break
		}
		errText := ""
		req, err := next(rng)
		if err != nil {
			errText = "build request: " + err.Error()
		} else {
			errText = client.send(req)
			if errText == "" && acked != nil {
				acked(req)
			}
		}
		d := time.Since(t0)
		if t0.Before(measureFrom) {
			if errText != "" {
				errs = append(errs, "during warm-up: "+errText)
			}
			continue
		}
		latencies = append(latencies, d)
		if errText != "" {
			errs = append(errs, errText)
		}
	}
	return latencies, errs
}

// pct returns the p-th percentile of sorted latencies, in milliseconds (nearest rank).
func pct(sorted []time.Duration, p int) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	i = min(max(i-1, 0), len(sorted)-1)
	return float64(sorted[i]) / float64(time.Millisecond)
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times; 100 on every Linux platform Go runs on.
const clockTicks = 100

// cpuSeconds returns the user+system CPU time of a process from /proc/<pid>/stat (0 if unreadable).
func cpuSeconds(pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces; fields are counted after its closing parenthesis.
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(fields[11], 64) // field 14 of stat(5)
	stime, _ := strconv.ParseFloat(fields[12], 64) // field 15
	return (utime + stime) / clockTicks
}

// resetPeakRSS resets VmHWM to the current RSS (Linux 4.0+); errors are ignored and the peak is
// then the process's lifetime peak.
func resetPeakRSS(pid int) {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// peakRSSMB reads VmHWM from /proc/<pid>/status.
func peakRSSMB(pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// sampleHeap reads the server's heap in use every heapSampleEvery from from to end and returns the
// most it saw, in bytes.
func sampleHeap(ctx context.Context, stats func() (goStats, bool), from, end time.Time) float64 {
	time.Sleep(time.Until(from))
	t := time.NewTicker(heapSampleEvery)
	defer t.Stop()
	peak := 0.0
	for ctx.Err() == nil && time.Now().Before(end) {
		if s, ok := stats(); ok {
			peak = max(peak, s.heapInuse)
		}
		<-t.C
	}
	return peak
}
