package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/api"
	"github.com/tiledesk-go/tiledesk/internal/dbopen"
	"github.com/tiledesk-go/tiledesk/internal/live"
	"github.com/tiledesk-go/tiledesk/internal/ratelimit"
)

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

	debugAddr     string
	memoryLimitMB int // 0: GOMEMLIMIT's, if any
	renderCache   int // bytes; negative: none
	activeReads   int // -1: by engine (see activeReadsFor)

	smtpURL   string
	mailFrom  string
	publicURL string // "" until resolved (see resolvePublicURL)

	events eventConfig
	live   live.Options // the websocket's caps
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
	env := &envDefaults{getenv: getenv}
	var cfg config
	// Each group registers its flags and returns what reads them into cfg once they are parsed;
	// the readers run in this order, so that of several wrong settings the same one is reported.
	readers := []func(*config) error{
		serverFlags(fs, env, &cfg),
		limitFlags(fs, env, &cfg),
		budgetFlags(fs, env.str),
		checkMailConfig,
		networkFlags(fs, env, &cfg),
		eventFlags(fs, env, &cfg),
		memoryFlags(fs, env, &cfg),
		liveFlags(fs, env, &cfg),
		checkLogAndSecret,
	}
	mailFlags(fs, env, &cfg)
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
	if env.err != nil {
		return nil, env.err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (commands: help, version)", fs.Arg(0))
	}
	for _, read := range readers {
		if err := read(&cfg); err != nil {
			return nil, err
		}
	}
	return &cfg, nil
}

// envDefaults reads the TILEDESK_* variables that stand in for flags not given. A malformed value
// is kept in err, the first one only, to be reported once the command line is read.
type envDefaults struct {
	getenv func(string) string
	err    error
}

// str is the variable name, or def when it is unset or empty.
func (e *envDefaults) str(name, def string) string {
	if v := e.getenv(name); v != "" {
		return v
	}
	return def
}

// integer is the whole number in the variable name, or def when it is unset.
func (e *envDefaults) integer(name string, def int) int {
	return envParsed(e, name, def, strconv.Atoi, "a whole number")
}

// boolean is the truth value in the variable name, false when it is unset.
func (e *envDefaults) boolean(name string) bool {
	return envParsed(e, name, false, strconv.ParseBool, "true or false")
}

// envParsed is the variable name as parse reads it (what says what it must be), or def when it is
// unset.
func envParsed[T any](e *envDefaults, name string, def T, parse func(string) (T, error), what string) T {
	v := e.getenv(name)
	if v == "" {
		return def
	}
	x, err := parse(v)
	if err != nil && e.err == nil {
		e.err = fmt.Errorf("%s: %q is not %s", name, v, what)
	}
	return x
}

