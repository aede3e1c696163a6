package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
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
// number at insert. The statement is writeReplies', for one reply or several (replyBatcher).
func (s *Store) repliesAtOnce() bool {
	return s.replies != nil && s.relay != nil && !s.eventLogOff
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
	kept := s.replies.targets.target(m.ProjectID, m.Recipient, in.VisibleTo)
	for attempt := 0; attempt < replyAttempts; attempt++ {
		r := kept
		if r == nil {
			var err error
			if r, absent, err = s.readReplyTarget(ctx, in); r == nil {
				return nil, false, absent, err
			}
		}
		kept = nil
		working := r.WorkingStatus
		noteMessage(r, m)
		if r.WorkingStatus != working {
			return nil, false, false, nil
		}
		out, err := s.replies.write(ctx, r, in, event)
		if errors.Is(err, sql.ErrNoRows) {
			s.replies.targets.forget(m.ProjectID, m.Recipient)
			continue // the conversation changed since it was read
		}
		if err == nil {
			s.replies.targets.keep(out)
		}
		return out, err == nil, false, err
	}
	return nil, false, false, nil
}

// readReplyTarget reads what a reply needs of its conversation, checking that in's caller may see
// it. Without a conversation it answers absent, or the error.
func (s *Store) readReplyTarget(ctx context.Context, in *tiledesk.MessagePost) (r *tiledesk.Request, absent bool, err error) {
	m := in.Message
	r, seen, err := scanMessageTarget(s.queryRow(ctx, `SELECT `+messageTargetColumns+visibleColumns(in.VisibleTo)+`
		FROM requests WHERE id_project = $1 AND request_id = $2`, append([]any{m.ProjectID, m.Recipient}, visibleArgs(in.VisibleTo)...)...),
		in.VisibleTo)
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
		return nil, true, nil
	} else if err != nil {
		return nil, false, err
	}
	if err := seen.check(in.VisibleTo, r); err != nil {
		return nil, false, err
	}
	return r, false, nil
}

// sqlArgs gathers a statement's arguments, numbering their placeholders.
type sqlArgs struct{ args []any }

func (a *sqlArgs) add(v any) string {
	a.args = append(a.args, v)
	return "$" + strconv.Itoa(len(a.args))
}

// list adds each of values, and returns their placeholders separated by commas (for IN).
func (a *sqlArgs) list(values []string) string {
	ph := make([]string, len(values))
	for i, v := range values {
		ph[i] = a.add(v)
	}
	return strings.Join(ph, ", ")
}
