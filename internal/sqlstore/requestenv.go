package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// requestEnv is the RequestEnv of one transaction.
type requestEnv struct {
	t       *tx
	ctx     context.Context
	project string
	request string // the request's ObjectId, for Messages
	recip   string // its request_id
	// lastAssigned is the routing rotation when already read (nextTicket returns it); nil: read it.
	lastAssigned *string
}

func (e *requestEnv) Now() time.Time { return e.t.now }

func (e *requestEnv) Department(id string) (*tiledesk.Department, error) {
	if m := e.t.memo; m != nil {
		return m.department(e, id)
	}
	return e.readDepartment(id)
}

func (e *requestEnv) readDepartment(id string) (*tiledesk.Department, error) {
	var d *tiledesk.Department
	var err error
	if id == "" {
		d, err = scanDepartment(e.t.queryRow(e.ctx, `SELECT `+departmentColumns+` FROM departments
			WHERE id_project = $1 AND is_default = TRUE ORDER BY id LIMIT 1`, e.project))
	} else {
		d, err = scanDepartment(e.t.queryRow(e.ctx, `SELECT `+departmentColumns+` FROM departments
			WHERE id_project = $1 AND id = $2`, e.project, id))
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tiledesk.NoDepartment(id)
	}
	return d, err
}

// Route routes with the project's agents and remembers whom it chose, for the next rotation.
func (e *requestEnv) Route(d *tiledesk.Department, noBot bool) (tiledesk.Routing, error) {
	in, err := e.routingInputs()
	if err != nil {
		return tiledesk.Routing{}, err
	}
	// Outside the project's operating hours (or with hours that cannot be evaluated) nobody is
	// available, as in the original: the conversation waits unassigned.
	open, err := in.project.IsOpenAt(e.t.now)
	open = open && err == nil
	members, err := e.groupMembers(d)
	if err != nil {
		return tiledesk.Routing{}, err
	}
	agents := make([]tiledesk.Agent, 0, len(in.agents))
	for _, pu := range in.agents {
		if members != nil && !members[pu.UserID] {
			continue // the department routes to its group's members only
		}
		// Conversations this transaction has routed to the agent already count, though their
		// moves are written only before the commit (adjustAssigned).
		if n := e.t.assigned[assignedKey{e.project, pu.UserID}]; n != 0 {
			moved := *pu
			moved.NumberAssignedRequests += n
			pu = &moved
		}
		agents = append(agents, tiledesk.Agent{UserID: pu.UserID, Available: open && pu.Available() && !tiledesk.IsBusy(in.project, pu)})
	}
	last, err := e.rotation()
	if err != nil {
		return tiledesk.Routing{}, err
	}
	out := tiledesk.Route(d, agents, last, noBot)
	if len(out.Participants) == 1 && !strings.HasPrefix(out.Participants[0], tiledesk.BotPrefix) {
		if err := e.t.noteRotation(e.ctx, e.project, out.Participants[0]); err != nil {
			return tiledesk.Routing{}, fmt.Errorf("routing rotation: %w", err)
		}
		chosen := out.Participants[0]
		e.lastAssigned = &chosen
	}
	return out, nil
}

// groupMembers are the members of the group d is restricted to (nil when it is not): none when
// the group is gone, trashed or disabled.
func (e *requestEnv) groupMembers(d *tiledesk.Department) (map[string]bool, error) {
	if d.IDGroup == "" {
		return nil, nil
	}
	rows, err := e.t.query(e.ctx, `SELECT member FROM agent_group_members WHERE id_project = $1 AND id_group = $2`, e.project, d.IDGroup)
	if err != nil {
		return nil, fmt.Errorf("group members: %w", err)
	}
	defer rows.Close()
	members := map[string]bool{}
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return nil, err
		}
		members[m] = true
	}
	return members, rows.Err()
}

// routingInputs are the project and its agents, as routing weighs them.
func (e *requestEnv) routingInputs() (*routingInputs, error) {
	if in := e.t.memo.routingOf(e.project); in != nil {
		return in, nil
	}
	in, err := readRoutingInputs(e.ctx, e.t.rows, e.project)
	if err != nil {
		return nil, err
	}
	e.t.memo.keepRouting(e.project, in)
	return in, nil
}

// rotation is the agent the project's last conversation was routed to (noteRotation).
func (e *requestEnv) rotation() (string, error) {
	if e.lastAssigned != nil {
		return *e.lastAssigned, nil
	}
	var last string
	if err := e.t.queryRow(e.ctx, `SELECT last_assigned FROM project_counters WHERE id_project = $1 AND stripe = 0`, e.project).Scan(&last); err != nil &&
		!errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("routing rotation: %w", err)
	}
	return last, nil
}

func (e *requestEnv) Member(id string) (*tiledesk.ProjectUser, error) {
	pu, err := scanProjectUser(e.t.queryRow(e.ctx, `SELECT `+projectUserColumns+` FROM project_users
		WHERE id_project = $1 AND (id_user = $2 OR uuid_user = $2 OR id = $2) AND status = $3 AND trashed = FALSE
		ORDER BY id LIMIT 1`, e.project, id, tiledesk.MemberActive))
	return pu, notFound(err, "project user")
}

// countAvailable counts the agents routing would consider, for the snapshot of a request whose
// participants the client chose: routing a pooled copy of the department assigns nobody.
func (t *tx) countAvailable(env *requestEnv, d *tiledesk.Department) (int, error) {
	pooled := *d
	pooled.Routing, pooled.IDBot = tiledesk.RoutingPooled, ""
	out, err := env.Route(&pooled, true)
	return out.AvailableAgentsCount, err
}