// serverFlags registers the flags of the server itself: where it listens and keeps its data, its
// tokens, logs, bodies, caches, shutdown and maintenance.
func serverFlags(fs *flag.FlagSet, env *envDefaults, cfg *config) func(*config) error {
	var lifetime, grace, maxBody, cacheTTL, delay, maintenanceRetry string
	fs.StringVar(&cfg.addr, "addr", env.str("TILEDESK_ADDR", ":3000"), "listen address (TILEDESK_ADDR)")
	fs.StringVar(&cfg.db, "db", env.str("TILEDESK_DB", "./tiledesk.db"),
		"database: a file path or sqlite: URL (embedded SQLite), or a postgres:// URL (TILEDESK_DB)")
	fs.StringVar(&cfg.jwtSecret, "jwt-secret", env.str("TILEDESK_JWT_SECRET", ""),
		"HS256 token secret, at least 16 bytes; when unset one is generated and kept with the data (TILEDESK_JWT_SECRET)")
	fs.StringVar(&cfg.jwtSecretFile, "jwt-secret-file", env.str("TILEDESK_JWT_SECRET_FILE", ""),
		"read the token secret from this file (TILEDESK_JWT_SECRET_FILE)")
	fs.StringVar(&lifetime, "jwt-lifetime", env.str("TILEDESK_JWT_LIFETIME", "720h"), "how long issued tokens stay valid (TILEDESK_JWT_LIFETIME)")
	fs.StringVar(&cfg.logFormat, "log-format", env.str("TILEDESK_LOG_FORMAT", "text"), "log format: text or json (TILEDESK_LOG_FORMAT)")
	fs.StringVar(&cfg.logLevel, "log-level", env.str("TILEDESK_LOG_LEVEL", "info"), "debug, info, warn or error (TILEDESK_LOG_LEVEL)")
	fs.StringVar(&maxBody, "max-body", env.str("TILEDESK_MAX_BODY", "1048576"), "largest request body in bytes (TILEDESK_MAX_BODY)")
	fs.StringVar(&cacheTTL, "cache-ttl", env.str("TILEDESK_CACHE_TTL", "2s"),
		"how long projects, users and memberships checked by every request are kept in memory; changes made by another server process on the same database are seen within it; 0 disables (TILEDESK_CACHE_TTL)")
	fs.StringVar(&grace, "shutdown-grace", env.str("TILEDESK_SHUTDOWN_GRACE", "15s"),
		"how long shutdown waits for in-flight requests (TILEDESK_SHUTDOWN_GRACE)")
	fs.StringVar(&delay, "shutdown-delay", env.str("TILEDESK_SHUTDOWN_DELAY", "0s"),
		"how long shutdown keeps serving with /readyz at 503 before draining, so load balancers stop sending (TILEDESK_SHUTDOWN_DELAY)")
	fs.BoolVar(&cfg.maintenance, "maintenance", env.boolean("TILEDESK_MAINTENANCE"),
		"start in maintenance mode: API calls answer 503; SIGUSR1 toggles it at run time (TILEDESK_MAINTENANCE)")
	fs.StringVar(&maintenanceRetry, "maintenance-retry-after", env.str("TILEDESK_MAINTENANCE_RETRY_AFTER", "5m"),
		"the Retry-After of maintenance answers (TILEDESK_MAINTENANCE_RETRY_AFTER)")
	var renderCacheMB int
	fs.IntVar(&renderCacheMB, "render-cache-mb", env.integer("TILEDESK_RENDER_CACHE_MB", 64),
		"memory for the JSON of leads and conversations kept to answer lists, in MiB; 0 keeps none (TILEDESK_RENDER_CACHE_MB)")
	fs.IntVar(&cfg.activeReads, "max-active-reads", env.integer("TILEDESK_MAX_ACTIVE_READS", -1),
		"reads (GET) run at once, the others wait in arrival order; -1 picks by engine: one per core on SQLite, "+
			"no bound on PostgreSQL; 0 no bound (TILEDESK_MAX_ACTIVE_READS)")
	fs.StringVar(&cfg.debugAddr, "debug-addr", env.str("TILEDESK_DEBUG_ADDR", ""),
		"serve Go's profiler (/debug/pprof/) on this separate address, e.g. 127.0.0.1:6060; never expose it (TILEDESK_DEBUG_ADDR)")
	return func(cfg *config) error {
		if err := dbopen.Check(cfg.db); err != nil {
			return fmt.Errorf("--db: %w", err)
		}
		var err error
		if renderCacheMB < 0 || renderCacheMB > 1<<20 {
			return fmt.Errorf("--render-cache-mb: %d is not a size from 0 to 1048576 MiB", renderCacheMB)
		}
		if cfg.activeReads < -1 || cfg.activeReads > 1<<16 {
			return fmt.Errorf("--max-active-reads: %d is not -1 (by engine), 0 (no bound) or a number up to 65536", cfg.activeReads)
		}
		cfg.renderCache = renderCacheMB << 20
		if renderCacheMB == 0 {
			cfg.renderCache = -1
		}
		if cfg.jwtLifetime, err = time.ParseDuration(lifetime); err != nil || cfg.jwtLifetime <= 0 {
			return fmt.Errorf("--jwt-lifetime: %q is not a positive duration such as 720h", lifetime)
		}
		if cfg.shutdownGrace, err = time.ParseDuration(grace); err != nil || cfg.shutdownGrace < 0 {
			return fmt.Errorf("--shutdown-grace: %q is not a duration such as 15s", grace)
		}
		if cfg.cacheTTL, err = time.ParseDuration(cacheTTL); err != nil || cfg.cacheTTL < 0 || cfg.cacheTTL > time.Minute {
			return fmt.Errorf("--cache-ttl: %q is not a duration from 0 to 1m, such as 2s", cacheTTL)
		}
		if cfg.maxBody, err = strconv.ParseInt(maxBody, 10, 64); err != nil || cfg.maxBody < 1024 {
			return fmt.Errorf("--max-body: %q is not a byte count of at least 1024", maxBody)
		}
		if cfg.shutdownDelay, err = time.ParseDuration(delay); err != nil || cfg.shutdownDelay < 0 {
			return fmt.Errorf("--shutdown-delay: %q is not a duration such as 5s", delay)
		}
		if cfg.maintenanceRetry, err = time.ParseDuration(maintenanceRetry); err != nil || cfg.maintenanceRetry < time.Second {
			return fmt.Errorf("--maintenance-retry-after: %q is not a duration of a second or more", maintenanceRetry)
		}
		return nil
	}
}

