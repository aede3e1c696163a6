package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
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
// requests' creation index.
func (s *Store) RequestsByQuarter(ctx context.Context, projectID string, f tiledesk.AnalyticsFilter) ([]tiledesk.QuarterCount, error) {
	where, args := analyticsWhere(f)
	q := int64(tiledesk.AnalyticsQuarter / time.Millisecond)
	rows, err := s.query(ctx, fmt.Sprintf(`SELECT created_at / %d, COUNT(*) FROM requests%s GROUP BY created_at / %d ORDER BY 1`, q, where, q),
		append([]any{projectID}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("requests by quarter: %w", err)
	}
	defer rows.Close()
	var out []tiledesk.QuarterCount
	for rows.Next() {
		var quarter int64
		var n int
		if err := rows.Scan(&quarter, &n); err != nil {
			return nil, err
		}
		out = append(out, tiledesk.QuarterCount{Start: fromMS(quarter * q), Count: n})
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

// MessagesBetween counts messages by their ids, which begin with their creation second: a range
// of the messages' primary key.
func (s *Store) MessagesBetween(ctx context.Context, projectID string, since, until time.Time) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM messages WHERE id_project = $1 AND id >= $2 AND id < $3`,
		projectID, tiledesk.IDFloor(since), tiledesk.IDFloor(until)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count messages: %w", err)
	}
	return n, nil
}
