// Command tiledesk serves the Tiledesk REST API. With no flags it listens on :3000 and keeps its data
// in ./tiledesk.db (embedded SQLite); --db postgres://... keeps it in PostgreSQL instead.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
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

// config is every setting, read from flags, then TILEDESK_* variables, then defaults.
type config struct {
	addr          string
	db            string
	jwtSecret     string
	jwtSecretFile string
	jwtLifetime   time.Duration
	logFormat     string
	logLevel      string
	maxBody       int64
	cacheTTL      time.Duration
	shutdownGrace time.Duration
	shutdownDelay time.Duration

	limits      api.RateLimits // without the limiter, which run() builds
	redisURL    string
	redisPrefix string

	tlsCert, tlsKey  string
	sslOnly          bool
	trustedProxies   []netip.Prefix
	corsOrigins      []string
	maintenance      bool
	maintenanceRetry time.Duration

	debugAddr   string
	renderCache int // bytes; negative: none
	activeReads int // -1: by engine (see activeReadsFor)

	smtpURL   string
	mailFrom  string
	publicURL string // "" until resolved (see resolvePublicURL)
}

// listFlag is a flag that may be repeated; its environment twin separates values with sep.
type listFlag struct {
	values []string
	sep    string
	set    bool // the command line replaces the environment's values
}

func (l *listFlag) String() string { return strings.Join(l.values, l.sep) }

func (l *listFlag) Set(v string) error {
	if !l.set {
		l.values, l.set = nil, true
	}
	l.values = append(l.values, splitList(v, l.sep)...)
	return nil
}

