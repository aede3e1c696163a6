package sqlstore

import (
	"fmt"
	"strings"
)

// query builds a WHERE clause whose first argument is the project id.
type query struct {
	conds []string
	args  []any
}

func newQuery(projectID string) *query {
	return &query{conds: []string{"id_project = $1"}, args: []any{projectID}}
}

// arg binds v and returns its placeholder.
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return fmt.Sprintf("$%d", len(q.args))
}

func (q *query) where(cond string) { q.conds = append(q.conds, cond) }

func (q *query) conditions() string { return strings.Join(q.conds, " AND ") }
