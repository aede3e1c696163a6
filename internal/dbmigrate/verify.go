package dbmigrate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"text/tabwriter"
)

// TableCheck is one table compared on both sides.
type TableCheck struct {
	Table                  string
	SourceRows, TargetRows int64
	// SourceSum and TargetSum are SHA-256 over the table's rows in key order, each row encoded
	// canonically (appendCanonical), in hex.
	SourceSum, TargetSum string
	// FirstDifference is the key of the first row, in key order, whose values differ or that one
	// side lacks; "" when every row is equal.
	FirstDifference string
}

// Equal reports whether both sides hold the same rows.
func (c TableCheck) Equal() bool {
	return c.SourceRows == c.TargetRows && c.SourceSum == c.TargetSum && c.FirstDifference == ""
}

// Verify compares every copied table on both sides: row counts, checksums, and the first row that
// differs. Columns only one engine has, and the values set gives, are not compared.
func (m *Migration) Verify(ctx context.Context) ([]TableCheck, error) {
	var out []TableCheck
	for _, p := range m.tables {
		c, err := m.verifyTable(ctx, p)
		if err != nil {
			return out, fmt.Errorf("verify %s: %w", p.name, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// side is one engine's rows of a table, read in key order.
type side struct {
	rows *sql.Rows
	sum  hash.Hash
	n    int64
	enc  []byte // the current row's encoding
	key  string // the current row's key
}

func (m *Migration) verifyTable(ctx context.Context, p *tablePlan) (TableCheck, error) {
	c := TableCheck{Table: p.name}
	// Both engines order text by its bytes here (SQLite's BINARY, PostgreSQL's "C"), so that the
	// rows come in the same order whatever the database's collation.
	collate := func(col column) string {
		if col.kind == kindText {
			return ` COLLATE "C"`
		}
		return ""
	}
	asText := func(col column) string {
		if col.kind == kindJSON {
			return "::text"
		}
		return ""
	}
	srcRows, err := m.src.QueryContext(ctx, `SELECT `+quoted(p.cols, none)+` FROM "`+p.name+`" ORDER BY `+quoted(p.keyCols, none))
	if err != nil {
		return c, err
	}
	defer srcRows.Close()
	dstRows, err := m.dst.QueryContext(ctx, `SELECT `+quoted(p.cols, asText)+` FROM "`+p.name+`" ORDER BY `+quoted(p.keyCols, collate))
	if err != nil {
		return c, err
	}
	defer dstRows.Close()
	src, dst := &side{rows: srcRows, sum: sha256.New()}, &side{rows: dstRows, sum: sha256.New()}
	for {
		more := false
		for _, s := range []*side{src, dst} {
			ok, err := s.next(p)
			if err != nil {
				return c, err
			}
			more = more || ok
		}
		if !more {
			break
		}
		if c.FirstDifference == "" && !bytes.Equal(src.enc, dst.enc) {
			c.FirstDifference = src.key
			if src.key == "" {
				c.FirstDifference = dst.key
			}
		}
	}
	c.SourceRows, c.TargetRows = src.n, dst.n
	c.SourceSum, c.TargetSum = hex.EncodeToString(src.sum.Sum(nil)), hex.EncodeToString(dst.sum.Sum(nil))
	return c, nil
}

// next reads and encodes the side's next row; at the end it leaves no row.
func (s *side) next(p *tablePlan) (bool, error) {
	s.enc, s.key = s.enc[:0], ""
	if !s.rows.Next() {
		return false, s.rows.Err()
	}
	row, err := scanRow(s.rows, p)
	if err != nil {
		return false, err
	}
	for i, col := range p.cols {
		if s.enc, err = appendCanonical(s.enc, col.kind, row[i]); err != nil {
			return false, fmt.Errorf("row %s: column %s: %w", p.rowKey(row), col.name, err)
		}
	}
	s.sum.Write(s.enc)
	s.n++
	s.key = p.rowKey(row)
	return true, nil
}

// WriteReport prints one line per table and reports whether every table is equal.
func WriteReport(w io.Writer, checks []TableCheck) bool {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "table\tsqlite rows\tpostgres rows\tsha-256\tresult")
	equal := true
	var rows int64
	for _, c := range checks {
		verdict := "equal"
		if !c.Equal() {
			equal = false
			verdict = "DIFFERENT from " + c.FirstDifference
			if c.FirstDifference == "" {
				verdict = "DIFFERENT"
			}
		}
		sum := c.SourceSum[:16]
		if c.SourceSum != c.TargetSum {
			sum = c.SourceSum[:16] + " / " + c.TargetSum[:16]
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", c.Table, c.SourceRows, c.TargetRows, sum, verdict)
		rows += c.SourceRows
	}
	tw.Flush()
	if equal {
		fmt.Fprintf(w, "verified: %d tables, %d rows, equal on both sides\n", len(checks), rows)
	}
	return equal
}
