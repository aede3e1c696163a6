package dbmigrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// DefaultBatch is the rows a batch copies when CopyOptions.Batch is 0.
const DefaultBatch = 5000

// CopyOptions tune Copy.
type CopyOptions struct {
	// Batch is the number of rows each target transaction copies (DefaultBatch when 0).
	Batch int
	// Progress receives a line per table and, while a table is copied, a progress line at most
	// every ProgressEvery (500 ms when 0). Nil: nothing is printed.
	Progress      io.Writer
	ProgressEvery time.Duration
	// Now is the clock of the progress lines and the records (time.Now when nil).
	Now func() time.Time
	// BeforeCommit, when set, runs inside every batch's transaction just before it commits, with
	// the number of batches committed before it in this run; an error rolls the batch back and
	// ends the copy there, as an interruption would.
	BeforeCommit func(table string, batch int) error
}

// CopyResult says what a Copy did.
type CopyResult struct {
	Rows     int64     // rows copied by this run
	Finished time.Time // when an earlier run finished the copy; zero if this run did the copying
}

// Copy copies every table that is not copied yet, resuming each where the last committed batch of
// an earlier run left it. It refuses a target holding data that no migration from this source
// wrote, and a second run at the same time.
func (m *Migration) Copy(ctx context.Context, opt CopyOptions) (CopyResult, error) {
	if opt.Batch <= 0 {
		opt.Batch = DefaultBatch
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	var res CopyResult
	conn, err := m.lockTarget(ctx)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	if res.Finished, err = m.claimTarget(ctx, conn, opt.Now()); err != nil || !res.Finished.IsZero() {
		return res, err
	}
	rep := newReporter(opt.Progress, opt.ProgressEvery, opt.Now)
	c := &tableCopy{m: m, conn: conn, opt: opt, rep: rep}
	for _, p := range m.tables {
		if err := c.copy(ctx, p); err != nil {
			rep.interrupted()
			if ctx.Err() != nil {
				err = errors.New("interrupted")
			}
			return CopyResult{Rows: c.rows}, fmt.Errorf("copy %s: %w; every batch committed before is kept: "+
				"run the same command again to resume", p.name, err)
		}
	}
	return CopyResult{Rows: c.rows}, m.markFinished(ctx, conn, opt.Now())
}

// tableCopy is one run of Copy.
type tableCopy struct {
	m       *Migration
	conn    *sql.Conn // holds the run's lock; every batch is written on it
	opt     CopyOptions
	rep     *reporter
	batches int   // committed by this run
	rows    int64 // copied by this run
}

func (c *tableCopy) copy(ctx context.Context, p *tablePlan) error {
	st, err := c.m.progressOf(ctx, c.conn, p)
	if err != nil || st.done {
		return err
	}
	var total int64
	if err := c.m.src.QueryRowContext(ctx, `SELECT COUNT(*) FROM "`+p.name+`"`).Scan(&total); err != nil {
		return fmt.Errorf("count %s: %w", p.name, err)
	}
	c.rep.start(p.name, st.rows, total)
	for !st.done {
		rows, err := c.m.readBatch(ctx, p, st.lastKey, c.opt.Batch)
		if err != nil {
			return err
		}
		next := tableProgress{lastKey: st.lastKey, rows: st.rows + int64(len(rows)), done: len(rows) < c.opt.Batch}
		if len(rows) > 0 {
			next.lastKey = make([]any, len(p.keyAt))
			for i, at := range p.keyAt {
				next.lastKey[i] = rows[len(rows)-1][at]
			}
		}
		if err := c.write(ctx, p, rows, st, next); err != nil {
			return err
		}
		c.batches++
		c.rows += int64(len(rows))
		st = next
		c.rep.advance(st.rows)
	}
	c.rep.finish(st.rows)
	return nil
}

// readBatch reads up to limit rows of the source after the key after (from the first when nil),
// in key order, normalized to the target's kinds.
func (m *Migration) readBatch(ctx context.Context, p *tablePlan, after []any, limit int) ([][]any, error) {
	q := `SELECT ` + quoted(p.cols, none) + ` FROM "` + p.name + `"`
	args := append([]any(nil), after...)
	if after != nil {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(after)), ", ")
		q += ` WHERE (` + quoted(p.keyCols, none) + `) > (` + marks + `)`
	}
	q += ` ORDER BY ` + quoted(p.keyCols, none) + ` LIMIT ?`
	rows, err := m.src.QueryContext(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p.name, err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		row, err := scanRow(rows, p)
		if err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", p.name, err)
	}
	return out, nil
}

// scanRow reads a row of p's columns, normalized to their kinds.
func scanRow(rows *sql.Rows, p *tablePlan) ([]any, error) {
	row := make([]any, len(p.cols))
	ptrs := make([]any, len(row))
	for i := range row {
		ptrs[i] = &row[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, fmt.Errorf("read %s: %w", p.name, err)
	}
	for i, c := range p.cols {
		v, err := normalize(c.kind, row[i])
		if err != nil {
			return nil, fmt.Errorf("%s row %s: column %s: %w", p.name, p.rowKey(row), c.name, err)
		}
		row[i] = v
	}
	return row, nil
}

// write copies rows into the target and moves the table's progress from prev to next, in one
// transaction: a batch is either copied and recorded, or neither.
func (c *tableCopy) write(ctx context.Context, p *tablePlan, rows [][]any, prev, next tableProgress) error {
	names := make([]string, 0, len(p.cols)+len(p.setCols))
	for _, col := range p.cols {
		names = append(names, col.name)
	}
	names = append(names, p.setCols...)
	for i, row := range rows {
		for _, name := range p.setCols {
			row = append(row, p.set[name])
		}
		rows[i] = row
	}
	var key any // NULL while no row was copied
	if next.lastKey != nil {
		k, err := encodeKey(next.lastKey)
		if err != nil {
			return err
		}
		key = k
	}
	return c.conn.Raw(func(driverConn any) error {
		tx, err := driverConn.(*stdlib.Conn).Conn().Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(context.Background())
		if p.triggers {
			// Transactional: a batch that does not commit leaves the triggers as they were.
			if _, err := tx.Exec(ctx, `ALTER TABLE "`+p.name+`" DISABLE TRIGGER USER`); err != nil {
				return fmt.Errorf("hold off the triggers of %s (migrate must run as the tables' owner): %w", p.name, err)
			}
		}
		if len(rows) > 0 {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{p.name}, names, pgx.CopyFromRows(rows)); err != nil {
				return fmt.Errorf("write %d rows of %s from %s on: %w", len(rows), p.name, p.rowKey(rows[0]), err)
			}
		}
		if p.triggers {
			if _, err := tx.Exec(ctx, `ALTER TABLE "`+p.name+`" ENABLE TRIGGER USER`); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `UPDATE migrate_progress SET last_key = $1, rows = $2, done = $3
			WHERE source_table = $4 AND rows = $5 AND NOT done`, key, next.rows, next.done, p.name, prev.rows)
		if err != nil {
			return fmt.Errorf("record progress of %s: %w", p.name, err)
		}
		if tag.RowsAffected() != 1 {
			return errors.New("the progress of " + p.name + " moved during this run: is another tiledesk migrate copying into this database?")
		}
		if c.opt.BeforeCommit != nil {
			if err := c.opt.BeforeCommit(p.name, c.batches); err != nil {
				return err
			}
		}
		return tx.Commit(ctx)
	})
}
