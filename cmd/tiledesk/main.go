// Command tiledesk serves the Tiledesk REST API. With no flags it listens on :3000 and keeps its data
// in ./tiledesk.db (embedded SQLite); --db postgres://... keeps it in PostgreSQL instead.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/api"
	"github.com/tiledesk-go/tiledesk/internal/auth"
	"github.com/tiledesk-go/tiledesk/internal/dbopen"
	"github.com/tiledesk-go/tiledesk/internal/ratelimit"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
	"github.com/tiledesk-go/tiledesk/internal/storecache"
	"github.com/tiledesk-go/tiledesk/internal/webui"
)

// version is set at link time (-ldflags "-X main.version=v1.2.3"); otherwise the VCS revision.
var version = ""

// defaultGCPercent replaces Go's default of 100 unless GOGC is set. The server's live heap is small
// (tens of MB) while every request allocates, so at 100 the collector runs continuously and took a
// fifth of the CPU of a page of leads; at 400 the heap may grow to five times the live data, which
// is still small. Measured with tdbench (docs/performance.md).
const defaultGCPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "tiledesk:", err)
		os.Exit(1)
	}
}

func buildVersion() string {
	if version != "" {
		return version
	}
	v := "dev"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += "+" + s.Value[:12]
			}
		}
	}
	return v
}

func newLogger(cfg *config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// openStore opens and migrates the database a --db value names, stamping with now.
func openStore(ctx context.Context, db string, now func() time.Time) (*sqlstore.Store, error) {
	return dbopen.Open(ctx, db, now)
}

// run runs the command args name: the server, or a subcommand.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "migrate" {
		return runMigrate(ctx, args[1:], stdout, stderr)
	}
	return runServer(ctx, args, getenv, stdout, stderr)
}

func runServer(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "version" || args[0] == "help") {
		args = []string{"--" + args[0]}
	}
	cfg, err := parseConfig(args, getenv, stdout)
	if errors.Is(err, errShown) {
		return nil
	} else if err != nil {
		return err
	}
	log, err := newLogger(cfg, stderr)
	if err != nil {
		return err
	}
	applyMemoryLimit(cfg)
	now := time.Now // one clock for the store's stamps and the API's
	store, err := openStore(ctx, cfg.db, now)
	if err != nil {
		return err
	}
	defer store.Close()
	secret, secretSource, err := tokenSecret(ctx, cfg, store)
	if err != nil {
		return fmt.Errorf("token secret: %w", err)
	}
	tokens, err := auth.NewTokens([]byte(secret), cfg.jwtLifetime)
	if err != nil {
		return err
	}
	limiter, reportLimiter, closeLimiter, err := newLimiter(cfg, log)
	if err != nil {
		return err
	}
	defer closeLimiter()
	tlsConfig, err := loadTLS(cfg)
	if err != nil {
		return err
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	limits := cfg.limits
	limits.Limiter = limiter
	key, err := linkKey(ctx, store)
	if err != nil {
		return err
	}
	mailer, stopMail, err := newMailer(cfg, log)
	if err != nil {
		return err
	}
	defer stopMail(cfg.shutdownGrace)
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	scheme := "http://"
	if tlsConfig != nil {
		scheme = "https://"
	}
	publicURL := publicURLFor(cfg, scheme, ln.Addr())
	bus, stopEventLog := startEventLog(store, cfg.events, log)
	defer stopEventLog()
	handler := api.New(api.Config{Store: storecache.New(store, cfg.cacheTTL), ViewStore: store, Tokens: tokens, Logger: log, Version: buildVersion(), MaxBodyBytes: cfg.maxBody,
		RateLimits: limits, TrustedProxies: cfg.trustedProxies, SSLOnly: cfg.sslOnly, CORSOrigins: cfg.corsOrigins,
		Maintenance: cfg.maintenance, MaintenanceRetryAfter: cfg.maintenanceRetry, Metrics: registry,
		RenderCacheBytes: cfg.renderCache, MaxActiveReads: activeReadsFor(cfg.activeReads, store),
		Mailer: mailer, PublicURL: publicURL, LinkKey: key, Now: now, Events: bus, Live: cfg.live, WebhookGuard: cfg.events.webhookAllow, App: webui.New()})
	defer handler.Close() // after serving has stopped, before the store closes: background readings end
	handler.StartBackground()
	stopWebhooks := startWebhooks(store, cfg.db, bus, handler.RenderEvent, handler.BotSink(), cfg.events, registry, log)
	defer stopWebhooks(cfg.shutdownGrace)
	for pattern := range cfg.limits.Routes {
		if !slices.Contains(handler.Routes(), pattern) {
			return fmt.Errorf("--rate-limit-route: no route %q; routes are written as in routes.go, e.g. %q", pattern, handler.Routes()[1])
		}
	}
	srv := newHTTPServer(handler, tlsConfig, log)
	engine, where := store.Engine()
	url := scheme + displayAddr(ln.Addr())
	version, _ := store.SchemaVersion(ctx)
	log.Info("tiledesk serving", "url", url, "engine", engine, "data", where, "version", buildVersion(), "schema", version)
	reportLimiter(ctx)
	logSecretSource(log, secretSource, cfg)
	reportMail(cfg, publicURL, log)
	if cfg.maintenance {
		log.Warn("maintenance mode: API calls answer 503 until SIGUSR1 or a restart without --maintenance")
	}
	hintFirstSignup(ctx, cfg, store, url, log, stderr)
	if cfg.debugAddr != "" {
		stopDebug, err := serveDebug(cfg.debugAddr, log)
		if err != nil {
			return fmt.Errorf("--debug-addr: %w", err)
		}
		defer stopDebug()
	}
	stopToggle := toggleMaintenanceOnSignal(handler, log)
	defer stopToggle()
	return serve(ctx, srv, ln, handler, cfg.shutdownDelay, cfg.shutdownGrace, log)
}

