// Package sqlstore implements tiledesk.Store once, in SQL, for every engine. The few places where
// engines differ (placeholders, unique-violation codes, migration locking, row locks) sit behind the
// Dialect interface that internal/sqlite and internal/postgres implement.
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// Dialect is what an engine must supply. Queries are written with $1-style placeholders, TRUE/FALSE
// literals, ON CONFLICT and RETURNING, which both engines understand once rebound.
type Dialect interface {
	// Name is the engine name for logs: "sqlite" or "postgres".
	Name() string
	// Rebind rewrites the $N placeholders of a query for the engine.
	Rebind(query string) string
	// Migrations holds the engine's numbered migrations, NNNN_name.sql, applied in order.
	Migrations() fs.FS
	// LockMigrations serialises migrations across processes for the rest of tx.
	LockMigrations(ctx context.Context, tx *sql.Tx) error
	// IsUniqueViolation reports whether err is a unique or primary key violation, by error code.
	IsUniqueViolation(err error) bool
	// ForUpdate is the row-locking suffix of a SELECT inside a write transaction ("" where the
	// engine locks the whole database for a writer).
	ForUpdate() string
	// TextMatch is a condition true for the rows of table whose search_text matches the text query in
	// the placeholder ph (a query made by TextQuery).
	TextMatch(table, ph string) string
	// TextQuery turns normalised words into the engine's query on table: every word must match as a
	// prefix of a word of the project's rows. The index holds each word behind its row's project
	// (its id, or a key made from it), so that a search looks up its own project's words only,
	// whatever other tenants hold.
	TextQuery(table, projectID string, words []string) string
	// RequestsByUpdate is the FROM of the conversation lists that sort or filter by updated_at,
	// and the column that holds it there: "requests" and "updated_at" where the conversations'
	// row indexes it, or a join of the conversations (whose other columns keep their names) with
	// a table that indexes a copy of it in step: an index of updated_at in the conversations' row
	// would make every reply's update of it write entries in all the row's indexes.
	RequestsByUpdate() (from, updated string)
	// JSONSet is an expression: the JSON object in col with key set to the JSON text in placeholder
	// ph (key is a plain identifier).
	JSONSet(col, key, ph string) string
	// PreparesItself reports whether the driver already prepares and caches statements per
	// connection (pgx does), so that the store keeps no prepared statements of its own.
	PreparesItself() bool
	// SingleWriter reports whether the engine writes through one connection, so that concurrent
	// write transactions are better committed together (group commit).
	SingleWriter() bool
	// PopulationClock reports whether the engine's schema keeps project_counters.members_clock and
	// the users_clock setting moving (triggers), for Store.Clocks.
	PopulationClock() bool
	// JoinRows is an aggregate joining the text expr of every row with commas, in the order the
	// rows come, or "" where the store should read rows one by one (the engine reads many rows as
	// cheaply as one text, or was not measured doing otherwise).
	JoinRows(expr string) string
	// CounterStripe is the SQL expression of the project_counters stripe a transaction moves: one
	// per connection where many write at once, so that they do not queue behind one row. Stripe 0
	// is left to what is one number per project (tickets, the routing rotation).
	CounterStripe() string
	// UsersClock is an SQL expression of the population clock's users part (see PopulationClock).
	UsersClock() string
	// IsRetryable reports whether err ended a transaction that, run again, may succeed: a
	// deadlock between two writers, which the engine broke by failing one of them.
	IsRetryable(err error) bool
	// WithLiterals returns stmt (with $N placeholders) with args written into it as literals, for
	// a script of statements an Exec without arguments sends in one round trip; false where the
	// driver cannot, or a value cannot be written as a literal.
	WithLiterals(stmt string, args []any) (string, bool)
	// RecordsFromJSON is a FROM item named i: the rows of the JSON array of objects in placeholder
	// ph, with columns (name and type, comma-separated) taken from the objects' keys; "" where the
	// store should not write rows taken from JSON (replies are then written one by one).
	RecordsFromJSON(ph, columns string) string
	// IsStatementError reports whether err is the database's refusal of a statement, which then
	// wrote nothing (as opposed to a lost connection, after which the outcome is unknown).
	IsStatementError(err error) bool
	// AfterBulkLoad are statements that tidy the indexes after a bulk load (SeedLeads), as an import
	// would run them: merging the full-text index's segments, refreshing the planner's statistics.
	AfterBulkLoad() []string
}

