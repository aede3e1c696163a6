package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// With --baseline-db the write baseline is pgbench-like: single-row INSERTs, each its own
// transaction, one connection per client, into a table with the columns and types of the table the
// scenario writes (a message row for the replies, a lead row for lead-create), filled with a row
// copied from the server's own table. Only the primary key is kept: the loop measures what a bare
// row of that width costs the database, not the server's indexes.

// wideSources maps a write scenario to the server's table whose row it writes.
var wideSources = map[string]string{"lead-create": "leads", "message-post": "messages", "message-first": "messages"}

// wideBaseline is the --baseline-db database and the tables made in it, by source table.
type wideBaseline struct {
	db     *sql.DB
	where  string // the database, without credentials
	tables map[string]*wideTable
	suffix string // of this run's tables' names
}

// wideTable is one baseline table: its INSERT and the row it inserts, whose id changes each time.
type wideTable struct {
	name     string
	insert   string
	values   []any
	idIndex  int
	describe string
}

// openWideBaseline opens the --baseline-db database; close drops the tables made in it.
func openWideBaseline(raw string) (*wideBaseline, func(), error) {
	db, err := sql.Open("pgx", raw)
	if err != nil {
		return nil, nil, fmt.Errorf("--baseline-db: %w", err)
	}
	where := raw
	if u, err := url.Parse(raw); err == nil {
		u.User = nil
		u.RawQuery = ""
		where = u.String()
	}
	w := &wideBaseline{db: db, where: where, tables: map[string]*wideTable{},
		suffix: fmt.Sprintf("%d_%d", os.Getpid(), time.Now().Unix())}
	closeFn := func() {
		for _, t := range w.tables {
			if _, err := db.Exec(`DROP TABLE IF EXISTS ` + t.name); err != nil {
				fmt.Fprintf(os.Stderr, "tdbench: drop %s in --baseline-db: %v\n", t.name, err)
			}
		}
		db.Close()
	}
	return w, closeFn, nil
}

// run measures the baseline of scenario: the rows of its table, inserted by cfg.concurrency
// connections.
func (w *wideBaseline) run(ctx context.Context, server *sql.DB, pid, scenario string, cfg loadConfig) (result, error) {
	source, ok := wideSources[scenario]
	if !ok {
		return result{}, fmt.Errorf("--baseline-db: no row is known for scenario %s", scenario)
	}
	t, err := w.table(ctx, server, pid, source)
	if err != nil {
		return result{}, fmt.Errorf("--baseline-db: %s: %w", source, err)
	}
	w.db.SetMaxOpenConns(cfg.concurrency)
	w.db.SetMaxIdleConns(cfg.concurrency)
	r := insertLoop(ctx, cfg, func(ctx context.Context, _ time.Time) error {
		args := append([]any(nil), t.values...)
		args[t.idIndex] = tiledesk.NewID()
		_, err := w.db.ExecContext(ctx, t.insert, args...)
		return err
	})
	r.BaselineRow = t.describe
	w.db.SetMaxIdleConns(0) // the servers need the connections back for the scenario
	return r, nil
}

// column is one column of a table as PostgreSQL formats its type.
type column struct {
	name, typ string
	notNull   bool
}

// table makes (once) the baseline table of source in the baseline database, as wide as the
// server's, and reads the row it inserts from the server's newest row of the project.
func (w *wideBaseline) table(ctx context.Context, server *sql.DB, pid, source string) (*wideTable, error) {
	if t := w.tables[source]; t != nil {
		return t, nil
	}
	cols, err := columnsOf(ctx, server, source)
	if err != nil {
		return nil, err
	}
	values, width, err := newestRow(ctx, server, source, pid, cols)
	if err != nil {
		return nil, err
	}
	t := &wideTable{name: "tdbench_" + source + "_" + w.suffix, idIndex: -1}
	var defs, names, params []string
	for i, c := range cols {
		def := c.name + " " + c.typ
		if c.notNull {
			def += " NOT NULL"
		}
		defs, names = append(defs, def), append(names, c.name)
		params = append(params, fmt.Sprintf("$%d::text::%s", i+1, c.typ))
		if c.name == "id" {
			t.idIndex = i
		}
	}
	if t.idIndex < 0 {
		return nil, fmt.Errorf("the server's table %s has no id column", source)
	}
	ddl := `CREATE TABLE ` + t.name + ` (` + strings.Join(defs, ", ") + `, PRIMARY KEY (id_project, id))`
	if _, err := w.db.ExecContext(ctx, ddl); err != nil {
		return nil, err
	}
	w.tables[source] = t
	t.insert = `INSERT INTO ` + t.name + ` (` + strings.Join(names, ", ") + `) VALUES (` + strings.Join(params, ", ") + `)`
	t.values = values
	t.describe = fmt.Sprintf("write baseline: a %s row (the server's %d columns and types, %d bytes of values copied from its newest row; primary key only) per transaction, into %s",
		strings.TrimSuffix(source, "s"), len(cols), width, w.where)
	return t, nil
}

// columnsOf lists a table's columns in order, as the server's migrations made them.
func columnsOf(ctx context.Context, db *sql.DB, table string) ([]column, error) {
	rows, err := db.QueryContext(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
		FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.typ, &c.notNull); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("the server's database has no table %s", table)
	}
	return cols, nil
}

// newestRow reads the project's newest row of table as text, column by column (nil for NULL),
// and its width in bytes.
func newestRow(ctx context.Context, db *sql.DB, table, pid string, cols []column) ([]any, int, error) {
	exprs := make([]string, len(cols))
	for i, c := range cols {
		exprs[i] = c.name + "::text"
	}
	texts := make([]sql.NullString, len(cols))
	dest := make([]any, len(cols))
	for i := range texts {
		dest[i] = &texts[i]
	}
	q := `SELECT ` + strings.Join(exprs, ", ") + ` FROM ` + table + ` WHERE id_project = $1 ORDER BY created_at DESC LIMIT 1`
	if err := db.QueryRowContext(ctx, q, pid).Scan(dest...); err != nil {
		return nil, 0, fmt.Errorf("a row to copy: %w", err)
	}
	values, width := make([]any, len(cols)), 0
	for i, t := range texts {
		if t.Valid {
			values[i], width = t.String, width+len(t.String)
		}
	}
	return values, width, nil
}
