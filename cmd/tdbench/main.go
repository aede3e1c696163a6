// Command tdbench measures the tiledesk server: it builds the server, starts it on a temporary
// database (SQLite by default, or a fresh PostgreSQL database with --db postgres://...), seeds it
// through the store, and drives keep-alive load at the real HTTP API from concurrent clients. Every
// scenario is reported beside a baseline measured in the same run on the same machine (a bare
// net/http handler for reads, a bare durable insert loop for writes), so the ratios hold anywhere.
//
//	go run ./cmd/tdbench                                   # SQLite, 100,000 leads, 32 clients
//	go run ./cmd/tdbench --concurrency 1,8,32,128 --json out.json
//	go run ./cmd/tdbench --db postgres://postgres@127.0.0.1:5432/test?sslmode=disable
//	go run ./cmd/tdbench --db postgres://... --processes 3    # three servers on one database, checked
//	go run ./cmd/tdbench websocket --sockets 10000 --rate 500  # sockets' heap and frame latency
//
// Any error during a measured scenario (a non-2xx answer, a transport error) fails the run.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "baseline-server" {
		if err := runBaselineServer(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "tdbench baseline-server:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "on-cpus" {
		err := execOnCPUs(os.Args[2:]) // returns only on failure
		fmt.Fprintln(os.Stderr, "tdbench on-cpus:", err)
		os.Exit(1)
	}
	if len(os.Args) > 1 && os.Args[1] == "table" {
		if err := printTables(os.Stdout, os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "tdbench table:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if len(os.Args) > 1 && os.Args[1] == "chat21" {
		if err := runChat21(ctx, os.Args[2:], os.Stdout); err != nil {
			if !errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(os.Stderr, "tdbench chat21:", err)
			}
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "websocket" {
		if err := runWebsocket(ctx, os.Args[2:], os.Stdout); err != nil {
			if !errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(os.Stderr, "tdbench websocket:", err)
			}
			os.Exit(1)
		}
		return
	}
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "tdbench:", err)
		}
		os.Exit(1)
	}
}

