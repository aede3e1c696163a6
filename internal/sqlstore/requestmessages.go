package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/tiledesk-go/tiledesk"
)

// PostMessage adds a message, creating its conversation when needed. Inside the transaction an
// existing conversation is read only for what a message changes; the whole of it is read after the
// commit, off the write path (on SQLite that path is one goroutine for every writer).
func (s *Store) PostMessage(ctx context.Context, in *tiledesk.MessagePost) (*tiledesk.Request, *tiledesk.Message, bool, bool, error) {
	var (
		outR              *tiledesk.Request
		outRef            *tiledesk.RequestRef // a created conversation's
		outM              *tiledesk.Message
		created, replayed bool
	)
	m := in.Message
	if m.CreatedAt.IsZero() {
		m.CreatedAt = s.stamp()
	}
	if m.UpdatedAt.IsZero() {
		m.UpdatedAt = m.CreatedAt
	}
	event, err := json.Marshal(m)
	if err != nil {
		return nil, nil, false, false, fmt.Errorf("encode message.create event: %w", err)
	}
	// absent: the conversation did not exist a moment ago. Its creation then skips looking it up
	// again inside the transaction; should another writer create it meanwhile, the insert finds it
	// (errRequestRace) and the next attempt looks it up.
	var absent bool
	if s.repliesAtOnce() && in.Idempotency == nil {
		var r *tiledesk.Request
		var done bool
		r, done, absent, err = s.replyAtOnce(ctx, in, event)
		if err != nil || done {
			return r, m, false, false, err
		}
	}
	written := false
	if absent && s.createsTogether(in) {
		res := s.creations.write(ctx, in, event)
		switch {
		case res.err == nil:
			written, created, outR, outRef, outM = true, res.created, res.r, res.ref, m
		case errors.Is(res.err, errAlone):
			absent = false // it may exist by now: created by the batch, to which m is then a reply
		default:
			return nil, nil, false, false, res.err
		}
	}
	if !written {
		err = s.postInTx(ctx, in, event, absent, &postOutcome{&outR, &outRef, &outM, &created, &replayed})
	}
	if err != nil {
		return nil, nil, false, false, err
	}
	// The conversation is read after the commit, from a reader: on SQLite the transaction runs on the
	// one writer every write waits for, and this read is as costly as the rest of the reply.
	switch {
	case outR != nil:
		if in.Ref != nil {
			*in.Ref = *outRef
		}
	case in.Ref != nil:
		outR, err = s.findRequestWithRef(ctx, m.ProjectID, outM.Recipient, in.Ref)
	default:
		outR, err = s.FindRequest(ctx, m.ProjectID, outM.Recipient, nil)
	}
	if err != nil {
		return nil, nil, false, false, err
	}
	return outR, outM, created, replayed, nil
}

// postOutcome is where postInTx puts what it wrote.
type postOutcome struct {
	r                 **tiledesk.Request
	ref               **tiledesk.RequestRef // a created conversation's
	m                 **tiledesk.Message
	created, replayed *bool
}

// postInTx is PostMessage's transaction: the message, into its conversation or one it creates, or
// the replay of an idempotent post.
func (s *Store) postInTx(ctx context.Context, in *tiledesk.MessagePost, event json.RawMessage, absent bool, out *postOutcome) error {
	m := in.Message
	return s.withRequestRetry(ctx, func(t *tx) error {
		*out.created, *out.replayed, *out.r, *out.ref = false, false, nil, nil
		if in.Idempotency != nil {
			first, err := t.claimIdempotency(ctx, m.ProjectID, "message.create", in.Idempotency, m.ID)
			if err != nil {
				return err
			}
			if first != "" {
				*out.replayed = true
				var err error
				if *out.m, err = scanMessage(t.queryRow(ctx, `SELECT `+messageColumns+` FROM messages
					WHERE id_project = $1 AND id = $2`, m.ProjectID, first)); err != nil {
					return notFound(err, "message")
				}
				r, seen, err := t.findMessageTarget(ctx, m.ProjectID, (*out.m).Recipient, in.VisibleTo)
				if err != nil {
					return err
				}
				return seen.check(in.VisibleTo, r) // a replay shows nothing its caller may not see
			}
		}
		r, ref, err := t.targetOrCreate(ctx, in, absent)
		absent = false
		if err != nil {
			return err
		}
		if ref != nil {
			*out.created, *out.r, *out.ref = true, r, ref
		}
		if err := t.insertMessage(ctx, m); err != nil {
			return err
		}
		if !*out.created {
			working := r.WorkingStatus
			noteMessage(r, m)
			if err := t.touchRequest(ctx, r, in.LastMessage, working); err != nil {
				return err
			}
		}
		*out.m = m
		return t.event(ctx, m.ProjectID, tiledesk.EventMessageCreate, m.ID, event)
	})
}

