package postgres

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// WithLiterals: stmt holds no "$" but its placeholders. pgx runs an Exec without arguments as a
// simple query, which may hold several statements; PostgreSQL runs them in order and stops at the
// first that fails. The values are written as literals: strings quoted by doubling their quotes,
// which is all a literal needs under standard_conforming_strings (which pgx requires), integers,
// booleans and NULL. A string holding a NUL (which would end the query's text) or invalid UTF-8,
// or a value of another type, is refused, and the caller takes the statement with its parameters.
func (Dialect) WithLiterals(stmt string, args []any) (string, bool) {
	var b strings.Builder
	b.Grow(len(stmt) + 64)
	for i := 0; i < len(stmt); i++ {
		if stmt[i] != '$' {
			b.WriteByte(stmt[i])
			continue
		}
		j := i + 1
		for j < len(stmt) && stmt[j] >= '0' && stmt[j] <= '9' {
			j++
		}
		n, err := strconv.Atoi(stmt[i+1 : j])
		if err != nil || n < 1 || n > len(args) || !writeLiteral(&b, args[n-1]) {
			return "", false
		}
		i = j - 1
	}
	return b.String(), true
}

// writeLiteral writes v as an SQL literal, or reports that it cannot.
func writeLiteral(b *strings.Builder, v any) bool {
	switch x := v.(type) {
	case nil:
		b.WriteString("NULL")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		if strings.IndexByte(x, 0) >= 0 || !utf8.ValidString(x) {
			return false
		}
		b.WriteByte('\'')
		b.WriteString(strings.ReplaceAll(x, "'", "''"))
		b.WriteByte('\'')
	case int:
		return writeLiteral(b, int64(x))
	case int64:
		if x < 0 { // parenthesised, so that a minus before it cannot make a comment of "--"
			b.WriteString("(" + strconv.FormatInt(x, 10) + ")")
		} else {
			b.WriteString(strconv.FormatInt(x, 10))
		}
	default:
		return false
	}
	return true
}
