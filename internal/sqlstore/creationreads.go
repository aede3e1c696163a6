package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/tiledesk-go/tiledesk"
)

// querier runs a read: a transaction's (tx.rows) or the read pool's (Store.rows).
type querier func(ctx context.Context, query string, args ...any) (rowSource, error)

func (t *tx) rows(ctx context.Context, query string, args ...any) (rowSource, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (s *Store) rows(ctx context.Context, query string, args ...any) (rowSource, error) {
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// readRoutingInputs reads the project and its active agents, as routing weighs them.
func readRoutingInputs(ctx context.Context, read querier, projectID string) (*routingInputs, error) {
	rows, err := read(ctx, `SELECT `+projectColumns+` FROM projects WHERE id = $1`, projectID)
	if err != nil {
		return nil, fmt.Errorf("routing project: %w", err)
	}
	projects, err := collect(rows, scanProject)
	if err == nil && len(projects) == 0 {
		err = tiledesk.NotFound("project")
	}
	if err != nil {
		return nil, fmt.Errorf("routing project: %w", err)
	}
	rows, err = read(ctx, `SELECT `+projectUserColumns+` FROM project_users
		WHERE id_project = $1 AND role_type = $2 AND status = $3 AND trashed = FALSE AND id_user IS NOT NULL`,
		projectID, tiledesk.RoleTypeAgent, tiledesk.MemberActive)
	if err != nil {
		return nil, fmt.Errorf("routing agents: %w", err)
	}
	agents, err := collect(rows, scanProjectUser)
	if err != nil {
		return nil, fmt.Errorf("routing agents: %w", err)
	}
	return &routingInputs{project: projects[0], agents: agents}, nil
}

// readRequesters reads the members ids of the project with what a new conversation's ref takes of
// them (see readRequester); those that do not exist are left out.
func readRequesters(ctx context.Context, read querier, d Dialect, projectID string, ids []string) ([]requesterRead, error) {
	cols := ``
	if !d.SingleWriter() {
		cols = `, (SELECT COALESCE(SUM(members_clock), 0) FROM project_counters WHERE id_project = $1), ` + d.UsersClock()
	}
	var a sqlArgs
	a.add(projectID)
	rows, err := read(ctx, `SELECT `+projectUserColumns+`,
		(SELECT u.updated_at FROM users u WHERE u.id = project_users.id_user)`+cols+`
		FROM project_users WHERE id_project = $1 AND id IN (`+a.list(ids)+`)`, a.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []requesterRead
	for rows.Next() {
		var userUpdated sql.NullInt64
		var parts tiledesk.PopulationClock
		extra := []any{&userUpdated}
		if cols != "" {
			extra = append(extra, &parts.Members, &parts.Users)
		}
		pu, err := scanProjectUser(extraScan{rows, extra})
		if err != nil {
			return nil, err
		}
		ref := tiledesk.RequestRef{RequesterID: pu.ID, RequesterUpdatedAt: &pu.UpdatedAt, RequesterUserUpdatedAt: timePtr(userUpdated)}
		if cols != "" {
			ref.Parts = &parts
		}
		out = append(out, requesterRead{pu: pu, ref: ref})
	}
	return out, rows.Err()
}

// readNewestLeads reads the newest lead of each of leadIDs in the project (findOrCreateLead's),
// newest first.
func readNewestLeads(ctx context.Context, read querier, projectID string, leadIDs []string) ([]*tiledesk.Lead, error) {
	var a sqlArgs
	a.add(projectID)
	rows, err := read(ctx, `SELECT `+leadColumns+` FROM leads WHERE id_project = $1 AND lead_id IN (`+a.list(leadIDs)+`)
		ORDER BY id DESC`, a.args...)
	if err != nil {
		return nil, fmt.Errorf("find leads: %w", err)
	}
	leads, err := collect(rows, scanLead)
	if err != nil {
		return nil, fmt.Errorf("find leads: %w", err)
	}
	return leads, nil
}

// readDepartmentsFor reads the project's default department and those of ids.
func readDepartmentsFor(ctx context.Context, read querier, projectID string, ids []string) ([]*tiledesk.Department, error) {
	var a sqlArgs
	a.add(projectID)
	cond := `is_default = TRUE`
	if len(ids) > 0 {
		cond += ` OR id IN (` + a.list(ids) + `)`
	}
	rows, err := read(ctx, `SELECT `+departmentColumns+` FROM departments WHERE id_project = $1 AND (`+cond+`) ORDER BY id`, a.args...)
	if err != nil {
		return nil, fmt.Errorf("departments: %w", err)
	}
	return collect(rows, scanDepartment)
}

// creationWants are what a batch's conversations of one project read: how many tickets, which
// departments (besides the default), leads and requesters.
type creationWants struct {
	tickets                        int
	departments, leads, requesters []string
}

func wantsOf(ops []*creationOp) map[string]*creationWants {
	out := map[string]*creationWants{}
	add := func(list *[]string, v string) {
		if v != "" && !slices.Contains(*list, v) {
			*list = append(*list, v)
		}
	}
	for _, op := range ops {
		c := op.in.Create
		w := out[c.Request.ProjectID]
		if w == nil {
			w = &creationWants{}
			out[c.Request.ProjectID] = w
		}
		w.tickets++
		add(&w.departments, c.DepartmentID)
		add(&w.leads, c.Lead.LeadID)
		add(&w.requesters, c.Request.RequesterID)
	}
	return out
}

// prefetch fills the memo with what ops' conversations read, before their transaction: each
// project's tickets, departments, routing inputs, leads and requesters, each a statement of the
// pools, run side by side. Reads outside the transaction see what reads inside would (no row is
// locked by them, and each statement sees what was committed when it began).
func (m *creationMemo) prefetch(ctx context.Context, s *Store, ops []*creationOp) error {
	g, ctx := errgroup.WithContext(ctx)
	var mu sync.Mutex
	keep := func(fn func()) { mu.Lock(); defer mu.Unlock(); fn() }
	for p, w := range wantsOf(ops) {
		g.Go(func() error {
			last, rotation, err := s.drawTickets(ctx, p, w.tickets)
			keep(func() { m.tickets[p], m.rotations[p] = &ticketRange{next: last - w.tickets + 1, last: last}, rotation })
			return err
		})
		g.Go(func() error {
			in, err := readRoutingInputs(ctx, s.rows, p)
			keep(func() { m.routing[p] = in })
			return err
		})
		g.Go(func() error {
			depts, err := readDepartmentsFor(ctx, s.rows, p, w.departments)
			keep(func() { m.keepDepartments(p, depts) })
			return err
		})
		g.Go(func() error {
			leads, err := readNewestLeads(ctx, s.rows, p, w.leads)
			keep(func() { m.keepNewestLeads(p, leads, w.leads) })
			return err
		})
		g.Go(func() error {
			read, err := readRequesters(ctx, s.rows, s.dialect, p, w.requesters)
			keep(func() {
				for _, r := range read {
					m.keepRequester(p, r.pu, &r.ref)
				}
			})
			return err
		})
	}
	return g.Wait()
}
