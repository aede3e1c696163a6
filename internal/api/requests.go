package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/views"
)

// requestsList pages conversation lists: limit up to 100 (0 and larger values mean 100).
var requestsList = listSpec{defaultLimit: 40, maxLimit: 100, zeroIsMax: true, sortParams: []string{"sort"},
	isSort: tiledesk.IsRequestSort, sortHelp: "createdAt, updatedAt, ticket_id, _id",
	defaultSort: tiledesk.RequestSortCreatedAt, feedSort: tiledesk.RequestSortUpdatedAt}

const maxRequestIDBytes = 255

// requestIDOf validates the request_id path segment: a free string chosen by the client.
func requestIDOf(r *http.Request) (string, error) {
	rid := r.PathValue("rid")
	if rid == "" || len(rid) > maxRequestIDBytes || strings.IndexFunc(rid, func(c rune) bool { return c < 0x20 || c == 0x7f }) >= 0 {
		return "", errNotFound
	}
	return rid, nil
}

// requesterOf resolves who a new conversation is for: the body's sender (an active member of the
// project; only agents may name someone else) or the caller.
type requesterInfo struct {
	member   *tiledesk.ProjectUser
	leadID   string
	fullname string
	email    string
}

// errBotNeedsSender refuses a conversation a bot starts without naming whom it is for: a bot is no
// member of the project, and a conversation's requester is one.
var errBotNeedsSender = invalidField("sender", "body",
	"is required when a bot starts a conversation: the id of the project member it is for")

func (s *Server) requesterOf(r *http.Request, c *call, sender *string) (*requesterInfo, error) {
	if sender == nil || *sender == "" || *sender == c.caller.id {
		info := &requesterInfo{member: c.member, leadID: c.caller.id}
		if u := c.caller.user; u != nil {
			info.fullname, info.email = strings.TrimSpace(u.FullName()), u.Email
		} else if b := c.caller.bot; b != nil {
			info.fullname = b.Name
		} else if cl := c.caller.claims; cl != nil {
			info.fullname, info.email = strings.TrimSpace(cl.FullName), cl.Email
		}
		return info, nil
	}
	if !tiledesk.HasRole(c.member.Role, tiledesk.RoleAgent) {
		return nil, errMsg(http.StatusForbidden, "Only agents may write on behalf of another sender.")
	}
	pu, err := s.store.FindProjectUserByUUID(r.Context(), c.project.ID, *sender)
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND && tiledesk.IsID(*sender) {
		pu, err = s.store.FindProjectUserByUserID(r.Context(), c.project.ID, strings.ToLower(*sender))
	}
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND || err == nil && !pu.IsActive() {
		return nil, errMsg(http.StatusForbidden, "Unauthorized. Project_user not found with user id  : "+*sender)
	} else if err != nil {
		return nil, err
	}
	info := &requesterInfo{member: pu, leadID: *sender}
	if pu.UserID != "" {
		if u, err := s.store.FindUserByID(r.Context(), pu.UserID); err == nil {
			info.fullname, info.email = strings.TrimSpace(u.FullName()), u.Email
		}
	}
	return info, nil
}

