package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

var _ tiledesk.AnalyticsStore = (*Store)(nil)

// analyticsWhere is the condition of a filter on requests, its arguments after $1 (the project).
func analyticsWhere(f tiledesk.AnalyticsFilter) (string, []any) {
	args := []any{ms(f.Since), ms(f.Until)}
	where := ` WHERE id_project = $1 AND created_at >= $2 AND created_at < $3`
	if f.DepartmentID != "" {
		args = append(args, f.DepartmentID)
		where += fmt.Sprintf(` AND department = $%d`, len(args)+1)
	}
	if f.Participant != "" {
		args = append(args, f.Participant)
		where += fmt.Sprintf(` AND id IN (SELECT request FROM request_participants WHERE id_project = $1 AND participant = $%d)`, len(args)+1)
	}
	return where, args
}

// RequestsByQuarter counts conversations per quarter hour, in one grouped range scan of the
// requests' creation index (which carries the times too).
func (s *Store) RequestsByQuarter(ctx context.Context, projectID string, f tiledesk.AnalyticsFilter, m tiledesk.QuarterMeasures) ([]tiledesk.QuarterCount, error) {
	where, args := analyticsWhere(f)
	q := int64(tiledesk.AnalyticsQuarter / time.Millisecond)
	cols := ""
	tally := func(col string) string {
		return fmt.Sprintf(`, COUNT(%s), CAST(COALESCE(SUM(%s), 0) AS BIGINT)`, col, col)
	}
	if m&tiledesk.MeasureTimes != 0 {
		cols += tally("waiting_time") + tally("duration")
	}
	if m&tiledesk.MeasureRatings != 0 {
		cols += tally("rating")
	}
	rows, err := s.query(ctx, fmt.Sprintf(`SELECT created_at / %d, COUNT(*)%s FROM requests%s GROUP BY created_at / %d ORDER BY 1`, q, cols, where, q),
		append([]any{projectID}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("requests by quarter: %w", err)
	}
	defer rows.Close()
	var out []tiledesk.QuarterCount
	for rows.Next() {
		var quarter int64
		var c tiledesk.QuarterCount
		dest := []any{&quarter, &c.Count}
		if m&tiledesk.MeasureTimes != 0 {
			dest = append(dest, &c.Waiting.N, &c.Waiting.Sum, &c.Duration.N, &c.Duration.Sum)
		}
		if m&tiledesk.MeasureRatings != 0 {
			dest = append(dest, &c.Rating.N, &c.Rating.Sum)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		c.Start = fromMS(quarter * q)
		out = append(out, c)
	}
	return out, rows.Err()
}

// RequestsByStatus counts conversations per status.
func (s *Store) RequestsByStatus(ctx context.Context, projectID string, f tiledesk.AnalyticsFilter) (map[int]int, error) {
	where, args := analyticsWhere(f)
	rows, err := s.query(ctx, `SELECT status, COUNT(*) FROM requests`+where+` GROUP BY status`, append([]any{projectID}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("requests by status: %w", err)
	}
	defer rows.Close()
	out := map[int]int{}
	for rows.Next() {
		var status, n int
		if err := rows.Scan(&status, &n); err != nil {
			return nil, err
		}
		out[status] = n
	}
	return out, rows.Err()
}

// RequestAveragesOf averages waiting times and durations.
func (s *Store) RequestAveragesOf(ctx context.Context, projectID string, f tiledesk.AnalyticsFilter) (tiledesk.RequestAverages, error) {
	where, args := analyticsWhere(f)
	var out tiledesk.RequestAverages
	var waiting, duration sql.NullFloat64
	err := s.queryRow(ctx, `SELECT COUNT(*), AVG(CAST(waiting_time AS DOUBLE PRECISION)), AVG(CAST(duration AS DOUBLE PRECISION))
		FROM requests`+where, append([]any{projectID}, args...)...).Scan(&out.Count, &waiting, &duration)
	if err != nil {
		return out, fmt.Errorf("request averages: %w", err)
	}
	if waiting.Valid {
		out.Waiting = &waiting.Float64
	}
	if duration.Valid {
		out.Duration = &duration.Float64
	}
	return out, nil
}

// MessagesBetween counts messages by their ids, which begin with their creation second: the spans
// of 4,096 seconds the window touches from message_counts (kept by triggers, see migration 0024),
// less the messages of the first span before the window and those of the last span after it, each
// a range of the messages' primary key. The window usually ends now, so that the second range is
// empty, and begins a month ago, where the first holds at most one span's messages.
func (s *Store) MessagesBetween(ctx context.Context, projectID string, since, until time.Time) (int, error) {
	lo, hi := tiledesk.IDFloor(since), tiledesk.IDFloor(until)
	if hi <= lo {
		return 0, nil
	}
	var n int
	err := s.queryRow(ctx, `SELECT (SELECT COALESCE(SUM(messages), 0) FROM message_counts WHERE id_project = $1 AND id_prefix >= $2 AND id_prefix <= $3)
		- (SELECT COUNT(*) FROM messages WHERE id_project = $1 AND id >= $2 AND id < $4)
		- (SELECT COUNT(*) FROM messages WHERE id_project = $1 AND id >= $5 AND id < $6)`,
		projectID, lo[:idSpanDigits], hi[:idSpanDigits], lo, hi, nextIDSpan(hi[:idSpanDigits])).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count messages: %w", err)
	}
	return n, nil
}

// idSpanDigits is how many leading hexadecimal digits of an id name its message_counts span.
const idSpanDigits = 5

// nextIDSpan is the first id after every id of the span (a lowercase hexadecimal prefix).
func nextIDSpan(span string) string {
	v, _ := strconv.ParseUint(span, 16, 64)
	next := fmt.Sprintf("%0*x", idSpanDigits, v+1)
	if len(next) > idSpanDigits { // the last span: no id comes after it
		return "g"
	}
	return next
}
