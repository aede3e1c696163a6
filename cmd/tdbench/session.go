package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tiledesk-go/tiledesk/internal/auth"
	"github.com/tiledesk-go/tiledesk/internal/dbopen"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
)

// session is what one run sets up, in order: a temporary directory, the server's binary, the
// seeded database, the server and the read baseline's server. close undoes it in reverse order.
type session struct {
	o    *options
	out  io.Writer
	undo []func()

	dir         string
	bin         string
	engine, dsn string
	f           *fixture
	seedSeconds float64
	writeDB     *sql.DB // where the write baseline inserts
	leadJSON    []byte  // a lead as the server serves it: the write baseline's row

	srv, base   *process
	baseFixture *fixture // the fixture, pointed at the read baseline's server
	debugAddr   string   // the server's profiler, when --profile is given
	// srvs are the server processes (--processes), srv the first; fixtures[k] points at srvs[k].
	srvs     []*process
	fixtures []*fixture
	checkDB  *sql.DB // the server's database, where a run of several processes checks its writes
	checks   []check
	wide     *wideBaseline // the pgbench-like write baseline (--baseline-db); nil: the narrow rows
}

// later has close run fn, before whatever was set up earlier is undone.
func (b *session) later(fn func()) { b.undo = append(b.undo, fn) }

// close undoes the set-up in reverse order.
func (b *session) close() {
	for i := len(b.undo) - 1; i >= 0; i-- {
		b.undo[i]()
	}
}

// setUp builds the server, seeds its database and starts it beside the read baseline's server.
func (b *session) setUp(ctx context.Context) error {
	o, out := b.o, b.out
	dir, err := os.MkdirTemp("", "tdbench-")
	if err != nil {
		return err
	}
	b.dir = dir
	if o.keep {
		fmt.Fprintln(out, "tdbench: keeping", dir)
	} else {
		b.later(func() { os.RemoveAll(dir) })
	}
	if o.cpusNote != "" {
		fmt.Fprintln(out, o.cpusNote)
	}
	fmt.Fprintln(out, "tdbench: building the server")
	if b.bin, err = buildServer(dir); err != nil {
		return err
	}
	if err := b.seed(ctx); err != nil {
		return err
	}
	if o.baselineDB != "" {
		wide, closeWide, err := openWideBaseline(o.baselineDB)
		if err != nil {
			return err
		}
		b.wide = wide
		b.later(closeWide)
	}
	if err := b.startServers(ctx); err != nil {
		return err
	}
	if len(o.loadCPUs) > 0 {
		if err := pinSelf(o.loadCPUs); err != nil {
			return fmt.Errorf("--load-cpus: %w", err)
		}
	}
	if load := loadAverage(); load >= 0.5 {
		fmt.Fprintf(out, "tdbench: WARNING: the machine was already busy (load average %.2f): expect noisy figures\n", load)
	}
	return nil
}

