package tiledesk

import (
	"context"
	"fmt"
	"time"
)

// AnalyticsQuarter is the grain of the conversations' counts over time: every time zone's offset
// is a whole number of quarter hours, so counts per quarter hour add up to any zone's days.
const AnalyticsQuarter = 15 * time.Minute

// AnalyticsFilter narrows the dashboard's figures to the conversations created in [Since, Until),
// of a department, with a participant (a user id or bot_<id>); empty fields narrow nothing.
type AnalyticsFilter struct {
	Since, Until time.Time
	DepartmentID string
	Participant  string
}

// QuarterMeasures selects what RequestsByQuarter adds up besides the conversations' count.
type QuarterMeasures uint8

const (
	// MeasureTimes adds up waiting times and durations (the creation index carries both).
	MeasureTimes QuarterMeasures = 1 << iota
	// MeasureRatings adds up the visitors' ratings.
	MeasureRatings
)

// QuarterCount is what was created in the quarter hour from Start: how many conversations, and
// the measures asked for.
type QuarterCount struct {
	Start    time.Time
	Count    int
	Waiting  Tally // waiting times (ms) of those answered
	Duration Tally // durations (ms) of those closed
	Rating   Tally // ratings of those rated
}

// Tally is how many values there were and their sum.
type Tally struct {
	N   int
	Sum int64
}

// Add adds another tally's values.
func (t *Tally) Add(o Tally) { t.N, t.Sum = t.N+o.N, t.Sum+o.Sum }

// Average is the values' mean, nil without values.
func (t Tally) Average() *float64 {
	if t.N == 0 {
		return nil
	}
	avg := float64(t.Sum) / float64(t.N)
	return &avg
}

// RequestAverages are averages over the conversations of a filter, in milliseconds: the waiting
// time of those that have one (answered by an agent), the duration of the closed ones; nil when
// none has one.
type RequestAverages struct {
	Count    int
	Waiting  *float64
	Duration *float64
}

// AnalyticsStore computes the dashboard's figures in the database.
type AnalyticsStore interface {
	// RequestsByQuarter counts the filter's conversations per quarter hour, with the measures
	// asked for, oldest first, leaving out quarters without any.
	RequestsByQuarter(ctx context.Context, projectID string, f AnalyticsFilter, m QuarterMeasures) ([]QuarterCount, error)
	// RequestsByStatus counts the filter's conversations per status.
	RequestsByStatus(ctx context.Context, projectID string, f AnalyticsFilter) (map[int]int, error)
	// RequestAveragesOf averages the filter's conversations' waiting times and durations.
	RequestAveragesOf(ctx context.Context, projectID string, f AnalyticsFilter) (RequestAverages, error)
	// MessagesBetween counts the project's messages created in [since, until).
	MessagesBetween(ctx context.Context, projectID string, since, until time.Time) (int, error)
}

// IDFloor is the least id created at t or later (ids begin with their second): what a range of ids
// starts at for a range of times.
func IDFloor(t time.Time) string { return fmt.Sprintf("%08x%016x", uint32(max(t.Unix(), 0)), 0) }
