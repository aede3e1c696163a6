package views

import (
	"context"

	"github.com/tiledesk-go/tiledesk"
)

// audienceView is how an audience's conversations are rendered, and the render kinds its
// renderings are kept under: each audience has kinds of its own, so that one reader's rendering is
// never served to another; all are kept at the same versions.
type audienceView struct {
	core, lead, requester, department, agent renderKind
	wire                                     ConversationWire
}

// newAudienceViews gives each audience its kinds. An audience that reads leads as lead lists show
// them (ConversationWire.Lead nil) shares the lead lists' renderings (kindLead).
func newAudienceViews(w Wire) [audiences]*audienceView {
	out := [audiences]*audienceView{
		Agents: {core: kindRequest, lead: kindAgentLead, requester: kindRequester, department: kindDepartment,
			agent: kindAgentUser, wire: w.Agents},
		Visitors: {core: kindVisitorRequest, lead: kindVisitorLead, requester: kindVisitorRequester,
			department: kindVisitorDepartment, agent: kindVisitorAgent, wire: w.Visitors},
	}
	for _, a := range out {
		if a.wire.Lead == nil {
			a.lead = kindLead
			a.wire.Lead = func(l *tiledesk.Lead) ([]byte, error) { return w.Lead(make([]byte, 0, 512), l) }
		}
	}
	return out
}

// populate renders conversations as the original populates them: lead, department and requester
// (with its user) as objects, participatingAgents and participatingBots, each as the audience reads
// it. Each is assembled from pieces: the conversation's own JSON and each lead's come from the
// render cache when it holds them at their current versions, and are read (one query per kind) and
// rendered otherwise; departments and agents come from population parts. have holds
// conversations the caller already read whole. A conversation deleted since its ref was read is
// left out.
func (v *views) populate(ctx context.Context, a *audienceView, projectID string, refs []tiledesk.RequestRef,
	have map[string]*tiledesk.Request) ([][]byte, error) {
	out, err := v.populateEach(ctx, a, projectID, refs, have)
	if err != nil {
		return nil, err
	}
	kept := out[:0]
	for _, b := range out {
		if b != nil {
			kept = append(kept, b)
		}
	}
	return kept, nil
}

// populateEach is populate with one rendering per ref, in their order: nil for a conversation
// deleted since its ref was read.
func (v *views) populateEach(ctx context.Context, a *audienceView, projectID string, refs []tiledesk.RequestRef,
	have map[string]*tiledesk.Request) ([][]byte, error) {
	cores, err := v.renderCores(ctx, a, projectID, refs, have)
	if err != nil {
		return nil, err
	}
	leads, err := v.leadsOf(ctx, a, projectID, refs)
	if err != nil {
		return nil, err
	}
	requesters, err := v.requestersOf(ctx, a, projectID, refs)
	if err != nil {
		return nil, err
	}
	var deptIDs, agentIDs []string
	for _, ref := range refs {
		deptIDs, agentIDs = append(deptIDs, ref.DepartmentID), append(agentIDs, ref.ParticipantsAgents...)
	}
	var parts *tiledesk.PopulationClock
	if len(refs) == 1 {
		parts = refs[0].Parts
	}
	depts, users, err := v.populationParts(ctx, a, projectID, deptIDs, agentIDs, parts)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(refs))
	var p Populated
	for i, ref := range refs {
		core := cores[ref.ID]
		if core == nil {
			continue // deleted since its ref was read
		}
		p = Populated{Core: core, Lead: leads[ref.LeadID], Department: depts[ref.DepartmentID],
			Requester: requesters[ref.RequesterID], LeadID: ref.LeadID, DepartmentID: ref.DepartmentID,
			RequesterID: ref.RequesterID, Agents: p.Agents[:0], Bots: ref.ParticipantsBots}
		for _, id := range ref.ParticipantsAgents {
			if u := users[id]; u != nil {
				p.Agents = append(p.Agents, u)
			}
		}
		size := len(core) + len(p.Lead) + len(p.Requester) + len(p.Department) + 256
		out[i] = v.wire.Populated(make([]byte, 0, size), &p)
	}
	return out, nil
}

// populationParts renders the departments and the participating agents' users conversations show.
// Where the store gives a population clock, their renderings are kept under its members' and
// users' clocks (an agent's under the users' alone), which every change of a department, a
// membership or a user moves: a reply or a
// conversation read again then reads neither, where it read both every time (a tenth of a reply's
// CPU). The clock is read before them, so that nothing is kept under a clock newer than itself.
// Where it gives none, both are read every time. A caller that read the clock's parts with its
// conversation (known) spares reading it.
func (v *views) populationParts(ctx context.Context, a *audienceView, projectID string, deptIDs, agentIDs []string,
	known *tiledesk.PopulationClock) (depts, users map[string][]byte, err error) {
	var clock tiledesk.PopulationClock
	if known != nil {
		clock = *known
	} else {
		clocks, err := v.fresh.Clocks(ctx, projectID)
		if err != nil {
			return nil, nil, err
		}
		clock = clocks.Population
	}
	readDepts := func(ids []string) (map[string]*tiledesk.Department, error) {
		return v.store.FindDepartmentsByIDs(ctx, projectID, ids)
	}
	readUsers := func(ids []string) (map[string]*tiledesk.User, error) { return v.store.FindUsersByIDs(ctx, ids) }
	if clock == (tiledesk.PopulationClock{}) || !v.renders.enabled() {
		departments, err := readDepts(deptIDs)
		if err != nil {
			return nil, nil, err
		}
		agents, err := readUsers(agentIDs)
		if err != nil {
			return nil, nil, err
		}
		if depts, err = renderEach(departments, a.wire.Department); err != nil {
			return nil, nil, err
		}
		users, err = renderEach(agents, a.wire.Agent)
		return depts, users, err
	}
	// An agent is rendered from its user alone: memberships change with every conversation routed
	// to an agent (its count of assigned ones), and need not make the agents be read again.
	deptsAt, usersAt := version{clock.Members, clock.Users}, version{0, clock.Users}
	wants := func(ids []string, at version) []wanted {
		out := make([]wanted, len(ids))
		for i, id := range ids {
			out[i] = wanted{id: id, v: at, known: true}
		}
		return out
	}
	if depts, err = renderCached(v.renders, a.department, projectID, wants(deptIDs, deptsAt), readDepts, renderAt(a.wire.Department, deptsAt)); err != nil {
		return nil, nil, err
	}
	users, err = renderCached(v.renders, a.agent, projectID, wants(agentIDs, usersAt), readUsers, renderAt(a.wire.Agent, usersAt))
	return depts, users, err
}