type options struct {
	db          string
	leads       int
	requests    int
	messages    int
	settingsKB  int
	concurrency []int
	duration    time.Duration
	warmup      time.Duration
	scenarios   map[string]bool
	jsonOut     string
	keep        bool
	serverArgs  []string
	list        bool
	client      string
	profileDir  string
	serverCPUs  []int // nil: shared
	loadCPUs    []int
	cpusNote    string
	processes   int    // server processes on the one database (--processes)
	redis       string // the rate limits' shared store when processes > 1
	baselineDB  string // where the write baseline inserts, pgbench-like (--baseline-db); "": as before
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, " ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func parseOptions(args []string, out io.Writer) (*options, error) {
	fs := flag.NewFlagSet("tdbench", flag.ContinueOnError)
	fs.SetOutput(out)
	o := &options{}
	var conc, only, cpus string
	var serverArgs stringList
	fs.StringVar(&o.db, "db", "", "database: empty for a temporary SQLite file, or a postgres:// URL (a fresh database is created beside it and dropped)")
	fs.IntVar(&o.leads, "leads", 100_000, "leads seeded in the benchmark project")
	fs.IntVar(&o.requests, "requests", 10_000, "conversations seeded (0 skips the conversation scenarios)")
	fs.IntVar(&o.messages, "messages", 100_000, "messages seeded in all, spread evenly over the conversations")
	fs.IntVar(&o.settingsKB, "project-settings-kb", 0, "KiB of settings (small JSON entries) given to the benchmark project, at most 512: every request of the project reads its project")
	fs.StringVar(&conc, "concurrency", "32", "comma-separated numbers of concurrent clients; every scenario runs at each")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per scenario and concurrency")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load before each measurement")
	fs.StringVar(&only, "scenarios", "", "comma-separated scenario names (default: every available one)")
	fs.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (binary, SQLite file, logs)")
	fs.Var(&serverArgs, "server-arg", "an extra flag for the server (repeatable), e.g. --server-arg=--log-level=debug")
	fs.StringVar(&o.client, "client", "fasthttp", `the load generator's HTTP client: "fasthttp" or "net/http" (costs the server more of the shared CPU)`)
	fs.BoolVar(&o.list, "list", false, "list the scenarios and exit")
	fs.StringVar(&o.profileDir, "profile", "", "write the server's CPU profile of each measured scenario into this directory (SCENARIO-CLIENTS.pprof; go tool pprof reads them)")
	fs.StringVar(&cpus, "cpus", "shared", `where each side runs (Linux): "shared" (both anywhere), "split" (the server and the baselines on the first half of the CPUs, the load generator, once the data is seeded, on the rest), or SERVER/LOAD lists as taskset takes them, e.g. 0/1 or 0-1/2-3`)
	fs.IntVar(&o.processes, "processes", 1, "server processes on the one PostgreSQL database (--db postgres://...), each on its own port, the clients spread over them; above 1, each scenario is measured with one process and then with all")
	fs.StringVar(&o.redis, "redis", "redis://127.0.0.1:6379/0", "the Redis the processes share their rate limits through (--processes above 1), under a key prefix of the run's own")
	fs.StringVar(&o.baselineDB, "baseline-db", "", "a postgres:// URL where the write baseline inserts rows as wide as the scenario's (a message or a lead row), one per transaction (default: a narrow row in the server's own database)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := checkProcessOptions(o); err != nil {
		return nil, err
	}
	var err error
	if o.serverCPUs, o.loadCPUs, o.cpusNote, err = splitCPUs(cpus, allowedCPUs()); err != nil {
		return nil, fmt.Errorf("--cpus: %w", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, c := range strings.Split(conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 || n > 4096 {
			return nil, fmt.Errorf("--concurrency: %q is not a number of clients from 1 to 4096", c)
		}
		o.concurrency = append(o.concurrency, n)
	}
	if o.leads < 1000 {
		return nil, errors.New("--leads: seed at least 1000 leads")
	}
	if o.settingsKB < 0 || o.settingsKB > 512 {
		return nil, errors.New("--project-settings-kb: from 0 to 512 (a project's settings are bounded)")
	}
	if o.requests < 0 || o.messages < o.requests {
		return nil, errors.New("--requests must not be negative, and --messages at least --requests (each conversation has a message)")
	}
	if o.client != "fasthttp" && o.client != "net/http" {
		return nil, fmt.Errorf(`--client: %q is neither "fasthttp" nor "net/http"`, o.client)
	}
	if o.duration <= 0 || o.warmup < 0 {
		return nil, errors.New("--duration must be positive and --warmup not negative")
	}
	o.serverArgs = serverArgs
	if only != "" {
		o.scenarios = map[string]bool{}
		known := map[string]bool{}
		for _, s := range scenarios {
			known[s.name] = true
		}
		for _, n := range strings.Split(only, ",") {
			n = strings.TrimSpace(n)
			if !known[n] {
				return nil, fmt.Errorf("--scenarios: unknown scenario %q (see --list)", n)
			}
			o.scenarios[n] = true
		}
	}
	return o, nil
}

// report is the JSON output.
type report struct {
	Machine     map[string]string `json:"machine"`
	Engine      string            `json:"engine"`
	Leads       int               `json:"leads"`
	Requests    int               `json:"requests"`
	Messages    int               `json:"messages"`
	SettingsKB  int               `json:"project_settings_kb,omitempty"`
	SeedSeconds float64           `json:"seed_seconds"`
	Duration    string            `json:"duration"`
	Warmup      string            `json:"warmup"`
	Client      string            `json:"client"` // the load generator's HTTP client (--client)
	// ServerCPUs and LoadCPUs are the CPUs each side was confined to (--server-cpus, --load-cpus);
	// empty when both shared the whole machine.
	ServerCPUs string            `json:"server_cpus,omitempty"`
	LoadCPUs   string            `json:"load_cpus,omitempty"`
	Command    string            `json:"command"`
	Results    []result          `json:"results"`
	Pending    map[string]string `json:"pending_scenarios"`
	Targets    []verdict         `json:"targets"`
	// Processes is --processes; above 1, each scenario has a row of one process and one of all,
	// whose peak RSS is the sum over the processes, and Checks are the run's verifications.
	Processes int `json:"processes"`
	// RSSOverProcesses says how a row of several processes gives their peak RSS: "sum".
	RSSOverProcesses string  `json:"server_peak_rss_over_processes,omitempty"`
	Checks           []check `json:"checks,omitempty"`
}

// run is one run of the benchmark: the options, then a session that seeds, serves and measures.
func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseOptions(args, out)
	if err != nil {
		return err
	}
	if o.list {
		listScenarios(out)
		return nil
	}
	b := &session{o: o, out: out}
	defer b.close()
	if err := b.setUp(ctx); err != nil {
		return err
	}
	rep := b.newReport(args)
	for _, c := range o.concurrency {
		if err := b.measureAt(ctx, rep, c); err != nil {
			return err
		}
	}
	return b.finish(ctx, rep)
}

