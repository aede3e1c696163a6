package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

// requestQuery is what FindRequests and FindRequestRefs share: the conditions, order and count of a
// filter. empty means nothing can match (a search without a single word).
type requestQuery struct {
	from  string // requests, or Dialect.RequestsByUpdate's join where updated_at sorts or filters
	q     *query
	pg    page
	where string // conditions, ORDER BY and LIMIT
	count int
	empty bool
}

// requestQuery builds the query of a filter: its page, its conditions (status, then the filter's
// own, then who may see what) and, unless the filter does without, its count.
func (s *Store) requestQuery(ctx context.Context, projectID string, f tiledesk.RequestFilter) (*requestQuery, error) {
	pg, err := newPage(requestSortColumn, tiledesk.RequestSortCreatedAt, f.Sort, f.Desc, f.After, f.Limit, f.Offset)
	if err != nil {
		return nil, err
	}
	// Where the conversations' row does not index updated_at, a table beside it does
	// (Dialect.RequestsByUpdate): the lists that sort or filter by it read it there.
	from, updated := "requests", "updated_at"
	if pg.col == "updated_at" || f.UpdatedSince != nil {
		from, updated = s.dialect.RequestsByUpdate()
	}
	if pg.col == "updated_at" {
		pg.col = updated
	}
	q := newQuery(projectID)
	defaultList := whereRequestStatus(q, f)
	base := len(q.conds)
	if !s.whereRequestFilter(q, projectID, f, updated) {
		return &requestQuery{empty: true}, nil
	}
	seesAll, err := s.applyVisibility(ctx, q, projectID, f.VisibleTo)
	if err != nil {
		return nil, fmt.Errorf("find requests: %w", err)
	}
	out := &requestQuery{from: from, q: q, pg: pg}
	if !f.NoCount {
		counted := "requests" // a count has no order to serve
		if f.UpdatedSince != nil {
			counted = from
		}
		if out.count, err = s.count(ctx, counted, "requests_open", defaultList && seesAll && len(q.conds) == base, q); err != nil {
			return nil, err
		}
	}
	tail := pg.clause(q) // adds the cursor condition: before q.conditions()
	out.where = q.conditions() + tail
	return out, nil
}

// whereRequestStatus adds the filter's conditions on status and preflight, and reports whether the
// list is the default one (the open conversations), which the project's counter counts.
func whereRequestStatus(q *query, f tiledesk.RequestFilter) (defaultList bool) {
	defaultList = len(f.Statuses) == 0 && !f.AllStatuses && !f.Preflight
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
	return defaultList
}

// whereRequestFilter adds the filter's own conditions, updated being the column of the
// conversations' updated_at in the list's FROM. It reports false when nothing can match (a search
// without a single word).
func (s *Store) whereRequestFilter(q *query, projectID string, f tiledesk.RequestFilter, updated string) bool {
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
			return false
		}
		q.where(s.dialect.TextMatch("requests", q.arg(s.dialect.TextQuery("requests", projectID, words))))
	}
	if f.HasBot != nil {
		q.where("has_bot = " + q.arg(*f.HasBot))
	}
	whereChannel(q, f.Channel)
	if f.TicketID != nil {
		q.where("ticket_id = " + q.arg(*f.TicketID))
	}
	if f.Priority != "" {
		q.where("priority = " + q.arg(f.Priority))
	}
	if f.WorkingStatus != nil {
		whereWorkingStatus(q, f.WorkingStatus)
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
		q.where(updated + " > " + q.arg(ms(*f.UpdatedSince)))
	}
	return true
}

// whereChannel adds a channel condition: "offline" is email and form, "online" everything else.
func whereChannel(q *query, channel string) {
	switch channel {
	case "":
	case "offline":
		q.where("channel IN ('email', 'form')")
	case "online":
		q.where("channel NOT IN ('email', 'form')")
	default:
		q.where("channel = " + q.arg(channel))
	}
}

// whereWorkingStatus adds a condition on working_status with the filter's operator.
func whereWorkingStatus(q *query, ws *tiledesk.StringMatch) {
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
