package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

// A reply into an existing conversation is the most frequent write. Where many processes write
// one database (PostgreSQL) every statement is a round trip, and a transaction of its own
// (BEGIN, a locking read, four writes, COMMIT, the read of the answer) cost the database more
// than the writes themselves. replyAtOnce makes it two statements and no explicit transaction:
// the conversation is read, the message decided on in Go, and one statement then writes the
// conversation (on the condition that its version is still the one read), the message, its event
// and the counters, and returns the conversation for the answer. PostgreSQL runs the parts of a
// statement's WITH as one atomic write; the conversation's UPDATE gates the others, so when
// another writer changed the conversation in between, nothing is written and the reply is tried
// again.

// repliesAtOnce reports whether replies take replyAtOnce: where writers are many (a single writer
// has no round trips to save) and the event log is numbered by a relay, so that an event needs no
// number at insert.
func (s *Store) repliesAtOnce() bool {
	return !s.dialect.SingleWriter() && s.relay != nil && !s.eventLogOff
}

// replyAttempts bounds the tries of replyAtOnce against concurrent changes of the conversation,
// after which the reply takes the locking transaction.
const replyAttempts = 3

// replyAtOnce posts in's message into its existing conversation in one statement. done is false
// when it cannot: the conversation does not exist (absent: it may be created), the message changes
// the conversation's working status (which records an event of its own), or the conversation kept
// changing; the caller then takes the transaction.
func (s *Store) replyAtOnce(ctx context.Context, in *tiledesk.MessagePost, event json.RawMessage) (out *tiledesk.Request, done, absent bool, err error) {
	m := in.Message
	for attempt := 0; attempt < replyAttempts; attempt++ {
		r, seen, err := scanMessageTarget(s.queryRow(ctx, `SELECT `+messageTargetColumns+visibleColumns(in.VisibleTo)+`
			FROM requests WHERE id_project = $1 AND request_id = $2`, m.ProjectID, m.Recipient), in.VisibleTo)
		if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
			return nil, false, true, nil
		} else if err != nil {
			return nil, false, false, err
		}
		if err := seen.check(in.VisibleTo, r); err != nil {
			return nil, false, false, err
		}
		working := r.WorkingStatus
		noteMessage(r, m)
		if r.WorkingStatus != working {
			return nil, false, false, nil
		}
		var out *tiledesk.Request
		if s.replies != nil {
			out, err = s.replies.write(ctx, r, in, event)
		} else {
			out, err = s.writeReply(ctx, r, in, event)
		}
		if errors.Is(err, sql.ErrNoRows) {
			continue // the conversation changed since it was read
		}
		return out, err == nil, false, err
	}
	return nil, false, false, nil
}

// writeReply runs the reply's statement and returns the conversation as it wrote it, or
// sql.ErrNoRows when the conversation's version is no longer r's.
func (s *Store) writeReply(ctx context.Context, r *tiledesk.Request, in *tiledesk.MessagePost, event json.RawMessage) (*tiledesk.Request, error) {
	m := in.Message
	now := s.stamp()
	var a sqlArgs
	attrs := "attributes"
	if len(in.LastMessage) > 0 {
		attrs = s.dialect.JSONSet("attributes", "last_message", a.add(string(in.LastMessage)))
	}
	pid, id := a.add(m.ProjectID), a.add(r.ID)
	set := `UPDATE requests SET attributes = ` + attrs + `, first_response_at = ` + a.add(msPtr(r.FirstResponseAt)) +
		`, waiting_time = ` + a.add(intPtrArg(r.WaitingTime)) + `, working_status = ` + a.add(r.WorkingStatus) +
		`, updated_at = ` + a.add(ms(nextStamp(now, r.UpdatedAt))) +
		` WHERE id_project = ` + pid + ` AND id = ` + id + ` AND updated_at = ` + a.add(ms(r.UpdatedAt)) +
		` RETURNING ` + requestColumns
	msgValues, err := messageValues(&a, m)
	if err != nil {
		return nil, err
	}
	ev := &tiledesk.Event{ID: tiledesk.NewIDAt(now), ProjectID: m.ProjectID, Name: tiledesk.EventMessageCreate,
		ObjectID: m.ID, Payload: event, CreatedAt: now}
	q := `WITH changed AS (` + set + `),
		m AS (INSERT INTO messages (` + messageColumns + `) SELECT ` + msgValues + ` FROM changed),
		e AS (INSERT INTO events (id_project, id, name, object_id, payload, created_at)
			SELECT ` + pid + `, ` + a.add(ev.ID) + `, ` + a.add(ev.Name) + `, ` + a.add(ev.ObjectID) + `, ` +
		a.add(string(event)) + `, CAST(` + a.add(ms(now)) + ` AS BIGINT) FROM changed),
		c AS (INSERT INTO project_counters AS c (id_project, stripe, requests_clock)
			SELECT ` + pid + `, ` + s.dialect.CounterStripe() + `, 1 FROM changed
			ON CONFLICT (id_project, stripe) DO UPDATE SET requests_clock = c.requests_clock + 1)
		SELECT changed.*, ` + strings.ReplaceAll(populationVersions, "requests.", "changed.") + `,
			(SELECT COALESCE(SUM(members_clock), 0) FROM project_counters WHERE id_project = ` + pid + `), ` +
		s.dialect.UsersClock() + ` FROM changed`
	ref := in.Ref
	if ref == nil {
		ref = &tiledesk.RequestRef{}
	}
	var parts tiledesk.PopulationClock
	out, err := scanRequestWithRef(extraScan{s.write.QueryRowContext(ctx, s.q(q), a.args...), []any{&parts.Members, &parts.Users}}, ref)
	ref.Parts = &parts
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
		return nil, sql.ErrNoRows
	} else if err != nil {
		return nil, fmt.Errorf("post message: %w", err)
	}
	s.committed()
	s.eventsCommitted([]*tiledesk.Event{ev})
	return out, nil
}

// messageValues adds m's columns (messageColumns) to a, each cast to its column's type: a SELECT
// gives its parameters no type from the table they are inserted into.
func messageValues(a *sqlArgs, m *tiledesk.Message) (string, error) {
	attrs, err := jsonArg(m.Attributes)
	if err != nil {
		return "", tiledesk.Invalid("attributes", "attributes cannot be stored as JSON")
	}
	meta, err := jsonArg(m.Metadata)
	if err != nil {
		return "", tiledesk.Invalid("metadata", "metadata cannot be stored as JSON")
	}
	text := func(v any) string { return "CAST(" + a.add(v) + " AS TEXT)" }
	return strings.Join([]string{text(m.ProjectID), text(m.ID), text(m.Recipient), text(m.Sender), text(m.SenderFullname),
		text(nullString(m.RecipientFullname)), text(m.Type), text(m.ChannelType), text(nullString(m.Text)),
		text(nullString(m.Language)), text(m.Channel.Name), "CAST(" + a.add(m.Status) + " AS INTEGER)",
		"CAST(" + a.add(attrs) + " AS JSONB)", "CAST(" + a.add(meta) + " AS JSONB)", text(m.CreatedBy),
		"CAST(" + a.add(ms(m.CreatedAt)) + " AS BIGINT)", "CAST(" + a.add(ms(m.UpdatedAt)) + " AS BIGINT)"}, ", "), nil
}

// sqlArgs gathers a statement's arguments, numbering their placeholders.
type sqlArgs struct{ args []any }

func (a *sqlArgs) add(v any) string {
	a.args = append(a.args, v)
	return "$" + strconv.Itoa(len(a.args))
}
