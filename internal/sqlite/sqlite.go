// Package sqlite opens the embedded SQLite engine (modernc.org/sqlite: pure Go, so the server stays
// one static binary) and supplies its dialect to sqlstore.
//
// Settings: WAL journal so readers never block the writer, a busy timeout instead of immediate
// SQLITE_BUSY, foreign keys on, synchronous=FULL so that a committed write survives a power cut and
// not only a process crash, and BEGIN IMMEDIATE transactions on a single writer connection so that a
// transaction never has to upgrade its lock. Reads go to a separate read-only pool.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect is SQLite's side of the sqlstore seam.
type Dialect struct{}

var (
	_ sqlstore.Dialect       = Dialect{}
	_ sqlstore.AfterMigrator = Dialect{}
)

func (Dialect) Name() string { return "sqlite" }

// Rebind turns $N into ?N, SQLite's numbered parameter, which binds the same argument as $N. A $
// not followed by a digit (a JSON path such as '$.key') is left alone.
func (Dialect) Rebind(q string) string {
	b := []byte(q)
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '$' && b[i+1] >= '0' && b[i+1] <= '9' {
			b[i] = '?'
		}
	}
	return string(b)
}

func (Dialect) Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err)
	}
	return sub
}

// LockMigrations needs nothing: transactions begin IMMEDIATE, which already excludes other writers,
// in this process and in any other.
func (Dialect) LockMigrations(context.Context, *sql.Tx) error { return nil }

func (Dialect) IsUniqueViolation(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

func (Dialect) ForUpdate() string { return "" }

// PopulationClock: migration 0006's triggers keep the clocks.
func (Dialect) PopulationClock() bool { return true }

// CounterStripe: one writer, so one row per project.
func (Dialect) CounterStripe() string { return "0" }

// UsersClock is the setting migration 0006's triggers move.
func (Dialect) UsersClock() string {
	return `(SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'users_clock')`
}

// IsRetryable: writers take turns, so they never deadlock.
func (Dialect) IsRetryable(error) bool { return false }

// PreparesItself: modernc's driver prepares a statement anew for every call.
func (Dialect) PreparesItself() bool { return false }

// SingleWriter: SQLite has one writer at a time; writes are group-committed.
func (Dialect) SingleWriter() bool { return true }

// WithLiterals: one writer, whose commit waits for no other and whose statements need no round
// trips; its writes never take this path.
func (Dialect) WithLiterals(string, []any) (string, bool) { return "", false }

// RecordsFromJSON: the one writer writes replies one by one, group-committed (see sqlstore's batcher).
func (Dialect) RecordsFromJSON(string, string) string { return "" }

// IsStatementError: unused where RecordsFromJSON is "".
func (Dialect) IsStatementError(error) bool { return false }

// RequestsByUpdate: SQLite indexes requests.updated_at, since an update writes only the entries
// of the indexes whose columns it changes.
func (Dialect) RequestsByUpdate() (from, updated string) { return "requests", "updated_at" }

// TextMatch looks the query up in the table's FTS5 index, which triggers keep in step with the table.
func (Dialect) TextMatch(table, ph string) string {
	return "seq IN (SELECT rowid FROM " + table + "_fts WHERE " + table + "_fts MATCH " + ph + ")"
}

// TextQuery writes each word, behind the project's id as both tables' indexes hold it (migration
// 0011), as a quoted FTS5 prefix query; quoting keeps words out of FTS5 syntax.
func (Dialect) TextQuery(_, projectID string, words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = `"` + strings.ReplaceAll(projectID+w, `"`, `""`) + `"*`
	}
	return strings.Join(q, " ")
}

// JoinRows joins rows with group_concat: reading a page of versions as one row of text skips a
// step and several locked column calls per row, the larger part of such a query's time here.
func (Dialect) JoinRows(expr string) string { return "group_concat(" + expr + ", ',')" }

// AfterBulkLoad merges the full-text indexes into one segment each: a bulk load leaves many, and a
// prefix query seeks in every one of them.
func (Dialect) AfterBulkLoad() []string {
	return []string{`INSERT INTO leads_fts (leads_fts) VALUES ('optimize')`}
}

// Options tune Open; the zero value is the production setting.
type Options struct {
	// Synchronous overrides PRAGMA synchronous (FULL by default).
	Synchronous string
	// TextMergeEvery is how often the full-text indexes are merged after writes (textMergeEvery
	// when 0; never when negative).
	TextMergeEvery time.Duration
	// Now is the clock the store stamps what it writes with (tiledesk.Now when nil).
	Now func() time.Time
}

