package sqlstore

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// counterMoves are what a transaction changes of one project's counters: each clock moves by one
// per change, the counts by their deltas.
type counterMoves struct {
	leads, leadsActive, requests, requestsOpen int
}

// stampChange moves the project's counters for a change of a lead or a conversation whose previous
// version was prev (zero for a new one), and returns the change's stamp.
//
// With one writer (SQLite) the project has one row, whose clocks are stamps: the later of now and
// a millisecond after the clock, so that the stamps of a project's changes increase strictly in
// commit order and a follower of updated_since misses nothing. With many writers (PostgreSQL) the
// moves are added up and written by flushCounters right before the commit, into the stripe of the
// transaction's connection: the stripe is then the last row the transaction locks, held for no
// other statement, and two transactions sharing one cannot wait for each other in a cycle through
// it. A stamp is then the later of now and a millisecond after prev: each lead's and conversation's
// versions differ, and changes of different rows may share a stamp.
func (t *tx) stampChange(ctx context.Context, projectID string, m counterMoves, prev time.Time) (time.Time, error) {
	if !t.s.dialect.SingleWriter() {
		t.moveCounters(projectID, m)
		return nextStamp(t.now, prev), nil
	}
	clock, delta := "leads_clock", "leads_active"
	n := m.leadsActive
	if m.requests > 0 {
		clock, delta, n = "requests_clock", "requests_open", m.requestsOpen
	}
	var stamp int64
	if err := t.queryRow(ctx, `INSERT INTO project_counters AS c (id_project, stripe, `+clock+`, `+delta+`)
		VALUES ($1, 0, $2, $3)
		ON CONFLICT (id_project, stripe) DO UPDATE SET
			`+clock+` = CASE WHEN c.`+clock+` + 1 > excluded.`+clock+` THEN c.`+clock+` + 1 ELSE excluded.`+clock+` END,
			`+delta+` = c.`+delta+` + excluded.`+delta+`
		RETURNING `+clock, projectID, ms(t.now), n).Scan(&stamp); err != nil {
		return time.Time{}, fmt.Errorf("advance %s: %w", clock, err)
	}
	return nextStamp(fromMS(stamp), prev), nil
}

// moveCounters adds moves to those flushCounters writes.
func (t *tx) moveCounters(projectID string, m counterMoves) {
	if t.counters == nil {
		t.counters = map[string]*counterMoves{}
	}
	c := t.counters[projectID]
	if c == nil {
		c = &counterMoves{}
		t.counters[projectID] = c
	}
	c.leads += m.leads
	c.leadsActive += m.leadsActive
	c.requests += m.requests
	c.requestsOpen += m.requestsOpen
}

// flushCounters writes the transaction's gathered events (flushEvents), then the moves moveCounters
// and adjustAssigned gathered, rows in one order: the agents' rows last, since another writer
// creating a conversation for the same agent waits for them until this one commits. The last of
// these writes is returned unrun (nil: none), for commit to run with the COMMIT.
func (t *tx) flushCounters(ctx context.Context) (*flushWrite, error) {
	if err := t.flushEvents(ctx); err != nil {
		return nil, err
	}
	projects := make([]string, 0, len(t.counters))
	for p := range t.counters {
		projects = append(projects, p)
	}
	sort.Strings(projects)
	var writes []flushWrite
	for _, p := range projects {
		writes = append(writes, t.counterWrite(p, *t.counters[p]))
	}
	t.counters = nil
	writes = append(writes, t.assignedWrites()...)
	if len(writes) == 0 {
		return nil, nil
	}
	for _, w := range writes[:len(writes)-1] {
		if err := w.run(ctx, t); err != nil {
			return nil, err
		}
	}
	return &writes[len(writes)-1], nil
}

// flushWrite is a write of flushCounters: a statement, its arguments, and what it does (for errors).
// hot: the row it writes is one other transactions wait for (see commit).
type flushWrite struct {
	query, what string
	args        []any
	hot         bool
}

func (w *flushWrite) run(ctx context.Context, t *tx) error {
	if err := t.write(ctx, w.query, w.args...); err != nil {
		return fmt.Errorf("%s: %w", w.what, err)
	}
	return nil
}

