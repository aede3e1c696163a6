package api

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// The dashboard's analytics (/:pid/analytics, admins), in the original's shapes (MongoDB
// aggregation results), computed in the database. Each takes department_id and participant (an
// agent's user id) to narrow the conversations; the series take lastdays and timezone.

// analyticsWindow is the original's window of the figures that take no lastdays.
const analyticsWindow = 30 * 24 * time.Hour

var utcOffset = regexp.MustCompile(`^([+-])(\d{2}):?(\d{2})$`)

// analyticsParams reads the filter and the time zone of an analytics call; lastdays is the
// window's default length in days (0: the original's 30 days, and no lastdays parameter).
func (s *Server) analyticsParams(r *http.Request, lastdays int) (tiledesk.AnalyticsFilter, *time.Location, error) {
	q := r.URL.Query()
	now := s.now()
	f := tiledesk.AnalyticsFilter{Since: now.Add(-analyticsWindow), Until: now.Add(time.Millisecond),
		DepartmentID: strings.ToLower(q.Get("department_id")), Participant: q.Get("participant")}
	if f.DepartmentID != "" && !tiledesk.IsID(f.DepartmentID) {
		return f, nil, invalidQuery("department_id", "must be a department id", q.Get("department_id"))
	}
	if lastdays > 0 {
		days, err := queryIntIn(q, "lastdays", 1, 3660, lastdays)
		if err != nil {
			return f, nil, err
		}
		f.Since = now.Add(-time.Duration(days) * 24 * time.Hour)
	}
	loc, err := analyticsZone(q.Get("timezone"))
	return f, loc, err
}

// analyticsZone reads a time zone: an IANA name (Europe/Rome) or an offset (+01:00, as the
// original takes it); UTC when absent.
func analyticsZone(v string) (*time.Location, error) {
	if v == "" {
		return time.UTC, nil
	}
	if m := utcOffset.FindStringSubmatch(v); m != nil {
		h, _ := strconv.Atoi(m[2])
		min, _ := strconv.Atoi(m[3])
		if h > 14 || min > 59 {
			return nil, invalidQuery("timezone", "must be an IANA time zone (Europe/Rome) or an offset (+01:00)", v)
		}
		secs := (h*60 + min) * 60
		if m[1] == "-" {
			secs = -secs
		}
		return time.FixedZone(v, secs), nil
	}
	loc, err := time.LoadLocation(v)
	if err != nil || strings.EqualFold(v, "local") {
		return nil, invalidQuery("timezone", "must be an IANA time zone (Europe/Rome) or an offset (+01:00)", v)
	}
	return loc, nil
}

type totalCountJSON struct {
	TotalCount int `json:"totalCount"`
}

