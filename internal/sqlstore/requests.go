package sqlstore

import (
	"database/sql"
	"fmt"
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
