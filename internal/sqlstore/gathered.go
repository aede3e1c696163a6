package sqlstore

import (
	"context"
	"fmt"
	"strings"
)

// insert inserts one row of columns into table; conflict is the statement's ON CONFLICT clause,
// or "". In a transaction that gathers its rows (a batch of new conversations: see
// creationBatcher) the row is kept instead, and written with the others of its table by
// flushGathered.
func (t *tx) insert(ctx context.Context, table, columns, conflict string, args ...any) error {
	if t.gathered != nil {
		t.gathered.add(table, columns, conflict, args)
		return nil
	}
	_, err := t.exec(ctx, `INSERT INTO `+table+` (`+columns+`) VALUES (`+placeholders(1, len(args))+`)`+conflict, args...)
	return err
}

// write runs one of the transaction's writes. Where the transaction scripts its writes (t.script
// not nil: a batch's, and the last write of any, see commit), the statement is added to the script
// that commit sends with the COMMIT, in one round trip; a statement whose values cannot be written
// as literals runs at once, after the script so far, so that the writes keep their order.
func (t *tx) write(ctx context.Context, query string, args ...any) error {
	if t.script != nil {
		if stmt, ok := t.s.dialect.WithLiterals(t.s.q(query), args); ok {
			t.script = append(t.script, stmt)
			return nil
		}
		if len(t.script) > 0 {
			script := strings.Join(t.script, "; ")
			t.script = t.script[:0]
			if _, err := t.Tx.ExecContext(t.ctx(ctx), script); err != nil {
				return err
			}
		}
	}
	_, err := t.exec(ctx, query, args...)
	return err
}

// gatheredInserts are the rows a transaction keeps to insert right before its commit, by table,
// the tables in the order they were first met.
type gatheredInserts struct {
	tables []*gatheredTable
}

type gatheredTable struct {
	table, columns, conflict string
	rows                     [][]any
}

func (g *gatheredInserts) add(table, columns, conflict string, args []any) {
	for _, gt := range g.tables {
		if gt.table == table && gt.columns == columns && gt.conflict == conflict {
			gt.rows = append(gt.rows, args)
			return
		}
	}
	g.tables = append(g.tables, &gatheredTable{table: table, columns: columns, conflict: conflict, rows: [][]any{args}})
}

// gatheredMark is how many rows each table held at a moment (mark), to go back to (restore).
type gatheredMark []int

func (g *gatheredInserts) mark() gatheredMark {
	m := make(gatheredMark, len(g.tables))
	for i, gt := range g.tables {
		m[i] = len(gt.rows)
	}
	return m
}

func (g *gatheredInserts) restore(m gatheredMark) {
	g.tables = g.tables[:len(m)]
	for i, gt := range g.tables {
		gt.rows = gt.rows[:m[i]]
	}
}

// rowsPerGatheredInsert bounds the rows of one statement of flushGathered, and so the distinct
// texts each table's statements take, and their parameters.
const rowsPerGatheredInsert = 32

// flushGathered writes the gathered rows, one multi-row INSERT per table and up to
// rowsPerGatheredInsert rows, tables in the order met.
func (t *tx) flushGathered(ctx context.Context) error {
	if t.gathered == nil {
		return nil
	}
	for _, gt := range t.gathered.tables {
		for rows := gt.rows; len(rows) > 0; {
			chunk := rows[:min(len(rows), rowsPerGatheredInsert)]
			rows = rows[len(chunk):]
			var a sqlArgs
			values := make([]string, len(chunk))
			for i, row := range chunk {
				ph := make([]string, len(row))
				for j, v := range row {
					ph[j] = a.add(v)
				}
				values[i] = "(" + strings.Join(ph, ", ") + ")"
			}
			if err := t.write(ctx, `INSERT INTO `+gt.table+` (`+gt.columns+`) VALUES `+strings.Join(values, ", ")+gt.conflict,
				a.args...); err != nil {
				return fmt.Errorf("insert %s: %w", gt.table, err)
			}
		}
	}
	t.gathered = nil
	return nil
}
