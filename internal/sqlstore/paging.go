package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

// page describes one page of a sorted list: by column col (then id, which breaks ties), after a
// cursor or from an offset.
type page struct {
	sortKey string
	col     string
	desc    bool
	after   *tiledesk.Cursor
	limit   int
	offset  int
	ints    bool // the sort column holds integers: milliseconds, ticket numbers
}

// clause adds the cursor condition to q and returns the ORDER BY / LIMIT / OFFSET clause. It asks
// for one row more than the page, so that next can tell whether another page follows.
func (p page) clause(q *query) string {
	cmp, dir := ">", "ASC"
	if p.desc {
		cmp, dir = "<", "DESC"
	}
	if p.after != nil {
		if p.col == "id" {
			q.where("id " + cmp + " " + q.arg(p.after.ID))
		} else {
			q.where("(" + p.col + ", id) " + cmp + " (" + q.arg(p.after.Value) + ", " + q.arg(p.after.ID) + ")")
		}
	}
	order := p.col + " " + dir
	if p.col != "id" {
		order += ", id " + dir
	}
	out := ` ORDER BY ` + order + ` LIMIT ` + q.arg(p.limit+1)
	if p.after == nil && p.offset > 0 {
		out += ` OFFSET ` + q.arg(p.offset)
	}
	return out
}

// next trims the extra row clause asked for and returns the cursor after the page's last row, or nil
// on the last page.
func next[T any](p page, rows []*T, value func(*T, string) any, id func(*T) string) ([]*T, *tiledesk.Cursor) {
	if rows == nil {
		rows = []*T{}
	}
	if len(rows) <= p.limit {
		return rows, nil
	}
	rows = rows[:p.limit]
	last := rows[p.limit-1]
	return rows, &tiledesk.Cursor{Sort: p.sortKey, Desc: p.desc, Value: value(last, p.sortKey), ID: id(last)}
}

// newPage resolves the sort of a list: the cursor's when continuing, else the filter's, else the
// default (newest first).
func newPage(columns map[string]string, defaultKey, sortKey string, desc bool, after *tiledesk.Cursor, limit, offset int) (page, error) {
	if after != nil {
		sortKey, desc = after.Sort, after.Desc
	}
	if sortKey == "" {
		sortKey, desc = defaultKey, true
	}
	col, ok := columns[sortKey]
	if !ok {
		return page{}, tiledesk.Invalid("sort", "unknown sort key %q", sortKey)
	}
	if limit <= 0 {
		limit = 40
	}
	ints := col == "created_at" || col == "updated_at" || col == "ticket_id"
	return page{sortKey: sortKey, col: col, desc: desc, after: after, limit: limit, offset: offset, ints: ints}, nil
}

// count counts a list: from the project's counter column when the filter is the default one,
// otherwise with COUNT over the filter.
func (s *Store) count(ctx context.Context, table, counter string, useCounter bool, q *query) (int, error) {
	var n int
	var err error
	if useCounter {
		err = s.queryRow(ctx, `SELECT COALESCE(SUM(`+counter+`), 0) FROM project_counters WHERE id_project = $1`, q.args[0]).Scan(&n)
	} else {
		err = s.queryRow(ctx, `SELECT COUNT(*) FROM `+table+` WHERE `+q.conditions(), q.args...).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", table, err)
	}
	return n, nil
}

// intSort reports whether the page's sort column holds integers (milliseconds, ticket numbers), as
// cursors carry them; the others hold text.
func (p page) intSort() bool { return p.ints }

// versionRows are the rows of a versions query: the versions in order, the count column of the
// first row, and the sort value of the page's last row (row limit-1), held as the type cursors carry
// for the column (milliseconds for times, text otherwise): the only one a cursor needs.
type versionRows struct {
	versions []tiledesk.Version
	total    int
	lastInt  int64
	lastText string
	intSort  bool
}

// collectVersions reads the rows of "SELECT id, updated_at, <sort column>[, total]" straight into
// versions, scanning each row into the same destinations: a page is 41 rows, this loop was a fifth
// of it, and each intermediate copy of the rows was garbage the collector then had to chase.
func collectVersions(rows rowSource, p page, withTotal bool) (versionRows, error) {
	defer rows.Close()
	vs := versionRows{versions: make([]tiledesk.Version, 0, p.limit+1), intSort: p.intSort()}
	var (
		id       string
		updated  int64
		sortInt  int64
		sortText string
		total    int
	)
	dest := []any{&id, &updated, &sortText}
	if vs.intSort {
		dest[2] = &sortInt
	}
	if withTotal {
		dest = append(dest, &total)
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return versionRows{}, err
		}
		if len(vs.versions) == 0 {
			vs.total = total
		}
		if len(vs.versions) == p.limit-1 {
			vs.lastInt, vs.lastText = sortInt, sortText
		}
		vs.versions = append(vs.versions, tiledesk.Version{ID: id, UpdatedAt: fromMS(updated)})
	}
	return vs, rows.Err()
}

