package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

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
	rows, err := s.query(ctx, `SELECT `+requestColumns+` FROM `+rq.from+` WHERE `+rq.where, rq.q.args...)
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
		participants_bots, `+populationVersions+` FROM `+rq.from+` WHERE `+rq.where, rq.q.args...)
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

type requestRefRow struct {
	tiledesk.RequestRef
	sort any
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

// WaitingTimeSince reads the conversations created since through requests_created.
func (s *Store) WaitingTimeSince(ctx context.Context, projectID string, since time.Time) (int, *float64, error) {
	var n int
	var avg sql.NullFloat64
	if err := s.queryRow(ctx, `SELECT COUNT(*), AVG(waiting_time) FROM requests WHERE id_project = $1 AND created_at >= $2`,
		projectID, ms(since)).Scan(&n, &avg); err != nil {
		return 0, nil, fmt.Errorf("waiting time: %w", err)
	}
	if !avg.Valid {
		return n, nil, nil
	}
	return n, &avg.Float64, nil
}

// LastAssigned is the agent the project's last routed conversation went to ("" for none).
func (s *Store) LastAssigned(ctx context.Context, projectID string) (string, error) {
	var last sql.NullString
	err := s.queryRow(ctx, `SELECT last_assigned FROM project_counters WHERE id_project = $1 AND stripe = 0`, projectID).Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("routing rotation: %w", err)
	}
	return last.String, nil
}
