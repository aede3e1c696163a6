package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
)

// eventRelay numbers the events writers leave unnumbered (migration 0009 says why) and tells
// every process which projects' logs grew. Every process runs one; they take turns through a
// transaction-scoped advisory lock, so whichever runs numbers every process's events, and a
// process killed between its commit and the numbering loses nothing: the next turn of any process
// numbers its events. Numbered events are announced on a LISTEN/NOTIFY channel that every
// process listens on; after a missed notification (a lost connection) the listener announces
// every project's last number again, and the log stays the source of what happened.
type eventRelay struct {
	db    *sql.DB
	conn  *pgx.ConnConfig // the listener's own connection
	store *sqlstore.Store
	log   *slog.Logger

	kick      chan struct{}
	startOnce sync.Once
	cancel    context.CancelFunc
	done      sync.WaitGroup

	// Set by Start from the schema the store works in, so that servers on other schemas of the
	// same database neither wait for this one's turns nor hear its notifications.
	channel string
	lockKey int64
}

// numberBatch bounds the events one turn numbers; a turn that fills it runs again at once.
const numberBatch = 1000

// Idle processes still take a turn now and then: a process that committed events and was killed
// before kicking its relay leaves them to the others.
const (
	idleTurn    = time.Second
	waitingTurn = 5 * time.Millisecond // while transactions older than unnumbered events still run
)

func newEventRelay(db *sql.DB, conn *pgx.ConnConfig, store *sqlstore.Store) *eventRelay {
	return &eventRelay{db: db, conn: conn, store: store, log: slog.Default(), kick: make(chan struct{}, 1)}
}

// Kick asks for a turn soon: this process committed events.
func (r *eventRelay) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Start begins numbering and listening, once the schema is current (sqlstore.Migrate calls it).
func (r *eventRelay) Start(ctx context.Context) error {
	var err error
	r.startOnce.Do(func() {
		var schema string
		if err = r.db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			err = fmt.Errorf("event relay: %w", err)
			return
		}
		h := fnv.New64a()
		h.Write([]byte("tiledesk events " + schema))
		sum := h.Sum64()
		r.lockKey = int64(sum >> 1)
		r.channel = "tiledesk_events_" + strconv.FormatUint(sum, 36)
		runCtx, cancel := context.WithCancel(context.Background())
		r.cancel = cancel
		r.done.Add(2)
		go func() { defer r.done.Done(); r.numberLoop(runCtx) }()
		go func() { defer r.done.Done(); r.listenLoop(runCtx) }()
	})
	return err
}

// Stop ends both loops and waits for them.
func (r *eventRelay) Stop() error {
	if r.cancel != nil {
		r.cancel()
		r.done.Wait()
	}
	return nil
}

func (r *eventRelay) numberLoop(ctx context.Context) {
	wait := time.Duration(0) // a first turn at once: events left by a killed process
	for {
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-r.kick:
		case <-timer.C:
		}
		timer.Stop()
		more, waiting, err := r.turn(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			r.log.Warn("numbering events failed; retrying", "err", err)
			wait = 100 * time.Millisecond
		case more:
			wait = 0
		case waiting:
			wait = waitingTurn
		default:
			wait = idleTurn
		}
	}
}

type unnumbered struct{ project, id string }

// turn numbers the events of ended transactions, oldest transaction first. more: the batch was
// full; waiting: committed events wait for an older transaction to end.
func (r *eventRelay) turn(ctx context.Context) (more, waiting bool, err error) {
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return false, false, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, r.lockKey); err != nil {
		return false, false, err
	}
	// A transaction below the oldest one still running has ended: its events, if it committed,
	// are all visible now, and no event of a transaction that ends later can sort before them.
	rows, err := tx.QueryContext(ctx, `SELECT id_project, id, tx < pg_snapshot_xmin(pg_current_snapshot())
		FROM events WHERE seq IS NULL ORDER BY tx, pos LIMIT $1`, numberBatch)
	if err != nil {
		return false, false, err
	}
	var batch []unnumbered
	seen := 0
	for rows.Next() {
		var u unnumbered
		var ended bool
		if err := rows.Scan(&u.project, &u.id, &ended); err != nil {
			rows.Close()
			return false, false, err
		}
		seen++
		if !ended {
			waiting = true
			break
		}
		batch = append(batch, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, false, err
	}
	if len(batch) == 0 {
		return false, waiting, nil
	}
	last, err := r.number(ctx, tx, batch)
	if err != nil {
		return false, false, err
	}
	for _, payload := range notifications(last) {
		if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, r.channel, payload); err != nil {
			return false, false, err
		}
	}
	if err := tx.Commit(); err != nil {
		return false, false, err
	}
	for project, seq := range last {
		r.store.Announce(project, seq) // at once here; the notification reaches the other processes
	}
	return seen == numberBatch && !waiting, waiting, nil
}

