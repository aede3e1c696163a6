package postgres_test

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/postgres"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
	"github.com/tiledesk-go/tiledesk/internal/storetest"
)

// baseURL returns TILEDESK_TEST_POSTGRES or skips: the PostgreSQL tests need a server, and CI always
// configures one (there a connection failure fails the test instead).
func baseURL(t testing.TB) string {
	u := os.Getenv("TILEDESK_TEST_POSTGRES")
	if u == "" {
		t.Skip("TILEDESK_TEST_POSTGRES is not set: no PostgreSQL server configured for this run")
	}
	return u
}

var schemaSeq atomic.Int64

// freshSchema creates an empty schema for one test and returns a URL whose search_path points at it.
func freshSchema(t testing.TB) string {
	t.Helper()
	base := baseURL(t)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	name := fmt.Sprintf("tdtest_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1_000_000, schemaSeq.Add(1))
	if _, err := admin.Exec(`CREATE SCHEMA ` + name); err != nil {
		t.Fatalf("create schema (is PostgreSQL at TILEDESK_TEST_POSTGRES up?): %v", err)
	}
	t.Cleanup(func() { admin.Exec(`DROP SCHEMA ` + name + ` CASCADE`) })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

func open(t *testing.T, dsn string) *sqlstore.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	baseURL(t)
	storetest.Run(t, func(t *testing.T) tiledesk.Store { return open(t, freshSchema(t)) })
}

func TestConcurrentMigrations(t *testing.T) {
	dsn := freshSchema(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(context.Background(), dsn)
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			errs <- s.Migrate(context.Background(), nil)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent migrate: %v", err)
		}
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	dsn := freshSchema(t)
	s := open(t, dsn)
	if _, err := s.WriteDB().Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	s2, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.Migrate(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "newer than this server knows") {
		t.Fatalf("Migrate on a newer schema = %v, want a refusal", err)
	}
}

func TestRedact(t *testing.T) {
	got := postgres.Redact("postgres://u:secret@h:5432/db")
	if strings.Contains(got, "secret") {
		t.Fatalf("Redact left the password: %s", got)
	}
}

var benchLeads = flag.Int("bench.leads", 100_000, "leads seeded for BenchmarkStore")

// BenchmarkStore measures the hot lead operations in a fresh schema of TILEDESK_TEST_POSTGRES:
// go test ./internal/postgres -run '^$' -bench . [-bench.leads 100000] [-cpuprofile cpu.out]
func BenchmarkStore(b *testing.B) {
	s, err := postgres.Open(context.Background(), freshSchema(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(context.Background(), nil); err != nil {
		b.Fatal(err)
	}
	storetest.Bench(b, s, *benchLeads)
}
