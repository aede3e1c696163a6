package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// Replies written together. Where many processes write one database (PostgreSQL), a reply's
// statement (replyAtOnce) costs the database several times a single-row insert: four rows
// written, each with its indexes, and a commit of its own. Written as one statement, the rows of
// many replies cost a fraction of that each. So replies arriving while others are being written
// wait for them and are then written together, in one statement that takes its rows from one JSON
// parameter: as with group commit on SQLite, a caller is answered only after the statement has
// committed, so an answered reply is durable.
//
// A reply whose conversation changed since it was read (another reply of the same batch, or any
// other writer) is not written and is tried again by its caller. When the database refuses the
// statement (one reply's row it cannot store, a deadlock between two processes' batches), it wrote
// nothing, and each reply of the batch is written alone, so that only a bad one fails. Any other
// failure (the connection lost, the statement's outcome unknown) is every caller's error: writing
// them again could store a reply twice.

// maxReplyBatch bounds how many replies share a statement, and so its size and how long the first
// of them waits.
const maxReplyBatch = 32

// replyBatchTimeout bounds a batch's statement, which runs under no caller's context.
const replyBatchTimeout = 30 * time.Second

type replyBatcher struct {
	s       *Store
	q       *opQueue[*replyOp]
	targets *replyTargets // the conversations as replies last wrote them

	statements, replies atomic.Int64 // statements of more than one reply, and the replies they carried
}

// replyOp is one reply waiting for its batch: the conversation as read (r, with the message noted)
// and what the reply writes.
type replyOp struct {
	ctx   context.Context
	r     *tiledesk.Request
	in    *tiledesk.MessagePost
	event json.RawMessage
	done  chan replyResult
}

type replyResult struct {
	out *tiledesk.Request
	err error
}

// newReplyBatcher starts the runner: one batch is written at a time, while the next gathers
// (fewer, larger statements cost the database less; two at a time measured no faster).
func newReplyBatcher(s *Store) *replyBatcher {
	b := &replyBatcher{s: s, targets: newReplyTargets()}
	b.q = newOpQueue(maxReplyBatch, b.writeBatch, func(op *replyOp) { op.done <- replyResult{err: errClosed} })
	return b
}

// ReplyBatches counts the statements that wrote more than one reply, and the replies they carried
// (those refused and then written alone included), since the store opened.
func (s *Store) ReplyBatches() (statements, replies int64) {
	if s.replies == nil {
		return 0, 0
	}
	return s.replies.statements.Load(), s.replies.replies.Load()
}

func (b *replyBatcher) close() { b.q.close() }

// write writes the reply in a batch and returns the conversation as written, or sql.ErrNoRows
// when the conversation's version is no longer r's.
func (b *replyBatcher) write(ctx context.Context, r *tiledesk.Request, in *tiledesk.MessagePost, event json.RawMessage) (*tiledesk.Request, error) {
	op := &replyOp{ctx: ctx, r: r, in: in, event: event, done: make(chan replyResult, 1)}
	if err := b.q.put(ctx, op); err != nil {
		return nil, err
	}
	// Once queued the reply is written unless its context ends before its batch is gathered;
	// waiting for the batch regardless of ctx keeps "answered" and "committed" the same thing.
	res := await(b.q, op.done, replyResult{err: errClosed})
	return res.out, res.err
}

// writeBatch writes the batch's replies whose callers still wait, and answers each of them.
func (b *replyBatcher) writeBatch(batch []*replyOp) {
	ctx, cancel := context.WithTimeout(context.Background(), replyBatchTimeout)
	defer cancel()
	now := b.s.stamp()
	var (
		ops     []*replyOp
		records []replyRecord
		events  []*tiledesk.Event
	)
	for _, op := range batch {
		if err := op.ctx.Err(); err != nil {
			op.done <- replyResult{err: err} // gave up before its turn: not written
			continue
		}
		rec, ev, err := newReplyRecord(len(ops), op, now)
		if err != nil {
			op.done <- replyResult{err: err}
			continue
		}
		ops, records, events = append(ops, op), append(records, rec), append(events, ev)
	}
	if len(ops) == 0 {
		return
	}
	if len(ops) > 1 {
		b.statements.Add(1)
		b.replies.Add(int64(len(ops)))
	}
	outs, err := b.s.writeReplies(ctx, ops, records, events)
	if err != nil && len(ops) > 1 && b.s.dialect.IsStatementError(err) {
		for i, op := range ops { // the statement wrote nothing: each on its own
			records[i].Ord = 0
			outs, err := b.s.writeReplies(ctx, ops[i:i+1], records[i:i+1], events[i:i+1])
			answer(op, outs, 0, err)
		}
		return
	}
	for i, op := range ops {
		answer(op, outs, i, err)
	}
}

// answer tells op's caller what writeReplies answered for the i-th reply it wrote.
func answer(op *replyOp, outs []*tiledesk.Request, i int, err error) {
	switch {
	case err != nil:
		op.done <- replyResult{err: err}
	case outs[i] == nil:
		op.done <- replyResult{err: sql.ErrNoRows}
	default:
		op.done <- replyResult{out: outs[i]}
	}
}