// limitFlags registers the rate-limit flags and where their budgets are kept.
func limitFlags(fs *flag.FlagSet, env *envDefaults, cfg *config) func(*config) error {
	var rateLimit, signinLimit, failLimit, failIPLimit, mailLimit, searchLimit string
	fs.StringVar(&rateLimit, "rate-limit", env.str("TILEDESK_RATE_LIMIT", "200/1m"),
		"requests per client: COUNT/PERIOD[,burst=N], per credential and project, or per address when anonymous; 0 disables (TILEDESK_RATE_LIMIT)")
	routeLimits := &listFlag{values: splitList(env.getenv("TILEDESK_RATE_LIMIT_ROUTES"), ";"), sep: ";"}
	fs.Var(routeLimits, "rate-limit-route",
		`a route's own limit instead of --rate-limit, "METHOD /pattern=COUNT/PERIOD" as in routes.go; repeatable (TILEDESK_RATE_LIMIT_ROUTES, ;-separated)`)
	fs.StringVar(&signinLimit, "signin-rate-limit", env.str("TILEDESK_SIGNIN_RATE_LIMIT", "20/1m"),
		"sign-in and sign-up attempts per client address; 0 disables (TILEDESK_SIGNIN_RATE_LIMIT)")
	fs.StringVar(&failLimit, "login-failure-limit", env.str("TILEDESK_LOGIN_FAILURE_LIMIT", "10/10m"),
		"failed password checks per email address by clients not known to the account (sign-in, Basic auth, sign-up of a taken email, changepsw's old password); 0 disables (TILEDESK_LOGIN_FAILURE_LIMIT)")
	fs.StringVar(&failIPLimit, "login-failure-ip-limit", env.str("TILEDESK_LOGIN_FAILURE_IP_LIMIT", "50/10m"),
		"failed password checks per client address, on accounts it is not known to; 0 disables (TILEDESK_LOGIN_FAILURE_IP_LIMIT)")
	fs.StringVar(&mailLimit, "mail-rate-limit", env.str("TILEDESK_MAIL_RATE_LIMIT", "5/1h"),
		"messages one address may receive (verification, password reset, invitation); 0 disables (TILEDESK_MAIL_RATE_LIMIT)")
	fs.StringVar(&searchLimit, "search-rate-limit", env.str("TILEDESK_SEARCH_RATE_LIMIT", "60/1m,burst=20"),
		"full-text searches (lists and exports with full_text) per credential and project, on top of --rate-limit; 0 disables (TILEDESK_SEARCH_RATE_LIMIT)")
	fs.StringVar(&cfg.redisURL, "redis-url", env.str("TILEDESK_REDIS_URL", ""),
		"redis:// URL: keep rate-limit budgets in Redis, shared by every process using it (TILEDESK_REDIS_URL)")
	fs.StringVar(&cfg.redisPrefix, "redis-prefix", env.str("TILEDESK_REDIS_PREFIX", "tiledesk:ratelimit:"),
		"prefix of the rate-limit keys in Redis (TILEDESK_REDIS_PREFIX)")
	return func(cfg *config) error {
		if err := parseLimits(cfg, rateLimit, signinLimit, failLimit, failIPLimit, searchLimit, routeLimits.values); err != nil {
			return err
		}
		var err error
		if cfg.limits.Mail, err = ratelimit.ParseLimit("mail-rate-limit", mailLimit); err != nil {
			return fmt.Errorf("--mail-rate-limit: %w", err)
		}
		return nil
	}
}

