package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

const requestColumns = `id_project, id, request_id, ticket_id, requester, lead, subject, first_text, status, preflight,
	draft, has_bot, participants, participants_agents, participants_bots, priority, followers, department, transcript,
	first_response_at, assigned_at, closed_at, waiting_time, duration, closed_by, tags, notes, rating, rating_message,
	snapshot, source_page, language, user_agent, channel, channel_outbound, attributes, location, smart_assignment,
	working_status, contact, created_by, created_at, updated_at`

// requestInsertColumns adds the derived columns, which are written but never read back.
const requestInsertColumns = requestColumns + `, is_open, requester_email, search_text`

// snapshotJSON is how a snapshot is stored: the domain objects as they were at creation.
type snapshotJSON struct {
	Department           *tiledesk.Department  `json:"department,omitempty"`
	Requester            *tiledesk.ProjectUser `json:"requester,omitempty"`
	Lead                 *tiledesk.Lead        `json:"lead,omitempty"`
	AvailableAgentsCount int                   `json:"availableAgentsCount"`
}

func scanRequest(row scanner) (*tiledesk.Request, error) {
	var (
		r                                                  tiledesk.Request
		subject, transcript, closedBy, ratingMsg           sql.NullString
		sourcePage, language, userAgent                    sql.NullString
		participants, agents, bots, followers, tags, notes sql.NullString
		snapshot, attrs, location, contact                 sql.NullString
		firstResponse, assigned, closed, waiting, duration sql.NullInt64
		rating                                             sql.NullInt64
		channel, channelOut                                string
		created, updated                                   int64
	)
	if err := row.Scan(&r.ProjectID, &r.ID, &r.RequestID, &r.TicketID, &r.RequesterID, &r.LeadID, &subject, &r.FirstText,
		&r.Status, &r.Preflight, &r.Draft, &r.HasBot, &participants, &agents, &bots, &r.Priority, &followers,
		&r.DepartmentID, &transcript, &firstResponse, &assigned, &closed, &waiting, &duration, &closedBy, &tags, &notes,
		&rating, &ratingMsg, &snapshot, &sourcePage, &language, &userAgent, &channel, &channelOut, &attrs, &location,
		&r.SmartAssignment, &r.WorkingStatus, &contact, &r.CreatedBy, &created, &updated); err != nil {
		return nil, err
	}
	r.Subject, r.Transcript, r.ClosedBy, r.RatingMessage = subject.String, transcript.String, closedBy.String, ratingMsg.String
	r.SourcePage, r.Language, r.UserAgent = sourcePage.String, language.String, userAgent.String
	r.Channel, r.ChannelOutbound = tiledesk.Channel{Name: channel}, tiledesk.Channel{Name: channelOut}
	r.FirstResponseAt, r.AssignedAt, r.ClosedAt = timePtr(firstResponse), timePtr(assigned), timePtr(closed)
	r.WaitingTime, r.Duration = int64Ptr(waiting), int64Ptr(duration)
	if rating.Valid {
		v := int(rating.Int64)
		r.Rating = &v
	}
	r.CreatedAt, r.UpdatedAt = fromMS(created), fromMS(updated)
	var snap snapshotJSON
	for _, f := range []struct {
		src sql.NullString
		dst any
	}{{participants, &r.Participants}, {agents, &r.ParticipantsAgents}, {bots, &r.ParticipantsBots},
		{followers, &r.Followers}, {tags, &r.Tags}, {notes, &r.Notes}, {snapshot, &snap}, {attrs, &r.Attributes},
		{location, &r.Location}, {contact, &r.Contact}} {
		if err := scanJSON(f.src, f.dst); err != nil {
			return nil, fmt.Errorf("request %s: %w", r.ID, err)
		}
	}
	r.Snapshot = tiledesk.RequestSnapshot{Department: snap.Department, Requester: snap.Requester, Lead: snap.Lead,
		AvailableAgentsCount: snap.AvailableAgentsCount}
	return &r, nil
}

func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

func int64Ptr(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	n := v.Int64
	return &n
}

func msPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ms(*t)
}