// handleRequestCreate creates a conversation from first_text, without a message, as the original.
func (s *Server) handleRequestCreate(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	firstText := b.requiredStr("first_text")
	rid := b.str("request_id")
	sender := b.str("sender")
	f := readConversationFields(b)
	if rid != nil && (len(*rid) > maxRequestIDBytes || strings.TrimSpace(*rid) == "") {
		b.fail("request_id", fmt.Sprintf("must be 1 to %d bytes", maxRequestIDBytes), nil)
	}
	if err := b.err(); err != nil {
		return err
	}
	if c.caller.bot != nil && (sender == nil || *sender == "") {
		return errBotNeedsSender
	}
	rq, err := s.requesterOf(r, c, sender)
	if err != nil {
		return err
	}
	id := "support-group-" + c.project.ID + "-" + strings.ReplaceAll(uuid.NewString(), "-", "")
	if rid != nil {
		id = *rid
	}
	in, err := s.newConversation(c, id, firstText, rq, f)
	if err != nil {
		return err
	}
	if err := s.checkMembers(r, c, in); err != nil {
		return err
	}
	req, err := s.store.CreateRequest(r.Context(), in)
	if err != nil {
		return err
	}
	out := toRequest(req)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// requestListQuery parses the list parameters of GET /requests, /requests/me and the CSV export.
func requestListQuery(r *http.Request) (tiledesk.RequestFilter, int, error) {
	p, err := parseListParams(r, requestsList)
	if err != nil {
		return tiledesk.RequestFilter{}, 0, err
	}
	q := p.query
	f := tiledesk.RequestFilter{Limit: p.limit, Offset: p.offset, Sort: p.sort, Desc: p.desc, After: p.after,
		UpdatedSince: p.updatedSince, NoCount: p.noCount}
	if v := q.Get("status"); v != "" {
		if v == "all" {
			f.AllStatuses = true
		} else {
			for _, part := range strings.Split(v, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(part))
				if err != nil || !tiledesk.IsRequestStatus(n) {
					return f, 0, invalidQuery("status", "must be all or a comma-separated list of 50, 100, 150, 200, 300, 1000", v)
				}
				f.Statuses = append(f.Statuses, n)
			}
		}
	}
	for _, name := range []string{"dept_id", "lead"} {
		if v := q.Get(name); v != "" && !tiledesk.IsID(v) {
			return f, 0, invalidQuery(name, "must be an id", v)
		}
	}
	f.DepartmentID = strings.ToLower(q.Get("dept_id"))
	f.LeadID = strings.ToLower(q.Get("lead"))
	f.Participant = q.Get("participant")
	f.RequesterEmail = q.Get("requester_email")
	f.Text = q.Get("full_text")
	if msg := tiledesk.SearchProblem(f.Text); msg != "" {
		return f, 0, invalidQuery("full_text", msg, f.Text)
	}
	for _, t := range q["tags"] {
		if t != "" {
			f.Tags = append(f.Tags, t)
		}
	}
	if v := q.Get("hasbot"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, 0, invalidQuery("hasbot", "must be true or false", v)
		}
		f.HasBot = &b
	}
	f.Channel = q.Get("channel")
	if v := q.Get("ticket_id"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return f, 0, invalidQuery("ticket_id", "must be a positive whole number", v)
		}
		f.TicketID = &n
	}
	f.Priority = q.Get("priority")
	for key, op := range map[string]string{"workingStatus": "eq", "workingStatus[ne]": "ne", "workingStatus[in]": "in", "workingStatus[nin]": "nin"} {
		if v := q.Get(key); v != "" {
			f.WorkingStatus = &tiledesk.StringMatch{Op: op, Values: strings.Split(v, ",")}
		}
	}
	if f.Preflight, err = queryBool(q, "preflight"); err != nil {
		return f, 0, err
	}
	if v := q.Get("draft"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, 0, invalidQuery("draft", "must be true or false", v)
		}
		f.ExcludeDrafts = !b
	}
	if err := dateRange(q, &f); err != nil {
		return f, 0, err
	}
	if f.UpdatedSince != nil && len(f.Statuses) == 0 {
		f.AllStatuses = true // a follower must see closings too
	}
	return f, f.Limit, nil
}

// dateRange reads start_date/end_date (DD/MM/YYYY or YYYY/MM/DD, optionally with HH:mm[:ss]) in
// the timezone parameter (default Europe/Rome, as the original); an end date without a time is
// exclusive of the next day.
// locations caches time zones by name: time.LoadLocation reads and parses the zone file each time.
var locations sync.Map

func loadLocation(name string) (*time.Location, error) {
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, loc)
	return loc, nil
}

func dateRange(q map[string][]string, f *tiledesk.RequestFilter) error {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	tzName := get("timezone")
	if tzName == "" && get("start_date") == "" && get("start_date_time") == "" && get("end_date") == "" && get("end_date_time") == "" {
		return nil
	}
	if tzName == "" {
		tzName = "Europe/Rome"
	}
	loc, err := loadLocation(tzName)
	if err != nil {
		return invalidQuery("timezone", "must be an IANA time zone such as Europe/Rome", tzName)
	}
	parse := func(v string) (time.Time, bool, bool) {
		for _, layout := range []string{"02/01/2006 15:04:05", "02/01/2006 15:04", "2006/01/02 15:04:05", "2006/01/02 15:04"} {
			if t, err := time.ParseInLocation(layout, v, loc); err == nil {
				return t, true, true
			}
		}
		for _, layout := range []string{"02/01/2006", "2006/01/02", "2006-01-02"} {
			if t, err := time.ParseInLocation(layout, v, loc); err == nil {
				return t, false, true
			}
		}
		return time.Time{}, false, false
	}
	for _, name := range []string{"start_date", "start_date_time"} {
		if v := get(name); v != "" {
			t, _, ok := parse(v)
			if !ok {
				return invalidQuery(name, "must be a date DD/MM/YYYY or YYYY/MM/DD, optionally with HH:mm[:ss]", v)
			}
			f.From = &t
		}
	}
	for _, name := range []string{"end_date", "end_date_time"} {
		if v := get(name); v != "" {
			t, withTime, ok := parse(v)
			if !ok {
				return invalidQuery(name, "must be a date DD/MM/YYYY or YYYY/MM/DD, optionally with HH:mm[:ss]", v)
			}
			if !withTime {
				t = t.AddDate(0, 0, 1)
			}
			f.To = &t
		}
	}
	return nil
}

