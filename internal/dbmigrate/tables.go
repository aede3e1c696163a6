package dbmigrate

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// tableSpec says how one table is copied. Columns are matched by name: every column both engines
// have is copied; a column only SQLite has stays behind (the rowid seq of leads and requests that
// its full-text indexes need, project_counters.members_clock that its triggers keep); a column
// only PostgreSQL has takes its default (events.tx, and events.pos, which it generates), or the
// value set gives it. Columns PostgreSQL generates itself are never written.
type tableSpec struct {
	name string
	// key identifies a row on both engines; rows are copied and checksummed in its order.
	key []string
	// set gives PostgreSQL-only columns a value in every copied row, where their default will not do.
	set map[string]any
	// keepTriggers: PostgreSQL's triggers on the table derive tables that are not copied
	// (request_search and request_activity from requests), so they run on the copied rows.
	keepTriggers bool
}

// tables is every table of the deployment, copied in this order. A table either engine has that
// is neither here nor in notCopied stops the migration (see plan): a table added by a migration must
// be named here before data can be moved.
var tables = []tableSpec{
	{name: "meta", key: []string{"key"}},
	{name: "users", key: []string{"id"}},
	{name: "projects", key: []string{"id"}},
	{name: "project_counters", key: []string{"id_project"}},
	{name: "project_users", key: []string{"id_project", "id"}},
	{name: "pending_invitations", key: []string{"id_project", "id"}},
	{name: "departments", key: []string{"id_project", "id"}},
	{name: "leads", key: []string{"id_project", "id"}},
	{name: "lead_tags", key: []string{"id_project", "tag", "lead"}},
	{name: "idempotency_keys", key: []string{"id_project", "scope", "key"}},
	{name: "requests", key: []string{"id_project", "id"}, keepTriggers: true},
	{name: "request_participants", key: []string{"id_project", "participant", "request"}},
	{name: "request_followers", key: []string{"id_project", "follower", "request"}},
	{name: "request_tags", key: []string{"id_project", "tag", "request"}},
	{name: "messages", key: []string{"id_project", "id"}},
	{name: "message_counts", key: []string{"id_project", "id_prefix", "stripe"}},
	{name: "chat_states", key: []string{"id_project", "user_id", "request_id"}},
	{name: "direct_messages", key: []string{"id_project", "id"}},
	{name: "chat_groups", key: []string{"id"}},
	{name: "chat_group_members", key: []string{"id_group", "member"}},
	{name: "project_labels", key: []string{"id_project"}},
	{name: "bots", key: []string{"id_project", "id"}},
	{name: "intents", key: []string{"id_project", "id"}},
	{name: "request_parameters", key: []string{"id_project", "request_id"}},
	{name: "agent_groups", key: []string{"id_project", "id"}},
	{name: "agent_group_members", key: []string{"id_project", "id_group", "member"}},
	{name: "project_tags", key: []string{"id_project", "id"}},
	{name: "canned_responses", key: []string{"id_project", "id"}},
	// Events keep their seq: numbered events are the relay's to leave alone (internal/postgres).
	{name: "events", key: []string{"id_project", "id"}},
	{name: "subscriptions", key: []string{"id_project", "id"}},
	{name: "subscription_deliveries", key: []string{"id_project", "id"}},
	{name: "subscription_redeliveries", key: []string{"id_project", "id_subscription", "seq"}},
}

// notCopied are the tables that hold nothing of the deployment's data, or only what PostgreSQL's
// own triggers derive: users_clock, which starts anew there, and request_search and
// request_activity, which the conversations' triggers fill as they are copied (keepTriggers), and
// chat_presence, which records the running processes' connections (none while data moves).
var notCopied = []string{"schema_migrations", progressTable, sourceTable, "users_clock", "request_search", "request_activity", "chat_presence"}

// column is a copied column.
type column struct {
	name string
	kind kind
}

// tablePlan is a table as this pair of databases has it.
type tablePlan struct {
	tableSpec
	cols    []column // copied, in the target's order
	keyCols []column
	keyAt   []int    // where each key column is in cols
	setCols []string // the columns of set, sorted
	// triggers: PostgreSQL runs triggers of its own on the table's writes (clocks it keeps).
	// Copied rows are not changes, and the state those triggers derive is copied with the rest,
	// so they are held off while a batch is written.
	triggers bool
}

// targetColumn is a column as information_schema describes it.
type targetColumn struct {
	name, dataType       string
	nullable, hasDefault bool
	generated            bool // GENERATED ... AS (expr) or an identity: PostgreSQL writes it
}

