package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"sync/atomic"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// First messages written together. Where many processes write one database (PostgreSQL), a
// visitor's first message creates its conversation in a transaction of some seventeen
// statements, each a round trip: the ticket, the lead, the department, the project and its
// agents for routing, the requester, then a row for the conversation, its participants, the
// message, the events and the counters. Most of them cost the database more as statements than
// as work. So first messages arriving while others are being written wait for them, and are then
// written in one transaction: what they read alike (the project's department, agents and
// rotation, a returning visitor's lead and membership) is read once, the ticket numbers of a
// project are drawn at once, and their rows are inserted with one statement per table. As with
// the replies, a caller is answered only after the commit, so an answered message is durable.
//
// A conversation the batch should not write is written by its caller in a transaction of its own,
// after the batch (errAlone): a second first message to the same conversation (a reply, once the
// first has created it), and one that changes its lead. When the database refuses the batch (a
// conversation created meanwhile, a deadlock), it wrote nothing, and the batch's runner writes each
// of its first messages in a transaction of its own, one after the other: only a bad one fails,
// and a new visitor's lead is not created twice by writers racing each other. A conversation
// refused for what it holds (an unknown department) is answered its error, and the rest of its
// batch is written.

// maxCreationBatch bounds how many conversations a batch writes.
const maxCreationBatch = 32

// creationBatchTimeout bounds a batch's transaction, which runs under no caller's context.
const creationBatchTimeout = 30 * time.Second

// errAlone says that a conversation is not written by the batch: its caller writes it alone.
var errAlone = errors.New("written in a transaction of its own")

type creationBatcher struct {
	s *Store
	q *opQueue[*creationOp]

	batches, creations atomic.Int64 // batches that wrote more than one conversation, and the conversations they wrote
	refused            atomic.Int64 // batches of several the database refused, written alone then
}

type creationOp struct {
	ctx   context.Context
	in    *tiledesk.MessagePost
	event json.RawMessage
	done  chan creationResult
}

// creationResult is what a batch did with an operation: created its conversation (r, ref), or,
// written alone after a refusal, added its message to a conversation that exists by then (created
// false, r nil); or err, errAlone for its caller to write it.
type creationResult struct {
	r       *tiledesk.Request
	ref     *tiledesk.RequestRef
	created bool
	err     error
}

func newCreationBatcher(s *Store) *creationBatcher {
	b := &creationBatcher{s: s}
	b.q = newOpQueue(maxCreationBatch, b.writeBatch, func(op *creationOp) { op.done <- creationResult{err: errClosed} })
	return b
}

func (b *creationBatcher) close() { b.q.close() }

// createsTogether reports whether in's message, to a conversation that did not exist a moment
// ago, may be written in a batch: where writers are many, the event log is numbered by a relay
// (an event needs no number at insert), and no idempotency key asks for a replay.
func (s *Store) createsTogether(in *tiledesk.MessagePost) bool {
	return s.creations != nil && s.relay != nil && !s.eventLogOff && in.Create != nil && in.Idempotency == nil
}

// CreationBatches counts, since the store opened, the batches that wrote more than one new
// conversation and the conversations they wrote, and the batches of several the database refused
// (whose conversations were then written one by one).
func (s *Store) CreationBatches() (batches, conversations, refused int64) {
	if s.creations == nil {
		return 0, 0, 0
	}
	return s.creations.batches.Load(), s.creations.creations.Load(), s.creations.refused.Load()
}

// write writes in's first message in a batch; errAlone when the caller is to write it in a
// transaction of its own.
func (b *creationBatcher) write(ctx context.Context, in *tiledesk.MessagePost, event json.RawMessage) creationResult {
	op := &creationOp{ctx: ctx, in: in, event: event, done: make(chan creationResult, 1)}
	if err := b.q.put(ctx, op); err != nil {
		return creationResult{err: err}
	}
	return await(b.q, op.done, creationResult{err: errClosed})
}