// Store is the SQL implementation of tiledesk.Store and tiledesk.ViewStore.
type Store struct {
	dialect    Dialect
	write      *sql.DB // the only pool that writes (one connection on SQLite)
	read       *sql.DB // may be the same pool
	location   string
	now        func() time.Time // the clock of every stamp the store writes (see stamp)
	queries    sync.Map         // query text -> rebound text
	writeStmts *stmtCache
	readStmts  *stmtCache
	batch      *batcher         // group commit; nil when the engine has many writers
	replies    *replyBatcher    // replies written together; nil where the engine has one writer
	creations  *creationBatcher // first messages written together; nil where the engine has one writer
	numbers    *sql.DB          // where ticket numbers are drawn outside the writer's transaction (nextTicket); nil: inside
	closers    []func() error

	// commits counts this store's write transactions. Where no other process can write the
	// database (Dialect.SingleWriter: SQLite, held by one process) the clocks read while it stays
	// the same are still current, and are kept (clocks: project id -> keptValue; see kept) until
	// it moves. Once WriteDB hands the pool out, writes may bypass the count, and nothing is kept.
	commits   atomic.Int64
	handedOut atomic.Bool
	clocks    sync.Map
	// rounds reads clocks in rounds shared by concurrent callers where other processes write the
	// database too (see clockRounds); nil where the store keeps its clocks.
	rounds *clockRounds
	gate   *readGate // reads that run at once; nil: no bound

	eventLogOff bool                                              // only the benchmark pricing the log sets it (export_test.go)
	relay       EventRelay                                        // nil: transactions number their own events
	announce    atomic.Pointer[func(projectID string, seq int64)] // see OnEvents
}

// keptValue is an answer read while commits read at.
type keptValue[T any] struct {
	at int64
	v  T
}

// kept answers read() for a project, from m (one of the Store's maps of kept clocks) while no write
// of the store has committed since it was read, where the store keeps clocks; otherwise it reads.
// The count of commits is read before the answer, so that an answer is never kept under a count
// older than what it shows.
func kept[T any](s *Store, m *sync.Map, projectID string, read func() (T, error)) (T, error) {
	if !s.keepsClocks() {
		return read()
	}
	at := s.commits.Load()
	if k, ok := m.Load(projectID); ok && k.(keptValue[T]).at == at {
		return k.(keptValue[T]).v, nil
	}
	v, err := read()
	if err == nil {
		m.Store(projectID, keptValue[T]{at: at, v: v})
	}
	return v, err
}

// stamp is the store's clock as the store keeps time: UTC, in milliseconds.
func (s *Store) stamp() time.Time { return tiledesk.Millis(s.now()) }

// committed counts a write transaction; call it after its commit, before its caller learns of it.
func (s *Store) committed() { s.commits.Add(1) }

// keepsClocks reports whether clocks read from the database may be kept (see commits).
func (s *Store) keepsClocks() bool { return s.dialect.SingleWriter() && !s.handedOut.Load() }

var (
	_ tiledesk.Store     = (*Store)(nil)
	_ tiledesk.ViewStore = (*Store)(nil)
)

// New returns a Store over already opened pools that stamps what it writes (createdAt, updatedAt,
// clocks, events) with the time now reads: tiledesk.Now when nil, a test's clock in tests, the
// same clock the API reads. Call Migrate before use.
func New(d Dialect, write, read *sql.DB, location string, now func() time.Time) *Store {
	if read == nil {
		read = write
	}
	if now == nil {
		now = tiledesk.Now
	}
	st := &Store{dialect: d, write: write, read: read, location: location, now: now}
	if !d.PreparesItself() {
		st.writeStmts = newStmtCache(write)
		st.readStmts = st.writeStmts
		if read != write {
			st.readStmts = newStmtCache(read)
		}
	}
	if d.SingleWriter() {
		st.batch = newBatcher(st)
	} else {
		st.rounds = newClockRounds(st.readClocksOf)
		st.creations = newCreationBatcher(st)
		if d.RecordsFromJSON("$1", "x INTEGER") != "" {
			st.replies = newReplyBatcher(st)
		}
	}
	return st
}

// SetNumbersDB gives the store a pool, apart from its writers', in which to draw ticket numbers in
// short transactions of their own (see nextTicket). The store closes it with itself.
func (s *Store) SetNumbersDB(db *sql.DB) {
	s.numbers = db
	s.closers = append(s.closers, db.Close)
}

// Engine names the engine and where the data is.
func (s *Store) Engine() (string, string) { return s.dialect.Name(), s.location }