// seed makes the database (a file in the temporary directory, or a fresh PostgreSQL database),
// seeds it through the store, and opens the write baseline's database.
func (b *session) seed(ctx context.Context) error {
	o, out := b.o, b.out
	b.dsn, b.engine = filepath.Join(b.dir, "bench.db"), "sqlite"
	if o.db != "" {
		if !dbopen.IsPostgres(o.db) {
			return errors.New("--db: give a postgres:// URL, or nothing for a temporary SQLite file")
		}
		dsn, drop, err := freshPostgres(ctx, o.db)
		if err != nil {
			return err
		}
		b.later(drop)
		b.dsn, b.engine = dsn, "postgres"
	}
	store, err := dbopen.Open(ctx, b.dsn, time.Now)
	if err != nil {
		return err
	}
	closeStore := sync.OnceValue(store.Close)
	b.later(func() { closeStore() })
	fmt.Fprintf(out, "tdbench: seeding %d leads into %s\n", o.leads, b.engine)
	seedStart := time.Now()
	if b.f, err = seedAll(ctx, out, store, o); err != nil {
		return err
	}
	b.seedSeconds = time.Since(seedStart).Seconds()
	fmt.Fprintf(out, "tdbench: seeded in %.1fs\n", b.seedSeconds)
	if b.engine == "postgres" {
		// A database whose every row was just written has no statistics and no visibility map
		// yet, which autovacuum gives a live one: without them, index-only scans read each row's
		// page, and the measurement would be of the seeding's aftermath.
		fmt.Fprintln(out, "tdbench: VACUUM ANALYZE (as autovacuum leaves a live database)")
		if _, err := store.WriteDB().ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
			return fmt.Errorf("vacuum the seeded database: %w", err)
		}
	}
	// The write baseline inserts into the server's own PostgreSQL database, but beside a SQLite
	// file, in one of its own opened the same way: the server holds its SQLite file alone.
	b.writeDB = store.WriteDB()
	if b.engine == "postgres" {
		b.writeDB.SetMaxIdleConns(1) // leave the seeding's connections to the servers
	}
	if b.engine == "sqlite" {
		if err := closeStore(); err != nil {
			return err
		}
		own, err := dbopen.Open(ctx, filepath.Join(b.dir, "write-baseline.db"), time.Now)
		if err != nil {
			return err
		}
		b.later(func() { own.Close() })
		b.writeDB = own.WriteDB()
	}
	return nil
}