// writeBatch writes the batch's conversations whose callers still wait, and answers each caller.
func (b *creationBatcher) writeBatch(batch []*creationOp) {
	ctx, cancel := context.WithTimeout(context.Background(), creationBatchTimeout)
	defer cancel()
	var ops, later []*creationOp
	seen := map[[2]string]bool{}
	for _, op := range batch {
		m := op.in.Message
		key := [2]string{m.ProjectID, m.Recipient}
		switch {
		case op.ctx.Err() != nil:
			op.done <- creationResult{err: op.ctx.Err()} // gave up before its turn: not written
		case seen[key]:
			later = append(later, op) // a reply to the conversation the batch creates
		default:
			seen[key] = true
			ops = append(ops, op)
		}
	}
	defer func() {
		for _, op := range later {
			op.done <- creationResult{err: errAlone}
		}
	}()
	if len(ops) == 0 {
		return
	}
	results, err := b.s.createTogether(ctx, ops)
	if err != nil && (errors.Is(err, errAlone) || b.s.dialect.IsStatementError(err)) {
		// Nothing was written: each on its own, one after the other, so that only a bad one fails
		// and two visitors' new leads are not created twice by writers racing each other.
		if len(ops) > 1 && !errors.Is(err, errAlone) {
			b.refused.Add(1)
		}
		results, err = b.writeEachAlone(ctx, ops), nil
	}
	written := 0
	for i, op := range ops {
		switch {
		case err != nil:
			op.done <- creationResult{err: err}
		default:
			if results[i].err == nil {
				written++
			}
			op.done <- results[i]
		}
	}
	if written > 1 {
		b.batches.Add(1)
		b.creations.Add(int64(written))
	}
}

// writeEachAlone writes each operation in a transaction of its own, as PostMessage does: a
// conversation created meanwhile gets the message as a reply.
func (b *creationBatcher) writeEachAlone(ctx context.Context, ops []*creationOp) []creationResult {
	out := make([]creationResult, len(ops))
	for i, op := range ops {
		var (
			r                 *tiledesk.Request
			ref               *tiledesk.RequestRef
			m                 *tiledesk.Message
			created, replayed bool
		)
		err := b.s.postInTx(ctx, op.in, op.event, false, &postOutcome{&r, &ref, &m, &created, &replayed})
		out[i] = creationResult{r: r, ref: ref, created: created, err: err}
	}
	return out
}

// createTogether creates the conversations of ops in one transaction. results holds each one's
// outcome: the conversation as created, the error that refused it (nothing of it written), or
// errAlone. An error is the transaction's: none was written when it is errAlone (the batch's reads
// failed) or Dialect.IsStatementError says so, and it is otherwise every conversation's.
func (s *Store) createTogether(ctx context.Context, ops []*creationOp) ([]creationResult, error) {
	results := make([]creationResult, len(ops))
	memo := newCreationMemo()
	if err := memo.prefetch(ctx, s, ops); err != nil {
		return nil, errAlone // each reads for itself
	}
	err := s.runTx(ctx, func(t *tx) error {
		t.gathered, t.memo, t.script = &gatheredInserts{}, memo, []string{}
		for i, op := range ops {
			mark := t.mark()
			r, ref, err := t.createWithMessage(ctx, op)
			if err != nil && !errors.Is(err, errAlone) && tiledesk.ErrorCode(err) == tiledesk.EINTERNAL {
				return err // the database's: the transaction is done for
			}
			if err != nil {
				t.restore(mark)
			}
			results[i] = creationResult{r: r, ref: ref, created: err == nil, err: err}
		}
		if err := t.memo.writeRotations(ctx, t); err != nil {
			return err
		}
		return t.flushGathered(ctx)
	})
	return results, err
}

// createWithMessage creates op's conversation and writes its message, as PostMessage does in a
// transaction of its own.
func (t *tx) createWithMessage(ctx context.Context, op *creationOp) (*tiledesk.Request, *tiledesk.RequestRef, error) {
	m := op.in.Message
	r, ref, err := t.createRequest(ctx, op.in.Create)
	if err != nil {
		return nil, nil, err
	}
	if err := t.insertMessage(ctx, m); err != nil {
		return nil, nil, err
	}
	return r, ref, t.event(ctx, m.ProjectID, tiledesk.EventMessageCreate, m.ID, op.event)
}

// txMark is what a batch's transaction has gathered at a moment (mark), to go back to (restore)
// when a conversation of the batch is not written: every write of a conversation in the batch is
// gathered, none is run before the commit.
type txMark struct {
	unwritten, events, leads int
	gathered                 gatheredMark
	counters                 map[string]counterMoves
	assigned                 map[assignedKey]int
}

func (t *tx) mark() txMark {
	m := txMark{unwritten: len(t.unwritten), events: len(t.events), leads: len(t.memo.leadOrder),
		gathered: t.gathered.mark(), assigned: maps.Clone(t.assigned), counters: map[string]counterMoves{}}
	for p, c := range t.counters {
		m.counters[p] = *c
	}
	return m
}

func (t *tx) restore(m txMark) {
	t.unwritten, t.events = t.unwritten[:m.unwritten], t.events[:m.events]
	t.memo.forgetLeadsAfter(m.leads)
	t.gathered.restore(m.gathered)
	t.assigned = m.assigned
	t.counters = map[string]*counterMoves{}
	for p, c := range m.counters {
		t.counters[p] = &c
	}
}
