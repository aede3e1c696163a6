// Package pgtest gives tests an empty PostgreSQL schema of their own on the server named by
// TILEDESK_TEST_POSTGRES.
package pgtest

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// BaseURL returns TILEDESK_TEST_POSTGRES or skips: the PostgreSQL tests need a server, and CI always
// configures one (there a connection failure fails the test instead).
func BaseURL(t testing.TB) string {
	u := os.Getenv("TILEDESK_TEST_POSTGRES")
	if u == "" {
		t.Skip("TILEDESK_TEST_POSTGRES is not set: no PostgreSQL server configured for this run")
	}
	return u
}

var schemaSeq atomic.Int64

// FreshSchema creates an empty schema for one test, dropped at its end, and returns a URL whose
// search_path points at it.
func FreshSchema(t testing.TB) string {
	t.Helper()
	base := BaseURL(t)
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