// plan reads both schemas and matches their tables and columns.
func plan(ctx context.Context, src, dst *sql.DB) ([]*tablePlan, error) {
	if err := checkTableLists(ctx, src, dst); err != nil {
		return nil, err
	}
	var out []*tablePlan
	for _, spec := range tables {
		p, err := planTable(ctx, src, dst, spec)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", spec.name, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func planTable(ctx context.Context, src, dst *sql.DB, spec tableSpec) (*tablePlan, error) {
	srcCols, err := sourceColumns(ctx, src, spec.name)
	if err != nil {
		return nil, err
	}
	dstCols, err := targetColumns(ctx, dst, spec.name)
	if err != nil {
		return nil, err
	}
	p := &tablePlan{tableSpec: spec}
	if err := dst.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_trigger
		WHERE tgrelid = to_regclass(quote_ident($1)) AND NOT tgisinternal)`, spec.name).Scan(&p.triggers); err != nil {
		return nil, err
	}
	p.triggers = p.triggers && !spec.keepTriggers
	for _, c := range dstCols {
		_, isSet := spec.set[c.name]
		switch {
		case isSet && slices.Contains(srcCols, c.name):
			return nil, fmt.Errorf("column %s is given a value but SQLite has it too", c.name)
		case isSet:
			p.setCols = append(p.setCols, c.name)
		case c.generated:
		case slices.Contains(srcCols, c.name):
			k, ok := kindOf(c.dataType)
			if !ok {
				return nil, fmt.Errorf("column %s: type %s is not one migrate knows how to copy", c.name, c.dataType)
			}
			p.cols = append(p.cols, column{name: c.name, kind: k})
		case !c.nullable && !c.hasDefault:
			return nil, fmt.Errorf("PostgreSQL's column %s has no counterpart in SQLite and no default: "+
				"give it a value in the table list of internal/dbmigrate", c.name)
		}
	}
	if len(p.setCols) != len(spec.set) {
		return nil, fmt.Errorf("a column given a value is not in PostgreSQL's table")
	}
	slices.Sort(p.setCols)
	for _, k := range spec.key {
		i := slices.IndexFunc(p.cols, func(c column) bool { return c.name == k })
		if i < 0 {
			return nil, fmt.Errorf("key column %s is not in both engines' table", k)
		}
		p.keyAt = append(p.keyAt, i)
		p.keyCols = append(p.keyCols, p.cols[i])
	}
	return p, nil
}

// checkTableLists refuses tables that one engine has and the table list does not name: their data
// would be left behind.
func checkTableLists(ctx context.Context, src, dst *sql.DB) error {
	known := slices.Clone(notCopied)
	for _, t := range tables {
		known = append(known, t.name)
	}
	for _, side := range []struct {
		engine string
		db     *sql.DB
		query  string
	}{
		{"SQLite", src, `SELECT name FROM sqlite_schema s WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
			AND sql NOT LIKE 'CREATE VIRTUAL TABLE%'
			AND NOT EXISTS (SELECT 1 FROM sqlite_schema v WHERE v.type = 'table' AND v.sql LIKE 'CREATE VIRTUAL TABLE%'
				AND s.name LIKE v.name || '\_%' ESCAPE '\')`},
		{"PostgreSQL", dst, `SELECT table_name FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`},
	} {
		names, err := queryStrings(ctx, side.db, side.query)
		if err != nil {
			return fmt.Errorf("list %s tables: %w", side.engine, err)
		}
		for _, n := range names {
			if !slices.Contains(known, n) {
				return fmt.Errorf("%s has a table %s that this migrate does not know how to copy: "+
					"use the tiledesk binary whose server wrote it", side.engine, n)
			}
		}
	}
	return nil
}

func sourceColumns(ctx context.Context, src *sql.DB, table string) ([]string, error) {
	names, err := queryStrings(ctx, src, `SELECT name FROM pragma_table_info(?)`, table)
	if err == nil && len(names) == 0 {
		err = fmt.Errorf("SQLite has no such table")
	}
	return names, err
}

func targetColumns(ctx context.Context, dst *sql.DB, table string) ([]targetColumn, error) {
	rows, err := dst.QueryContext(ctx, `SELECT column_name, data_type, is_nullable = 'YES', column_default IS NOT NULL,
		is_identity = 'YES' OR is_generated = 'ALWAYS'
		FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1
		ORDER BY ordinal_position`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []targetColumn
	for rows.Next() {
		var c targetColumn
		if err := rows.Scan(&c.name, &c.dataType, &c.nullable, &c.hasDefault, &c.generated); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("PostgreSQL has no such table")
	}
	return out, nil
}

func queryStrings(ctx context.Context, db *sql.DB, query string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// quoted joins column names as quoted identifiers, each followed by suffix (a cast, a collation).
func quoted(cols []column, suffix func(column) string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = `"` + c.name + `"` + suffix(c)
	}
	return strings.Join(parts, ", ")
}

func none(column) string { return "" }

// rowKey renders a row's key for messages.
func (p *tablePlan) rowKey(row []any) string {
	parts := make([]string, len(p.keyAt))
	for i, at := range p.keyAt {
		parts[i] = fmt.Sprintf("%s=%v", p.cols[at].name, row[at])
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