func splitList(v, sep string) []string {
	var out []string
	for _, x := range strings.Split(v, sep) {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// parseConfig reads the configuration. --help prints the flags to stdout and --version the version;
// both then return errShown.
func parseConfig(args []string, getenv func(string) string, stdout io.Writer) (*config, error) {
	fs := flag.NewFlagSet("tiledesk", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned; help is printed to stdout below
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var cfg config
	var lifetime, grace, maxBody, cacheTTL string
	fs.StringVar(&cfg.addr, "addr", env("TILEDESK_ADDR", ":3000"), "listen address (TILEDESK_ADDR)")
	fs.StringVar(&cfg.db, "db", env("TILEDESK_DB", "./tiledesk.db"),
		"database: a file path or sqlite: URL (embedded SQLite), or a postgres:// URL (TILEDESK_DB)")
	fs.StringVar(&cfg.jwtSecret, "jwt-secret", env("TILEDESK_JWT_SECRET", ""),
		"HS256 token secret, at least 16 bytes; when unset one is generated and kept with the data (TILEDESK_JWT_SECRET)")
	fs.StringVar(&cfg.jwtSecretFile, "jwt-secret-file", env("TILEDESK_JWT_SECRET_FILE", ""),
		"read the token secret from this file (TILEDESK_JWT_SECRET_FILE)")
	fs.StringVar(&lifetime, "jwt-lifetime", env("TILEDESK_JWT_LIFETIME", "720h"), "how long issued tokens stay valid (TILEDESK_JWT_LIFETIME)")
	fs.StringVar(&cfg.logFormat, "log-format", env("TILEDESK_LOG_FORMAT", "text"), "log format: text or json (TILEDESK_LOG_FORMAT)")
	fs.StringVar(&cfg.logLevel, "log-level", env("TILEDESK_LOG_LEVEL", "info"), "debug, info, warn or error (TILEDESK_LOG_LEVEL)")
	fs.StringVar(&maxBody, "max-body", env("TILEDESK_MAX_BODY", "1048576"), "largest request body in bytes (TILEDESK_MAX_BODY)")
	fs.StringVar(&cacheTTL, "cache-ttl", env("TILEDESK_CACHE_TTL", "2s"),
		"how long projects, users and memberships checked by every request are kept in memory; changes made by another server process on the same database are seen within it; 0 disables (TILEDESK_CACHE_TTL)")
	fs.StringVar(&grace, "shutdown-grace", env("TILEDESK_SHUTDOWN_GRACE", "15s"),
		"how long shutdown waits for in-flight requests (TILEDESK_SHUTDOWN_GRACE)")
	var delay, rateLimit, signinLimit, failLimit, failIPLimit, mailLimit, searchLimit, maintenanceRetry string
	var envErr error
	envInt := func(name string, def int) int {
		v := getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil && envErr == nil {
			envErr = fmt.Errorf("%s: %q is not a whole number", name, v)
		}
		return n
	}
	envBool := func(name string) bool {
		v := getenv(name)
		if v == "" {
			return false
		}
		b, err := strconv.ParseBool(v)
		if err != nil && envErr == nil {
			envErr = fmt.Errorf("%s: %q is not true or false", name, v)
		}
		return b
	}
	fs.StringVar(&delay, "shutdown-delay", env("TILEDESK_SHUTDOWN_DELAY", "0s"),
		"how long shutdown keeps serving with /readyz at 503 before draining, so load balancers stop sending (TILEDESK_SHUTDOWN_DELAY)")
	fs.StringVar(&rateLimit, "rate-limit", env("TILEDESK_RATE_LIMIT", "200/1m"),
		"requests per client: COUNT/PERIOD[,burst=N], per credential and project, or per address when anonymous; 0 disables (TILEDESK_RATE_LIMIT)")
	routeLimits := &listFlag{values: splitList(getenv("TILEDESK_RATE_LIMIT_ROUTES"), ";"), sep: ";"}
	fs.Var(routeLimits, "rate-limit-route",
		`a route's own limit instead of --rate-limit, "METHOD /pattern=COUNT/PERIOD" as in routes.go; repeatable (TILEDESK_RATE_LIMIT_ROUTES, ;-separated)`)
	fs.StringVar(&signinLimit, "signin-rate-limit", env("TILEDESK_SIGNIN_RATE_LIMIT", "20/1m"),
		"sign-in and sign-up attempts per client address; 0 disables (TILEDESK_SIGNIN_RATE_LIMIT)")
	fs.StringVar(&failLimit, "login-failure-limit", env("TILEDESK_LOGIN_FAILURE_LIMIT", "10/10m"),
		"failed password checks per email address by clients not known to the account (sign-in and Basic auth); 0 disables (TILEDESK_LOGIN_FAILURE_LIMIT)")
	fs.StringVar(&failIPLimit, "login-failure-ip-limit", env("TILEDESK_LOGIN_FAILURE_IP_LIMIT", "50/10m"),
		"failed password checks per client address, on accounts it is not known to; 0 disables (TILEDESK_LOGIN_FAILURE_IP_LIMIT)")
	fs.StringVar(&mailLimit, "mail-rate-limit", env("TILEDESK_MAIL_RATE_LIMIT", "5/1h"),
		"messages one address may receive (verification, password reset, invitation); 0 disables (TILEDESK_MAIL_RATE_LIMIT)")
	fs.StringVar(&cfg.smtpURL, "smtp-url", env("TILEDESK_SMTP_URL", ""),
		"mail server: smtp://[user:password@]host[:port] (STARTTLS when offered, port 587) or smtps:// (TLS, port 465); "+
			"unset, mailed links are written to the log (TILEDESK_SMTP_URL)")
	fs.StringVar(&cfg.mailFrom, "mail-from", env("TILEDESK_MAIL_FROM", ""),
		`From address of the server's mail, e.g. "Tiledesk <no-reply@example.com>"; required with --smtp-url (TILEDESK_MAIL_FROM)`)
	fs.StringVar(&cfg.publicURL, "public-url", env("TILEDESK_PUBLIC_URL", ""),
		"where people open the dashboard; mailed links start with it (default: this server's own address) (TILEDESK_PUBLIC_URL)")
	fs.StringVar(&searchLimit, "search-rate-limit", env("TILEDESK_SEARCH_RATE_LIMIT", "60/1m,burst=20"),
		"full-text searches (lists and exports with full_text) per credential and project, on top of --rate-limit; 0 disables (TILEDESK_SEARCH_RATE_LIMIT)")
	fs.StringVar(&cfg.redisURL, "redis-url", env("TILEDESK_REDIS_URL", ""),
		"redis:// URL: keep rate-limit budgets in Redis, shared by every process using it (TILEDESK_REDIS_URL)")
	fs.StringVar(&cfg.redisPrefix, "redis-prefix", env("TILEDESK_REDIS_PREFIX", "tiledesk:ratelimit:"),
		"prefix of the rate-limit keys in Redis (TILEDESK_REDIS_PREFIX)")
	fs.StringVar(&cfg.tlsCert, "tls-cert", env("TILEDESK_TLS_CERT", ""), "PEM certificate (chain) file: serve HTTPS (TILEDESK_TLS_CERT)")
	fs.StringVar(&cfg.tlsKey, "tls-key", env("TILEDESK_TLS_KEY", ""), "PEM private key file of --tls-cert (TILEDESK_TLS_KEY)")
	fs.BoolVar(&cfg.sslOnly, "ssl-only", envBool("TILEDESK_SSL_ONLY"),
		"refuse API calls that did not arrive over HTTPS, directly or per a trusted proxy (TILEDESK_SSL_ONLY)")
	proxies := &listFlag{values: splitList(getenv("TILEDESK_TRUSTED_PROXIES"), ","), sep: ","}
	fs.Var(proxies, "trusted-proxy",
		"addresses or CIDRs of proxies whose X-Forwarded-For/-Proto are believed; comma-separated, repeatable (TILEDESK_TRUSTED_PROXIES)")
	origins := &listFlag{values: splitList(env("TILEDESK_CORS_ORIGINS", "*"), ","), sep: ","}
	fs.Var(origins, "cors-origins", `origins browsers may call from, comma-separated; "*" for any (TILEDESK_CORS_ORIGINS)`)
	fs.BoolVar(&cfg.maintenance, "maintenance", envBool("TILEDESK_MAINTENANCE"),
		"start in maintenance mode: API calls answer 503; SIGUSR1 toggles it at run time (TILEDESK_MAINTENANCE)")
	fs.StringVar(&maintenanceRetry, "maintenance-retry-after", env("TILEDESK_MAINTENANCE_RETRY_AFTER", "5m"),
		"the Retry-After of maintenance answers (TILEDESK_MAINTENANCE_RETRY_AFTER)")
	var renderCacheMB int
	fs.IntVar(&renderCacheMB, "render-cache-mb", envInt("TILEDESK_RENDER_CACHE_MB", 64),
		"memory for the JSON of leads and conversations kept to answer lists, in MiB; 0 keeps none (TILEDESK_RENDER_CACHE_MB)")
	fs.IntVar(&cfg.activeReads, "max-active-reads", envInt("TILEDESK_MAX_ACTIVE_READS", -1),
		"reads (GET) run at once, the others wait in arrival order; -1 picks by engine: one per core on SQLite, "+
			"no bound on PostgreSQL; 0 no bound (TILEDESK_MAX_ACTIVE_READS)")
	fs.StringVar(&cfg.debugAddr, "debug-addr", env("TILEDESK_DEBUG_ADDR", ""),
		"serve Go's profiler (/debug/pprof/) on this separate address, e.g. 127.0.0.1:6060; never expose it (TILEDESK_DEBUG_ADDR)")
	readBudgets := budgetFlags(fs, env)
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		printUsage(fs, stdout)
		return nil, errShown
	} else if err != nil {
		return nil, fmt.Errorf("%w (tiledesk --help lists the flags)", err)
	}
	if *showVersion {
		fmt.Fprintln(stdout, "tiledesk", buildVersion())
		return nil, errShown
	}
	if envErr != nil {
		return nil, envErr
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (commands: help, version)", fs.Arg(0))
	}
	if err := dbopen.Check(cfg.db); err != nil {
		return nil, fmt.Errorf("--db: %w", err)
	}
	var err error
	if renderCacheMB < 0 || renderCacheMB > 1<<20 {
		return nil, fmt.Errorf("--render-cache-mb: %d is not a size from 0 to 1048576 MiB", renderCacheMB)
	}
	if cfg.activeReads < -1 || cfg.activeReads > 1<<16 {
		return nil, fmt.Errorf("--max-active-reads: %d is not -1 (by engine), 0 (no bound) or a number up to 65536", cfg.activeReads)
	}
	cfg.renderCache = renderCacheMB << 20
	if renderCacheMB == 0 {
		cfg.renderCache = -1
	}
	if cfg.jwtLifetime, err = time.ParseDuration(lifetime); err != nil || cfg.jwtLifetime <= 0 {
		return nil, fmt.Errorf("--jwt-lifetime: %q is not a positive duration such as 720h", lifetime)
	}
	if cfg.shutdownGrace, err = time.ParseDuration(grace); err != nil || cfg.shutdownGrace < 0 {
		return nil, fmt.Errorf("--shutdown-grace: %q is not a duration such as 15s", grace)
	}
	if cfg.cacheTTL, err = time.ParseDuration(cacheTTL); err != nil || cfg.cacheTTL < 0 || cfg.cacheTTL > time.Minute {
		return nil, fmt.Errorf("--cache-ttl: %q is not a duration from 0 to 1m, such as 2s", cacheTTL)
	}
	if cfg.maxBody, err = strconv.ParseInt(maxBody, 10, 64); err != nil || cfg.maxBody < 1024 {
		return nil, fmt.Errorf("--max-body: %q is not a byte count of at least 1024", maxBody)
	}
	if cfg.shutdownDelay, err = time.ParseDuration(delay); err != nil || cfg.shutdownDelay < 0 {
		return nil, fmt.Errorf("--shutdown-delay: %q is not a duration such as 5s", delay)
	}
	if cfg.maintenanceRetry, err = time.ParseDuration(maintenanceRetry); err != nil || cfg.maintenanceRetry < time.Second {
		return nil, fmt.Errorf("--maintenance-retry-after: %q is not a duration of a second or more", maintenanceRetry)
	}
	if err := parseLimits(&cfg, rateLimit, signinLimit, failLimit, failIPLimit, searchLimit, routeLimits.values); err != nil {
		return nil, err
	}
	if cfg.limits.Mail, err = ratelimit.ParseLimit("mail-rate-limit", mailLimit); err != nil {
		return nil, fmt.Errorf("--mail-rate-limit: %w", err)
	}
	if err := readBudgets(&cfg); err != nil {
		return nil, err
	}
	if err := checkMailConfig(&cfg); err != nil {
		return nil, err
	}
	for _, p := range proxies.values {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return nil, fmt.Errorf("--trusted-proxy: %q is neither an address nor a CIDR", p)
			}
			prefix = netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen())
		}
		cfg.trustedProxies = append(cfg.trustedProxies, prefix.Masked())
	}
	if !slices.Contains(origins.values, "*") {
		cfg.corsOrigins = origins.values
	}
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return nil, errors.New("give both --tls-cert and --tls-key, or neither")
	}
	if cfg.logFormat != "text" && cfg.logFormat != "json" {
		return nil, fmt.Errorf("--log-format: %q is neither text nor json", cfg.logFormat)
	}
	if cfg.jwtSecret != "" && cfg.jwtSecretFile != "" {
		return nil, errors.New("give --jwt-secret or --jwt-secret-file, not both")
	}
	if cfg.jwtSecretFile != "" {
		b, err := os.ReadFile(cfg.jwtSecretFile)
		if err != nil {
			return nil, fmt.Errorf("--jwt-secret-file: %w", err)
		}
		cfg.jwtSecret = strings.TrimSpace(string(b))
	}
	return &cfg, nil
}