// listScenarios prints every scenario, and whether it can run.
func listScenarios(out io.Writer) {
	for _, s := range scenarios {
		state := "available"
		if s.pending != "" {
			state = "pending: " + s.pending
		}
		fmt.Fprintf(out, "%-18s %s\n%18s %s\n", s.name, s.what, "", state)
	}
}

// prepare signs in, checks that the cursors the fixture makes are the server's own, and returns a
// lead's JSON and its first page of leads as the server serves them (the baselines serve the same
// bytes).
func (f *fixture) prepare(ctx context.Context, visitors bool) (lead, page []byte, err error) {
	var signin struct {
		Token string `json:"token"`
	}
	body, _ := json.Marshal(map[string]string{"email": f.email, "password": f.password})
	req, _ := f.post(f.api+"/auth/signin", body, nil)
	if err := fetchJSON(ctx, req, &signin); err != nil {
		return nil, nil, fmt.Errorf("sign in: %w", err)
	}
	f.token = signin.Token
	for i := 0; visitors && i < 64; i++ { // visitors who send first messages
		body, _ := json.Marshal(map[string]string{"id_project": f.pid, "firstname": fmt.Sprintf("Visitor %d", i)})
		req, _ := f.post(f.api+"/auth/signinAnonymously", body, nil)
		if err := fetchJSON(ctx, req, &signin); err != nil {
			return nil, nil, fmt.Errorf("visitor sign-in: %w", err)
		}
		f.guests = append(f.guests, signin.Token)
	}
	// The cursor the harness makes for seeded lead k must make the server continue at lead k-1.
	var one struct {
		Leads []struct {
			ID string `json:"_id"`
		} `json:"leads"`
	}
	k := len(f.leadIDs) / 2
	req, _ = f.get("/leads?limit=1&no_count=true&cursor="+f.cursorAt(k), f.jwt)
	if err := fetchJSON(ctx, req, &one); err != nil {
		return nil, nil, fmt.Errorf("cursor page: %w", err)
	}
	if len(one.Leads) != 1 || one.Leads[0].ID != f.leadIDs[k-1] {
		return nil, nil, fmt.Errorf("the server read the harness's cursor after lead %s as %+v, not as the position before %s: update fixture.cursorAt",
			f.leadIDs[k], one.Leads, f.leadIDs[k-1])
	}
	if lead, err = f.fetch(ctx, "/leads/"+f.leadIDs[len(f.leadIDs)/2]); err != nil {
		return nil, nil, fmt.Errorf("get a lead: %w", err)
	}
	if page, err = f.fetch(ctx, "/leads"); err != nil {
		return nil, nil, fmt.Errorf("get the first page of leads: %w", err)
	}
	return lead, page, nil
}

// fetch returns the body of a GET of path (under the project) as the owner, which must answer 200.
func (f *fixture) fetch(ctx context.Context, path string) ([]byte, error) {
	req, err := f.get(path, f.jwt)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%d %s", resp.StatusCode, body)
	}
	return body, nil
}

func fetchJSON(ctx context.Context, req *http.Request, v any) error {
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, raw)
	}
	return json.Unmarshal(raw, v)
}

// machine describes where the figures were taken.
func machine() map[string]string {
	m := map[string]string{"cpus": strconv.Itoa(runtime.NumCPU()), "go": runtime.Version(), "os": runtime.GOOS + "/" + runtime.GOARCH}
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m["cpu"] = strings.TrimSpace(v)
				break
			}
		}
	}
	if raw, err := os.ReadFile("/proc/meminfo"); err == nil {
		m["memory"] = strings.Join(strings.Fields(strings.SplitN(string(raw), "\n", 2)[0])[1:], " ")
	}
	m["load_average_at_start"] = strconv.FormatFloat(loadAverage(), 'f', 2, 64)
	if raw, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m["kernel"] = strings.TrimSpace(string(raw))
	}
	return m
}

// loadAverage is the one-minute load average before the run (-1 if unknown): other work on the
// machine shows there.
func loadAverage() float64 {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	v, err := strconv.ParseFloat(strings.Fields(string(raw))[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// profileServer records the server's CPU profile over the measured part of a scenario (whole
// seconds, as the profiler counts them) into file.
func profileServer(ctx context.Context, addr string, cfg loadConfig, file string) error {
	select {
	case <-time.After(cfg.warmup):
	case <-ctx.Done():
		return ctx.Err()
	}
	secs := max(1, int(cfg.duration/time.Second))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, secs), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the profiler answered %s", resp.Status)
	}
	out, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, resp.Body); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
