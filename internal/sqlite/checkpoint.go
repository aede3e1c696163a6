package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// checkpointEvery is how often the checkpointer copies committed WAL frames into the database file.
// SQLite's default, a checkpoint run by whichever commit pushes the WAL past 1,000 pages, puts a
// burst of random writes and an fsync of the database file on the path of one unlucky write, and on
// this server every write waits on that one writer.
const checkpointEvery = 250 * time.Millisecond

// checkpointer runs PASSIVE checkpoints from a connection of its own, beside the writer: a passive
// checkpoint never waits for the writer or the readers, it copies what no reader still needs.
type checkpointer struct {
	db   *sql.DB
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func startCheckpointer(db *sql.DB) *checkpointer {
	c := &checkpointer{db: db, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			// An error (the database busy with a migration, a closed file) is retried on the next tick;
			// until then the WAL only grows, which costs disk, not data.
			_, _ = c.db.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}

// close stops the checkpointer after a last checkpoint that also truncates the WAL, so that a
// cleanly stopped server leaves one file behind.
func (c *checkpointer) close() error {
	c.once.Do(func() { close(c.stop) })
	<-c.done
	_, _ = c.db.ExecContext(context.Background(), `PRAGMA wal_checkpoint(TRUNCATE)`)
	return c.db.Close()
}
