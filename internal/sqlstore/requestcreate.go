package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// errRequestRace reports that another transaction created the same request_id first.
var errRequestRace = errors.New("request_id created concurrently")

// createRequest creates a conversation inside t; the request_id must be known to be free.
//
// It also returns the ref of the conversation as it wrote it, with the versions of what it is
// populated with, so that the answer is populated without reading them again.
func (t *tx) createRequest(ctx context.Context, in *tiledesk.NewRequest) (*tiledesk.Request, *tiledesk.RequestRef, error) {
	r := in.Request
	// The ticket first, before this transaction holds any row: nextTicket may wait for the
	// project's row, held for a moment by its own short transactions or a change of ownership.
	ticket, last, err := t.nextTicket(ctx, r.ProjectID)
	if err != nil {
		return nil, nil, err
	}
	env := &requestEnv{t: t, ctx: ctx, project: r.ProjectID, request: r.ID, recip: r.RequestID, lastAssigned: &last}
	lead, err := t.findOrCreateLead(ctx, r.ProjectID, in.Lead)
	if err != nil {
		return nil, nil, err
	}
	dept, err := env.Department(in.DepartmentID)
	if err != nil {
		return nil, nil, err
	}
	routing := tiledesk.Routing{Participants: in.Participants}
	if len(in.Participants) == 0 {
		if routing, err = env.Route(dept, in.NoBot); err != nil {
			return nil, nil, err
		}
	} else if routing.AvailableAgentsCount, err = t.countAvailable(env, dept); err != nil {
		return nil, nil, err
	}
	requester, ref, err := t.readRequester(ctx, r.ProjectID, r.RequesterID)
	if err != nil {
		return nil, nil, err
	}
	r.TicketID = ticket
	r.LeadID = lead.ID
	r.DepartmentID = dept.ID
	if r.CreatedAt.IsZero() {
		r.CreatedAt = t.now
	}
	r.Status = tiledesk.RequestUnassigned
	r.SetParticipants(routing.Participants, t.now)
	r.Snapshot = tiledesk.RequestSnapshot{Department: dept, Requester: requester, Lead: lead,
		AvailableAgentsCount: routing.AvailableAgentsCount}
	for _, f := range []*[]string{&r.Followers} {
		*f = orEmpty(*f)
	}
	r.Tags, r.Notes = orEmpty(r.Tags), orEmpty(r.Notes)
	if err := tiledesk.CheckRequestGrowth(tiledesk.RequestLengths{}, r); err != nil {
		return nil, nil, err
	}
	clock, err := t.requestClock(ctx, r.ProjectID, boolDelta(false, r.IsOpen()), time.Time{})
	if err != nil {
		return nil, nil, err
	}
	r.UpdatedAt = clock
	args, err := requestArgs(r)
	if err != nil {
		return nil, nil, err
	}
	if err := t.insert(ctx, "requests", requestInsertColumns, "", args...); err != nil {
		if t.s.dialect.IsUniqueViolation(err) {
			return nil, nil, errRequestRace
		}
		return nil, nil, fmt.Errorf("insert request: %w", err)
	}
	if err := t.insertSet(ctx, "request_participants", "participant", r.ProjectID, r.ID, r.Participants); err != nil {
		return nil, nil, err
	}
	if err := t.insertSet(ctx, "request_followers", "follower", r.ProjectID, r.ID, r.Followers); err != nil {
		return nil, nil, err
	}
	if err := t.insertSet(ctx, "request_tags", "tag", r.ProjectID, r.ID, tagNames(r.Tags)); err != nil {
		return nil, nil, err
	}
	if err := t.adjustAssigned(ctx, r.ProjectID, openAgents(r), 1); err != nil {
		return nil, nil, err
	}
	ref.Version = tiledesk.Version{ID: r.ID, UpdatedAt: r.UpdatedAt}
	ref.LeadID, ref.LeadUpdatedAt, ref.DepartmentID = lead.ID, &lead.UpdatedAt, dept.ID
	ref.ParticipantsAgents, ref.ParticipantsBots = r.ParticipantsAgents, r.ParticipantsBots
	return r, ref, t.event(ctx, r.ProjectID, tiledesk.EventRequestCreate, r.ID, r)
}

