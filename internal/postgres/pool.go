package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strconv"
)

// poolSizeParam is the URL parameter that sets the pool size, named as pgx's own pool names it.
const poolSizeParam = "pool_max_conns"

// Pool sizes. A process holds, besides its pool, the numbering pool and the event relay's listening
// connection (processExtra). With no size in the URL, a pool takes a share of the database's
// connections that leaves room for expectedProcesses processes and for administrators; more
// connections than that would not run faster on the cores such a server has, only queue inside it.
const (
	maxPoolSize       = 32
	minPoolSize       = 4
	expectedProcesses = 4
	numbersPoolSize   = 2
	processExtra      = numbersPoolSize + 1
)

// takePoolSize removes pool_max_conns from a database URL (PostgreSQL would refuse it as a setting)
// and returns it, or 0 when absent.
func takePoolSize(dsn string) (string, int, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn, 0, nil // pgx reports the URL's error
	}
	q := u.Query()
	v := q.Get(poolSizeParam)
	if v == "" {
		return dsn, 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return "", 0, fmt.Errorf("%s=%q: want a number of connections from 1 to 1000", poolSizeParam, v)
	}
	q.Del(poolSizeParam)
	u.RawQuery = q.Encode()
	return u.String(), n, nil
}

// derivePoolSize is the pool size for a database that accepts maxConnections connections,
// reserved of them for superusers.
func derivePoolSize(maxConnections, reserved int) int {
	n := (maxConnections-reserved)/expectedProcesses - processExtra
	return min(maxPoolSize, max(minPoolSize, n))
}

// readPoolSize asks the database for its connection limits and derives the pool size.
func readPoolSize(ctx context.Context, db *sql.DB) (int, error) {
	var maxConns, reserved int
	if err := db.QueryRowContext(ctx, `SELECT current_setting('max_connections')::int,
		current_setting('superuser_reserved_connections')::int`).Scan(&maxConns, &reserved); err != nil {
		return 0, fmt.Errorf("read max_connections: %w", err)
	}
	return derivePoolSize(maxConns, reserved), nil
}
