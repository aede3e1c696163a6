// Package postgres opens a PostgreSQL database through pgx and supplies its dialect to sqlstore.
package postgres

import (
	"context"
	"crypto/md5"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect is PostgreSQL's side of the sqlstore seam.
type Dialect struct{}

var _ sqlstore.Dialect = Dialect{}

func (Dialect) Name() string { return "postgres" }

// Rebind leaves $N alone: queries are written in PostgreSQL's placeholder style.
func (Dialect) Rebind(q string) string { return q }

func (Dialect) Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err)
	}
	return sub
}

// migrationLockKey is an arbitrary constant shared by every tiledesk process on the database.
const migrationLockKey = 0x7469_6c65_6465_736b // "tiledesk"

// LockMigrations takes a transaction-scoped advisory lock, released at commit or rollback.
func (Dialect) LockMigrations(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLockKey))
	return err
}

func (Dialect) IsUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}

func (Dialect) ForUpdate() string { return " FOR UPDATE" }

// PopulationClock: the striped counters migration's triggers move the members and users clocks, in the stripe of
// the writing connection, at commit.
func (Dialect) PopulationClock() bool { return true }

// counterStripes is how many rows of counters a project may have: more than the connections that
// write at once, so that two of them rarely share one.
const counterStripes = 64

// CounterStripe: the writing connection's stripe, 1 to counterStripes (0 is one number per project).
func (Dialect) CounterStripe() string {
	return "1 + pg_backend_pid() % " + strconv.Itoa(counterStripes)
}

// UsersClock sums the users_clock stripes.
func (Dialect) UsersClock() string { return `(SELECT COALESCE(SUM(clock), 0) FROM users_clock)` }

// IsRetryable: a deadlock (40P01) or a serialization failure (40001) fails one transaction so
// that the others go on; run again, it usually succeeds.
func (Dialect) IsRetryable(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && (e.Code == "40P01" || e.Code == "40001")
}

// RecordsFromJSON: jsonb_to_recordset, whose rows come in the array's order.
func (Dialect) RecordsFromJSON(ph, columns string) string {
	return "jsonb_to_recordset(CAST(" + ph + " AS JSONB)) AS i(" + columns + ")"
}

// IsStatementError: the server answered with an error, so the statement's implicit transaction
// was rolled back.
func (Dialect) IsStatementError(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e)
}

// PreparesItself: pgx prepares every statement once per connection and keeps it (its default
// statement cache). database/sql's prepared statements on top only doubled that, and closing them
// runs a DEALLOCATE round trip while holding the pool's lock, which stalls every other query.
func (Dialect) PreparesItself() bool { return true }

// SingleWriter: PostgreSQL runs many writers at once and group-commits on its own.
func (Dialect) SingleWriter() bool { return false }

// JoinRows is not used: pgx reads rows without SQLite's per-column locking, and a page of lead
// search results joined by string_agg was read a fifth slower than its rows.
func (Dialect) JoinRows(string) string { return "" }

// AfterBulkLoad refreshes the planner's statistics of the loaded table, as autovacuum would later.
func (Dialect) AfterBulkLoad() []string { return []string{`ANALYZE leads`} }

// searchVector is the expression of the conversations' GIN index (migration 0008): a row's words,
// each behind its project's id, so that a search looks up only its own project's words.
const searchVector = "to_tsvector('simple', id_project || replace(left(search_text, 65536), ' ', ' ' || id_project))"

// leadSearchKeys is the expression of the leads' GIN index (migration 0013): every word's first one
// to four characters as keys of their own, and the whole word beside them when longer, each behind
// leadSearchProject's key. A query word of up to four characters is then one exact key, whose rows
// GIN holds in one sorted list, where a prefix query had GIN gather every row of every word with
// that prefix into a bitmap first (most of a lead search's time). Conversations keep searchVector:
// their text can be a long first message, and the expression is computed again on their frequent
// updates.
const leadSearchKeys = "search_prefixes(id_project, search_text)"

// prefixKeyChars is how many first characters of a word search_prefixes indexes as keys of their
// own; maxWordChars the length it cuts words at, the longest a search accepts.
const (
	prefixKeyChars = 4
	maxWordChars   = tiledesk.MaxSearchQueryChars
)

// leadSearchProject is the key search_prefixes puts before a project's words: the first 8 hex
// digits of the md5 of its id, shorter than the id so that the keys of the longest text fit a
// tsvector. Projects whose keys collide share index ranges, not rows: a search also filters on
// id_project.
func leadSearchProject(projectID string) string {
	sum := md5.Sum([]byte(projectID))
	return hex.EncodeToString(sum[:4])
}

// TextMatch uses the table's GIN index.
func (Dialect) TextMatch(table, ph string) string {
	if table == "leads" {
		return leadSearchKeys + " @@ CAST(" + ph + " AS tsquery)"
	}
	// A conversation's words are in request_search (migration 0014), out of the row every reply
	// rewrites; ids are unique across projects, and the words carry their project.
	return "id IN (SELECT id FROM request_search WHERE " + searchVector + " @@ to_tsquery('simple', " + ph + "))"
}