// writeTotal answers [{"totalCount": n}], or [] for none, as MongoDB's $count does.
func writeTotal(w http.ResponseWriter, n int) {
	out := []totalCountJSON{}
	if n > 0 {
		out = append(out, totalCountJSON{TotalCount: n})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleAnalyticsRequestCount(w http.ResponseWriter, r *http.Request, c *call) error {
	f, _, err := s.analyticsParams(r, 0)
	if err != nil {
		return err
	}
	quarters, err := s.store.RequestsByQuarter(r.Context(), c.project.ID, f, 0)
	if err != nil {
		return err
	}
	n := 0
	for _, q := range quarters {
		n += q.Count
	}
	writeTotal(w, n)
	return nil
}

// periodKey is a bucket of a series: year, and month, ISO week or day.
type periodKey struct {
	Year  int `json:"year"`
	Month int `json:"month,omitempty"`
	Week  int `json:"week,omitempty"`
	Day   int `json:"day,omitempty"`
}

type periodCountJSON struct {
	ID    periodKey `json:"_id"`
	Count int       `json:"count"`
}

// handleAnalyticsRequestSeries counts the conversations created per day, ISO week or month of the
// time zone, oldest first, the periods without any left out.
func (s *Server) handleAnalyticsRequestSeries(period string, lastdays int) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *call) error {
		f, loc, err := s.analyticsParams(r, lastdays)
		if err != nil {
			return err
		}
		quarters, err := s.store.RequestsByQuarter(r.Context(), c.project.ID, f, 0)
		if err != nil {
			return err
		}
		out := []periodCountJSON{}
		for _, q := range quarters {
			t := q.Start.In(loc)
			k := periodKey{Year: t.Year()}
			switch period {
			case "day":
				k.Month, k.Day = int(t.Month()), t.Day()
			case "week":
				k.Year, k.Week = t.ISOWeek()
			case "month":
				k.Month = int(t.Month())
			}
			if n := len(out); n > 0 && out[n-1].ID == k {
				out[n-1].Count += q.Count
			} else {
				out = append(out, periodCountJSON{ID: k, Count: q.Count})
			}
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

type statusCountJSON struct {
	ID struct {
		Status int `json:"status"`
	} `json:"_id"`
	Count int `json:"count"`
}

func (s *Server) handleAnalyticsRequestStatus(w http.ResponseWriter, r *http.Request, c *call) error {
	f, _, err := s.analyticsParams(r, 0)
	if err != nil {
		return err
	}
	counts, err := s.store.RequestsByStatus(r.Context(), c.project.ID, f)
	if err != nil {
		return err
	}
	out := make([]statusCountJSON, 0, len(counts))
	for _, st := range []int{tiledesk.RequestTemp, tiledesk.RequestUnassigned, tiledesk.RequestAbandoned, tiledesk.RequestAssigned,
		tiledesk.RequestServed, tiledesk.RequestClosed} {
		if n := counts[st]; n > 0 {
			var e statusCountJSON
			e.ID.Status, e.Count = st, n
			out = append(out, e)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// handleAnalyticsAverage answers an average over the window's conversations,
// [{"_id": project, field: ms or null}], or [] without conversations.
func (s *Server) handleAnalyticsAverage(field string, of func(tiledesk.RequestAverages) *float64) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *call) error {
		f, _, err := s.analyticsParams(r, 0)
		if err != nil {
			return err
		}
		avg, err := s.store.RequestAveragesOf(r.Context(), c.project.ID, f)
		if err != nil {
			return err
		}
		out := []map[string]any{}
		if avg.Count > 0 {
			out = append(out, map[string]any{"_id": c.project.ID, field: of(avg)})
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

func (s *Server) handleAnalyticsMessageCount(w http.ResponseWriter, r *http.Request, c *call) error {
	f, _, err := s.analyticsParams(r, 0)
	if err != nil {
		return err
	}
	n, err := s.store.MessagesBetween(r.Context(), c.project.ID, f.Since, f.Until)
	if err != nil {
		return err
	}
	writeTotal(w, n)
	return nil
}

var requestTimesHeader = []string{"request_id", "createdAt", "department", "participants", "first_response_at",
	"first_response_ms", "closed_at", "resolution_ms"}

// handleAnalyticsRequestTimes exports each conversation of the window (lastdays, 30 by default)
// with its first response and resolution times, newest first.
func (s *Server) handleAnalyticsRequestTimes(w http.ResponseWriter, r *http.Request, c *call) error {
	f, _, err := s.analyticsParams(r, 30)
	if err != nil {
		return err
	}
	rf := tiledesk.RequestFilter{AllStatuses: true, Preflight: true, From: &f.Since, DepartmentID: f.DepartmentID,
		Participant: f.Participant, Desc: true, NoCount: true}
	return s.streamCSV(w, r, c, "request-times.csv", requestTimesHeader, func(ctx context.Context, n int) ([][]string, bool, error) {
		rf.Limit = n
		page, err := s.store.FindRequests(ctx, c.project.ID, rf)
		if err != nil {
			return nil, false, err
		}
		rows := make([][]string, 0, len(page.Requests))
		for _, req := range page.Requests {
			rows = append(rows, requestTimesRow(req))
		}
		rf.After = page.Next
		return rows, page.Next != nil, nil
	})
}

func requestTimesRow(r *tiledesk.Request) []string {
	stamp := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	since := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return strconv.FormatInt(t.Sub(r.CreatedAt).Milliseconds(), 10)
	}
	return []string{r.RequestID, stamp(&r.CreatedAt), r.DepartmentID, strings.Join(r.Participants, " "), stamp(r.FirstResponseAt),
		since(r.FirstResponseAt), stamp(r.ClosedAt), since(r.ClosedAt)}
}