// commit runs last (flushCounters), then commits. When last writes a row others wait for (an
// agent's, written by every conversation routed to the agent) and the engine runs a script of
// statements (Dialect.WithLiterals), both go in one round trip, with whatever else the
// transaction scripted (see write): the row is then held for the commit alone, not also for a
// round trip between the write's answer and the COMMIT.
func (t *tx) commit(ctx context.Context, last *flushWrite) error {
	if last != nil && last.hot && t.script == nil {
		t.script = []string{}
	}
	if last != nil {
		if err := last.run(ctx, t); err != nil {
			_ = t.Tx.Rollback()
			return err
		}
	}
	if len(t.script) > 0 {
		script := strings.Join(t.script, "; ") + "; COMMIT; BEGIN"
		t.script = nil
		if _, err := t.Tx.ExecContext(t.ctx(ctx), script); err != nil {
			_ = t.Tx.Rollback() // ends a transaction the script's error left open
			return fmt.Errorf("write and commit: %w", err)
		}
		// This commits the empty transaction the script began.
	}
	if err := t.Tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// counterWrite is the write of one project's counter moves.
func (t *tx) counterWrite(projectID string, m counterMoves) flushWrite {
	return flushWrite{what: "move project counters", query: `INSERT INTO project_counters AS c (id_project, stripe,
			leads_clock, leads_active, requests_clock, requests_open)
		VALUES ($1, ` + t.s.dialect.CounterStripe() + `, $2, $3, $4, $5)
		ON CONFLICT (id_project, stripe) DO UPDATE SET
			leads_clock = c.leads_clock + excluded.leads_clock,
			leads_active = c.leads_active + excluded.leads_active,
			requests_clock = c.requests_clock + excluded.requests_clock,
			requests_open = c.requests_open + excluded.requests_open`,
		args: []any{projectID, m.leads, m.leadsActive, m.requests, m.requestsOpen}}
}

// requestClock moves the project's request clock and open count for a change of a conversation
// whose previous version was prev (zero for a new one), and returns the change's stamp.
func (t *tx) requestClock(ctx context.Context, projectID string, openDelta int, prev time.Time) (time.Time, error) {
	return t.stampChange(ctx, projectID, counterMoves{requests: 1, requestsOpen: openDelta}, prev)
}

// nextTicket numbers a new conversation of the project. Where the store has a numbering pool
// (PostgreSQL), the number is drawn there, in a transaction of its own that holds the project's
// row for an instant instead of until the conversation commits: numbers stay unique, and one lost
// with a transaction that fails is a gap, as with a sequence. That commit does not wait for the
// disk: any later durable commit, such as the conversation's, writes it out first. The same row
// keeps the routing rotation (noteRotation), which it returns too: the routing of the new
// conversation then need not read it.
// In a batch of new conversations the numbers were drawn for the batch (creationMemo).
func (t *tx) nextTicket(ctx context.Context, projectID string) (seq int, lastAssigned string, err error) {
	if seq, rotation, ok := t.memo.ticket(projectID); ok {
		return seq, rotation, nil
	}
	return t.drawTickets(ctx, projectID, 1)
}

// drawTickets draws n ticket numbers of the project (nextTicket), the last of which it returns.
func (t *tx) drawTickets(ctx context.Context, projectID string, n int) (last int, lastAssigned string, err error) {
	if t.s.numbers != nil {
		return t.s.drawTickets(ctx, projectID, n)
	}
	if err := t.queryRow(ctx, drawTicketsSQL, projectID, n).Scan(&last, &lastAssigned); err != nil {
		return 0, "", fmt.Errorf("number ticket: %w", err)
	}
	return last, lastAssigned, nil
}

const drawTicketsSQL = `INSERT INTO project_counters AS c (id_project, stripe, ticket_seq) VALUES ($1, 0, $2)
	ON CONFLICT (id_project, stripe) DO UPDATE SET ticket_seq = c.ticket_seq + excluded.ticket_seq
	RETURNING ticket_seq, last_assigned`

// drawTickets is tx.drawTickets in a statement of its own, in the numbering pool where the store
// has one (else the write pool).
func (s *Store) drawTickets(ctx context.Context, projectID string, n int) (last int, lastAssigned string, err error) {
	db := s.numbers
	if db == nil {
		db = s.write
	}
	if err := db.QueryRowContext(ctx, drawTicketsSQL, projectID, n).Scan(&last, &lastAssigned); err != nil {
		return 0, "", fmt.Errorf("number ticket: %w", err)
	}
	return last, lastAssigned, nil
}

func boolDelta(before, after bool) int {
	switch {
	case before && !after:
		return -1
	case !before && after:
		return 1
	}
	return 0
}

// adjustAssigned moves the number_assigned_requests of agents (by user id) by delta, never below 0.
// With many writers the moves wait for flushCounters, like the project's counters: every new
// conversation routed to an agent changes the agent's membership row, and holding it from the
// routing to the commit made the conversations of an agent be created one at a time.
func (t *tx) adjustAssigned(ctx context.Context, projectID string, userIDs []string, delta int) error {
	if t.s.dialect.SingleWriter() {
		return t.writeAssigned(ctx, projectID, userIDs, delta)
	}
	if t.assigned == nil {
		t.assigned = map[assignedKey]int{}
	}
	for _, uid := range userIDs {
		t.assigned[assignedKey{projectID, uid}] += delta
	}
	return nil
}

// assignedKey is an agent's membership, by project and user.
type assignedKey struct{ project, user string }

// assignedWrites are the writes of the moves adjustAssigned gathered, in one order of rows.
func (t *tx) assignedWrites() []flushWrite {
	keys := make([]assignedKey, 0, len(t.assigned))
	for k, d := range t.assigned {
		if d != 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].project != keys[j].project {
			return keys[i].project < keys[j].project
		}
		return keys[i].user < keys[j].user
	})
	writes := make([]flushWrite, len(keys))
	for i, k := range keys {
		writes[i] = t.assignedWrite(k.project, k.user, t.assigned[k])
	}
	t.assigned = nil
	return writes
}

