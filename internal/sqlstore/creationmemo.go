package sqlstore

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/tiledesk-go/tiledesk"
)

// creationMemo is what the conversations of one batch's transaction (creationBatcher) read alike,
// read once for all of them: departments, each project's routing inputs, requesters and leads,
// and the ticket numbers, drawn for the batch at once. The methods that a transaction of its own
// calls too do nothing on its nil memo, where every read goes to the database; department is
// called only with a memo.
//
// Nothing the batch's transaction writes changes what is kept here before the commit, except
// what the memo follows itself: the leads the batch creates, the routing rotation, and the
// agents' assigned conversations (read beside t.assigned's moves, see Route). A conversation
// that would change a lead is not written in the batch (errAlone).
type creationMemo struct {
	departments map[[2]string]*tiledesk.Department // by project and id ("" for the default)
	routing     map[string]*routingInputs
	requesters  map[[2]string]requesterRead
	leads       map[[2]string]*tiledesk.Lead // by project and lead_id
	leadOrder   [][2]string                  // leads' keys in the order kept, for restore
	looked      map[[2]string]bool           // the lead_ids read: those not in leads do not exist
	tickets     map[string]*ticketRange
	rotations   map[string]string // each project's routing rotation as the batch moved it
	rotated     map[string]bool   // the projects whose rotation the batch moved
}

func newCreationMemo() *creationMemo {
	return &creationMemo{departments: map[[2]string]*tiledesk.Department{}, routing: map[string]*routingInputs{},
		requesters: map[[2]string]requesterRead{}, leads: map[[2]string]*tiledesk.Lead{}, looked: map[[2]string]bool{},
		tickets: map[string]*ticketRange{}, rotations: map[string]string{}, rotated: map[string]bool{}}
}

// routingInputs are what routing weighs besides the department: the project (its settings) and
// its active agents.
type routingInputs struct {
	project *tiledesk.Project
	agents  []*tiledesk.ProjectUser
}

type requesterRead struct {
	pu  *tiledesk.ProjectUser
	ref tiledesk.RequestRef
}

// ticketRange are the ticket numbers next to last, drawn for a project's conversations of a batch.
type ticketRange struct{ next, last int }

func (m *creationMemo) department(e *requestEnv, id string) (*tiledesk.Department, error) {
	key := [2]string{e.project, id}
	d, ok := m.departments[key]
	if !ok {
		var err error
		if d, err = e.readDepartment(id); err != nil {
			return nil, err
		}
		m.departments[key] = d
	}
	cp := *d // each conversation's snapshot its own
	return &cp, nil
}

func (m *creationMemo) routingOf(projectID string) *routingInputs {
	if m == nil {
		return nil
	}
	return m.routing[projectID]
}

func (m *creationMemo) keepRouting(projectID string, in *routingInputs) {
	if m != nil {
		m.routing[projectID] = in
	}
}

// requester returns a copy of the requester kept, and of its ref.
func (m *creationMemo) requester(projectID, id string) (*tiledesk.ProjectUser, *tiledesk.RequestRef) {
	if m == nil {
		return nil, nil
	}
	r, ok := m.requesters[[2]string{projectID, id}]
	if !ok {
		return nil, nil
	}
	pu, ref := *r.pu, r.ref
	return &pu, &ref
}

func (m *creationMemo) keepRequester(projectID string, pu *tiledesk.ProjectUser, ref *tiledesk.RequestRef) {
	if m != nil {
		cp := *pu
		m.requesters[[2]string{projectID, pu.ID}] = requesterRead{pu: &cp, ref: *ref}
	}
}

// lead returns a copy of the lead kept by its lead_id.
func (m *creationMemo) lead(projectID, leadID string) *tiledesk.Lead {
	if m == nil {
		return nil
	}
	l, ok := m.leads[[2]string{projectID, leadID}]
	if !ok {
		return nil
	}
	cp := *l
	return &cp
}

func (m *creationMemo) keepLead(l *tiledesk.Lead) {
	if m == nil {
		return
	}
	key := [2]string{l.ProjectID, l.LeadID}
	if _, ok := m.leads[key]; !ok {
		m.leadOrder = append(m.leadOrder, key)
	}
	cp := *l
	m.leads[key] = &cp
}

func (m *creationMemo) lookUp(projectID string, leadIDs []string) {
	for _, id := range leadIDs {
		m.looked[[2]string{projectID, id}] = true
	}
}

// lookedUp reports whether the lead_id was read (readNewestLeads): if it is not kept, it does not
// exist, or the batch's conversation that created it was not written.
func (m *creationMemo) lookedUp(projectID, leadID string) bool {
	return m != nil && m.looked[[2]string{projectID, leadID}]
}

// keepDepartments keeps the project's departments read by readDepartmentsFor, the first default
// one (by id) as the default.
func (m *creationMemo) keepDepartments(projectID string, depts []*tiledesk.Department) {
	for _, d := range depts {
		m.departments[[2]string{projectID, d.ID}] = d
		if key := [2]string{projectID, ""}; d.Default && m.departments[key] == nil {
			m.departments[key] = d
		}
	}
}

// keepNewestLeads keeps the leads readNewestLeads read of leadIDs, and knows the others not to
// exist.
func (m *creationMemo) keepNewestLeads(projectID string, leads []*tiledesk.Lead, leadIDs []string) {
	for _, l := range leads {
		if m.lead(projectID, l.LeadID) == nil { // the newest comes first
			m.keepLead(l)
		}
	}
	m.lookUp(projectID, leadIDs)
}

// forgetLeadsAfter forgets the leads kept after the first n, those of a conversation not written.
func (m *creationMemo) forgetLeadsAfter(n int) {
	for _, key := range m.leadOrder[n:] {
		delete(m.leads, key)
	}
	m.leadOrder = m.leadOrder[:n]
}

// ticket takes the project's next reserved number, false when none is left.
func (m *creationMemo) ticket(projectID string) (seq int, rotation string, ok bool) {
	if m == nil {
		return 0, "", false
	}
	r := m.tickets[projectID]
	if r == nil || r.next > r.last {
		return 0, "", false
	}
	seq, r.next = r.next, r.next+1
	return seq, m.rotations[projectID], true
}

// rotate records the agent a conversation of the batch was routed to; false on a nil memo.
func (m *creationMemo) rotate(projectID, userID string) bool {
	if m == nil {
		return false
	}
	m.rotations[projectID], m.rotated[projectID] = userID, true
	return true
}

// writeRotations writes the rotations the batch moved (see noteRotation), once per project.
func (m *creationMemo) writeRotations(ctx context.Context, t *tx) error {
	for _, p := range slices.Sorted(maps.Keys(m.rotated)) {
		if err := t.writeRotation(ctx, p, m.rotations[p]); err != nil {
			return fmt.Errorf("routing rotation: %w", err)
		}
	}
	return nil
}