// RequestsByUpdate joins request_activity (migration 0015), on the left so that the id_project
// and id the join merges are its own, the ones its index on (id_project, changed_at, id) serves.
func (Dialect) RequestsByUpdate() (from, updated string) {
	return "request_activity JOIN requests USING (id_project, id)", "changed_at"
}

// TextQuery ANDs a term per word, behind the project as the table's index holds it: for leads the
// word's own key when search_prefixes indexes it whole, else a prefix of the indexed words; for
// conversations a prefix. Words are letters and digits only (tiledesk.SearchTerms), so they cannot
// carry tsquery syntax; quoting guards anyway.
func (Dialect) TextQuery(table, projectID string, words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		if table != "leads" {
			q[i] = tsQuoted(projectID+w) + ":*"
			continue
		}
		n := utf8.RuneCountInString(w)
		switch {
		case n <= prefixKeyChars:
			q[i] = tsQuoted(leadSearchProject(projectID) + w)
		default:
			if n > maxWordChars {
				w = string([]rune(w)[:maxWordChars])
			}
			q[i] = tsQuoted(leadSearchProject(projectID)+w) + ":*"
		}
	}
	return strings.Join(q, " & ")
}

// tsQuoted is s as a quoted tsquery lexeme.
func tsQuoted(s string) string { return "'" + tsQuoter.Replace(s) + "'" }

// tsQuoter is built once: building it cost more than quoting a search's words.
var tsQuoter = strings.NewReplacer(`\`, `\\`, "'", "''")

// idleInTransactionTimeout ends a session that holds a transaction open without sending anything.
// The store's transactions run their statements back to back, so such a session is stuck in the
// server between two statements, and it may hold rows other writers wait for (a conversation, a
// lead): PostgreSQL then ends it, its transaction fails and the others go on, instead of all of
// them waiting for as long as the stuck one does.
const idleInTransactionTimeout = "15s"

// sessionDefaults are the settings of the store's sessions that a URL can override.
//
// plan_cache_mode: the store prepares every statement once per connection, and PostgreSQL then
// plans each execution again for its parameters (a custom plan) whenever its estimate of the
// one-for-all generic plan comes out higher, as it does for a text search: planning a search
// looks into the GIN index, and cost about a third of running it. Every statement the store sends
// selects by project first, on an index led by id_project, by equalities or by a range inside the
// project (no LIKE of a parameter, whose index use only a custom plan finds), so the generic plan
// takes the index a custom one would. plan_cache_mode=auto in the URL restores PostgreSQL's choice.
var sessionDefaults = map[string]string{
	"idle_in_transaction_session_timeout": idleInTransactionTimeout,
	"plan_cache_mode":                     "force_generic_plan",
}

// Options tune Open; the zero value is the production setting.
type Options struct {
	// Now is the clock the store stamps what it writes with (tiledesk.Now when nil).
	Now func() time.Time
}

// Open connects to the database at a postgres:// URL.
func Open(ctx context.Context, dsn string, opt Options) (*sqlstore.Store, error) {
	dsn, params, err := takePoolParams(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", Redact(dsn), err)
	}
	for name, value := range sessionDefaults {
		if _, set := cfg.RuntimeParams[name]; !set {
			cfg.RuntimeParams[name] = value
		}
	}
	db := stdlib.OpenDB(*cfg)
	size := params.size
	if size == 0 {
		if size, err = readPoolSize(ctx, db); err != nil {
			db.Close()
			return nil, fmt.Errorf("postgres: connect to %s: %w", Redact(dsn), err)
		}
	}
	db.SetMaxOpenConns(size)
	db.SetMaxIdleConns(size)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect to %s: %w", Redact(dsn), err)
	}
	s := sqlstore.New(Dialect{}, db, db, Redact(dsn), opt.Now)
	s.SetNumbersDB(openNumbersPool(cfg))
	activeReads := params.activeReads
	if activeReads == 0 {
		activeReads = deriveActiveReads(size, runtime.GOMAXPROCS(0))
	}
	s.SetActiveReads(activeReads)
	relay := newEventRelay(db, cfg.Copy(), s)
	s.SetEventRelay(relay)
	s.OnClose(relay.Stop)
	return s, nil
}

// openNumbersPool opens the pool tickets are numbered in (sqlstore's nextTicket): its commits do
// not wait for the disk, which the conversation's own durable commit does for them, and a
// statement that waits for a row longer than numbersTimeout fails instead of holding its caller.
func openNumbersPool(cfg *pgx.ConnConfig) *sql.DB {
	c := cfg.Copy()
	c.RuntimeParams["synchronous_commit"] = "off"
	c.RuntimeParams["statement_timeout"] = numbersTimeout
	db := stdlib.OpenDB(*c)
	db.SetMaxOpenConns(numbersPoolSize)
	db.SetMaxIdleConns(numbersPoolSize)
	return db
}

const numbersTimeout = "5s"

// Redact hides the password of a database URL, for logs.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://(unparseable URL)"
	}
	return u.Redacted()
}

// JSONSet sets key of the JSON object in col to the JSON text in ph.
func (Dialect) JSONSet(col, key, ph string) string {
	return "jsonb_set(COALESCE(" + col + ", '{}'::jsonb), '{" + key + "}', CAST(" + ph + " AS jsonb))"
}