// listRequests answers a list of conversations. shared says that the list is the same for every
// caller who asks for it with the same query (GET /requests by an owner or admin), so that it may be
// kept whole; a list narrowed to its caller (visibility, /requests/me) never is.
func (s *Server) listRequests(w http.ResponseWriter, r *http.Request, c *call, f tiledesk.RequestFilter, limit int, shared bool) error {
	var page views.Answer
	var err error
	switch {
	case r.URL.Query().Get("no_populate") == "true":
		page, err = s.views.Requests.Unpopulated(r.Context(), viewOf(c), c.project.ID, f, limit)
	case shared:
		page, err = s.views.Requests.SharedPage(r.Context(), viewOf(c), c.project.ID, f, limit, r.URL.RawQuery)
	default:
		page, err = s.views.Requests.Page(r.Context(), viewOf(c), c.project.ID, f, limit)
	}
	return writeAnswer(w, page, err)
}

func (s *Server) handleRequestList(w http.ResponseWriter, r *http.Request, c *call) error {
	f, limit, err := requestListQuery(r)
	if err != nil {
		return err
	}
	f.VisibleTo = visibilityOf(c)
	return s.listRequests(w, r, c, f, limit, f.VisibleTo == nil)
}

// handleRequestMe lists the conversations the caller asked for (the widget's history), of those it
// may see.
func (s *Server) handleRequestMe(w http.ResponseWriter, r *http.Request, c *call) error {
	f, limit, err := requestListQuery(r)
	if err != nil {
		return err
	}
	f.RequesterID, f.VisibleTo = c.member.ID, visibilityOf(c)
	return s.listRequests(w, r, c, f, limit, false)
}

func (s *Server) handleRequestCount(w http.ResponseWriter, r *http.Request, c *call) error {
	counts, err := s.store.CountRequests(r.Context(), c.project.ID, visibilityOf(c))
	if err != nil {
		return err
	}
	if merge, err := queryBool(r.URL.Query(), "merge_assigned"); err != nil {
		return err
	} else if merge {
		writeJSON(w, http.StatusOK, map[string]int{"unassigned": counts.Unassigned, "assigned": counts.Assigned + counts.BotAssigned})
		return nil
	}
	writeJSON(w, http.StatusOK, struct {
		Unassigned  int `json:"unassigned"`
		Assigned    int `json:"assigned"`
		BotAssigned int `json:"bot_assigned"`
	}{counts.Unassigned, counts.Assigned, counts.BotAssigned})
	return nil
}

func tagNames(tags []tiledesk.RequestTag) []string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		out = append(out, t.Tag)
	}
	return out
}

func (s *Server) handleRequestAttributes(w http.ResponseWriter, r *http.Request, c *call) error {
	m, err := mergeBody(r, "attributes")
	if err != nil {
		return err
	}
	return s.change(w, r, c, false, tiledesk.MergeRequestAttributes(m))
}

// withinField places the fields of a 422 produced by a check of a part of the body under that
// part: "text" in the second message of a list becomes "[1].text".
func withinField(err error, prefix string) error {
	if ve, ok := err.(*validationError); ok {
		for i := range ve.errs {
			ve.errs[i].Param = prefix + ve.errs[i].Param
		}
	}
	return err
}

// routeBody reads {departmentid, nobot}.
func routeBody(r *http.Request) (dept string, noBot bool, err error) {
	b, err := decodeObject(r)
	if err != nil {
		return "", false, err
	}
	d := b.str("departmentid")
	nb := b.boolean("nobot")
	if d != nil && *d != "" && !tiledesk.IsID(*d) {
		b.fail("departmentid", "must be a department id", *d)
	}
	if err := b.err(); err != nil {
		return "", false, err
	}
	if d != nil {
		dept = strings.ToLower(*d)
	}
	return dept, nb != nil && *nb, nil
}

func (s *Server) handleRequestDepartment(w http.ResponseWriter, r *http.Request, c *call) error {
	dept, noBot, err := routeBody(r)
	if err != nil {
		return err
	}
	change, err := tiledesk.MoveRequest(dept, noBot)
	if err != nil {
		return err
	}
	return s.change(w, r, c, true, change)
}

// handleRequestAssign routes a conversation that is waiting.
func (s *Server) handleRequestAssign(w http.ResponseWriter, r *http.Request, c *call) error {
	dept, noBot, err := routeBody(r)
	if err != nil {
		return err
	}
	return s.change(w, r, c, true, tiledesk.AssignRequest(dept, noBot))
}

// handleRequestAgent hands a conversation to a human of its department.
func (s *Server) handleRequestAgent(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.change(w, r, c, true, tiledesk.HandRequestToAgent())
}