// parseLimits reads the rate-limit flags.
func parseLimits(cfg *config, general, signin, fail, failIP, search string, routes []string) error {
	var err error
	for _, l := range []struct {
		flag, spec string
		dst        *tiledesk.RateLimit
	}{{"rate-limit", general, &cfg.limits.Default}, {"signin-rate-limit", signin, &cfg.limits.SignIn},
		{"login-failure-limit", fail, &cfg.limits.LoginFailures}, {"login-failure-ip-limit", failIP, &cfg.limits.LoginFailuresIP},
		{"search-rate-limit", search, &cfg.limits.Search}} {
		if *l.dst, err = ratelimit.ParseLimit(l.flag, l.spec); err != nil {
			return fmt.Errorf("--%s: %w", l.flag, err)
		}
	}
	for _, r := range routes {
		i := strings.LastIndex(r, "=")
		if i < 0 {
			return fmt.Errorf(`--rate-limit-route: %q is not "METHOD /pattern=COUNT/PERIOD"`, r)
		}
		pattern := strings.Join(strings.Fields(r[:i]), " ")
		l, err := ratelimit.ParseLimit(pattern, r[i+1:])
		if err != nil {
			return fmt.Errorf("--rate-limit-route %s: %w", pattern, err)
		}
		if cfg.limits.Routes == nil {
			cfg.limits.Routes = map[string]tiledesk.RateLimit{}
		}
		cfg.limits.Routes[pattern] = l
	}
	return nil
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

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
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
	var tlsConfig *tls.Config
	if cfg.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
		if err != nil {
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
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
	handler := api.New(api.Config{Store: storecache.New(store, cfg.cacheTTL), Tokens: tokens, Logger: log, Version: buildVersion(), MaxBodyBytes: cfg.maxBody,
		RateLimits: limits, TrustedProxies: cfg.trustedProxies, SSLOnly: cfg.sslOnly, CORSOrigins: cfg.corsOrigins,
		Maintenance: cfg.maintenance, MaintenanceRetryAfter: cfg.maintenanceRetry, Metrics: registry,
		RenderCacheBytes: cfg.renderCache, MaxActiveReads: activeReadsFor(cfg.activeReads, store),
		Mailer: mailer, PublicURL: publicURL, LinkKey: key, Now: now})
	defer handler.Close() // after serving has stopped, before the store closes: background readings end
	for pattern := range cfg.limits.Routes {
		if !slices.Contains(handler.Routes(), pattern) {
			return fmt.Errorf("--rate-limit-route: no route %q; routes are written as in routes.go, e.g. %q", pattern, handler.Routes()[1])
		}
	}
	srv := &http.Server{
		Handler:           handler,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
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
	if empty, err := store.IsEmpty(ctx); err == nil && empty {
		curl := fmt.Sprintf(`curl -X POST -H 'Content-Type: application/json' -d '{"email":"you@example.com","password":"change-me","firstname":"Ada","lastname":"Lovelace"}' %s/v1/auth/signup`, url)
		if cfg.logFormat == "json" {
			log.Info("empty database: sign up the first user", "curl", curl)
		} else {
			log.Info("empty database: sign up the first user with")
			fmt.Fprintln(stderr, "  "+curl)
		}
	}
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