// targetOrCreate finds the conversation in's message goes to, checking that its writer may see
// it, or creates it (in.Create) when it does not exist; absent (known not to exist a moment ago)
// skips the look-up. ref is a created conversation's (createRequest), nil for an existing one.
func (t *tx) targetOrCreate(ctx context.Context, in *tiledesk.MessagePost, absent bool) (r *tiledesk.Request, ref *tiledesk.RequestRef, err error) {
	m := in.Message
	if absent && in.Create != nil {
		return t.createRequest(ctx, in.Create)
	}
	r, seen, err := t.findMessageTarget(ctx, m.ProjectID, m.Recipient, in.VisibleTo)
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND && in.Create != nil {
		return t.createRequest(ctx, in.Create)
	} else if err != nil {
		return nil, nil, err
	}
	return r, nil, seen.check(in.VisibleTo, r)
}

// populationVersions are the columns of FindRequestRefs that give the versions of what a
// conversation is populated with.
const populationVersions = `(SELECT l.updated_at FROM leads l WHERE l.id_project = requests.id_project AND l.id = requests.lead) AS lead_updated_at,
	(SELECT p.updated_at FROM project_users p WHERE p.id_project = requests.id_project AND p.id = requests.requester) AS requester_updated_at,
	(SELECT u.updated_at FROM project_users p JOIN users u ON u.id = p.id_user
		WHERE p.id_project = requests.id_project AND p.id = requests.requester) AS requester_user_updated_at`

// findRequestWithRef reads a whole conversation by its request_id and fills ref with it and the
// versions of what it is populated with.
func (s *Store) findRequestWithRef(ctx context.Context, projectID, requestID string, ref *tiledesk.RequestRef) (*tiledesk.Request, error) {
	return scanRequestWithRef(s.queryRow(ctx, `SELECT `+requestColumns+`, `+populationVersions+`
		FROM requests WHERE id_project = $1 AND request_id = $2`, projectID, requestID), ref)
}

// scanRequestWithRef scans a row of requestColumns and populationVersions, filling ref.
func scanRequestWithRef(row scanner, ref *tiledesk.RequestRef) (*tiledesk.Request, error) {
	var lead, requester, user sql.NullInt64
	r, err := scanRequest(extraScan{row, []any{&lead, &requester, &user}})
	if err != nil {
		return nil, notFound(err, "request")
	}
	*ref = tiledesk.RequestRef{Version: tiledesk.Version{ID: r.ID, UpdatedAt: r.UpdatedAt}, LeadID: r.LeadID,
		LeadUpdatedAt: timePtr(lead), DepartmentID: r.DepartmentID, RequesterID: r.RequesterID,
		RequesterUpdatedAt: timePtr(requester), RequesterUserUpdatedAt: timePtr(user),
		ParticipantsAgents: r.ParticipantsAgents, ParticipantsBots: r.ParticipantsBots}
	return r, nil
}

// extraScan scans a row whose columns are those a scan function reads followed by extra ones.
type extraScan struct {
	scanner
	extra []any
}

func (e extraScan) Scan(dest ...any) error { return e.scanner.Scan(append(dest, e.extra...)...) }

// messageTargetColumns are what a new message reads of its conversation, followers included for
// deciding whether the writer may see it.
const messageTargetColumns = `id_project, id, request_id, requester, participants_agents, followers, first_response_at,
	working_status, created_at, updated_at`

// findMessageTarget reads the part of a conversation a new message changes, and what deciding
// whether v may see it needs (the caller checks: a conversation that does not exist may be created).
func (t *tx) findMessageTarget(ctx context.Context, projectID, requestID string, v *tiledesk.Visibility) (*tiledesk.Request, *rowRestricted, error) {
	return scanMessageTarget(t.queryRow(ctx, `SELECT `+messageTargetColumns+visibleColumns(v)+` FROM requests
		WHERE id_project = $1 AND request_id = $2`+t.s.dialect.ForUpdate(), append([]any{projectID, requestID}, visibleArgs(v)...)...), v)
}