// loadTLS reads the certificate and key of --tls-cert and --tls-key; nil when none is given.
func loadTLS(cfg *config) (*tls.Config, error) {
	if cfg.tlsCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// newHTTPServer serves handler with timeouts that no client can hold a connection past.
func newHTTPServer(handler http.Handler, tlsConfig *tls.Config, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           handler,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// hintFirstSignup tells, on an empty database, how to sign up the first user.
func hintFirstSignup(ctx context.Context, cfg *config, store tiledesk.Store, url string, log *slog.Logger, stderr io.Writer) {
	if empty, err := store.IsEmpty(ctx); err != nil || !empty {
		return
	}
	curl := fmt.Sprintf(`curl -X POST -H 'Content-Type: application/json' -d '{"email":"you@example.com","password":"change-me","firstname":"Ada","lastname":"Lovelace"}' %s/v1/auth/signup`, url)
	if cfg.logFormat == "json" {
		log.Info("empty database: sign up the first user", "curl", curl)
	} else {
		log.Info("empty database: sign up the first user with")
		fmt.Fprintln(stderr, "  "+curl)
	}
}

// newLimiter returns the rate limiter: in memory, or in Redis with memory as the fallback while
// Redis is unreachable. It returns a function that logs which, to call once the server is up.
func newLimiter(cfg *config, log *slog.Logger) (tiledesk.RateLimiter, func(context.Context), func(), error) {
	local := ratelimit.NewMemory(ratelimit.MemoryOptions{})
	if cfg.redisURL == "" {
		return local, func(context.Context) {
			log.Info("rate limits kept in memory", "default", cfg.limits.Default.String())
		}, func() {}, nil
	}
	client, err := ratelimit.NewRedisClient(cfg.redisURL)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--redis-url: %w", err)
	}
	redis.SetLogger(redisLog{log}) // the failover logs outages once; the client's own lines are detail
	// A Redis that does not answer at start is logged, not fatal: limits hold per process until it does.
	report := func(ctx context.Context) {
		if err := client.Ping(ctx).Err(); err != nil {
			log.Warn("Redis does not answer yet; rate limits are per process until it does", "addr", client.Options().Addr, "err", err)
			return
		}
		log.Info("rate limits kept in Redis", "addr", client.Options().Addr, "default", cfg.limits.Default.String())
	}
	limiter := ratelimit.NewFailover(ratelimit.NewRedis(client, ratelimit.RedisOptions{Prefix: cfg.redisPrefix}), local, log,
		ratelimit.FailoverOptions{})
	return limiter, report, func() { client.Close() }, nil
}

// redisLog sends the Redis client's own log lines to the server's log, at debug level.
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

// drainer is what serve tells that shutdown has begun (api.Server: /readyz turns 503).
type drainer interface{ BeginShutdown() }

// serve runs srv on ln until ctx ends, then shuts down in order: readiness off at once, requests still
// served for the delay (so that load balancers notice), then no new connections and in-flight
// requests given until the grace deadline, after which the rest are cut.
func serve(ctx context.Context, srv *http.Server, ln net.Listener, d drainer, delay, grace time.Duration, log *slog.Logger) error {
	served := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			served <- srv.ServeTLS(ln, "", "")
		} else {
			served <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	d.BeginShutdown()
	log.Info("shutting down", "delay", delay, "grace", grace)
	if delay > 0 {
		time.Sleep(delay)
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("in-flight requests did not finish in time", "err", err)
		srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// displayAddr turns a listener address into one a user can paste into curl.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); host == "" || ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// activeReadsFor resolves --max-active-reads: -1 picks one read per core on SQLite, whose reads are
// CPU work over mapped pages, and no bound on PostgreSQL, whose reads mostly wait on the database.
func activeReadsFor(n int, store interface{ Engine() (string, string) }) int {
	if n >= 0 {
		return n
	}
	if engine, _ := store.Engine(); engine == "sqlite" {
		return runtime.GOMAXPROCS(0)
	}
	return 0
}