// mailFlags registers the flags of the mail the server sends; checkMailConfig reads them.
func mailFlags(fs *flag.FlagSet, env *envDefaults, cfg *config) {
	fs.StringVar(&cfg.smtpURL, "smtp-url", env.str("TILEDESK_SMTP_URL", ""),
		"mail server: smtp://[user:password@]host[:port] (STARTTLS when offered, port 587) or smtps:// (TLS, port 465); "+
			"unset, mailed links are written to the log (TILEDESK_SMTP_URL)")
	fs.StringVar(&cfg.mailFrom, "mail-from", env.str("TILEDESK_MAIL_FROM", ""),
		`From address of the server's mail, e.g. "Tiledesk <no-reply@example.com>"; required with --smtp-url (TILEDESK_MAIL_FROM)`)
	fs.StringVar(&cfg.publicURL, "public-url", env.str("TILEDESK_PUBLIC_URL", ""),
		"where people open the dashboard; mailed links start with it (default: this server's own address) (TILEDESK_PUBLIC_URL)")
}

// networkFlags registers the flags of TLS, proxies and browsers' origins.
func networkFlags(fs *flag.FlagSet, env *envDefaults, cfg *config) func(*config) error {
	fs.StringVar(&cfg.tlsCert, "tls-cert", env.str("TILEDESK_TLS_CERT", ""), "PEM certificate (chain) file: serve HTTPS (TILEDESK_TLS_CERT)")
	fs.StringVar(&cfg.tlsKey, "tls-key", env.str("TILEDESK_TLS_KEY", ""), "PEM private key file of --tls-cert (TILEDESK_TLS_KEY)")
	fs.BoolVar(&cfg.sslOnly, "ssl-only", env.boolean("TILEDESK_SSL_ONLY"),
		"refuse API calls that did not arrive over HTTPS, directly or per a trusted proxy (TILEDESK_SSL_ONLY)")
	proxies := &listFlag{values: splitList(env.getenv("TILEDESK_TRUSTED_PROXIES"), ","), sep: ","}
	fs.Var(proxies, "trusted-proxy",
		"addresses or CIDRs of proxies whose X-Forwarded-For/-Proto are believed; comma-separated, repeatable (TILEDESK_TRUSTED_PROXIES)")
	origins := &listFlag{values: splitList(env.str("TILEDESK_CORS_ORIGINS", "*"), ","), sep: ","}
	fs.Var(origins, "cors-origins", `origins browsers may call from, comma-separated; "*" for any (TILEDESK_CORS_ORIGINS)`)
	return func(cfg *config) error {
		for _, p := range proxies.values {
			prefix, err := netip.ParsePrefix(p)
			if err != nil {
				addr, aerr := netip.ParseAddr(p)
				if aerr != nil {
					return fmt.Errorf("--trusted-proxy: %q is neither an address nor a CIDR", p)
				}
				prefix = netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen())
			}
			cfg.trustedProxies = append(cfg.trustedProxies, prefix.Masked())
		}
		if !slices.Contains(origins.values, "*") {
			cfg.corsOrigins = origins.values
		}
		if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
			return errors.New("give both --tls-cert and --tls-key, or neither")
		}
		return nil
	}
}

// checkLogAndSecret checks the log format and reads the token secret from its file if one is named.
func checkLogAndSecret(cfg *config) error {
	if cfg.logFormat != "text" && cfg.logFormat != "json" {
		return fmt.Errorf("--log-format: %q is neither text nor json", cfg.logFormat)
	}
	if cfg.jwtSecret != "" && cfg.jwtSecretFile != "" {
		return errors.New("give --jwt-secret or --jwt-secret-file, not both")
	}
	if cfg.jwtSecretFile != "" {
		b, err := os.ReadFile(cfg.jwtSecretFile)
		if err != nil {
			return fmt.Errorf("--jwt-secret-file: %w", err)
		}
		cfg.jwtSecret = strings.TrimSpace(string(b))
	}
	return nil
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