// renderAt is render, kept at the version at.
func renderAt[T any](render func(*T) ([]byte, error), at version) func(*T) ([]byte, version, error) {
	return renderWith(render, func(*T) version { return at })
}

// renderWith is render, kept at the version at gives each object.
func renderWith[T any](render func(*T) ([]byte, error), at func(*T) version) func(*T) ([]byte, version, error) {
	return func(o *T) ([]byte, version, error) {
		b, err := render(o)
		return b, at(o), err
	}
}

// renderCores returns the JSON of each conversation without the members population adds, keyed by
// id.
func (v *views) renderCores(ctx context.Context, a *audienceView, projectID string, refs []tiledesk.RequestRef,
	have map[string]*tiledesk.Request) (map[string][]byte, error) {
	wants := make([]wanted, len(refs))
	for i, ref := range refs {
		wants[i] = wanted{id: ref.ID, v: versionOf(ref.UpdatedAt), known: true}
	}
	read := func(ids []string) (map[string]*tiledesk.Request, error) {
		var unread []string
		for _, id := range ids {
			if have[id] == nil {
				unread = append(unread, id)
			}
		}
		out := map[string]*tiledesk.Request{}
		if len(unread) > 0 {
			var err error
			if out, err = v.store.FindRequestsByIDs(ctx, projectID, unread); err != nil {
				return nil, err
			}
		}
		for _, id := range ids {
			if r := have[id]; r != nil {
				out[id] = r
			}
		}
		return out, nil
	}
	return renderCached(v.renders, a.core, projectID, wants, read,
		renderWith(a.wire.Core, func(r *tiledesk.Request) version { return versionOf(r.UpdatedAt) }))
}

// leadsOf returns the JSON of the leads of refs, keyed by lead id.
func (v *views) leadsOf(ctx context.Context, a *audienceView, projectID string, refs []tiledesk.RequestRef) (map[string][]byte, error) {
	read := func(ids []string) (map[string]*tiledesk.Lead, error) {
		return v.store.FindLeadsByIDs(ctx, projectID, ids)
	}
	return renderCached(v.renders, a.lead, projectID, wantedOf(refs, leadWanted), read,
		renderWith(a.wire.Lead, func(l *tiledesk.Lead) version { return versionOf(l.UpdatedAt) }))
}

// requestersOf returns the JSON of the requesters of refs (memberships, with their users), keyed by
// membership id.
func (v *views) requestersOf(ctx context.Context, a *audienceView, projectID string, refs []tiledesk.RequestRef) (map[string][]byte, error) {
	read := func(ids []string) (map[string]*tiledesk.ProjectUser, error) {
		return v.store.FindProjectUsersByIDs(ctx, projectID, ids)
	}
	return renderCached(v.renders, a.requester, projectID, wantedOf(refs, requesterWanted), read,
		renderWith(a.wire.Requester, requesterVersion))
}

// wantedOf is what each ref wants rendered, as want says.
func wantedOf(refs []tiledesk.RequestRef, want func(*tiledesk.RequestRef) wanted) []wanted {
	out := make([]wanted, len(refs))
	for i := range refs {
		out[i] = want(&refs[i])
	}
	return out
}

// leadWanted is a conversation's lead, at the version its ref read (unknown when it is gone).
func leadWanted(ref *tiledesk.RequestRef) wanted {
	if ref.LeadUpdatedAt == nil {
		return wanted{id: ref.LeadID}
	}
	return wanted{id: ref.LeadID, v: versionOf(*ref.LeadUpdatedAt), known: true}
}

// requesterWanted is a conversation's requester, at the versions its ref read of its membership
// and its user (requesterVersion).
func requesterWanted(ref *tiledesk.RequestRef) wanted {
	w := wanted{id: ref.RequesterID}
	if ref.RequesterUpdatedAt != nil {
		w.v, w.known = version{ref.RequesterUpdatedAt.UnixMilli()}, true
		if ref.RequesterUserUpdatedAt != nil {
			w.v[1] = ref.RequesterUserUpdatedAt.UnixMilli()
		}
	}
	return w
}

// requesterVersion is what a requester's rendering is kept at: its membership's version and its
// user's.
func requesterVersion(pu *tiledesk.ProjectUser) version {
	at := version{pu.UpdatedAt.UnixMilli()}
	if pu.User != nil {
		at[1] = pu.User.UpdatedAt.UnixMilli()
	}
	return at
}

// renderEach renders each object once.
func renderEach[T any](objects map[string]*T, render func(*T) ([]byte, error)) (map[string][]byte, error) {
	out := make(map[string][]byte, len(objects))
	for id, o := range objects {
		b, err := render(o)
		if err != nil {
			return nil, err
		}
		out[id] = b
	}
	return out, nil
}
