package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

// seedBatch is how many rows one INSERT carries. The SQLite driver finds each numbered parameter by
// a linear search, so binding costs grow with the square of a statement's parameters: hundreds of
// leads a statement spent most of the seeding time there; 20 leads spend little and still save
// PostgreSQL most of its round trips.
const seedBatch = 20

// SeedLeads inserts many leads at once, for benchmarks and bulk loads: multi-row INSERTs in one
// transaction, tags included, and each project's lead clock and active count advanced once. Leads
// are stored as given (ids, times, status); their UpdatedAt must be earlier than any change to come.
// Unlike CreateLead it records no lead.create events and takes no idempotency key.
func (s *Store) SeedLeads(ctx context.Context, leads []*tiledesk.Lead) error {
	type counter struct {
		clock  int64
		active int
	}
	counters := map[string]*counter{}
	return s.inTx(ctx, func(t *tx) error {
		var tags []any
		for start := 0; start < len(leads); start += seedBatch {
			batch := leads[start:min(start+seedBatch, len(leads))]
			var sb strings.Builder
			sb.WriteString(`INSERT INTO leads (` + leadColumns + `, email_key, search_text) VALUES `)
			args := make([]any, 0, len(batch)*22)
			for i, l := range batch {
				a, err := leadArgs(l)
				if err != nil {
					return err
				}
				if i > 0 {
					sb.WriteString(", ")
				}
				sb.WriteString("(" + placeholders(len(args)+1, len(a)) + ")")
				args = append(args, a...)
				c := counters[l.ProjectID]
				if c == nil {
					c = &counter{}
					counters[l.ProjectID] = c
				}
				c.clock = max(c.clock, ms(l.UpdatedAt))
				if l.Status != tiledesk.LeadDeleted {
					c.active++
				}
				for _, tag := range l.Tags {
					tags = append(tags, l.ProjectID, tag, l.ID)
				}
			}
			if _, err := t.exec(ctx, sb.String(), args...); err != nil {
				return fmt.Errorf("seed leads: %w", err)
			}
		}
		for start := 0; start < len(tags); start += 3 * seedBatch {
			batch := tags[start:min(start+3*seedBatch, len(tags))]
			var sb strings.Builder
			sb.WriteString(`INSERT INTO lead_tags (id_project, tag, lead) VALUES `)
			for i := 0; i < len(batch); i += 3 {
				if i > 0 {
					sb.WriteString(", ")
				}
				sb.WriteString("(" + placeholders(i+1, 3) + ")")
			}
			sb.WriteString(` ON CONFLICT (id_project, tag, lead) DO NOTHING`)
			if _, err := t.exec(ctx, sb.String(), batch...); err != nil {
				return fmt.Errorf("seed lead tags: %w", err)
			}
		}
		for pid, c := range counters {
			if _, err := t.exec(ctx, `INSERT INTO project_counters AS c (id_project, stripe, leads_clock, leads_active)
				VALUES ($1, 0, 1, $2)
				ON CONFLICT (id_project, stripe) DO UPDATE SET leads_clock = c.leads_clock + 1,
					leads_active = c.leads_active + excluded.leads_active`, pid, c.active); err != nil {
				return fmt.Errorf("seed lead counters: %w", err)
			}
		}
		for _, stmt := range s.dialect.AfterBulkLoad() {
			if _, err := t.exec(ctx, stmt); err != nil {
				return fmt.Errorf("after seeding leads: %w", err)
			}
		}
		return nil
	})
}