// Ping reports whether both pools answer.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.write.PingContext(ctx); err != nil {
		return err
	}
	return s.read.PingContext(ctx)
}

// OnClose registers fn to run when the store closes, after the last write and before the pools
// close: an engine's background work (SQLite's checkpointer) ends with the store.
func (s *Store) OnClose(fn func() error) { s.closers = append(s.closers, fn) }

// Close closes the pools.
func (s *Store) Close() error {
	if s.replies != nil {
		s.replies.close()
	}
	if s.creations != nil {
		s.creations.close()
	}
	if s.batch != nil {
		s.batch.close()
	}
	var err error
	for _, fn := range s.closers {
		err = errors.Join(err, fn())
	}
	err = errors.Join(err, s.writeStmts.close(), s.readStmts.close(), s.write.Close())
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return err
}

// Upkeep runs fn, an engine's background upkeep of its indexes, in a write transaction of its own
// turn on the writer (on SQLite within its own savepoint of a group-committed batch).
func (s *Store) Upkeep(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return s.inTx(ctx, func(t *tx) error { return fn(t.ctx(ctx), t.Tx) })
}

// Commits returns how many write transactions this store has committed (a group commit counts
// once), for background work that runs only after writes.
func (s *Store) Commits() int64 { return s.commits.Load() }

// WriteDB exposes the write pool, for benchmarks and torture tests that need the bare engine.
func (s *Store) WriteDB() *sql.DB {
	s.handedOut.Store(true)
	return s.write
}

// Stats returns the connection pools' statistics by pool name ("write", and "read" when reads have a
// pool of their own), for metrics.
func (s *Store) Stats() map[string]sql.DBStats {
	st := map[string]sql.DBStats{"write": s.write.Stats()}
	if s.read != s.write {
		st["read"] = s.read.Stats()
	}
	return st
}

// q returns the query rebound for the engine, computing it once per distinct text.
func (s *Store) q(query string) string {
	if v, ok := s.queries.Load(query); ok {
		return v.(string)
	}
	r := s.dialect.Rebind(query)
	s.queries.Store(query, r)
	return r
}

// queryRow reads one row, in its turn among the reads that run at once (see readGate).
func (s *Store) queryRow(ctx context.Context, query string, args ...any) *readRow {
	rows, err := s.query(ctx, query, args...)
	return &readRow{rows: rows, err: err}
}

// query reads rows, in its turn among the reads that run at once (see readGate); closing the rows
// gives the turn to the next.
func (s *Store) query(ctx context.Context, query string, args ...any) (*readRows, error) {
	q := s.q(query)
	if err := s.gate.enter(ctx); err != nil {
		return nil, err
	}
	leave := s.gate.leaver()
	var (
		rows *sql.Rows
		err  error
	)
	if st := s.readStmts.prepare(ctx, q); st != nil {
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = s.read.QueryContext(ctx, q, args...)
	}
	if err != nil {
		leave()
		return nil, err
	}
	return &readRows{Rows: rows, leave: leave}, nil
}

// tx is a write transaction whose methods rebind their queries.
type tx struct {
	*sql.Tx
	s      *Store
	now    time.Time
	events []*tiledesk.Event
	// unwritten are the events inserted right before the commit (flushEvents), where many write.
	unwritten []*tiledesk.Event
	// counters are the moves of project counters written right before the commit (moveCounters).
	counters map[string]*counterMoves
	// assigned are the moves of agents' counts of assigned conversations (adjustAssigned).
	assigned map[assignedKey]int
	// unprepared are the statements this transaction ran as text, to prepare once it ends.
	unprepared []string
	// shared is set when the transaction is a group commit's (batcher): its statements then run
	// under the batch's context, never under the context its caller passes. On SQLite a statement
	// cancelled inside an explicit transaction interrupts the connection, which rolls back the
	// whole transaction: every other caller's write in the batch with it.
	shared context.Context
	// gathered and memo are set in the transaction of a batch of new conversations
	// (creationBatcher): its rows are inserted together before the commit, and what its
	// conversations read alike is read once.
	gathered *gatheredInserts
	memo     *creationMemo
	// script holds writes to send with the COMMIT, in one round trip, where the transaction
	// scripts them (see write); nil where each runs at once.
	script []string
}

// ctx is the context a statement of the transaction runs under: the caller's, unless the
// transaction is shared.
func (t *tx) ctx(ctx context.Context) context.Context {
	if t.shared != nil {
		return t.shared
	}
	return ctx
}

