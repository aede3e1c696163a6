// Package dbopen opens the store a database setting names, for the commands that take one
// (cmd/tiledesk, cmd/tdbench): a postgres:// URL is PostgreSQL, anything else an SQLite file path
// or sqlite: URL with the server's settings.
package dbopen

import (
	"context"
	"strings"

	"github.com/tiledesk-go/tiledesk/internal/postgres"
	"github.com/tiledesk-go/tiledesk/internal/sqlite"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
)

// IsPostgres reports whether db names a PostgreSQL database.
func IsPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// Open opens and migrates the database db names.
func Open(ctx context.Context, db string) (*sqlstore.Store, error) {
	var s *sqlstore.Store
	var err error
	if IsPostgres(db) {
		s, err = postgres.Open(ctx, db)
	} else {
		s, err = sqlite.Open(ctx, db, sqlite.Options{})
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
