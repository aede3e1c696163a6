package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
)

// textMergeEvery is how often the merger looks for writes since its last round.
const textMergeEvery = 2 * time.Second

// mergePages bounds one merge step, so that a step holds the one writer for a few milliseconds.
const mergePages = 64

// maxMergeSteps bounds a round per index; what is left waits for the next round.
const maxMergeSteps = 32

// textIndexes are the FTS5 tables the merger keeps merged.
var textIndexes = []string{"leads_fts", "requests_fts"}

// MergeTextIndexes merges the segments of the full-text indexes that share a level, in steps of
// mergePages pages, each a write of its own turn on the writer, until a step finds nothing to
// merge or maxMergeSteps ran. It returns the number of steps that merged something.
func MergeTextIndexes(ctx context.Context, st *sqlstore.Store) (int, error) {
	r, err := mergeTextIndexes(ctx, st)
	return r.merged, err
}

type mergeRound struct {
	merged, writes int
	more           bool // a step bound was reached while steps still merged
}

func mergeTextIndexes(ctx context.Context, st *sqlstore.Store) (r mergeRound, err error) {
	for _, table := range textIndexes {
		for step := range maxMergeSteps {
			r.writes++
			changed, err := mergeStep(ctx, st, table)
			if err != nil {
				return r, err
			}
			if !changed {
				break
			}
			r.merged++
			r.more = r.more || step == maxMergeSteps-1
		}
	}
	return r, nil
}

// mergeStep runs one FTS5 'merge' of table. Positive, it merges only levels holding usermerge (2)
// segments or more, or carries on a merge begun earlier; it did something when the connection's
// change count moved by two or more (FTS5's documented test).
func mergeStep(ctx context.Context, st *sqlstore.Store, table string) (bool, error) {
	var changed bool
	err := st.Upkeep(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var before, after int64
		if err := tx.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&before); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (`+table+`, rank) VALUES ('merge', ?)`, mergePages); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&after); err != nil {
			return err
		}
		changed = after-before >= 2
		return nil
	})
	return changed, err
}

// textMerger runs MergeTextIndexes every interval in which the store committed a write other than
// its own.
type textMerger struct {
	st       *sqlstore.Store
	interval time.Duration
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
}

func startTextMerger(st *sqlstore.Store, interval time.Duration) *textMerger {
	m := &textMerger{st: st, interval: interval, stop: make(chan struct{}), done: make(chan struct{})}
	go m.run()
	return m
}

func (m *textMerger) run() {
	defer close(m.done)
	// A merge under way stops with the store: its context ends when stop closes.
	ctx, cancel := context.WithCancel(context.Background())
	watching := make(chan struct{})
	defer func() { cancel(); <-watching }() // the watcher has returned when done closes
	go func() {
		defer close(watching)
		select {
		case <-m.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	t := time.NewTicker(m.interval)
	defer t.Stop()
	seen := int64(-1) // a first round at start: the file may come fragmented from an earlier run
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
		before := m.st.Commits()
		if before == seen {
			continue
		}
		// An error (the tables not migrated yet, the store closing) is retried after the next write.
		r, err := mergeTextIndexes(ctx, m.st)
		// The merger's own steps commit too; only others' commits, or work left over, call for
		// another round. (A step batched with another write counts once for both: that write's
		// segment waits for the next round.)
		switch after := m.st.Commits(); {
		case err == nil && !r.more && after-before <= int64(r.writes):
			seen = after
		case r.more:
			seen = -1
		default:
			seen = before
		}
	}
}

func (m *textMerger) close() error {
	m.once.Do(func() { close(m.stop) })
	<-m.done
	return nil
}