// stmt returns the prepared statement of q bound to this transaction, or nil to run the text (and
// prepare it after the transaction).
func (t *tx) stmt(ctx context.Context, q string) *sql.Stmt {
	if t.s.writeStmts == nil {
		return nil // the driver prepares
	}
	st := t.s.writeStmts.lookup(q)
	if st == nil {
		t.unprepared = append(t.unprepared, q)
		return nil
	}
	return t.Tx.StmtContext(ctx, st)
}

func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = t.ctx(ctx)
	q := t.s.q(query)
	if st := t.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, q, args...)
}

func (t *tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = t.ctx(ctx)
	q := t.s.q(query)
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, q, args...)
}

func (t *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = t.ctx(ctx)
	q := t.s.q(query)
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, q, args...)
}

// inTx runs fn in a write transaction and commits when it returns nil. With a single writer the
// transaction may be a savepoint of a batch committed together with others (see batcher).
func (s *Store) inTx(ctx context.Context, fn func(t *tx) error) error {
	if s.batch != nil {
		return s.batch.do(ctx, fn)
	}
	var err error
	for attempt := 0; attempt < maxTxAttempts; attempt++ {
		if err = s.runTx(ctx, fn); err == nil || !s.dialect.IsRetryable(err) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// maxTxAttempts bounds how often a transaction the engine failed to break a deadlock runs again.
const maxTxAttempts = 3

// runTx runs fn in one transaction of the write pool and commits it.
func (s *Store) runTx(ctx context.Context, fn func(t *tx) error) error {
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	t := &tx{Tx: sqlTx, s: s, now: s.stamp()}
	defer func() {
		for _, q := range t.unprepared {
			s.writeStmts.prepare(ctx, q)
		}
	}()
	if err := fn(t); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	last, err := t.flushCounters(ctx)
	if err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	err = t.commit(ctx, last)
	s.committed() // also when the commit failed: the count only ever errs towards reading again
	if err != nil {
		return err
	}
	s.eventsCommitted(t.events)
	return nil
}

// GetMeta returns a server setting, or ENOTFOUND.
func (s *Store) GetMeta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.queryRow(ctx, `SELECT value FROM meta WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", tiledesk.NotFound("setting")
	}
	return v, err
}

// SetMetaIfAbsent stores value unless key has one, and returns what is stored.
func (s *Store) SetMetaIfAbsent(ctx context.Context, key, value string) (string, error) {
	var stored string
	err := s.inTx(ctx, func(t *tx) error {
		if _, err := t.exec(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`,
			key, value); err != nil {
			return err
		}
		return t.queryRow(ctx, `SELECT value FROM meta WHERE key = $1`, key).Scan(&stored)
	})
	return stored, err
}

// IsEmpty reports whether no user exists.
func (s *Store) IsEmpty(ctx context.Context) (bool, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM users LIMIT 1) AS one`).Scan(&n)
	return n == 0, err
}

// ms is the stored form of a timestamp: Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// jsonArg encodes v for a JSON column; nil maps and slices are stored as NULL.
func jsonArg(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		if x == nil {
			return nil, nil
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if string(b) == "null" {
		return nil, nil
	}
	return string(b), nil
}

// mustJSON encodes values that cannot fail to encode (domain structs and string slices).
func mustJSON(v any) any {
	a, err := jsonArg(v)
	if err != nil {
		panic(fmt.Sprintf("sqlstore: encode %T: %v", v, err))
	}
	return a
}

// nextStamp is the updated_at of a change of a row last stamped prev: now, or a millisecond after
// prev when now is not later. Every change of a row thus carries a new stamp, which is what
// renderings of the row are cached by.
func nextStamp(now, prev time.Time) time.Time {
	if now.After(prev) {
		return now
	}
	return prev.Add(time.Millisecond)
}

// nextStampSQL is nextStamp in SQL, for updates that do not read the row first: the expression to
// assign to updated_at, given the placeholder of now (in milliseconds).
func nextStampSQL(now string) string {
	return `CASE WHEN updated_at >= ` + now + ` THEN updated_at + 1 ELSE ` + now + ` END`
}

// nullString stores "" as NULL, so optional columns and partial unique indexes agree.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// notFound translates sql.ErrNoRows into the domain's ENOTFOUND for the given kind.
func notFound(err error, kind string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return tiledesk.NotFound(kind)
	}
	return err
}

type scanner interface{ Scan(dest ...any) error }

// collect scans every row with scan and closes rows.
func collect[T any](rows rowSource, scan func(scanner) (*T, error)) ([]*T, error) {
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