// number gives the batch's events their numbers, per project in batch order, and returns each
// project's new last number.
func (r *eventRelay) number(ctx context.Context, tx *sql.Tx, batch []unnumbered) (map[string]int64, error) {
	var projects []string
	listed := map[string]bool{}
	for _, u := range batch {
		if !listed[u.project] {
			listed[u.project] = true
			projects = append(projects, u.project)
		}
	}
	// The project's highest number: only a turn, holding the lock, numbers events.
	rows, err := tx.QueryContext(ctx, `SELECT p, COALESCE((SELECT MAX(seq) FROM events WHERE id_project = p), 0)
		FROM unnest($1::text[]) AS p`, projects)
	if err != nil {
		return nil, fmt.Errorf("last numbers: %w", err)
	}
	next := map[string]int64{}
	for rows.Next() {
		var p string
		var seq int64
		if err := rows.Scan(&p, &seq); err != nil {
			rows.Close()
			return nil, err
		}
		next[p] = seq + 1
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	ps, ids, seqs := make([]string, len(batch)), make([]string, len(batch)), make([]int64, len(batch))
	for i, u := range batch {
		ps[i], ids[i], seqs[i] = u.project, u.id, next[u.project]
		next[u.project]++
	}
	last := map[string]int64{}
	for p, n := range next {
		last[p] = n - 1
	}
	if _, err := tx.ExecContext(ctx, `UPDATE events SET seq = v.seq
		FROM unnest($1::text[], $2::text[], $3::bigint[]) AS v(p, i, seq)
		WHERE events.id_project = v.p AND events.id = v.i`, ps, ids, seqs); err != nil {
		return nil, fmt.Errorf("number events: %w", err)
	}
	return last, nil
}

// maxNotification keeps a payload under PostgreSQL's 8000-byte limit.
const maxNotification = 7000

// notifications writes "project:seq" pairs, comma-separated, in payloads that fit a NOTIFY.
func notifications(last map[string]int64) []string {
	var out []string
	var b strings.Builder
	for p, seq := range last {
		pair := p + ":" + strconv.FormatInt(seq, 10)
		if b.Len() > 0 && b.Len()+1+len(pair) > maxNotification {
			out = append(out, b.String())
			b.Reset()
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(pair)
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

func (r *eventRelay) listenLoop(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := r.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		r.log.Warn("event notifications lost; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// listen holds one connection listening for numbered events until it fails or ctx ends. Once
// listening it announces every project's last number, which covers what a previous connection
// may have missed.
func (r *eventRelay) listen(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, r.conn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `LISTEN `+r.channel); err != nil {
		return err
	}
	rows, err := conn.Query(ctx, `SELECT id_project, MAX(seq) FROM events WHERE seq IS NOT NULL GROUP BY id_project`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var p string
		var seq int64
		if err := rows.Scan(&p, &seq); err != nil {
			rows.Close()
			return err
		}
		r.store.Announce(p, seq)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		for _, pair := range strings.Split(n.Payload, ",") {
			i := strings.LastIndexByte(pair, ':')
			seq, perr := strconv.ParseInt(pair[i+1:], 10, 64)
			if i < 0 || perr != nil {
				return errors.New("unreadable event notification " + strconv.Quote(pair))
			}
			r.store.Announce(pair[:i], seq)
		}
	}
}
