// Package dbopen opens the store a database setting names, for the commands that take one
// (cmd/tiledesk, cmd/tdbench): a postgres:// URL is PostgreSQL, a sqlite: URL or a file path an
// SQLite file with the server's settings, and anything else that looks like a URL an error.
package dbopen

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/tiledesk-go/tiledesk/internal/postgres"
	"github.com/tiledesk-go/tiledesk/internal/sqlite"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
)

// IsPostgres reports whether db names a PostgreSQL database.
func IsPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// scheme matches a URL scheme at the start of a setting. One letter is a Windows drive (C:\data).
var scheme = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]+):`)

// Check says whether db names a database this server can open. A setting that starts like a URL
// of another scheme ("mysql://", a mistyped "postgress://", "sqlite3:") is refused: taken as a path
// it would silently become a new, empty SQLite file named after it.
func Check(db string) error {
	if db == "" {
		return fmt.Errorf("no database given: a file path, sqlite:PATH or postgres://")
	}
	if IsPostgres(db) || strings.HasPrefix(db, "sqlite:") {
		return nil
	}
	m := scheme.FindStringSubmatch(db)
	if m == nil {
		return nil // a file path
	}
	hint := "a file path, sqlite:PATH or postgres://user@host/db"
	switch s := strings.ToLower(m[1]); {
	case s == "postgres" || s == "postgresql":
		hint = "PostgreSQL URLs start with postgres:// or postgresql://, in lower case"
	case s == "sqlite":
		hint = "write sqlite: in lower case"
	case strings.HasPrefix(s, "sqlite") || s == "file":
		hint = "an SQLite file is a path or sqlite:PATH"
	case strings.HasPrefix(s, "postgr") || strings.HasPrefix(s, "pg"):
		hint = "did you mean postgres://?"
	case s == "mysql" || s == "mariadb" || s == "mongodb" || s == "mongodb+srv" || s == "sqlserver" || s == "redis":
		hint = "only SQLite and PostgreSQL are supported"
	}
	return fmt.Errorf("%q: unknown database scheme %q (%s; a file whose name has a colon can be written ./%s)",
		db, m[1]+":", hint, db)
}

// Open opens and migrates the database db names, with a store that stamps what it writes with the
// time now reads (tiledesk.Now when nil).
func Open(ctx context.Context, db string, now func() time.Time) (*sqlstore.Store, error) {
	if err := Check(db); err != nil {
		return nil, err
	}
	var s *sqlstore.Store
	var err error
	if IsPostgres(db) {
		s, err = postgres.Open(ctx, db, postgres.Options{Now: now})
	} else {
		s, err = sqlite.Open(ctx, db, sqlite.Options{Now: now})
	}
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx, nil); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}