// readRequester reads a new conversation's requester, and begins its ref with the versions of the
// requester and of its user. Where the store does not keep the population clock itself (many
// writers), the ref also gets the clock's parts, read here, before the answer reads what they
// version.
func (t *tx) readRequester(ctx context.Context, projectID, id string) (*tiledesk.ProjectUser, *tiledesk.RequestRef, error) {
	if pu, ref := t.memo.requester(projectID, id); pu != nil {
		return pu, ref, nil
	}
	read, err := readRequesters(ctx, t.rows, t.s.dialect, projectID, []string{id})
	if err == nil && len(read) == 0 {
		err = notFound(sql.ErrNoRows, "project user")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("requester %s: %w", id, err)
	}
	t.memo.keepRequester(projectID, read[0].pu, &read[0].ref)
	return read[0].pu, &read[0].ref, nil
}

// findOrCreateLead returns the newest lead with ref.LeadID, giving it ref's newer fullname and email,
// or creates it (createdBy "system").
//
// In a batch of new conversations (t.memo) the leads found and created are kept for the batch's
// next conversations, and a conversation that would change its lead is not written (errAlone):
// the batch's writes wait for its commit, and an update would be one written at once.
func (t *tx) findOrCreateLead(ctx context.Context, projectID string, ref tiledesk.LeadRef) (*tiledesk.Lead, error) {
	l := t.memo.lead(projectID, ref.LeadID)
	var err error
	if l == nil && t.memo.lookedUp(projectID, ref.LeadID) {
		err = sql.ErrNoRows
	} else if l == nil {
		l, err = scanLead(t.queryRow(ctx, `SELECT `+leadColumns+` FROM leads WHERE id_project = $1 AND lead_id = $2
			ORDER BY id DESC LIMIT 1`, projectID, ref.LeadID))
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		l = &tiledesk.Lead{ID: tiledesk.NewIDAt(t.now), ProjectID: projectID, LeadID: ref.LeadID, Fullname: ref.Fullname,
			Email: ref.Email, Attributes: ref.Attributes, Tags: []string{}, Status: tiledesk.LeadActive, CreatedBy: "system"}
		if err := t.insertLead(ctx, l); err != nil {
			return nil, err
		}
		t.memo.keepLead(l)
		return l, t.event(ctx, projectID, tiledesk.EventLeadCreate, l.ID, l)
	case err != nil:
		return nil, fmt.Errorf("find lead: %w", err)
	}
	if (ref.Email != "" && ref.Email != l.Email) || (ref.Fullname != "" && ref.Fullname != l.Fullname) {
		if t.memo != nil {
			return nil, errAlone
		}
		before, tags := l.Status, slices.Clone(l.Tags)
		if ref.Email != "" {
			l.Email = ref.Email
		}
		if ref.Fullname != "" {
			l.Fullname = ref.Fullname
		}
		if err := t.saveLead(ctx, l, before, tags, tiledesk.EventLeadUpdate); err != nil {
			return nil, err
		}
	}
	t.memo.keepLead(l)
	return l, nil
}

// withRequestRetry runs fn in a transaction, again when another transaction created the same
// request_id between our look-up and our insert (PostgreSQL; SQLite serialises writers).
func (s *Store) withRequestRetry(ctx context.Context, fn func(t *tx) error) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = s.inTx(ctx, fn); !errors.Is(err, errRequestRace) {
			return err
		}
	}
	return tiledesk.Errorf(tiledesk.ECONFLICT, "The conversation was created concurrently; retry.")
}

// CreateRequest creates a conversation.
func (s *Store) CreateRequest(ctx context.Context, in *tiledesk.NewRequest) (*tiledesk.Request, error) {
	var out *tiledesk.Request
	err := s.withRequestRetry(ctx, func(t *tx) error {
		var n int
		if err := t.queryRow(ctx, `SELECT COUNT(*) FROM requests WHERE id_project = $1 AND request_id = $2`,
			in.Request.ProjectID, in.Request.RequestID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return tiledesk.Errorf(tiledesk.ECONFLICT, "A conversation with request_id %q already exists.", in.Request.RequestID)
		}
		r, _, err := t.createRequest(ctx, in)
		out = r
		return err
	})
	return out, err
}
