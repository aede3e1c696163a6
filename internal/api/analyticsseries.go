package api

import (
	"cmp"
	"net/http"
	"slices"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// The dashboard's series beyond the counts per day, week and month: conversations per hour of the
// day and per weekday and hour, and the averages (waiting time, duration, rating) per day and per
// month, newest first as the original sorts them. Every one is summed from the quarter-hour
// figures of the database, so that each time zone's hours and days add up.

type hourKey struct {
	Hour int `json:"hour"`
}

type hourWeekdayKey struct {
	Hour    int `json:"hour"`
	Weekday int `json:"weekday"` // 1 (Sunday) to 7, as MongoDB's $dayOfWeek
}

// dayAvgKey and monthAvgKey are the averages' buckets, their fields in the original's order.
type dayAvgKey struct {
	Day   int `json:"day"`
	Month int `json:"month"`
	Year  int `json:"year"`
}

type monthAvgKey struct {
	Month int `json:"month"`
	Year  int `json:"year"`
}

// bucketed adds the quarters up per key of their start in loc, the keys in the order first met.
func bucketed[K comparable](quarters []tiledesk.QuarterCount, loc *time.Location, key func(time.Time) K) ([]K, map[K]*tiledesk.QuarterCount) {
	var keys []K
	sums := map[K]*tiledesk.QuarterCount{}
	for _, q := range quarters {
		k := key(q.Start.In(loc))
		sum, ok := sums[k]
		if !ok {
			sum = &tiledesk.QuarterCount{Start: q.Start}
			sums[k] = sum
			keys = append(keys, k)
		}
		sum.Count += q.Count
		sum.Waiting.Add(q.Waiting)
		sum.Duration.Add(q.Duration)
		sum.Rating.Add(q.Rating)
	}
	return keys, sums
}

type keyCountJSON[K any] struct {
	ID    K   `json:"_id"`
	Count int `json:"count"`
}

// analyticsCountsBy counts the conversations of 30 days per key of their creation in the time
// zone, the keys sorted by order.
func analyticsCountsBy[K comparable](s *Server, key func(time.Time) K, order func(a, b K) int) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *call) error {
		f, loc, err := s.analyticsParams(r, 0)
		if err != nil {
			return err
		}
		quarters, err := s.store.RequestsByQuarter(r.Context(), c.project.ID, f, 0)
		if err != nil {
			return err
		}
		keys, sums := bucketed(quarters, loc, key)
		slices.SortFunc(keys, order)
		out := make([]keyCountJSON[K], 0, len(keys))
		for _, k := range keys {
			out = append(out, keyCountJSON[K]{ID: k, Count: sums[k].Count})
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

// handleAnalyticsHours counts per hour of the day, the latest hour first.
func (s *Server) handleAnalyticsHours() handlerFunc {
	return analyticsCountsBy(s, func(t time.Time) hourKey { return hourKey{t.Hour()} },
		func(a, b hourKey) int { return cmp.Compare(b.Hour, a.Hour) })
}

// handleAnalyticsWeekdayHours counts per weekday and hour, the latest hour first (the original
// takes the weekday in UTC whatever the time zone).
func (s *Server) handleAnalyticsWeekdayHours() handlerFunc {
	return analyticsCountsBy(s, func(t time.Time) hourWeekdayKey { return hourWeekdayKey{Hour: t.Hour(), Weekday: int(t.Weekday()) + 1} },
		func(a, b hourWeekdayKey) int {
			return cmp.Or(cmp.Compare(b.Hour, a.Hour), cmp.Compare(b.Weekday, a.Weekday))
		})
}

// averageOf picks a measure of a bucket and what RequestsByQuarter must add up for it.
type averageOf struct {
	field   string // the JSON name of the average
	measure tiledesk.QuarterMeasures
	tally   func(*tiledesk.QuarterCount) tiledesk.Tally
}

var (
	waitingAverage  = averageOf{"waiting_time_avg", tiledesk.MeasureTimes, func(q *tiledesk.QuarterCount) tiledesk.Tally { return q.Waiting }}
	durationAverage = averageOf{"duration_avg", tiledesk.MeasureTimes, func(q *tiledesk.QuarterCount) tiledesk.Tally { return q.Duration }}
	ratingAverage   = averageOf{"satisfaction_avg", tiledesk.MeasureRatings, func(q *tiledesk.QuarterCount) tiledesk.Tally { return q.Rating }}
)

// handleAnalyticsAverageSeries averages a measure per day or month of the time zone over the
// window (lastdays), newest first: a bucket with conversations but no value has null, as
// MongoDB's $avg.
func (s *Server) handleAnalyticsAverageSeries(avg averageOf, period string, lastdays int) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *call) error {
		f, loc, err := s.analyticsParams(r, lastdays)
		if err != nil {
			return err
		}
		quarters, err := s.store.RequestsByQuarter(r.Context(), c.project.ID, f, avg.measure)
		if err != nil {
			return err
		}
		out := []map[string]any{}
		emit := func(id any, q *tiledesk.QuarterCount) {
			out = append(out, map[string]any{"_id": id, avg.field: avg.tally(q).Average()})
		}
		if period == "day" {
			keys, sums := bucketed(quarters, loc, func(t time.Time) dayAvgKey { return dayAvgKey{t.Day(), int(t.Month()), t.Year()} })
			for _, k := range slices.Backward(keys) {
				emit(k, sums[k])
			}
		} else {
			keys, sums := bucketed(quarters, loc, func(t time.Time) monthAvgKey { return monthAvgKey{int(t.Month()), t.Year()} })
			for _, k := range slices.Backward(keys) {
				emit(k, sums[k])
			}
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

// handleAnalyticsWindowAverage averages a measure over the window, [{"_id": project, field: value
// or null}], or [] without conversations: the last days days, or lastdays (days by default) where
// the route takes it.
func (s *Server) handleAnalyticsWindowAverage(avg averageOf, days int, takesLastdays bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *call) error {
		lastdays := 0 // the original's 30 days, replaced below
		if takesLastdays {
			lastdays = days
		}
		f, _, err := s.analyticsParams(r, lastdays)
		if err != nil {
			return err
		}
		if !takesLastdays {
			f.Since = s.now().Add(-time.Duration(days) * 24 * time.Hour)
		}
		quarters, err := s.store.RequestsByQuarter(r.Context(), c.project.ID, f, avg.measure)
		if err != nil {
			return err
		}
		_, sums := bucketed(quarters, time.UTC, func(time.Time) bool { return true })
		out := []map[string]any{}
		if sum := sums[true]; sum != nil {
			out = append(out, map[string]any{"_id": c.project.ID, avg.field: avg.tally(sum).Average()})
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}
