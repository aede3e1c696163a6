package dbopen

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnknownSchemes: a setting that looks like a URL of a scheme this server does not speak is an
// error that says what is understood, and no file is created for it.
func TestUnknownSchemes(t *testing.T) {
	t.Chdir(t.TempDir())
	for db, hint := range map[string]string{
		"mysql://root@localhost/tiledesk":  "only SQLite and PostgreSQL",
		"postgress://postgres@localhost/x": "did you mean postgres://",
		"postgre://h/x":                    "did you mean postgres://",
		"postgres:/localhost/x":            "start with postgres://",
		"POSTGRES://h/x":                   "in lower case",
		"sqlite3:tiledesk.db":              "sqlite:PATH",
		"SQLite:tiledesk.db":               "in lower case",
		"file:tiledesk.db":                 "sqlite:PATH",
		"mongodb+srv://cluster/x":          "only SQLite and PostgreSQL",
		"data:2024.db":                     "./data:2024.db",
	} {
		err := Check(db)
		if err == nil || !strings.Contains(err.Error(), hint) {
			t.Errorf("Check(%q) = %v, want an error saying %q", db, err, hint)
		}
		if s, err := Open(context.Background(), db, nil); err == nil {
			s.Close()
			t.Errorf("Open(%q) opened something", db)
		}
	}
	if names, _ := filepath.Glob("*"); len(names) > 0 {
		t.Fatalf("refused settings left files behind: %v", names)
	}
	for _, db := range []string{"tiledesk.db", "./data:2024.db", "/var/lib/tiledesk/x.db", `C:\data\tiledesk.db`,
		"sqlite:tiledesk.db", "sqlite:///var/lib/t.db?synchronous=normal", "postgres://u@h/db", "postgresql://h/db"} {
		if err := Check(db); err != nil {
			t.Errorf("Check(%q) = %v", db, err)
		}
	}
	s, err := Open(context.Background(), "./with:colon.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat("with:colon.db"); err != nil {
		t.Fatalf("a path written with ./ was not opened as a file: %v", err)
	}
}