func intPtrArg[T int | int64](v *T) any {
	if v == nil {
		return nil
	}
	return int64(*v)
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func requestArgs(r *tiledesk.Request) ([]any, error) {
	attrs, err := jsonArg(r.Attributes)
	if err != nil {
		return nil, tiledesk.Invalid("attributes", "attributes cannot be stored as JSON")
	}
	location, err := jsonArg(r.Location)
	if err != nil {
		return nil, tiledesk.Invalid("location", "location cannot be stored as JSON")
	}
	notes, err := jsonArg(orEmpty(r.Notes))
	if err != nil {
		return nil, tiledesk.Invalid("notes", "notes cannot be stored as JSON")
	}
	tags, err := jsonArg(orEmpty(r.Tags))
	if err != nil {
		return nil, tiledesk.Invalid("tags", "tags cannot be stored as JSON")
	}
	var requester *tiledesk.ProjectUser
	if r.Snapshot.Requester != nil {
		cp := *r.Snapshot.Requester
		cp.User = nil // the snapshot keeps id_user as an id
		requester = &cp
	}
	snapshot, err := jsonArg(snapshotJSON{Department: r.Snapshot.Department, Requester: requester, Lead: r.Snapshot.Lead,
		AvailableAgentsCount: r.Snapshot.AvailableAgentsCount})
	if err != nil {
		return nil, tiledesk.Invalid("snapshot", "the snapshot cannot be stored as JSON")
	}
	var contact any
	if r.Contact != nil {
		contact = mustJSON(r.Contact)
	}
	leadEmail, leadName := "", ""
	if r.Snapshot.Lead != nil {
		leadEmail, leadName = r.Snapshot.Lead.Email, r.Snapshot.Lead.Fullname
	}
	return []any{r.ProjectID, r.ID, r.RequestID, r.TicketID, r.RequesterID, r.LeadID, nullString(r.Subject), r.FirstText,
		r.Status, r.Preflight, r.Draft, r.HasBot, mustJSON(orEmpty(r.Participants)), mustJSON(orEmpty(r.ParticipantsAgents)),
		mustJSON(orEmpty(r.ParticipantsBots)), r.Priority, mustJSON(orEmpty(r.Followers)), r.DepartmentID,
		nullString(r.Transcript), msPtr(r.FirstResponseAt), msPtr(r.AssignedAt), msPtr(r.ClosedAt), intPtrArg(r.WaitingTime),
		intPtrArg(r.Duration), nullString(r.ClosedBy), tags, notes, intPtrArg(r.Rating), nullString(r.RatingMessage),
		snapshot, nullString(r.SourcePage), nullString(r.Language), nullString(r.UserAgent), r.Channel.Name,
		r.ChannelOutbound.Name, attrs, location, r.SmartAssignment, r.WorkingStatus, contact, r.CreatedBy,
		ms(r.CreatedAt), ms(r.UpdatedAt), r.IsOpen(), tiledesk.EmailKey(leadEmail),
		tiledesk.SearchText(r.FirstText, r.Subject, leadName, leadEmail)}, nil
}

func placeholders(from, n int) string {
	ph := make([]string, n)
	for i := range ph {
		ph[i] = fmt.Sprintf("$%d", from+i)
	}
	return strings.Join(ph, ", ")
}

var requestUpdateSQL = func() string {
	cols := strings.Split(requestInsertColumns, ",")
	var sets []string
	for i, c := range cols {
		c = strings.TrimSpace(c)
		if i < 2 { // id_project, id identify the row
			continue
		}
		sets = append(sets, fmt.Sprintf("%s = $%d", c, i+1))
	}
	return `UPDATE requests SET ` + strings.Join(sets, ", ") + ` WHERE id_project = $1 AND id = $2`
}()

// lockProject takes the project's counter row for the rest of the transaction. Every transaction that
// writes a project's leads, conversations or messages takes it first, before any other row: one lock
// order, so writers queue instead of deadlocking.
func (t *tx) lockProject(ctx context.Context, projectID string) error {
	if t.s.dialect.SingleWriter() {
		return nil // one writer at a time already: nothing to order
	}
	_, err := t.exec(ctx, `UPDATE project_counters SET ticket_seq = ticket_seq WHERE id_project = $1`, projectID)
	return err
}

// requestClock advances the project's request clock and open count, and numbers a ticket when asked;
// it returns the stamp for the change and the ticket number.
func (t *tx) requestClock(ctx context.Context, projectID string, openDelta int, newTicket bool) (time.Time, int, error) {
	ticket := 0
	if newTicket {
		ticket = 1
	}
	var clock int64
	var seq int
	err := t.queryRow(ctx, `INSERT INTO project_counters (id_project, requests_clock, requests_open, ticket_seq)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (id_project) DO UPDATE SET
			requests_clock = CASE WHEN project_counters.requests_clock + 1 > excluded.requests_clock
				THEN project_counters.requests_clock + 1 ELSE excluded.requests_clock END,
			requests_open = project_counters.requests_open + excluded.requests_open,
			ticket_seq = project_counters.ticket_seq + excluded.ticket_seq
		RETURNING requests_clock, ticket_seq`, projectID, ms(t.now), openDelta, ticket).Scan(&clock, &seq)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("advance request clock: %w", err)
	}
	return fromMS(clock), seq, nil
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
func (t *tx) adjustAssigned(ctx context.Context, projectID string, userIDs []string, delta int) error {
	for _, uid := range userIDs {
		if _, err := t.exec(ctx, `UPDATE project_users SET number_assigned_requests = CASE
				WHEN number_assigned_requests + $3 < 0 THEN 0 ELSE number_assigned_requests + $3 END,
				updated_at = `+nextStampSQL("$4")+`
			WHERE id_project = $1 AND id_user = $2`, projectID, uid, delta, ms(t.now)); err != nil {
			return fmt.Errorf("adjust assigned requests: %w", err)
		}
	}
	return nil
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
	for _, v := range values {
		if _, err := t.exec(ctx, `INSERT INTO `+table+` (id_project, `+column+`, request) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, projectID, v, requestID); err != nil {
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

// requestEnv is the RequestEnv of one transaction.
type requestEnv struct {
	t       *tx
	ctx     context.Context
	project string
	request string // the request's ObjectId, for Messages
	recip   string // its request_id
}

func (e *requestEnv) Now() time.Time { return e.t.now }

func (e *requestEnv) Department(id string) (*tiledesk.Department, error) {
	var d *tiledesk.Department
	var err error
	if id == "" {
		d, err = scanDepartment(e.t.queryRow(e.ctx, `SELECT `+departmentColumns+` FROM departments
			WHERE id_project = $1 AND is_default = TRUE ORDER BY id LIMIT 1`, e.project))
	} else {
		d, err = scanDepartment(e.t.queryRow(e.ctx, `SELECT `+departmentColumns+` FROM departments
			WHERE id_project = $1 AND id = $2`, e.project, id))
	}
	if errors.Is(err, sql.ErrNoRows) {
		if id == "" {
			return nil, tiledesk.Invalid("departmentid", "the project has no default department")
		}
		return nil, tiledesk.Invalid("departmentid", "no department %s in this project", id)
	}
	return d, err
}

// Route routes with the project's agents and remembers whom it chose, for the next rotation.
func (e *requestEnv) Route(d *tiledesk.Department, noBot bool) (tiledesk.Routing, error) {
	p, err := scanProject(e.t.queryRow(e.ctx, `SELECT `+projectColumns+` FROM projects WHERE id = $1`, e.project))
	if err != nil {
		return tiledesk.Routing{}, fmt.Errorf("routing project: %w", err)
	}
	rows, err := e.t.query(e.ctx, `SELECT `+projectUserColumns+` FROM project_users
		WHERE id_project = $1 AND role_type = $2 AND status = $3 AND trashed = FALSE AND id_user IS NOT NULL`,
		e.project, tiledesk.RoleTypeAgent, tiledesk.MemberActive)
	if err != nil {
		return tiledesk.Routing{}, fmt.Errorf("routing agents: %w", err)
	}
	pus, err := collect(rows, scanProjectUser)
	if err != nil {
		return tiledesk.Routing{}, err
	}
	agents := make([]tiledesk.Agent, 0, len(pus))
	for _, pu := range pus {
		agents = append(agents, tiledesk.Agent{UserID: pu.UserID, Available: pu.UserAvailable && !tiledesk.IsBusy(p, pu)})
	}
	var last string
	if err := e.t.queryRow(e.ctx, `SELECT last_assigned FROM project_counters WHERE id_project = $1`, e.project).Scan(&last); err != nil &&
		!errors.Is(err, sql.ErrNoRows) {
		return tiledesk.Routing{}, fmt.Errorf("routing rotation: %w", err)
	}
	out := tiledesk.Route(d, agents, last, noBot)
	if len(out.Participants) == 1 && !strings.HasPrefix(out.Participants[0], tiledesk.BotPrefix) {
		if _, err := e.t.exec(e.ctx, `UPDATE project_counters SET last_assigned = $2 WHERE id_project = $1`,
			e.project, out.Participants[0]); err != nil {
			return tiledesk.Routing{}, fmt.Errorf("routing rotation: %w", err)
		}
	}
	return out, nil
}

func (e *requestEnv) Member(id string) (*tiledesk.ProjectUser, error) {
	pu, err := scanProjectUser(e.t.queryRow(e.ctx, `SELECT `+projectUserColumns+` FROM project_users
		WHERE id_project = $1 AND (id_user = $2 OR uuid_user = $2 OR id = $2) AND status = $3 AND trashed = FALSE
		ORDER BY id LIMIT 1`, e.project, id, tiledesk.MemberActive))
	return pu, notFound(err, "project user")
}

// errRequestRace reports that another transaction created the same request_id first.
var errRequestRace = errors.New("request_id created concurrently")

// createRequest creates a conversation inside t; the project must be locked (lockProject) and the
// request_id known to be free.
func (t *tx) createRequest(ctx context.Context, in *tiledesk.NewRequest) (*tiledesk.Request, error) {
	r := in.Request
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
	_, ticket, err := t.requestClock(ctx, r.ProjectID, 0, true)
	if err != nil {
		return nil, err
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
	clock, _, err := t.requestClock(ctx, r.ProjectID, boolDelta(false, r.IsOpen()), false)
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
	if err := t.writeSet(ctx, "request_participants", "participant", r.ProjectID, r.ID, r.Participants); err != nil {
		return nil, err
	}
	if err := t.writeSet(ctx, "request_followers", "follower", r.ProjectID, r.ID, r.Followers); err != nil {
		return nil, err
	}
	if err := t.writeSet(ctx, "request_tags", "tag", r.ProjectID, r.ID, tagNames(r.Tags)); err != nil {
		return nil, err
	}
	if err := t.adjustAssigned(ctx, r.ProjectID, openAgents(r), 1); err != nil {
		return nil, err
	}
	return r, t.event(ctx, r.ProjectID, tiledesk.EventRequestCreate, r.ID, r)
}

// countAvailable counts the agents routing would consider, for the snapshot of a request whose
// participants the client chose: routing a pooled copy of the department assigns nobody.
func (t *tx) countAvailable(env *requestEnv, d *tiledesk.Department) (int, error) {
	pooled := *d
	pooled.Routing, pooled.IDBot = tiledesk.RoutingPooled, ""
	out, err := env.Route(&pooled, true)
	return out.AvailableAgentsCount, err
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
		if err := t.lockProject(ctx, in.Request.ProjectID); err != nil {
			return err
		}
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

// PostMessage adds a message, creating its conversation when needed. Inside the transaction an
// existing conversation is read only for what a message changes; the whole of it is read after the
// commit, off the write path (on SQLite that path is one goroutine for every writer).
func (s *Store) PostMessage(ctx context.Context, in *tiledesk.MessagePost) (*tiledesk.Request, *tiledesk.Message, bool, bool, error) {
	var (
		outR              *tiledesk.Request
		outM              *tiledesk.Message
		created, replayed bool
	)
	m := in.Message
	if m.CreatedAt.IsZero() {
		m.CreatedAt = tiledesk.Now()
	}
	if m.UpdatedAt.IsZero() {
		m.UpdatedAt = m.CreatedAt
	}
	event, err := json.Marshal(m)
	if err != nil {
		return nil, nil, false, false, fmt.Errorf("encode message.create event: %w", err)
	}
	err = s.withRequestRetry(ctx, func(t *tx) error {
		created, replayed, outR = false, false, nil
		if err := t.lockProject(ctx, m.ProjectID); err != nil {
			return err
		}
		if in.Idempotency != nil {
			first, err := t.claimIdempotency(ctx, m.ProjectID, "message.create", in.Idempotency, m.ID)
			if err != nil {
				return err
			}
			if first != "" {
				replayed = true
				if outM, err = scanMessage(t.queryRow(ctx, `SELECT `+messageColumns+` FROM messages
					WHERE id_project = $1 AND id = $2`, m.ProjectID, first)); err != nil {
					return notFound(err, "message")
				}
				r, seen, err := t.findMessageTarget(ctx, m.ProjectID, outM.Recipient, in.VisibleTo)
				if err != nil {
					return err
				}
				return seen.check(in.VisibleTo, r) // a replay shows nothing its caller may not see
			}
		}
		r, seen, err := t.findMessageTarget(ctx, m.ProjectID, m.Recipient, in.VisibleTo)
		if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND && in.Create != nil {
			if r, err = t.createRequest(ctx, in.Create); err != nil {
				return err
			}
			created, outR = true, r
		}
		if err != nil {
			return err
		}
		if !created {
			if err := seen.check(in.VisibleTo, r); err != nil {
				return err
			}
		}
		if err := t.insertMessage(ctx, m); err != nil {
			return err
		}
		if !created {
			noteMessage(r, m)
			if err := t.touchRequest(ctx, r, in.LastMessage); err != nil {
				return err
			}
		}
		outM = m
		return t.event(ctx, m.ProjectID, tiledesk.EventMessageCreate, m.ID, json.RawMessage(event))
	})
	if err != nil {
		return nil, nil, false, false, err
	}
	// The conversation is read after the commit, from a reader: on SQLite the transaction runs on the
	// one writer every write waits for, and this read is as costly as the rest of the reply.
	switch {
	case outR != nil:
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

// populationVersions are the columns of FindRequestRefs that give the versions of what a
// conversation is populated with.
const populationVersions = `(SELECT l.updated_at FROM leads l WHERE l.id_project = requests.id_project AND l.id = requests.lead) AS lead_updated_at,
	(SELECT p.updated_at FROM project_users p WHERE p.id_project = requests.id_project AND p.id = requests.requester) AS requester_updated_at,
	(SELECT u.updated_at FROM project_users p JOIN users u ON u.id = p.id_user
		WHERE p.id_project = requests.id_project AND p.id = requests.requester) AS requester_user_updated_at`

// findRequestWithRef reads a whole conversation by its request_id and fills ref with it and the
// versions of what it is populated with.
func (s *Store) findRequestWithRef(ctx context.Context, projectID, requestID string, ref *tiledesk.RequestRef) (*tiledesk.Request, error) {
	var lead, requester, user sql.NullInt64
	r, err := scanRequest(extraScan{s.queryRow(ctx, `SELECT `+requestColumns+`, `+populationVersions+`
		FROM requests WHERE id_project = $1 AND request_id = $2`, projectID, requestID), []any{&lead, &requester, &user}})
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
	working_status, created_at`

// findMessageTarget reads the part of a conversation a new message changes, and what deciding
// whether v may see it needs (the caller checks: a conversation that does not exist may be created).
func (t *tx) findMessageTarget(ctx context.Context, projectID, requestID string, v *tiledesk.Visibility) (*tiledesk.Request, *rowRestricted, error) {
	var (
		r                 tiledesk.Request
		agents, followers sql.NullString
		first             sql.NullInt64
		created           int64
		seen              rowRestricted
	)
	err := t.queryRow(ctx, `SELECT `+messageTargetColumns+visibleColumns(v)+` FROM requests WHERE id_project = $1 AND request_id = $2`+
		t.s.dialect.ForUpdate(), projectID, requestID).Scan(append([]any{&r.ProjectID, &r.ID, &r.RequestID, &r.RequesterID, &agents,
		&followers, &first, &r.WorkingStatus, &created}, seen.dest(v)...)...)
	if err != nil {
		return nil, nil, notFound(err, "request")
	}
	r.FirstResponseAt, r.CreatedAt = timePtr(first), fromMS(created)
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
func (t *tx) touchRequest(ctx context.Context, r *tiledesk.Request, last json.RawMessage) error {
	clock, _, err := t.requestClock(ctx, r.ProjectID, 0, false)
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
		if err := t.lockProject(ctx, projectID); err != nil {
			return err
		}
		r, seen, err := t.findMessageTarget(ctx, projectID, requestID, v)
		if err != nil {
			return err
		}
		if err := seen.check(v, r); err != nil {
			return err
		}
		for _, m := range msgs {
			if err := t.insertMessage(ctx, m); err != nil {
				return err
			}
			noteMessage(r, m)
			if err := t.event(ctx, projectID, tiledesk.EventMessageCreate, m.ID, m); err != nil {
				return err
			}
		}
		return t.touchRequest(ctx, r, last)
	})
	if err != nil {
		return nil, err
	}
	return s.FindRequest(ctx, projectID, requestID, nil)
}

// ChangeRequest applies change in one transaction.
func (s *Store) ChangeRequest(ctx context.Context, projectID, requestID string, v *tiledesk.Visibility, change tiledesk.RequestChange,
	check func(*tiledesk.Request) error) (*tiledesk.Request, error) {
	var out *tiledesk.Request
	err := s.inTx(ctx, func(t *tx) error {
		if err := t.lockProject(ctx, projectID); err != nil {
			return err
		}
		r, err := s.findRequestAs(ctx, t, projectID, requestID, v)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(r); err != nil {
				return err
			}
		}
		before := stateOf(r)
		events, err := change(r, &requestEnv{t: t, ctx: ctx, project: projectID, request: r.ID, recip: r.RequestID})
		if err != nil {
			return err
		}
		out = r
		return t.saveRequest(ctx, before, r, events)
	})
	return out, err
}

// DeleteRequest removes a conversation and everything that hangs on it.
func (s *Store) DeleteRequest(ctx context.Context, projectID, requestID string, v *tiledesk.Visibility) (*tiledesk.Request, error) {
	var out *tiledesk.Request
	err := s.inTx(ctx, func(t *tx) error {
		if err := t.lockProject(ctx, projectID); err != nil {
			return err
		}
		r, err := s.findRequestAs(ctx, t, projectID, requestID, v)
		if err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM messages WHERE id_project = $1 AND recipient = $2`,
			`DELETE FROM requests WHERE id_project = $1 AND request_id = $2`,
		} {
			if _, err := t.exec(ctx, q, projectID, requestID); err != nil {
				return fmt.Errorf("delete request: %w", err)
			}
		}
		for _, table := range []string{"request_participants", "request_followers", "request_tags"} {
			if _, err := t.exec(ctx, `DELETE FROM `+table+` WHERE id_project = $1 AND request = $2`, projectID, r.ID); err != nil {
				return fmt.Errorf("delete request: %w", err)
			}
		}
		if err := t.adjustAssigned(ctx, projectID, openAgents(r), -1); err != nil {
			return err
		}
		if _, _, err := t.requestClock(ctx, projectID, boolDelta(r.IsOpen(), false), false); err != nil {
			return err
		}
		out = r
		return t.event(ctx, projectID, tiledesk.EventRequestDelete, r.ID, r)
	})
	return out, err
}

var requestSortColumn = map[string]string{
	tiledesk.RequestSortCreatedAt: "created_at",
	tiledesk.RequestSortUpdatedAt: "updated_at",
	tiledesk.RequestSortTicketID:  "ticket_id",
	tiledesk.RequestSortID:        "id",
}

func requestSortValue(r *tiledesk.Request, key string) any {
	switch key {
	case tiledesk.RequestSortCreatedAt:
		return ms(r.CreatedAt)
	case tiledesk.RequestSortUpdatedAt:
		return ms(r.UpdatedAt)
	case tiledesk.RequestSortTicketID:
		return int64(r.TicketID)
	}
	return r.ID
}

// FindRequests lists conversations.
func (s *Store) FindRequests(ctx context.Context, projectID string, f tiledesk.RequestFilter) (*tiledesk.RequestPage, error) {
	rq, err := s.requestQuery(ctx, projectID, f)
	if err != nil || rq.empty {
		return &tiledesk.RequestPage{Requests: []*tiledesk.Request{}}, err
	}
	rows, err := s.query(ctx, `SELECT `+requestColumns+` FROM requests WHERE `+rq.where, rq.q.args...)
	if err != nil {
		return nil, fmt.Errorf("find requests: %w", err)
	}
	reqs, err := collect(rows, scanRequest)
	if err != nil {
		return nil, err
	}
	out := &tiledesk.RequestPage{Count: rq.count}
	out.Requests, out.Next = next(rq.pg, reqs, requestSortValue, func(r *tiledesk.Request) string { return r.ID })
	return out, nil
}

// FindRequestRefs lists the same conversations as FindRequests, reading only their versions, sort
// values and the ids they are populated with (and their lead's version, by its primary key).
func (s *Store) FindRequestRefs(ctx context.Context, projectID string, f tiledesk.RequestFilter) (*tiledesk.RequestRefPage, error) {
	rq, err := s.requestQuery(ctx, projectID, f)
	if err != nil || rq.empty {
		return &tiledesk.RequestRefPage{Refs: []tiledesk.RequestRef{}}, err
	}
	rows, err := s.query(ctx, `SELECT id, updated_at, `+rq.pg.col+` AS sort_value, lead, department, requester, participants_agents,
		participants_bots, `+populationVersions+` FROM requests WHERE `+rq.where, rq.q.args...)
	if err != nil {
		return nil, fmt.Errorf("find requests: %w", err)
	}
	refs, err := collect(rows, func(row scanner) (*requestRefRow, error) {
		var (
			ref                    requestRefRow
			updated                int64
			agents, bots           sql.NullString
			leadUpdated            sql.NullInt64
			puUpdated, userUpdated sql.NullInt64
			intSort                int64
			textSort               string
			sortDst                any = &textSort
		)
		if rq.pg.intSort() {
			sortDst = &intSort
		}
		if err := row.Scan(&ref.ID, &updated, sortDst, &ref.LeadID, &ref.DepartmentID, &ref.RequesterID, &agents, &bots,
			&leadUpdated, &puUpdated, &userUpdated); err != nil {
			return nil, err
		}
		ref.UpdatedAt, ref.LeadUpdatedAt = fromMS(updated), timePtr(leadUpdated)
		ref.RequesterUpdatedAt, ref.RequesterUserUpdatedAt = timePtr(puUpdated), timePtr(userUpdated)
		ref.sort = textSort
		if rq.pg.intSort() {
			ref.sort = intSort
		}
		if err := scanJSON(agents, &ref.ParticipantsAgents); err != nil {
			return nil, fmt.Errorf("request %s: %w", ref.ID, err)
		}
		if err := scanJSON(bots, &ref.ParticipantsBots); err != nil {
			return nil, fmt.Errorf("request %s: %w", ref.ID, err)
		}
		return &ref, nil
	})
	if err != nil {
		return nil, err
	}
	page, after := next(rq.pg, refs, func(r *requestRefRow, _ string) any { return r.sort },
		func(r *requestRefRow) string { return r.ID })
	out := &tiledesk.RequestRefPage{Count: rq.count, Next: after, Refs: make([]tiledesk.RequestRef, 0, len(page))}
	for _, r := range page {
		out.Refs = append(out.Refs, r.RequestRef)
	}
	return out, nil
}

// PopulationClock reads the clocks of everything a populated list shows. Read it before the list:
// a list read after a clock is at least as new as the clock, never older. Where the store keeps
// clocks (keepsClocks) it reads them once per write of its own, as LeadListClock does.
func (s *Store) PopulationClock(ctx context.Context, projectID string) (tiledesk.ListClock, bool, error) {
	if !s.dialect.PopulationClock() {
		return tiledesk.ListClock{}, false, nil
	}
	type found struct {
		clock tiledesk.ListClock
		ok    bool
	}
	f, err := kept(s, &s.populationClocks, projectID, func() (found, error) {
		var c tiledesk.ListClock
		err := s.queryRow(ctx, `SELECT requests_clock, leads_clock, members_clock,
			(SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'users_clock') FROM project_counters WHERE id_project = $1`, projectID).
			Scan(&c[0], &c[1], &c[2], &c[3])
		if errors.Is(err, sql.ErrNoRows) {
			return found{}, nil
		} else if err != nil {
			return found{}, fmt.Errorf("population clock: %w", err)
		}
		return found{c, true}, nil
	})
	return f.clock, f.ok, err
}

type requestRefRow struct {
	tiledesk.RequestRef
	sort any
}

// FindRequestsByIDs loads conversations by ObjectId.
func (s *Store) FindRequestsByIDs(ctx context.Context, projectID string, ids []string) (map[string]*tiledesk.Request, error) {
	return findByIDs(ctx, s, "requests", requestColumns, projectID, ids, scanRequest, func(r *tiledesk.Request) string { return r.ID })
}

// requestQuery is what FindRequests and FindRequestRefs share: the conditions, order and count of a
// filter. empty means nothing can match (a search without a single word).
type requestQuery struct {
	q     *query
	pg    page
	where string // conditions, ORDER BY and LIMIT
	count int
	empty bool
}

func (s *Store) requestQuery(ctx context.Context, projectID string, f tiledesk.RequestFilter) (*requestQuery, error) {
	pg, err := newPage(requestSortColumn, tiledesk.RequestSortCreatedAt, f.Sort, f.Desc, f.After, f.Limit, f.Offset)
	if err != nil {
		return nil, err
	}
	q := newQuery(projectID)
	defaultList := len(f.Statuses) == 0 && !f.AllStatuses && !f.Preflight
	switch {
	case defaultList:
		q.where("is_open = TRUE")
	case len(f.Statuses) > 0:
		var ph []string
		for _, st := range f.Statuses {
			ph = append(ph, q.arg(st))
		}
		q.where("status IN (" + strings.Join(ph, ", ") + ")")
	case !f.AllStatuses:
		q.where("status < 1000 AND status NOT IN (50, 150)")
	}
	if !f.Preflight && !defaultList {
		q.where("preflight = FALSE")
	}
	base := len(q.conds)
	if f.DepartmentID != "" {
		q.where("department = " + q.arg(f.DepartmentID))
	}
	if f.Participant != "" {
		q.where("id IN (SELECT request FROM request_participants WHERE id_project = $1 AND participant = " + q.arg(f.Participant) + ")")
	}
	if f.LeadID != "" {
		q.where("lead = " + q.arg(f.LeadID))
	}
	if f.RequesterID != "" {
		q.where("requester = " + q.arg(f.RequesterID))
	}
	if f.RequesterEmail != "" {
		q.where("requester_email = " + q.arg(tiledesk.EmailKey(f.RequesterEmail)))
	}
	for _, tag := range f.Tags {
		q.where("id IN (SELECT request FROM request_tags WHERE id_project = $1 AND tag = " + q.arg(tag) + ")")
	}
	if f.Text != "" {
		words := impliedWordsDropped(tiledesk.SearchTerms(f.Text))
		if len(words) == 0 {
			return &requestQuery{empty: true}, nil
		}
		q.where(s.dialect.TextMatch("requests", q.arg(s.dialect.TextQuery(projectID, words))))
	}
	if f.HasBot != nil {
		q.where("has_bot = " + q.arg(*f.HasBot))
	}
	switch f.Channel {
	case "":
	case "offline":
		q.where("channel IN ('email', 'form')")
	case "online":
		q.where("channel NOT IN ('email', 'form')")
	default:
		q.where("channel = " + q.arg(f.Channel))
	}
	if f.TicketID != nil {
		q.where("ticket_id = " + q.arg(*f.TicketID))
	}
	if f.Priority != "" {
		q.where("priority = " + q.arg(f.Priority))
	}
	if ws := f.WorkingStatus; ws != nil {
		var ph []string
		for _, v := range ws.Values {
			ph = append(ph, q.arg(v))
		}
		switch ws.Op {
		case "eq":
			q.where("working_status = " + ph[0])
		case "ne":
			q.where("working_status <> " + ph[0])
		case "in":
			q.where("working_status IN (" + strings.Join(ph, ", ") + ")")
		case "nin":
			q.where("working_status NOT IN (" + strings.Join(ph, ", ") + ")")
		}
	}
	if f.ExcludeDrafts {
		q.where("draft = FALSE")
	}
	if f.From != nil {
		q.where("created_at >= " + q.arg(ms(*f.From)))
	}
	if f.To != nil {
		q.where("created_at < " + q.arg(ms(*f.To)))
	}
	if f.UpdatedSince != nil {
		q.where("updated_at > " + q.arg(ms(*f.UpdatedSince)))
	}
	seesAll, err := s.applyVisibility(ctx, q, projectID, f.VisibleTo)
	if err != nil {
		return nil, fmt.Errorf("find requests: %w", err)
	}
	out := &requestQuery{q: q, pg: pg}
	if !f.NoCount {
		if out.count, err = s.count(ctx, "requests", "requests_open", defaultList && seesAll && len(q.conds) == base, q); err != nil {
			return nil, err
		}
	}
	tail := pg.clause(q) // adds the cursor condition: before q.conditions()
	out.where = q.conditions() + tail
	return out, nil
}

// CountRequests counts the open conversations by kind.
func (s *Store) CountRequests(ctx context.Context, projectID string, v *tiledesk.Visibility) (*tiledesk.RequestCounts, error) {
	q := newQuery(projectID)
	q.where("status IN (100, 200) AND preflight = FALSE")
	if _, err := s.applyVisibility(ctx, q, projectID, v); err != nil {
		return nil, fmt.Errorf("count requests: %w", err)
	}
	rows, err := s.query(ctx, `SELECT status, has_bot, COUNT(*) FROM requests WHERE `+q.conditions()+` GROUP BY status, has_bot`, q.args...)
	if err != nil {
		return nil, fmt.Errorf("count requests: %w", err)
	}
	defer rows.Close()
	out := &tiledesk.RequestCounts{}
	for rows.Next() {
		var status, n int
		var bot bool
		if err := rows.Scan(&status, &bot, &n); err != nil {
			return nil, err
		}
		switch {
		case status == tiledesk.RequestUnassigned:
			out.Unassigned += n
		case bot:
			out.BotAssigned += n
		default:
			out.Assigned += n
		}
	}
	return out, rows.Err()
}

// findByIDs loads rows of table whose id is in ids, keyed by id.
func findByIDs[T any](ctx context.Context, s *Store, table, columns, projectID string, ids []string, scan func(scanner) (*T, error), key func(*T) string) (map[string]*T, error) {
	out := make(map[string]*T, len(ids))
	uniq := dedupe(ids)
	if len(uniq) == 0 {
		return out, nil
	}
	args := []any{}
	cond := ""
	if projectID != "" {
		args = append(args, projectID)
		cond = "id_project = $1 AND "
	}
	for _, id := range uniq {
		args = append(args, id)
	}
	rows, err := s.query(ctx, `SELECT `+columns+` FROM `+table+` WHERE `+cond+`id IN (`+
		placeholders(len(args)-len(uniq)+1, len(uniq))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("find %s: %w", table, err)
	}
	items, err := collect(rows, scan)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		out[key(it)] = it
	}
	return out, nil
}

// FindLeadsByIDs loads leads by ObjectId.
func (s *Store) FindLeadsByIDs(ctx context.Context, projectID string, ids []string) (map[string]*tiledesk.Lead, error) {
	return findByIDs(ctx, s, "leads", leadColumns, projectID, ids, scanLead, func(l *tiledesk.Lead) string { return l.ID })
}

// FindDepartmentsByIDs loads departments.
func (s *Store) FindDepartmentsByIDs(ctx context.Context, projectID string, ids []string) (map[string]*tiledesk.Department, error) {
	return findByIDs(ctx, s, "departments", departmentColumns, projectID, ids, scanDepartment, func(d *tiledesk.Department) string { return d.ID })
}

// FindProjectUsersByIDs loads memberships with their users.
func (s *Store) FindProjectUsersByIDs(ctx context.Context, projectID string, ids []string) (map[string]*tiledesk.ProjectUser, error) {
	m, err := findByIDs(ctx, s, "project_users", projectUserColumns, projectID, ids, scanProjectUser,
		func(pu *tiledesk.ProjectUser) string { return pu.ID })
	if err != nil {
		return nil, err
	}
	pus := make([]*tiledesk.ProjectUser, 0, len(m))
	for _, pu := range m {
		pus = append(pus, pu)
	}
	return m, s.populateUsers(ctx, pus)
}

// FindUsersByIDs loads active users.
func (s *Store) FindUsersByIDs(ctx context.Context, ids []string) (map[string]*tiledesk.User, error) {
	var valid []string
	for _, id := range ids {
		if tiledesk.IsID(id) {
			valid = append(valid, id)
		}
	}
	return findByIDs(ctx, s, "users", userColumns, "", valid, scanUser, func(u *tiledesk.User) string { return u.ID })
}