// seedAll seeds the benchmark project's leads and settings, the conversations, the large leads
// when a scenario named needs them, and the tenant of search-abuse.
func seedAll(ctx context.Context, out io.Writer, store *sqlstore.Store, o *options) (*fixture, error) {
	f, err := seedData(ctx, store, o.leads)
	if err != nil {
		return nil, err
	}
	if err := seedSettings(ctx, store, f.pid, o.settingsKB); err != nil {
		return nil, err
	}
	if o.requests > 0 {
		fmt.Fprintf(out, "tdbench: seeding %d conversations with %d messages\n", o.requests, o.messages)
		if err := seedConversations(ctx, store, f, f.ownerID, o.requests, o.messages); err != nil {
			return nil, err
		}
	}
	if err := seedLargeLeadsIfNamed(ctx, out, store, f, o.scenarios); err != nil {
		return nil, err
	}
	if o.requests > 0 {
		if f.abuse, err = seedAbuser(ctx, store, f.ownerID); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// startServers starts the server on the seeded database, and the read baseline's server (this
// binary as a bare net/http server) serving the bytes the server served.
func (b *session) startServers(ctx context.Context) error {
	o := b.o
	secret := auth.NewSecret()
	dsn := b.dsn
	if o.processes > 1 {
		var err error
		if dsn, err = sharedPoolDSN(ctx, b.dsn, o.processes, slices.Max(o.concurrency)); err != nil {
			return err
		}
	}
	common := processArgs(append([]string{"--db", dsn, "--jwt-secret", secret, "--log-level", "warn"}, serverFlags(b.bin)...),
		o.processes, o.redis, redisPrefix())
	srvArgs := slices.Clone(common)
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return fmt.Errorf("--profile: %w", err)
		}
		var err error
		if b.debugAddr, err = freePort(); err != nil {
			return err
		}
		srvArgs = append(srvArgs, "--debug-addr", b.debugAddr)
	}
	srv, err := start(b.bin, append(srvArgs, o.serverArgs...), "/v1/", o.serverCPUs)
	if err != nil {
		return err
	}
	b.srv, b.srvs = srv, []*process{srv}
	b.later(srv.stop)
	b.f.api = srv.url + "/v1"
	leadJSON, pageJSON, err := b.f.prepare(ctx, o.requests > 0)
	if err != nil {
		return fmt.Errorf("%w\nserver logs:\n%s", err, srv.logs)
	}
	b.leadJSON = leadJSON
	// The others start once the first has migrated the database; they share its secret, so every
	// token the fixture holds is good on each. Their profiler would take the first one's port.
	if err := b.startMore(append(common, o.serverArgs...)); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	bodyFile := filepath.Join(b.dir, "lead.json")
	pageFile := filepath.Join(b.dir, "page.json")
	if err := os.WriteFile(bodyFile, leadJSON, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(pageFile, pageJSON, 0o600); err != nil {
		return err
	}
	base, err := start(self, []string{"baseline-server", "--secret", secret, "--body", bodyFile, "--page", pageFile}, "/", o.serverCPUs)
	if err != nil {
		return err
	}
	b.base = base
	b.later(base.stop)
	f := b.f
	b.baseFixture = &fixture{api: base.url + "/v1", pid: f.pid, leadIDs: f.leadIDs, leadMS: f.leadMS,
		token: "JWT " + baselineToken([]byte(secret), "bench", time.Now().Add(time.Hour))}
	return nil
}

// newReport starts the report of the run, with the scenarios that will not run and why.
func (b *session) newReport(args []string) *report {
	o := b.o
	rep := &report{Machine: machine(), Engine: b.engine, Leads: o.leads, Requests: o.requests, Messages: o.messages, SettingsKB: o.settingsKB, SeedSeconds: b.seedSeconds,
		Duration: o.duration.String(), Warmup: o.warmup.String(), Client: o.client, Command: "go run ./cmd/tdbench " + strings.Join(args, " "),
		ServerCPUs: formatCPUList(o.serverCPUs), LoadCPUs: formatCPUList(o.loadCPUs),
		Pending: map[string]string{}, Processes: o.processes}
	if o.processes > 1 {
		rep.RSSOverProcesses = "sum"
	}
	for _, s := range scenarios {
		if s.pending != "" && (o.scenarios == nil || o.scenarios[s.name]) {
			rep.Pending[s.name] = s.pending
		}
		if s.conversations && o.requests == 0 && (o.scenarios == nil || o.scenarios[s.name]) {
			rep.Pending[s.name] = "skipped: --requests 0 seeds no conversations"
		}
		if s.largeLeads && b.f.large == nil && o.scenarios == nil {
			rep.Pending[s.name] = "skipped: runs only when --scenarios names it (it seeds 600 MB)"
		}
	}
	return rep
}

// runs reports whether scenario s runs in this session.
func (b *session) runs(s scenario) bool {
	o := b.o
	return !(s.pending != "" || o.scenarios != nil && !o.scenarios[s.name] || s.conversations && o.requests == 0 || s.largeLeads && b.f.large == nil)
}

// measureAt measures every scenario that runs at c clients, each right after its baselines.
func (b *session) measureAt(ctx context.Context, rep *report, c int) error {
	cfg := loadConfig{concurrency: c, warmup: b.o.warmup, duration: b.o.duration, timeout: 30 * time.Second}
	client := newClient(b.o.client, c, cfg.timeout)
	for _, s := range scenarios {
		if !b.runs(s) {
			continue
		}
		if err := b.measure(ctx, rep, client, cfg, s); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	client.closeIdle()
	return nil
}

// measure measures one scenario: its baseline and page floor first, then the scenario itself,
// with its side load beside it and the server's profile taken when asked.
func (b *session) measure(ctx context.Context, rep *report, client loadClient, cfg loadConfig, s scenario) error {
	if s.webhooks != 0 {
		load, hooks, err := b.measureWebhooks(ctx, client, cfg, s)
		if err != nil {
			return err
		}
		rep.add(b.out, load)
		rep.add(b.out, hooks)
		return nil
	}
	var base result
	if s.baseline != "" {
		var err error
		if base, err = b.baseline(ctx, client, cfg, s); err != nil {
			return err
		}
		rep.add(b.out, base)
	}
	var floor result
	if s.pageFloor {
		floor = drive(ctx, client, s.build(b.baseFixture), cfg, b.base.pid())
		floor.Scenario = "floor-page"
		rep.add(b.out, floor)
	}
	profiled := make(chan error, 1)
	if b.debugAddr != "" {
		go func() {
			profiled <- profileServer(ctx, b.debugAddr, cfg, filepath.Join(b.o.profileDir, fmt.Sprintf("%s-%d.pprof", s.name, cfg.concurrency)))
		}()
	} else {
		profiled <- nil
	}
	ledger, err := b.startLedger(ctx, s)
	if err != nil {
		return err
	}
	if ledger != nil {
		cfg.acked = ledger.ack
	}
	measured := cfg
	measured.goStats, measured.sampleHeap = goStatsReader(b.srv.url), s.largeLeads
	side := driveBeside(ctx, s.beside, b.f, b.o.client, cfg)
	r := drive(ctx, client, s.build(b.f), measured, b.srv.pid())
	if s.beside != nil {
		rep.add(b.out, <-side)
	}
	if err := <-profiled; err != nil {
		return fmt.Errorf("--profile: %s: %w", s.name, err)
	}
	r.Scenario = s.name
	if base.RPS > 0 {
		r.Baseline, r.BaselineRPS, r.Ratio = base.Scenario, base.RPS, r.RPS/base.RPS
	}
	if floor.RPS > 0 {
		r.Floor, r.FloorRPS, r.FloorP99ms = floor.Scenario, floor.RPS, floor.P99ms
	}
	if len(b.srvs) == 1 {
		rep.add(b.out, r)
		return nil
	}
	r.Processes = 1
	rep.add(b.out, r)
	rep.add(b.out, b.measureAll(ctx, client, cfg, s, r))
	return b.verifyLedger(ctx, ledger)
}

// baseline measures the read or the write baseline. The baselines run beside every scenario,
// right before it, so that a machine whose speed drifts (other processes, thermal limits, a noisy
// neighbour) drifts for both.
func (b *session) baseline(ctx context.Context, client loadClient, cfg loadConfig, s scenario) (result, error) {
	if s.baseline == "read" {
		r := drive(ctx, client, scenarios[0].build(b.baseFixture), cfg, b.base.pid())
		r.Scenario = "baseline-read"
		return r, nil
	}
	insert := func() (result, error) {
		if b.wide != nil {
			return b.wide.run(ctx, b.writeDB, b.f.pid, s.name, cfg)
		}
		return writeBaseline(ctx, b.writeDB, b.engine, b.leadJSON, cfg)
	}
	// The write baseline's loop runs in this process: on the server's CPUs, like the server's own
	// writes.
	if len(b.o.serverCPUs) == 0 {
		return insert()
	}
	if err := pinSelf(b.o.serverCPUs); err != nil {
		return result{}, err
	}
	r, err := insert()
	if err := pinSelf(b.o.loadCPUs); err != nil {
		return result{}, err
	}
	return r, err
}

// finish prints the verdicts and what did not run, writes the JSON report, and fails the run
// when any request failed.
func (b *session) finish(ctx context.Context, rep *report) error {
	out := b.out
	if err := b.checkAcross(ctx, rep.Results); err != nil {
		return err
	}
	rep.Checks = b.checks
	rep.Targets = append(verdicts(rep.Results), processVerdicts(rep.Results)...)
	printTargets(out, rep)
	for name, why := range rep.Pending {
		fmt.Fprintf(out, "pending  %-18s %s\n", name, why)
	}
	if b.o.jsonOut != "" {
		raw, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(b.o.jsonOut, append(raw, '\n'), 0o644); err != nil {
			return err
		}
	}
	var failed []string
	for _, r := range rep.Results {
		if r.Errors > 0 {
			failed = append(failed, fmt.Sprintf("%s at %d clients: %d errors, e.g. %s", r.Scenario, r.Concurrency, r.Errors,
				strings.Join(r.FirstErrors, " | ")))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("FAILED: requests failed during the benchmark:\n  %s\nserver logs (tail):\n%s",
			strings.Join(failed, "\n  "), b.logs())
	}
	if failed := failedChecks(rep.Checks); len(failed) > 0 {
		return fmt.Errorf("FAILED: checks of the processes failed:\n  %s\nserver logs (tail):\n%s", strings.Join(failed, "\n  "), b.logs())
	}
	return nil
}