// replyRecord is a reply as the batch's statement reads it from its JSON parameter
// (replyRecordColumns): the conversation's change, the message and its event.
type replyRecord struct {
	Ord             int             `json:"in_ord"`
	Project         string          `json:"in_project"`
	ID              string          `json:"in_id"`
	Expected        int64           `json:"in_expected"`
	Next            int64           `json:"in_next"`
	LastMessage     json.RawMessage `json:"in_last_message,omitempty"`
	FirstResponseAt *int64          `json:"in_first_response_at"`
	WaitingTime     *int64          `json:"in_waiting_time"`
	WorkingStatus   string          `json:"in_working_status"`

	MessageID         string          `json:"m_id"`
	Recipient         string          `json:"m_recipient"`
	Sender            string          `json:"m_sender"`
	SenderFullname    string          `json:"m_sender_fullname"`
	RecipientFullname *string         `json:"m_recipient_fullname"`
	Type              string          `json:"m_type"`
	ChannelType       string          `json:"m_channel_type"`
	Text              *string         `json:"m_text"`
	Language          *string         `json:"m_language"`
	Channel           string          `json:"m_channel"`
	Status            int             `json:"m_status"`
	Attributes        json.RawMessage `json:"m_attributes,omitempty"`
	Metadata          json.RawMessage `json:"m_metadata,omitempty"`
	CreatedBy         string          `json:"m_created_by"`
	CreatedAt         int64           `json:"m_created_at"`
	UpdatedAt         int64           `json:"m_updated_at"`

	EventID      string          `json:"e_id"`
	EventPayload json.RawMessage `json:"e_payload"`
	EventAt      int64           `json:"e_created_at"`
}

// replyRecordColumns are replyRecord's fields with their SQL types, in messageColumns' order for
// the message's. The names cannot clash with the conversations' columns.
const replyRecordColumns = `in_ord INTEGER, in_project TEXT, in_id TEXT, in_expected BIGINT, in_next BIGINT,
	in_last_message JSONB, in_first_response_at BIGINT, in_waiting_time BIGINT, in_working_status TEXT,
	m_id TEXT, m_recipient TEXT, m_sender TEXT, m_sender_fullname TEXT, m_recipient_fullname TEXT, m_type TEXT,
	m_channel_type TEXT, m_text TEXT, m_language TEXT, m_channel TEXT, m_status INTEGER, m_attributes JSONB,
	m_metadata JSONB, m_created_by TEXT, m_created_at BIGINT, m_updated_at BIGINT,
	e_id TEXT, e_payload JSONB, e_created_at BIGINT`

// newReplyRecord makes op's record and its event, ord its place in the batch.
func newReplyRecord(ord int, op *replyOp, now time.Time) (replyRecord, *tiledesk.Event, error) {
	r, m := op.r, op.in.Message
	attrs, err := jsonArg(m.Attributes)
	if err != nil {
		return replyRecord{}, nil, tiledesk.Invalid("attributes", "attributes cannot be stored as JSON")
	}
	meta, err := jsonArg(m.Metadata)
	if err != nil {
		return replyRecord{}, nil, tiledesk.Invalid("metadata", "metadata cannot be stored as JSON")
	}
	ev := &tiledesk.Event{ID: tiledesk.NewIDAt(now), ProjectID: m.ProjectID, Name: tiledesk.EventMessageCreate,
		ObjectID: m.ID, Payload: op.event, CreatedAt: now}
	rec := replyRecord{Ord: ord, Project: m.ProjectID, ID: r.ID, Expected: ms(r.UpdatedAt),
		Next: ms(nextStamp(now, r.UpdatedAt)), LastMessage: op.in.LastMessage,
		FirstResponseAt: argInt64(msPtr(r.FirstResponseAt)), WaitingTime: argInt64(intPtrArg(r.WaitingTime)),
		WorkingStatus: r.WorkingStatus,
		MessageID:     m.ID, Recipient: m.Recipient, Sender: m.Sender, SenderFullname: m.SenderFullname,
		RecipientFullname: stringPtr(m.RecipientFullname), Type: m.Type, ChannelType: m.ChannelType,
		Text: stringPtr(m.Text), Language: stringPtr(m.Language), Channel: m.Channel.Name, Status: m.Status,
		Attributes: rawJSON(attrs), Metadata: rawJSON(meta), CreatedBy: m.CreatedBy,
		CreatedAt: ms(m.CreatedAt), UpdatedAt: ms(m.UpdatedAt),
		EventID: ev.ID, EventPayload: op.event, EventAt: ms(now)}
	return rec, ev, nil
}