// scanMessageTarget scans a row of messageTargetColumns and visibleColumns(v).
func scanMessageTarget(row scanner, v *tiledesk.Visibility) (*tiledesk.Request, *rowRestricted, error) {
	var (
		r                 tiledesk.Request
		agents, followers sql.NullString
		first             sql.NullInt64
		created, updated  int64
		seen              rowRestricted
	)
	err := row.Scan(append([]any{&r.ProjectID, &r.ID, &r.RequestID, &r.RequesterID, &agents,
		&followers, &first, &r.WorkingStatus, &created, &updated}, seen.dest(v)...)...)
	if err != nil {
		return nil, nil, notFound(err, "request")
	}
	r.FirstResponseAt, r.CreatedAt, r.UpdatedAt = timePtr(first), fromMS(created), fromMS(updated)
	if err := scanJSON(agents, &r.ParticipantsAgents); err != nil {
		return nil, nil, fmt.Errorf("request %s: %w", r.ID, err)
	}
	// The followers decide only for an agent outside a restricted conversation: an agent's reply
	// to its own conversation, the common case, does not decode them.
	if seen.restricted.Bool && !slices.Contains(r.ParticipantsAgents, v.UserID) {
		if err := scanJSON(followers, &r.Followers); err != nil {
			return nil, nil, fmt.Errorf("request %s: %w", r.ID, err)
		}
	}
	return &r, &seen, nil
}

// touchRequest writes what a new message changes on its conversation (last message, first response,
// working status) with a new clock stamp. It records no request.update: message.create says it. The
// last message is set by the database's JSON functions, so the conversation's attributes are neither
// decoded nor encoded here.
func (t *tx) touchRequest(ctx context.Context, r *tiledesk.Request, last json.RawMessage, workingBefore string) error {
	clock, err := t.requestClock(ctx, r.ProjectID, 0, r.UpdatedAt)
	if err != nil {
		return err
	}
	r.UpdatedAt = clock
	attrs := "attributes"
	args := []any{r.ProjectID, r.ID, msPtr(r.FirstResponseAt), intPtrArg(r.WaitingTime), r.WorkingStatus, ms(r.UpdatedAt)}
	if len(last) > 0 {
		args = append(args, string(last))
		attrs = t.s.dialect.JSONSet("attributes", "last_message", "$7")
	}
	if _, err := t.exec(ctx, `UPDATE requests SET attributes = `+attrs+`, first_response_at = $3, waiting_time = $4,
		working_status = $5, updated_at = $6 WHERE id_project = $1 AND id = $2`, args...); err != nil {
		return fmt.Errorf("update request: %w", err)
	}
	if r.WorkingStatus != workingBefore { // a visitor's message reopened a pending conversation
		// r holds only what a message reads of its conversation: the event carries it whole.
		whole, err := t.s.findRequestAs(ctx, t, r.ProjectID, r.RequestID, nil)
		if err != nil {
			return err
		}
		return t.event(ctx, r.ProjectID, tiledesk.EventRequestWorkingStatus, r.ID, whole)
	}
	return nil
}

// noteMessage records a new message on its existing conversation: the first response of an agent,
// and the working status going from pending back to open when the requester side writes.
func noteMessage(r *tiledesk.Request, m *tiledesk.Message) {
	fromAgent := slices.Contains(r.ParticipantsAgents, m.Sender)
	if r.FirstResponseAt == nil && fromAgent {
		t := m.CreatedAt
		r.FirstResponseAt = &t
		w := m.CreatedAt.Sub(r.CreatedAt).Milliseconds()
		r.WaitingTime = &w
	}
	if r.WorkingStatus == "pending" && !fromAgent {
		r.WorkingStatus = "open"
	}
}

// AddMessages appends messages to an existing conversation.
func (s *Store) AddMessages(ctx context.Context, projectID, requestID string, v *tiledesk.Visibility, msgs []*tiledesk.Message, last json.RawMessage) (*tiledesk.Request, error) {
	err := s.inTx(ctx, func(t *tx) error {
		r, seen, err := t.findMessageTarget(ctx, projectID, requestID, v)
		if err != nil {
			return err
		}
		if err := seen.check(v, r); err != nil {
			return err
		}
		working := r.WorkingStatus
		for _, m := range msgs {
			if err := t.insertMessage(ctx, m); err != nil {
				return err
			}
			noteMessage(r, m)
			if err := t.event(ctx, projectID, tiledesk.EventMessageCreate, m.ID, m); err != nil {
				return err
			}
		}
		return t.touchRequest(ctx, r, last, working)
	})
	if err != nil {
		return nil, err
	}
	return s.FindRequest(ctx, projectID, requestID, nil)
}