// page trims the extra row asked for and returns the versions and the cursor after them, as next
// does for objects.
func (vs versionRows) page(p page) ([]tiledesk.Version, *tiledesk.Cursor) {
	if len(vs.versions) <= p.limit {
		return vs.versions, nil
	}
	var value any = vs.lastText
	if vs.intSort {
		value = vs.lastInt
	}
	rows := vs.versions[:p.limit]
	return rows, &tiledesk.Cursor{Sort: p.sortKey, Desc: p.desc, Value: value, ID: rows[p.limit-1].ID}
}

// packedVersions runs the versions query stmt (after with, its WITH clause) as one row on engines
// that can join rows into text (Dialect.JoinRows): the count of rows, each row's updated_at, sort
// value and id joined into one string, and total, an expression of the whole list's count
// evaluated once for the page ("" for none). On SQLite each row read through
// database/sql costs a step and two to three locked calls per column; one row of text instead
// read a page of 41 at a random cursor in 22 us instead of 36 (one connection, 100,000 leads, a
// throwaway benchmark). It reports false, and the caller reads the rows, when
// the engine cannot join rows, the sort column holds text (which could hold the separators),
// or the text does not read back as exactly the rows counted, in order (an id holding a comma,
// or an engine that joined rows in another order).
func (s *Store) packedVersions(ctx context.Context, with, stmt string, p page, total string, args []any) (versionRows, bool, error) {
	var packed string
	switch {
	case p.col == "id":
		packed = `updated_at || ' ' || id`
	case p.intSort():
		packed = `updated_at || ' ' || sort_value || ' ' || id`
	default:
		return versionRows{}, false, nil
	}
	joined := s.dialect.JoinRows(packed)
	if joined == "" {
		return versionRows{}, false, nil
	}
	if total == "" {
		total = `0`
	}
	var (
		n   int
		all string
		tot sql.NullInt64
	)
	err := s.queryRow(ctx, with+`SELECT COUNT(*), COALESCE(`+joined+`, ''), `+total+` FROM (`+stmt+`) AS page`, args...).Scan(&n, &all, &tot)
	if err != nil {
		return versionRows{}, false, fmt.Errorf("find leads: %w", err)
	}
	vs, ok := unpackVersions(all, n, p)
	vs.total = int(tot.Int64)
	return vs, ok, nil
}

// unpackVersions reads the text packedVersions joins: rows separated by commas, each
// "updated_at sort_value id" ("updated_at id" when the sort is the id). ok is false unless it
// holds exactly n rows in the page's order (sort value, then id; strictly, as ids are unique).
func unpackVersions(all string, n int, p page) (vs versionRows, ok bool) {
	vs = versionRows{versions: make([]tiledesk.Version, 0, n), intSort: p.intSort()}
	var prevSort int64
	prevID := ""
	for rest := all; rest != ""; {
		var row, field string
		row, rest, _ = strings.Cut(rest, ",")
		field, row, _ = strings.Cut(row, " ")
		updated, err := strconv.ParseInt(field, 10, 64)
		if err != nil {
			return vs, false
		}
		var sortInt int64
		if p.col != "id" {
			field, row, _ = strings.Cut(row, " ")
			if sortInt, err = strconv.ParseInt(field, 10, 64); err != nil {
				return vs, false
			}
		}
		id := row
		if len(vs.versions) > 0 {
			c := cmp.Compare(sortInt, prevSort)
			if c == 0 {
				c = strings.Compare(id, prevID)
			}
			if c == 0 || (c < 0) != p.desc {
				return vs, false
			}
		}
		prevSort, prevID = sortInt, id
		if len(vs.versions) == p.limit-1 {
			vs.lastInt, vs.lastText = sortInt, id
		}
		vs.versions = append(vs.versions, tiledesk.Version{ID: id, UpdatedAt: fromMS(updated)})
	}
	return vs, len(vs.versions) == n
}
