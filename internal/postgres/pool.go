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
	MaxPoolSize       = 32
	MinPoolSize       = 4
	expectedProcesses = 4
	numbersPoolSize   = 2
	// ProcessExtraConnections are the connections a process holds besides its pool.
	ProcessExtraConnections = numbersPoolSize + 1
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
