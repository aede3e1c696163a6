package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tiledesk-go/tiledesk/internal/dbopen"
	"github.com/tiledesk-go/tiledesk/internal/postgres"
)

// maxProcesses bounds --processes: each process is a whole server with its own pools.
const maxProcesses = 16

// checkProcessOptions refuses what a run of several processes cannot do, and a write baseline
// database that is not PostgreSQL.
func checkProcessOptions(o *options) error {
	if o.processes < 1 || o.processes > maxProcesses {
		return fmt.Errorf("--processes: from 1 to %d server processes", maxProcesses)
	}
	if o.processes > 1 && !dbopen.IsPostgres(o.db) {
		return errors.New("--processes: several processes need --db postgres://...: a SQLite file is held by one process alone")
	}
	if o.processes > 1 {
		u, err := url.Parse(o.redis)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			return fmt.Errorf("--redis: %q is not a redis:// URL", o.redis)
		}
	}
	if o.baselineDB != "" {
		if !dbopen.IsPostgres(o.baselineDB) {
			return errors.New("--baseline-db: give a postgres:// URL")
		}
		if !dbopen.IsPostgres(o.db) {
			return errors.New("--baseline-db: the wide rows are copied from the server's PostgreSQL database: give --db postgres://... too")
		}
	}
	return nil
}

// redisPrefix is the rate-limit key prefix of this run: no other run, and no server, shares it.
func redisPrefix() string {
	return fmt.Sprintf("tdbench:%d:%d:", os.Getpid(), time.Now().UnixNano())
}

// processArgs are the server's flags for process k of n: with several, each shares its rate limits
// through Redis under the run's prefix.
func processArgs(common []string, n int, redis, prefix string) []string {
	args := append([]string(nil), common...)
	if n > 1 {
		args = append(args, "--redis-url", redis, "--redis-prefix", prefix)
	}
	return args
}

// sharedPoolDSN gives each of n server processes a pool (pool_max_conns) that leaves the database
// room for the write baseline's connections (one per client) and tdbench's own: the size a
// server derives alone assumes nothing else connects.
func sharedPoolDSN(ctx context.Context, dsn string, n, clients int) (string, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", err
	}
	defer db.Close()
	maxConns, reserved, err := postgres.ConnectionLimits(ctx, db)
	if err != nil {
		return "", err
	}
	const tdbenchOwn = 12
	size := (maxConns-reserved-clients-tdbenchOwn)/n - postgres.ProcessExtraConnections
	if size < postgres.MinPoolSize {
		return "", fmt.Errorf("--processes %d: max_connections %d leaves fewer than 4 connections a process beside %d clients' baseline", n, maxConns, clients)
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "pool_max_conns=" + strconv.Itoa(min(size, postgres.MaxPoolSize)), nil
}

// startMore starts the servers after the first one on the same database, each on its own port, and
// gives each a fixture of its own pointing at it.
func (b *session) startMore(args []string) error {
	for k := 1; k < b.o.processes; k++ {
		p, err := start(b.bin, args, "/v1/", b.o.serverCPUs)
		if err != nil {
			return fmt.Errorf("server process %d of %d: %w", k+1, b.o.processes, err)
		}
		b.srvs = append(b.srvs, p)
		b.later(p.stop)
	}
	if len(b.srvs) > 1 {
		db, err := sql.Open("pgx", b.dsn)
		if err != nil {
			return err
		}
		db.SetMaxOpenConns(4)
		b.checkDB = db
		b.later(func() { db.Close() })
	}
	b.fixtures = nil
	for _, p := range b.srvs {
		f := *b.f
		f.api = p.url + "/v1"
		b.fixtures = append(b.fixtures, &f)
	}
	return nil
}

// pids are the server processes' ids.
func (b *session) pids() []int {
	var pids []int
	for _, p := range b.srvs {
		pids = append(pids, p.pid())
	}
	return pids
}

// logs are the tails of every server process's log, each under its name.
func (b *session) logs() string {
	if len(b.srvs) == 1 {
		return b.srvs[0].logs.String()
	}
	var s strings.Builder
	for k, p := range b.srvs {
		fmt.Fprintf(&s, "--- process %d (%s)\n%s", k+1, p.url, p.logs)
	}
	return s.String()
}