// Open opens (creating if needed) the database at path, which may be a plain path or a "sqlite:" URL
// ("sqlite:///var/lib/tiledesk.db", "sqlite:tiledesk.db?synchronous=normal"), and migrates it.
func Open(ctx context.Context, dsn string, opt Options) (*sqlstore.Store, error) {
	path, params, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if opt.Synchronous == "" {
		opt.Synchronous = params.Get("synchronous")
	}
	if opt.Synchronous == "" {
		opt.Synchronous = "FULL"
	}
	switch strings.ToUpper(opt.Synchronous) {
	case "OFF", "NORMAL", "FULL", "EXTRA":
	default:
		return nil, fmt.Errorf("sqlite: unknown synchronous setting %q", opt.Synchronous)
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("sqlite: create data directory: %w", err)
		}
	}
	// unix-excl: the process holds the file exclusively, so the WAL index lives in this process's
	// memory and a read transaction takes its lock without the two fcntl calls the shared index
	// needs (half the cost of a one-row read here). A second process on the same file is refused.
	claim, err := claimFile(ctx, path)
	if err != nil {
		return nil, err
	}
	// The claim holds the file until the pools hold it too.
	defer claim.Close()
	base := "file:" + path + "?vfs=unix-excl&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)" +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(" + opt.Synchronous + ")"
	// The writer checkpoints nothing itself (a checkpointer beside it does) and caches pages and
	// maps the file as readers do: a reply rewrites a random conversation and its index entries.
	write, err := sql.Open("sqlite", base+"&_txlock=immediate&_pragma=wal_autocheckpoint(0)"+
		"&_pragma=cache_size(-65536)&_pragma=mmap_size(1073741824)&_pragma=journal_size_limit(67108864)")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// One writer: SQLite serialises writers anyway, and a single connection makes them queue in Go
	// instead of spinning on the busy handler.
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// Readers map the file (no copy into each connection's cache) and keep a larger page cache: a
	// page of a list deep in a large table otherwise re-reads cold pages on every request.
	read, err := sql.Open("sqlite", base+"&_pragma=query_only(1)&_pragma=mmap_size(1073741824)&_pragma=cache_size(-32768)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	readers := max(4, 2*runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	read.SetConnMaxLifetime(0)
	ckpt, err := sql.Open("sqlite", base)
	if err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	ckpt.SetMaxOpenConns(1)
	ckpt.SetConnMaxLifetime(0)
	st := sqlstore.New(Dialect{}, write, read, path, opt.Now)
	every := opt.TextMergeEvery
	if every == 0 {
		every = textMergeEvery
	}
	if every > 0 {
		st.OnClose(startTextMerger(st, every).close) // before the checkpointer's last checkpoint
	}
	st.OnClose(startCheckpointer(ckpt).close)
	return st, nil
}

// claimFile takes the process's exclusive hold on the database file, without waiting: the pools
// wait out a busy timeout, which is right for a moment's contention inside this process and wrong
// for a file another process keeps for as long as it runs.
func claimFile(ctx context.Context, path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?vfs=unix-excl")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxLifetime(0)
	var version int
	err = db.QueryRowContext(ctx, `PRAGMA schema_version`).Scan(&version)
	var e *sqlite.Error
	switch {
	case errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY:
		db.Close()
		return nil, fmt.Errorf("sqlite: %s is in use by another process: a server holds its database file for as long as it runs; "+
			"stop the other one, or give this one another file", path)
	case err != nil:
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return db, nil
}

// parseDSN accepts a plain path or a sqlite: URL and returns the file path and the URL's parameters.
func parseDSN(dsn string) (string, url.Values, error) {
	if !strings.HasPrefix(dsn, "sqlite:") {
		if dsn == "" {
			return "", nil, errors.New("sqlite: empty database path")
		}
		return dsn, url.Values{}, nil
	}
	rest := strings.TrimPrefix(dsn, "sqlite:")
	rest = strings.TrimPrefix(rest, "//")
	path, query, _ := strings.Cut(rest, "?")
	params, err := url.ParseQuery(query)
	if err != nil {
		return "", nil, fmt.Errorf("sqlite: bad parameters in %q: %w", dsn, err)
	}
	if path == "" {
		return "", nil, fmt.Errorf("sqlite: no file path in %q", dsn)
	}
	return path, params, nil
}

// fixedStats describe the data the server is built for, in sqlite_stat1's format ("rows, then rows
// per distinct prefix of the index's columns"): a million leads, a hundred thousand per project,
// emails and ids unique, a tag shared by thousands. Without statistics SQLite assumes that an equality
// on an index's first column selects about ten rows; every index starts with id_project, so it would
// pick whichever index spares it a sort, and an email filter or a search would walk the whole
// project in created_at order (tens of milliseconds at 100,000 leads instead of a fraction of one).
// Fixed statistics keep the plans the same from the first lead to the millionth; an explicit ANALYZE
// replaces them with measured ones.
var fixedStats = [][3]string{
	{"leads", "leads_key", "1000000 100000 1"},
	{"leads", "leads_created_covering", "1000000 100000 1 1 1 1"},
	{"leads", "leads_updated", "1000000 100000 1 1"},
	{"leads", "leads_fullname", "1000000 100000 2 1"},
	{"leads", "leads_email", "1000000 100000 1 1"},
	{"leads", "leads_lead_id", "1000000 100000 1 1"},
	{"lead_tags", "sqlite_autoindex_lead_tags_1", "300000 30000 3000 1"},
	{"lead_tags", "lead_tags_lead", "300000 30000 1"},
}

// AfterMigrate writes the fixed statistics that are not there yet, once the indexes exist, and makes
// the writer load them; connections opened later load them with the schema.
func (Dialect) AfterMigrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `ANALYZE sqlite_schema`); err != nil { // creates sqlite_stat1, analyses nothing
		return err
	}
	for _, st := range fixedStats {
		if _, err := db.ExecContext(ctx, `INSERT INTO sqlite_stat1 (tbl, idx, stat) SELECT ?1, ?2, ?3
			WHERE NOT EXISTS (SELECT 1 FROM sqlite_stat1 WHERE tbl = ?1 AND idx = ?2)`, st[0], st[1], st[2]); err != nil {
			return err
		}
	}
	_, err := db.ExecContext(ctx, `ANALYZE sqlite_schema`) // reloads the statistics
	return err
}

// JSONSet sets key of the JSON object in col to the JSON text in ph.
func (Dialect) JSONSet(col, key, ph string) string {
	return "json_set(COALESCE(" + col + ", '{}'), '$." + key + "', json(" + ph + "))"
}