// writeAssigned is adjustAssigned's update.
func (t *tx) writeAssigned(ctx context.Context, projectID string, userIDs []string, delta int) error {
	for _, uid := range userIDs {
		w := t.assignedWrite(projectID, uid, delta)
		if err := w.run(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// assignedWrite moves one agent's number_assigned_requests by delta, never below 0.
func (t *tx) assignedWrite(projectID, userID string, delta int) flushWrite {
	return flushWrite{what: "adjust assigned requests", query: `UPDATE project_users SET number_assigned_requests = CASE
			WHEN number_assigned_requests + $3 < 0 THEN 0 ELSE number_assigned_requests + $3 END,
			updated_at = ` + nextStampSQL("$4") + `
		WHERE id_project = $1 AND id_user = $2`, args: []any{projectID, userID, delta, ms(t.now)}, hot: true}
}

// openAgents are the agents a request counts against: its human participants while it is not closed.
func openAgents(r *tiledesk.Request) []string {
	if r.Status == tiledesk.RequestClosed {
		return nil
	}
	return r.ParticipantsAgents
}

// writeSet replaces the rows of a side table (participants, followers, tags) of a request.
func (t *tx) writeSet(ctx context.Context, table, column, projectID, requestID string, values []string) error {
	if _, err := t.exec(ctx, `DELETE FROM `+table+` WHERE id_project = $1 AND request = $2`, projectID, requestID); err != nil {
		return fmt.Errorf("clear %s: %w", table, err)
	}
	return t.insertSet(ctx, table, column, projectID, requestID, values)
}

// insertSet adds the rows of a side table of a request that has none yet (a new one).
func (t *tx) insertSet(ctx context.Context, table, column, projectID, requestID string, values []string) error {
	for _, v := range values {
		if err := t.insert(ctx, table, "id_project, "+column+", request", " ON CONFLICT DO NOTHING", projectID, v, requestID); err != nil {
			return fmt.Errorf("insert %s: %w", table, err)
		}
	}
	return nil
}

func tagNames(tags []tiledesk.RequestTag) []string {
	out := []string{}
	for _, t := range tags {
		out = append(out, t.Tag)
	}
	return out
}

// noteRotation records the agent a conversation was last routed to, for the next routing's turn.
// Where the store has a numbering pool (PostgreSQL) it is written there, outside the transaction:
// a hint for fairness, not a fact, it need not wait for the conversation's commit nor hold the
// project's row until then.
// A batch of new conversations writes it once, after the last is routed (creationMemo).
func (t *tx) noteRotation(ctx context.Context, projectID, userID string) error {
	if t.memo.rotate(projectID, userID) {
		return nil
	}
	return t.writeRotation(ctx, projectID, userID)
}

func (t *tx) writeRotation(ctx context.Context, projectID, userID string) error {
	const q = `UPDATE project_counters SET last_assigned = $2 WHERE id_project = $1 AND stripe = 0`
	var err error
	if t.s.numbers != nil {
		_, err = t.s.numbers.ExecContext(ctx, q, projectID, userID)
	} else {
		_, err = t.exec(ctx, q, projectID, userID)
	}
	if err != nil {
		return fmt.Errorf("routing rotation: %w", err)
	}
	return nil
}
