package sqlstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/tiledesk-go/tiledesk"
)

// requestState is what saveRequest compares to keep side tables and counters in step, and to
// hold the conversation's lists to their bounds.
type requestState struct {
	open         bool
	agents       []string
	participants []string
	followers    []string
	tags         []string
	working      string
	lengths      tiledesk.RequestLengths
}

func stateOf(r *tiledesk.Request) requestState {
	return requestState{open: r.IsOpen(), agents: slices.Clone(openAgents(r)), participants: slices.Clone(r.Participants),
		followers: slices.Clone(r.Followers), tags: tagNames(r.Tags), working: r.WorkingStatus, lengths: tiledesk.LengthsOf(r)}
}

// diff returns the elements of a missing from b.
func diff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// saveRequest writes a changed request: side tables, assignment counters, open count, a new clock
// stamp, the row, then request.update and the extra events. Lists the change lengthened past
// their bounds refuse it (tiledesk.CheckRequestGrowth).
func (t *tx) saveRequest(ctx context.Context, before requestState, r *tiledesk.Request, events []string) error {
	// Every change of a conversation comes through here, in its transaction: what it adds to a
	// list is counted against the list as stored, however many writes came before.
	if err := tiledesk.CheckRequestGrowth(before.lengths, r); err != nil {
		return err
	}
	after := stateOf(r)
	if !slices.Equal(before.participants, after.participants) {
		if err := t.writeSet(ctx, "request_participants", "participant", r.ProjectID, r.ID, r.Participants); err != nil {
			return err
		}
	}
	if !slices.Equal(before.followers, after.followers) {
		if err := t.writeSet(ctx, "request_followers", "follower", r.ProjectID, r.ID, r.Followers); err != nil {
			return err
		}
	}
	if !slices.Equal(before.tags, after.tags) {
		if err := t.writeSet(ctx, "request_tags", "tag", r.ProjectID, r.ID, after.tags); err != nil {
			return err
		}
	}
	if err := t.adjustAssigned(ctx, r.ProjectID, diff(before.agents, after.agents), -1); err != nil {
		return err
	}
	if err := t.adjustAssigned(ctx, r.ProjectID, diff(after.agents, before.agents), 1); err != nil {
		return err
	}
	clock, err := t.requestClock(ctx, r.ProjectID, boolDelta(before.open, after.open), r.UpdatedAt)
	if err != nil {
		return err
	}
	r.UpdatedAt = clock
	args, err := requestArgs(r)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, requestUpdateSQL, args...); err != nil {
		return fmt.Errorf("update request: %w", err)
	}
	for _, name := range append([]string{tiledesk.EventRequestUpdate}, events...) {
		if err := t.event(ctx, r.ProjectID, name, r.ID, r); err != nil {
			return err
		}
	}
	return t.derivedEvents(ctx, before, after, r)
}

// derivedEvents writes the events a change causes whatever rule made it, read from what it
// changed: one request.participants.join per member who became a participant (an assignment) and
// one request.participants.leave per member who stopped being one (an unassignment), each with
// the original's payload {member, request}; and request.workingStatus.update.
func (t *tx) derivedEvents(ctx context.Context, before, after requestState, r *tiledesk.Request) error {
	for _, m := range []struct {
		name    string
		members []string
	}{
		{tiledesk.EventRequestParticipantsJoin, diff(after.participants, before.participants)},
		{tiledesk.EventRequestParticipantsLeave, diff(before.participants, after.participants)},
	} {
		for _, member := range m.members {
			if err := t.event(ctx, r.ProjectID, m.name, r.ID, tiledesk.ParticipantEvent{Member: member, Request: r}); err != nil {
				return err
			}
		}
	}
	if before.working != after.working {
		return t.event(ctx, r.ProjectID, tiledesk.EventRequestWorkingStatus, r.ID, r)
	}
	return nil
}
