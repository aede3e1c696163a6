package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// stmtCache keeps prepared statements by query text: database/sql would otherwise prepare every
// statement anew, and preparing costs as much as running a small query. A statement prepared on the
// pool is prepared once per connection and reused; transactions borrow it with Tx.StmtContext.
// Preparing needs a free connection, so a statement first met inside a transaction runs as text and
// is prepared once the transaction has let its connection go (the single SQLite writer would
// otherwise wait for itself).
type stmtCache struct {
	db *sql.DB
	mu sync.RWMutex
	m  map[string]*sql.Stmt
}

// maxCachedStmts bounds the cache; list filters combine into many texts, and past the bound
// statements are simply prepared per call.
const maxCachedStmts = 1000

func newStmtCache(db *sql.DB) *stmtCache { return &stmtCache{db: db, m: map[string]*sql.Stmt{}} }

// lookup returns the prepared statement of query, or nil.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[query]
}

// prepare returns the prepared statement of query, preparing it when missing; nil past the bound.
// The caller must not hold a connection of the pool; the cache's lock is not held while preparing,
// which may wait for a connection that a transaction (itself looking up statements) holds.
func (c *stmtCache) prepare(ctx context.Context, query string) *sql.Stmt {
	if c == nil {
		return nil
	}
	if st := c.lookup(query); st != nil {
		return st
	}
	c.mu.RLock()
	full := len(c.m) >= maxCachedStmts
	c.mu.RUnlock()
	if full {
		return nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil // the text path reports the error
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev := c.m[query]; prev != nil {
		st.Close() // prepared meanwhile by another caller
		return prev
	}
	c.m[query] = st
	return st
}

func (c *stmtCache) close() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	for _, st := range c.m {
		err = errors.Join(err, st.Close())
	}
	c.m = map[string]*sql.Stmt{}
	return err
}
