package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/sqlite"
	"github.com/tiledesk-go/tiledesk/internal/storetest"
)

func open(t *testing.T, path string) tiledesk.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
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
	storetest.Run(t, func(t *testing.T) tiledesk.Store {
		return open(t, filepath.Join(t.TempDir(), "tiledesk.db"))
	})
}

func TestSQLiteURL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "data.db")
	s := open(t, "sqlite://"+path+"?synchronous=normal")
	if _, loc := s.Engine(); loc != path {
		t.Fatalf("location = %q, want %q", loc, path)
	}
	if _, err := sqlite.Open(context.Background(), "sqlite:x.db?synchronous=sometimes", sqlite.Options{}); err == nil {
		t.Fatal("an unknown synchronous setting was accepted")
	}
}

func TestWALAndPragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	open(t, path)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Fatalf("journal_mode = %q, want wal", mode)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newer.db")
	s := open(t, path)
	raw := s.(interface{ WriteDB() *sql.DB }).WriteDB()
	if _, err := raw.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	s2, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	err = s2.Migrate(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "newer than this server knows") {
		t.Fatalf("Migrate on a newer schema = %v, want a refusal", err)
	}
}

func TestMigrateTwiceIsNoop(t *testing.T) {
	path := filepath.Join(t.TempDir(), "twice.db")
	open(t, path)
	s := open(t, path)
	v, err := s.(interface {
		SchemaVersion(context.Context) (int, error)
	}).SchemaVersion(context.Background())
	if err != nil || v < 1 {
		t.Fatalf("SchemaVersion = %d, %v", v, err)
	}
}
