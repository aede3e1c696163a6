package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// The read baseline is the least a server can do for "lead by id": check an HMAC-signed token and
// write a lead's JSON held in memory, with net/http and nothing else. The page floor is the same for
// a list: it writes a page of 40 leads held in memory (the bytes the server answers for the first
// page), so that a page's figures can be set beside what writing that much costs on the machine.
// Both run as a separate process (this binary, re-executed with the baseline-server command) so
// that their CPU and memory are measured the same way as the real server's.

// baselineToken signs claims the way the baseline checks them: base64url(payload) "." base64url(HMAC-SHA256).
func baselineToken(secret []byte, userID string, exp time.Time) string {
	payload, _ := json.Marshal(map[string]any{"_id": userID, "exp": exp.Unix()})
	mac := hmac.New(sha256.New, secret)
	mac.Write(payload)
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// baselineHandler serves lead for GET /v1/{pid}/leads/{id} and page for GET /v1/{pid}/leads (any
// query) to holders of a valid token.
func baselineHandler(secret, lead, page []byte) http.Handler {
	answer := func(body []byte, validID func(r *http.Request) bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "JWT ")
			p64, s64, ok2 := strings.Cut(tok, ".")
			payload, err1 := base64.RawURLEncoding.DecodeString(p64)
			sig, err2 := base64.RawURLEncoding.DecodeString(s64)
			if !ok || !ok2 || err1 != nil || err2 != nil {
				http.Error(w, `{"success":false,"msg":"Unauthorized"}`, http.StatusUnauthorized)
				return
			}
			mac := hmac.New(sha256.New, secret)
			mac.Write(payload)
			var claims struct {
				ID  string `json:"_id"`
				Exp int64  `json:"exp"`
			}
			if !hmac.Equal(sig, mac.Sum(nil)) || json.Unmarshal(payload, &claims) != nil || claims.Exp < time.Now().Unix() ||
				!validID(r) {
				http.Error(w, `{"success":false,"msg":"Unauthorized"}`, http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write(body)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/{pid}/leads/{id}", answer(lead, func(r *http.Request) bool { return tiledesk.IsID(r.PathValue("id")) }))
	mux.HandleFunc("GET /v1/{pid}/leads", answer(page, func(*http.Request) bool { return true }))
	return mux
}

// runBaselineServer is the baseline-server command: serve until SIGTERM.
func runBaselineServer(args []string) error {
	fs := flag.NewFlagSet("baseline-server", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	secret := fs.String("secret", "", "HMAC secret")
	bodyFile := fs.String("body", "", "file holding the lead's JSON to serve")
	pageFile := fs.String("page", "", "file holding the page's JSON to serve")
	if err := fs.Parse(args); err != nil {
		return err
	}
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		return err
	}
	page, err := os.ReadFile(*pageFile)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: baselineHandler([]byte(*secret), body, page), ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout: 2 * time.Minute}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// writeBaseline inserts one lead-sized row per transaction, as fast as concurrency goroutines can, on
// the same engine and settings as the server (the write pool of a store opened like the server
// opens it; on PostgreSQL the server's database, on SQLite a file beside the server's): the most
// durable single-row writes the engine can do.
func writeBaseline(ctx context.Context, db *sql.DB, engine string, row []byte, cfg loadConfig) (result, error) {
	ph := func(n int) string {
		if engine == "sqlite" {
			return "?" + strconv.Itoa(n)
		}
		return "$" + strconv.Itoa(n)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS tdbench_insert (id TEXT PRIMARY KEY, body TEXT NOT NULL)`); err != nil {
		return result{}, fmt.Errorf("write baseline table: %w", err)
	}
	insert := `INSERT INTO tdbench_insert (id, body) VALUES (` + ph(1) + `, ` + ph(2) + `)`
	return insertLoop(ctx, cfg, func(ctx context.Context, t0 time.Time) error {
		_, err := db.ExecContext(ctx, insert, tiledesk.NewID()+strconv.FormatInt(t0.UnixNano()%1e6, 10), row)
		return err
	}), nil
}

// insertLoop runs insert back to back from cfg.concurrency goroutines for warmup+duration and
// measures those that start after the warm-up, as drive measures a scenario; its CPU is this
// process's, where the loop runs.
func insertLoop(ctx context.Context, cfg loadConfig, insert func(ctx context.Context, t0 time.Time) error) result {
	res := result{Scenario: "baseline-write", Concurrency: cfg.concurrency}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		wg        sync.WaitGroup
		firstErr  error
	)
	start := time.Now()
	measureFrom := start.Add(cfg.warmup)
	end := measureFrom.Add(cfg.duration)
	cpuBefore := 0.0
	var once sync.Once
	for w := 0; w < cfg.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for ctx.Err() == nil {
				t0 := time.Now()
				if t0.After(end) {
					break
				}
				if !t0.Before(measureFrom) {
					once.Do(func() { cpuBefore = cpuSeconds(os.Getpid()) })
				}
				if err := insert(ctx, t0); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					res.Errors++
					mu.Unlock()
					continue
				}
				if !t0.Before(measureFrom) {
					mine = append(mine, time.Since(t0))
				}
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(measureFrom)
	res.Requests = len(latencies)
	res.Seconds = elapsed.Seconds()
	res.RPS = float64(res.Requests) / elapsed.Seconds()
	if res.Requests > 0 {
		res.CPUPer1k = (cpuSeconds(os.Getpid()) - cpuBefore) / float64(res.Requests) * 1000
	}
	slices.Sort(latencies)
	res.P50ms, res.P90ms, res.P99ms = pct(latencies, 50), pct(latencies, 90), pct(latencies, 99)
	if firstErr != nil {
		res.FirstErrors = []string{firstErr.Error()}
	}
	return res
}