// measureAll measures scenario s on every process, its clients spread over them, right after it
// was measured on the first alone (one): the ratio is what the extra processes cost or bring.
func (b *session) measureAll(ctx context.Context, client loadClient, cfg loadConfig, s scenario, one result) result {
	nexts := make([]requestFunc, len(b.fixtures))
	for k, f := range b.fixtures {
		nexts[k] = s.build(f)
	}
	side := driveBeside(ctx, s.beside, b.f, b.o.client, cfg)
	r := driveSpread(ctx, client, nexts, cfg, b.pids())
	if s.beside != nil {
		<-side // reported with the one-process row only
	}
	r.Scenario, r.Processes = s.name, len(b.srvs)
	r.Baseline, r.BaselineRPS = one.Baseline, one.BaselineRPS
	if one.BaselineRPS > 0 {
		r.Ratio = r.RPS / one.BaselineRPS
	}
	r.OneProcessRPS = one.RPS
	if one.RPS > 0 {
		r.ProcessRatio = r.RPS / one.RPS
	}
	return r
}

// minProcessRatio is what several processes on one database must keep of one process's rate.
const minProcessRatio = 0.8

// processVerdicts checks every row of several processes against minProcessRatio, at every
// concurrency measured.
func processVerdicts(results []result) []verdict {
	var out []verdict
	for _, r := range results {
		if r.Processes < 2 {
			continue
		}
		out = append(out, verdict{Scenario: r.Scenario, Source: fmt.Sprintf("%d processes, %d clients", r.Processes, r.Concurrency),
			Target:   fmt.Sprintf("≥ %.2f of one process", minProcessRatio),
			Measured: fmt.Sprintf("%.2f (%.0f/s against %.0f/s)", r.ProcessRatio, r.RPS, r.OneProcessRPS),
			Met:      r.ProcessRatio >= minProcessRatio, Processes: r.Processes, Concurrency: r.Concurrency})
	}
	return out
}

// startLedger returns the ledger of a write scenario's acknowledged writes in a run of several
// processes, with what it compares with taken; nil otherwise.
func (b *session) startLedger(ctx context.Context, s scenario) (*writeLedger, error) {
	if len(b.srvs) < 2 || !checkedWrites[s.name] {
		return nil, nil
	}
	l := newWriteLedger(s.name)
	if err := l.start(ctx, b.checkDB, b.f.pid); err != nil {
		return nil, fmt.Errorf("%s: count the messages before: %w", s.name, err)
	}
	return l, nil
}

// verifyLedger checks a write scenario's acknowledged writes (both its rows, one process and
// all) once they are measured, and prints the verdict.
func (b *session) verifyLedger(ctx context.Context, l *writeLedger) error {
	if l == nil {
		return nil
	}
	c, err := l.verify(ctx, b.checkDB, b.f.pid)
	if err != nil {
		return fmt.Errorf("%s: check the writes: %w", l.scenario, err)
	}
	b.addCheck(c)
	return nil
}

// addCheck records a check and prints its verdict.
func (b *session) addCheck(c check) {
	b.checks = append(b.checks, c)
	state := "PASSED"
	if !c.Passed {
		state = "FAILED"
	}
	fmt.Fprintf(b.out, "check %s %s: %s\n", state, c.Name, c.Detail)
}

// checkAcross runs the checks of a run of several processes that follow the load: no request
// failed, ticket numbers are unique, and a change made through one process is read through the
// others at once.
func (b *session) checkAcross(ctx context.Context, results []result) error {
	if len(b.srvs) < 2 {
		return nil
	}
	b.addCheck(noErrors(results))
	if b.o.requests > 0 {
		c, err := uniqueTickets(ctx, b.checkDB, b.f.pid)
		if err != nil {
			return fmt.Errorf("check the ticket numbers: %w", err)
		}
		b.addCheck(c)
	}
	conversation := ""
	if len(b.f.requestIDs) > 0 {
		conversation = b.f.requestIDs[0]
	}
	for _, c := range readsAcross(ctx, b.fixtures, conversation) {
		b.addCheck(c)
	}
	return nil
}

// noErrors checks that every request of every measured row was answered as expected.
func noErrors(results []result) check {
	c := check{Name: "no request failed", Passed: true}
	n, rows := 0, 0
	for _, r := range results {
		n += r.Requests
		if r.Errors > 0 {
			c.Passed = false
			rows++
		}
	}
	c.Detail = fmt.Sprintf("%d requests measured in %d rows", n, len(results))
	if rows > 0 {
		c.Detail += fmt.Sprintf("; %d rows with errors", rows)
	}
	return c
}

// failedChecks names the checks that failed.
func failedChecks(checks []check) []string {
	var failed []string
	for _, c := range checks {
		if !c.Passed {
			failed = append(failed, c.Name+": "+c.Detail)
		}
	}
	return failed
}
