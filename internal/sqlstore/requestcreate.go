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
func (t *tx) createRequest(ctx context.Context, in *tiledesk.NewRequest) (*tiledesk.Request, error) {
	r := in.Request
	// The ticket first, before this transaction holds any row: nextTicket may wait for the
	// project's row, held for a moment by its own short transactions or a change of ownership.
	ticket, err := t.nextTicket(ctx, r.ProjectID)
	if err != nil {
		return nil, err
	}
	env := &requestEnv{t: t, ctx: ctx, project: r.ProjectID, request: r.ID, recip: r.RequestID}
	lead, err := t.findOrCreateLead(ctx, r.ProjectID, in.Lead)
	if err != nil {
		return nil, err
	}
	dept, err := env.Department(in.DepartmentID)
	if err != nil {
		return nil, err
	}
	routing := tiledesk.Routing{Participants: in.Participants}
	if len(in.Participants) == 0 {
		if routing, err = env.Route(dept, in.NoBot); err != nil {
			return nil, err
		}
	} else if routing.AvailableAgentsCount, err = t.countAvailable(env, dept); err != nil {
		return nil, err
	}
	requester, err := scanProjectUser(t.queryRow(ctx, `SELECT `+projectUserColumns+` FROM project_users
		WHERE id_project = $1 AND id = $2`, r.ProjectID, r.RequesterID))
	if err != nil {
		return nil, fmt.Errorf("requester %s: %w", r.RequesterID, notFound(err, "project user"))
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
		return nil, err
	}
	clock, err := t.requestClock(ctx, r.ProjectID, boolDelta(false, r.IsOpen()), time.Time{})
	if err != nil {
		return nil, err
	}
	r.UpdatedAt = clock
	args, err := requestArgs(r)
	if err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, `INSERT INTO requests (`+requestInsertColumns+`) VALUES (`+placeholders(1, len(args))+`)`,
		args...); err != nil {
		if t.s.dialect.IsUniqueViolation(err) {
			return nil, errRequestRace
		}
		return nil, fmt.Errorf("insert request: %w", err)
	}
	if err := t.insertSet(ctx, "request_participants", "participant", r.ProjectID, r.ID, r.Participants); err != nil {
		return nil, err
	}
	if err := t.insertSet(ctx, "request_followers", "follower", r.ProjectID, r.ID, r.Followers); err != nil {
		return nil, err
	}
	if err := t.insertSet(ctx, "request_tags", "tag", r.ProjectID, r.ID, tagNames(r.Tags)); err != nil {
		return nil, err
	}
	if err := t.adjustAssigned(ctx, r.ProjectID, openAgents(r), 1); err != nil {
		return nil, err
	}
	return r, t.event(ctx, r.ProjectID, tiledesk.EventRequestCreate, r.ID, r)
}

// findOrCreateLead returns the newest lead with ref.LeadID, giving it ref's newer fullname and email,
// or creates it (createdBy "system").
func (t *tx) findOrCreateLead(ctx context.Context, projectID string, ref tiledesk.LeadRef) (*tiledesk.Lead, error) {
	l, err := scanLead(t.queryRow(ctx, `SELECT `+leadColumns+` FROM leads WHERE id_project = $1 AND lead_id = $2
		ORDER BY id DESC LIMIT 1`, projectID, ref.LeadID))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		l = &tiledesk.Lead{ID: tiledesk.NewIDAt(t.now), ProjectID: projectID, LeadID: ref.LeadID, Fullname: ref.Fullname,
			Email: ref.Email, Attributes: ref.Attributes, Tags: []string{}, Status: tiledesk.LeadActive, CreatedBy: "system"}
		if err := t.insertLead(ctx, l); err != nil {
			return nil, err
		}
		return l, t.event(ctx, projectID, tiledesk.EventLeadCreate, l.ID, l)
	case err != nil:
		return nil, fmt.Errorf("find lead: %w", err)
	}
	if (ref.Email != "" && ref.Email != l.Email) || (ref.Fullname != "" && ref.Fullname != l.Fullname) {
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
		r, err := t.createRequest(ctx, in)
		out = r
		return err
	})
	return out, err
}
