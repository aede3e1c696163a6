package postgres_test

import (
	"context"
	"flag"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/pgtest"
	"github.com/tiledesk-go/tiledesk/internal/postgres"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
	"github.com/tiledesk-go/tiledesk/internal/storetest"
)

var (
	baseURL     = pgtest.BaseURL
	freshSchema = pgtest.FreshSchema
)

func open(t *testing.T, dsn string) *sqlstore.Store { t.Helper(); return openOn(t, dsn, nil) }

// openOn is open with the store on the clock now.
func openOn(t *testing.T, dsn string, now func() time.Time) *sqlstore.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn, postgres.Options{Now: now})
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
	storetest.Run(t, func(t *testing.T, now func() time.Time) tiledesk.Store { return openOn(t, freshSchema(t), now) })
}

func TestConcurrentMigrations(t *testing.T) {
	dsn := freshSchema(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(context.Background(), dsn, postgres.Options{})
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
	s2, err := postgres.Open(context.Background(), dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.Migrate(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "newer than this server knows") {
		t.Fatalf("Migrate on a newer schema = %v, want a refusal", err)
	}
}

// TestIdleTransactionsEnd checks that a session idle inside a transaction is ended by the database
// (the default the store sets, which a URL parameter overrides), so that one stuck transaction
// cannot hold its project's counter row, and every writer of the project, for ever.
func TestIdleTransactionsEnd(t *testing.T) {
	dsn := freshSchema(t)
	s := open(t, dsn)
	var timeout string
	if err := s.WriteDB().QueryRow(`SHOW idle_in_transaction_session_timeout`).Scan(&timeout); err != nil {
		t.Fatal(err)
	}
	if timeout != "15s" {
		t.Fatalf("idle_in_transaction_session_timeout = %s, want 15s", timeout)
	}
	short := open(t, dsn+"&idle_in_transaction_session_timeout=200ms")
	tx, err := short.WriteDB().Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`SELECT 1`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond)
	if _, err := tx.Exec(`SELECT 1`); err == nil {
		t.Fatal("a transaction idle past the timeout went on")
	}
}

// TestGenericPlans checks that the store's sessions use one generic plan per prepared statement
// by default, and that the URL can give PostgreSQL its own choice back.
func TestGenericPlans(t *testing.T) {
	dsn := freshSchema(t)
	for _, tc := range []struct{ dsn, want string }{
		{dsn, "force_generic_plan"},
		{dsn + "&plan_cache_mode=auto", "auto"},
	} {
		s := open(t, tc.dsn)
		var mode string
		if err := s.WriteDB().QueryRow(`SHOW plan_cache_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != tc.want {
			t.Errorf("plan_cache_mode = %s with %s; want %s", mode, tc.dsn, tc.want)
		}
	}
}

// TestReadPlaces checks the bound on reads at once: derived from the pool and the cores, or given
// in the URL.
func TestReadPlaces(t *testing.T) {
	dsn := freshSchema(t)
	s := open(t, dsn+"&pool_max_conns=12")
	if places, _, _ := s.ReadQueue(); places != min(12, max(4, 2*runtime.GOMAXPROCS(0))) {
		t.Errorf("derived read places = %d, want two per core, 4 to 12", places)
	}
	s = open(t, dsn+"&pool_max_reads=3")
	if places, _, _ := s.ReadQueue(); places != 3 {
		t.Errorf("pool_max_reads=3 gave %d read places", places)
	}
}

// TestReadsQueueUnderLoad runs many more concurrent reads than places, clock rounds among them:
// every one completes (no read holds a place while waiting for another) and some waited.
func TestReadsQueueUnderLoad(t *testing.T) {
	s := open(t, freshSchema(t)+"&pool_max_reads=2")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 64 {
		wg.Go(func() {
			for range 20 {
				var err error
				if g%2 == 0 {
					_, err = s.FindLeadByID(ctx, "p1", "missing")
					if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
						err = nil
					}
				} else {
					_, err = s.KeptLeadClock(ctx, "p1")
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a read failed (or waited past 30 s): %v", err)
	}
	if places, waits, _ := s.ReadQueue(); places != 2 || waits == 0 {
		t.Errorf("ReadQueue() = %d places, %d waits; want 2 places and some reads that waited", places, waits)
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
	s, err := postgres.Open(context.Background(), freshSchema(b), postgres.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(context.Background(), nil); err != nil {
		b.Fatal(err)
	}
	storetest.Bench(b, s, *benchLeads)
}

func TestEmailKeyUpgrade(t *testing.T) {
	dsn := freshSchema(t)
	s := open(t, dsn)
	storetest.EmailKeyUpgrade(t, s, func(stmts ...string) {
		// Undo what the later migrations did too, so that they can run again.
		for _, q := range append(stmts, `ALTER TABLE users DROP COLUMN token_generation`,
			`DROP TABLE subscriptions, subscription_deliveries, subscription_redeliveries`,
			`DROP INDEX events_by_age`, `DROP INDEX events_custom`, `ALTER TABLE events DROP COLUMN seq, DROP COLUMN tx, DROP COLUMN pos`,
			`DROP FUNCTION tiledesk_members_clock, tiledesk_users_clock CASCADE`, `DROP TABLE users_clock`,
			`DELETE FROM project_counters WHERE stripe <> 0`, `ALTER TABLE project_counters DROP CONSTRAINT project_counters_pkey`,
			`ALTER TABLE project_counters DROP COLUMN stripe, DROP COLUMN members_clock, ADD PRIMARY KEY (id_project)`,
			`DROP FUNCTION tiledesk_request_search CASCADE`, `DROP TABLE request_search`,
			`CREATE INDEX requests_search ON requests (id)`,
			`DROP FUNCTION tiledesk_request_activity CASCADE`, `DROP TABLE request_activity`,
			`CREATE INDEX requests_updated ON requests (id_project, updated_at, id)`,
			`ALTER TABLE projects DROP COLUMN jwt_secret, DROP COLUMN public_key`, `DROP TABLE direct_messages`, `DROP TABLE project_labels`, `DROP TABLE bots`, `DROP TABLE intents`, `DROP TABLE request_parameters`, `DROP TABLE agent_groups`, `DROP TABLE project_tags`, `DROP TABLE canned_responses`, `DROP TABLE agent_group_members`,
			`DROP FUNCTION tiledesk_message_counts CASCADE`, `DROP TABLE message_counts`, `DROP INDEX project_users_by_uuid`,
			`ALTER TABLE project_users DROP COLUMN presence_status, DROP COLUMN presence_changed_at`, `DROP TABLE chat_states`, `DROP TABLE chat_groups`, `DROP TABLE chat_group_members`, `DROP TABLE chat_presence`,
			`DELETE FROM schema_migrations WHERE version >= 6`) {
			if _, err := s.WriteDB().Exec(q); err != nil {
				t.Fatal(err)
			}
		}
	}, func() tiledesk.Store { return open(t, dsn) })
}
