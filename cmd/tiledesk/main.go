// Command tiledesk serves the Tiledesk REST API. With no flags it listens on :3000 and keeps its data
// in ./tiledesk.db (embedded SQLite); --db postgres://... keeps it in PostgreSQL instead.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/api"
	"github.com/tiledesk-go/tiledesk/internal/auth"
	"github.com/tiledesk-go/tiledesk/internal/dbopen"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
)

// version is set at link time (-ldflags "-X main.version=v1.2.3"); otherwise the VCS revision.
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "tiledesk:", err)
		}
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
	shutdownGrace time.Duration
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("tiledesk", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var cfg config
	var lifetime, grace, maxBody string
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
	fs.StringVar(&grace, "shutdown-grace", env("TILEDESK_SHUTDOWN_GRACE", "15s"),
		"how long shutdown waits for in-flight requests (TILEDESK_SHUTDOWN_GRACE)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (commands: version)", fs.Arg(0))
	}
	var err error
	if cfg.jwtLifetime, err = time.ParseDuration(lifetime); err != nil || cfg.jwtLifetime <= 0 {
		return nil, fmt.Errorf("--jwt-lifetime: %q is not a positive duration such as 720h", lifetime)
	}
	if cfg.shutdownGrace, err = time.ParseDuration(grace); err != nil || cfg.shutdownGrace < 0 {
		return nil, fmt.Errorf("--shutdown-grace: %q is not a duration such as 15s", grace)
	}
	if cfg.maxBody, err = strconv.ParseInt(maxBody, 10, 64); err != nil || cfg.maxBody < 1024 {
		return nil, fmt.Errorf("--max-body: %q is not a byte count of at least 1024", maxBody)
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

// openStore opens and migrates the database a --db value names.
func openStore(ctx context.Context, db string) (*sqlstore.Store, error) { return dbopen.Open(ctx, db) }

// tokenSecret returns the configured secret, or the one kept with the data, generating it once.
func tokenSecret(ctx context.Context, cfg *config, store tiledesk.Store) (string, bool, error) {
	if cfg.jwtSecret != "" {
		return cfg.jwtSecret, false, nil
	}
	s, err := store.SetMetaIfAbsent(ctx, "jwt_secret", auth.NewSecret())
	return s, true, err
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "version" {
		fmt.Fprintln(stdout, "tiledesk", buildVersion())
		return nil
	}
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg, stderr)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg.db)
	if err != nil {
		return err
	}
	defer store.Close()
	secret, generated, err := tokenSecret(ctx, cfg, store)
	if err != nil {
		return fmt.Errorf("token secret: %w", err)
	}
	tokens, err := auth.NewTokens([]byte(secret), cfg.jwtLifetime)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           api.New(api.Config{Store: store, Tokens: tokens, Logger: log, Version: buildVersion(), MaxBodyBytes: cfg.maxBody}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	engine, where := store.Engine()
	url := "http://" + displayAddr(ln.Addr())
	version, _ := store.SchemaVersion(ctx)
	log.Info("tiledesk serving", "url", url, "engine", engine, "data", where, "version", buildVersion(), "schema", version)
	if generated {
		log.Info("token secret generated and kept with the data; set --jwt-secret to manage it yourself")
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
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", cfg.shutdownGrace)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownGrace)
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