// writeReplies writes the replies of ops, whose records and events are those of newReplyRecord,
// in one statement. outs holds each reply's conversation as written, in ops' order, nil for a
// reply not written because its conversation changed. An error means that none was written when
// Dialect.IsStatementError says so, and is otherwise every reply's.
func (s *Store) writeReplies(ctx context.Context, ops []*replyOp, records []replyRecord, events []*tiledesk.Event) ([]*tiledesk.Request, error) {
	// The same order in every batch, so that two batches updating the same conversations lock
	// them in the same order.
	sorted := slices.SortedFunc(slices.Values(records), func(a, b replyRecord) int {
		return cmpJoin(strings.Compare(a.Project, b.Project), strings.Compare(a.ID, b.ID))
	})
	param, err := json.Marshal(sorted)
	if err != nil {
		return nil, fmt.Errorf("post messages: encode: %w", err)
	}
	rows, err := s.write.QueryContext(ctx, s.q(s.repliesStatement()), string(param))
	if err != nil {
		return nil, fmt.Errorf("post messages: %w", err)
	}
	defer rows.Close()
	outs := make([]*tiledesk.Request, len(ops))
	var written []*tiledesk.Event
	for rows.Next() {
		var (
			ref   tiledesk.RequestRef
			parts tiledesk.PopulationClock
			ord   int
		)
		out, err := scanRequestWithRef(extraScan{rows, []any{&parts.Members, &parts.Users, &ord}}, &ref)
		if err != nil {
			return nil, fmt.Errorf("post messages: %w", err)
		}
		if ord < 0 || ord >= len(ops) || outs[ord] != nil {
			return nil, fmt.Errorf("post messages: the statement returned reply %d unexpectedly", ord)
		}
		outs[ord] = out
		ref.Parts = &parts
		if in := ops[ord].in; in.Ref != nil {
			*in.Ref = ref
		}
		written = append(written, events[ord])
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("post messages: %w", err)
	}
	s.committed()
	s.eventsCommitted(written)
	return outs, nil
}

// repliesStatement is writeReplies' statement; its one parameter is the replies' records as JSON.
// The conversations' UPDATE gates the rest: a reply whose conversation's version is no longer the
// one read (or that another record of the batch updated first) writes nothing.
func (s *Store) repliesStatement() string {
	versions := strings.ReplaceAll(populationVersions, "requests.", "changed.")
	return `WITH i AS (SELECT * FROM ` + s.dialect.RecordsFromJSON("$1", replyRecordColumns) + `),
		changed AS (UPDATE requests SET attributes = CASE WHEN i.in_last_message IS NULL THEN attributes ELSE ` +
		s.dialect.JSONSet("attributes", "last_message", "i.in_last_message") + ` END,
			first_response_at = i.in_first_response_at, waiting_time = i.in_waiting_time,
			working_status = i.in_working_status, updated_at = i.in_next
			FROM i WHERE id_project = i.in_project AND id = i.in_id AND updated_at = i.in_expected
			RETURNING ` + requestColumns + `, i.in_ord),
		m AS (INSERT INTO messages (` + messageColumns + `)
			SELECT i.in_project, i.m_id, i.m_recipient, i.m_sender, i.m_sender_fullname, i.m_recipient_fullname,
				i.m_type, i.m_channel_type, i.m_text, i.m_language, i.m_channel, i.m_status, i.m_attributes,
				i.m_metadata, i.m_created_by, i.m_created_at, i.m_updated_at
			FROM changed JOIN i ON i.in_ord = changed.in_ord),
		e AS (INSERT INTO events (id_project, id, name, object_id, payload, created_at)
			SELECT i.in_project, i.e_id, '` + tiledesk.EventMessageCreate + `', i.m_id, i.e_payload, i.e_created_at
			FROM changed JOIN i ON i.in_ord = changed.in_ord),
		c AS (INSERT INTO project_counters AS c (id_project, stripe, requests_clock)
			SELECT id_project, ` + s.dialect.CounterStripe() + `, COUNT(*) FROM changed GROUP BY id_project ORDER BY id_project
			ON CONFLICT (id_project, stripe) DO UPDATE SET requests_clock = c.requests_clock + excluded.requests_clock)
		SELECT ` + requestColumns + `, ` + versions + `,
			(SELECT COALESCE(SUM(members_clock), 0) FROM project_counters p WHERE p.id_project = changed.id_project), ` +
		s.dialect.UsersClock() + `, changed.in_ord FROM changed`
}

// cmpJoin is the first of the comparisons that is not 0.
func cmpJoin(cmps ...int) int {
	for _, c := range cmps {
		if c != 0 {
			return c
		}
	}
	return 0
}

// argInt64 is msPtr's or intPtrArg's argument as a pointer, nil for NULL.
func argInt64(v any) *int64 {
	if n, ok := v.(int64); ok {
		return &n
	}
	return nil
}

// stringPtr is nullString's argument as a pointer, nil for NULL.
func stringPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// rawJSON is jsonArg's encoding as raw JSON, nil for NULL.
func rawJSON(v any) json.RawMessage {
	if s, ok := v.(string); ok {
		return json.RawMessage(s)
	}
	return nil
}
