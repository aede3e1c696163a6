package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// The URL parameters that size a process's use of the database, removed from the URL before it
// reaches PostgreSQL (which would refuse them as settings): the pool, named as pgx's own pool names
// it, and the read statements that run at once (sqlstore's SetActiveReads).
const (
	poolSizeParam    = "pool_max_conns"
	activeReadsParam = "pool_max_reads"
)

// Pool sizes. A process holds, besides its pool, the numbering pool and the event relay's listening
// connection (processExtra). With no size in the URL, a pool takes a share of the database's
// connections that leaves room for expectedProcesses processes and for administrators; more
// connections than that would not run faster on the cores such a server has, only queue inside it.
const (
	MaxPoolSize       = 32
	MinPoolSize       = 4
	expectedProcesses = 4
	numbersPoolSize   = 2
	// ProcessExtraConnections are the connections a process holds besides its pool.
	ProcessExtraConnections = numbersPoolSize + 1
)

// poolParams are the sizes the URL sets; 0 where it does not.
type poolParams struct {
	size, activeReads int
}

// takePoolParams removes pool_max_conns and pool_max_reads from a database URL and returns them.
func takePoolParams(dsn string) (string, poolParams, error) {
	var p poolParams
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn, p, nil // pgx reports the URL's error
	}
	q := u.Query()
	taken := false
	for _, param := range []struct {
		name string
		dst  *int
	}{{poolSizeParam, &p.size}, {activeReadsParam, &p.activeReads}} {
		v := q.Get(param.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return "", p, fmt.Errorf("%s=%q: want a number from 1 to 1000", param.name, v)
		}
		*param.dst = n
		q.Del(param.name)
		taken = true
	}
	if !taken {
		return dsn, p, nil
	}
	// Encode writes a space as "+", which pgx takes literally in a setting such as
	// options=-c%20name%3Dvalue; a literal "+" is written "%2B", so the swap is safe.
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return u.String(), p, nil
}

// deriveActiveReads is how many read statements a process runs at once when the URL does not say:
// two per core of the process (a database is usually given more cores than any one of the
// servers sharing it), at least MinPoolSize, and never more than its pool holds.
func deriveActiveReads(poolSize, cores int) int {
	return min(poolSize, max(MinPoolSize, 2*cores))
}

// derivePoolSize is the pool size for a database that accepts maxConnections connections,
// reserved of them for superusers.
func derivePoolSize(maxConnections, reserved int) int {
	n := (maxConnections-reserved)/expectedProcesses - ProcessExtraConnections
	return min(MaxPoolSize, max(MinPoolSize, n))
}

// readPoolSize asks the database for its connection limits and derives the pool size.
func readPoolSize(ctx context.Context, db *sql.DB) (int, error) {
	maxConns, reserved, err := ConnectionLimits(ctx, db)
	if err != nil {
		return 0, err
	}
	return derivePoolSize(maxConns, reserved), nil
}

// ConnectionLimits reads the database's max_connections and superuser_reserved_connections.
func ConnectionLimits(ctx context.Context, db *sql.DB) (maxConnections, reserved int, err error) {
	if err := db.QueryRowContext(ctx, `SELECT current_setting('max_connections')::int,
		current_setting('superuser_reserved_connections')::int`).Scan(&maxConnections, &reserved); err != nil {
		return 0, 0, fmt.Errorf("read max_connections: %w", err)
	}
	return maxConnections, reserved, nil
}
