package api

import (
	"context"
	"encoding/json"

	"github.com/tiledesk-go/tiledesk"
)

// conversationView is how a populated conversation is rendered for one kind of reader: agents get
// the original's document (agentView), visitors their own view of it (visitorView). Each view keeps
// its renderings under render kinds of its own, so that one reader's rendering is never served to
// the other; both are kept at the same versions.
type conversationView struct {
	core, lead, requester, department, agent renderKind
	// renderCore renders a conversation without the members renderPopulated adds (lead,
	// department, requester, participatingAgents, participatingBots).
	renderCore       func(*tiledesk.Request) any
	renderLead       func(*tiledesk.Lead) any
	renderRequester  func(*tiledesk.ProjectUser) any
	renderDepartment func(*tiledesk.Department) any
	renderAgent      func(*tiledesk.User) any
}

// agentView is the original's populated conversation, for the members who work the project.
var agentView = &conversationView{core: kindRequest, lead: kindLead, requester: kindRequester, department: kindDepartment,
	agent: kindAgentUser,
	renderCore: func(r *tiledesk.Request) any {
		core := toRequest(r)
		core.Requester, core.Lead, core.Department, core.ParticipatingBots = nil, nil, nil, nil
		return core
	},
	renderLead:       func(l *tiledesk.Lead) any { wire, _ := renderLead(l); return wire },
	renderRequester:  func(pu *tiledesk.ProjectUser) any { return toProjectUser(pu, nil) },
	renderDepartment: func(d *tiledesk.Department) any { return toDepartment(d) },
	renderAgent:      func(u *tiledesk.User) any { return toUser(u) },
}

// renderPopulated renders conversations as the original populates them: lead, department and
// requester (with its user) as objects, participatingAgents and participatingBots, each as view
// renders it. Each is assembled from pieces: the conversation's own JSON and each lead's come from
// the render cache when it holds them at their current versions, and are read (one query per kind)
// and rendered otherwise; departments, requesters and agents are read once for the page and
// rendered once each. have holds conversations the caller already read whole.
func (s *Server) renderPopulated(ctx context.Context, view *conversationView, projectID string, refs []tiledesk.RequestRef,
	have map[string]*tiledesk.Request) ([][]byte, error) {
	out, err := s.renderPopulatedEach(ctx, view, projectID, refs, have)
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

// renderPopulatedEach is renderPopulated with one rendering per ref, in their order: nil for a
// conversation deleted since its ref was read.
func (s *Server) renderPopulatedEach(ctx context.Context, view *conversationView, projectID string, refs []tiledesk.RequestRef,
	have map[string]*tiledesk.Request) ([][]byte, error) {
	cores, err := s.renderCores(ctx, view, projectID, refs, have)
	if err != nil {
		return nil, err
	}
	leads, err := s.leadsOf(ctx, view, projectID, refs)
	if err != nil {
		return nil, err
	}
	requesterJSON, err := s.requestersOf(ctx, view, projectID, refs)
	if err != nil {
		return nil, err
	}
	var deptIDs, agentIDs []string
	for _, ref := range refs {
		deptIDs, agentIDs = append(deptIDs, ref.DepartmentID), append(agentIDs, ref.ParticipantsAgents...)
	}
	deptJSON, userJSON, err := s.populationParts(ctx, view, projectID, deptIDs, agentIDs)
	if err != nil {
		return nil, err
	}

	out := make([][]byte, len(refs))
	for i, ref := range refs {
		core := cores[ref.ID]
		if core == nil {
			continue // deleted since its ref was read
		}
		b := make([]byte, 0, len(core)+len(leads[ref.LeadID])+len(requesterJSON[ref.RequesterID])+len(deptJSON[ref.DepartmentID])+256)
		b = append(b, core[:len(core)-1]...) // without its closing brace
		b = appendMember(b, "lead", leads[ref.LeadID], ref.LeadID)
		b = appendMember(b, "department", deptJSON[ref.DepartmentID], ref.DepartmentID)
		b = appendMember(b, "requester", requesterJSON[ref.RequesterID], ref.RequesterID)
		b = append(b, `,"participatingAgents":[`...)
		n := 0
		for _, id := range ref.ParticipantsAgents {
			if u := userJSON[id]; u != nil {
				if n > 0 {
					b = append(b, ',')
				}
				b, n = append(b, u...), n+1
			}
		}
		b = append(b, `],"participatingBots":[`...)
		for i, id := range ref.ParticipantsBots {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"_id":`...)
			b = appendString(b, id)
			b = append(b, '}')
		}
		b = append(b, "]}"...)
		out[i] = b
	}
	return out, nil
}

// populationParts renders the departments and the participating agents' users conversations show.
// Where the store keeps the population clock (SQLite), their renderings are kept under its members'
// and users' clocks, which every change of a department, a membership or a user moves: a reply or a
// conversation read again then reads neither, where it read both every time (a tenth of a reply's
// CPU). The clock is read before them, so that nothing is kept under a clock newer than itself.
// Elsewhere, where reading the clock would be a query of its own, both are read every time.
func (s *Server) populationParts(ctx context.Context, view *conversationView, projectID string, deptIDs, agentIDs []string) (depts, users map[string][]byte, err error) {
	clock, ok, err := s.store.PopulationClock(ctx, projectID)
	if err != nil {
		return nil, nil, err
	}
	readDepts := func(ids []string) (map[string]*tiledesk.Department, error) {
		return s.store.FindDepartmentsByIDs(ctx, projectID, ids)
	}
	readUsers := func(ids []string) (map[string]*tiledesk.User, error) { return s.store.FindUsersByIDs(ctx, ids) }
	if !ok || !s.renders.enabled() {
		departments, err := readDepts(deptIDs)
		if err != nil {
			return nil, nil, err
		}
		agents, err := readUsers(agentIDs)
		if err != nil {
			return nil, nil, err
		}
		if depts, err = renderEach(departments, view.renderDepartment); err != nil {
			return nil, nil, err
		}
		users, err = renderEach(agents, view.renderAgent)
		return depts, users, err
	}
	v := version{clock[2], clock[3]}
	at := func(ids []string) []wanted {
		wants := make([]wanted, len(ids))
		for i, id := range ids {
			wants[i] = wanted{id: id, v: v, known: true}
		}
		return wants
	}
	if depts, err = renderCached(s.renders, view.department, projectID, at(deptIDs), readDepts,
		func(d *tiledesk.Department) (any, version) { return view.renderDepartment(d), v }); err != nil {
		return nil, nil, err
	}
	users, err = renderCached(s.renders, view.agent, projectID, at(agentIDs), readUsers,
		func(u *tiledesk.User) (any, version) { return view.renderAgent(u), v })
	return depts, users, err
}

// renderCores returns the JSON of each conversation without the members renderPopulated adds
// (lead, department, requester, participatingAgents, participatingBots), keyed by id.
func (s *Server) renderCores(ctx context.Context, view *conversationView, projectID string, refs []tiledesk.RequestRef,
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
			if out, err = s.store.FindRequestsByIDs(ctx, projectID, unread); err != nil {
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
	return renderCached(s.renders, view.core, projectID, wants, read, func(r *tiledesk.Request) (any, version) {
		return view.renderCore(r), versionOf(r.UpdatedAt)
	})
}

// leadsOf returns the JSON of the leads of refs, keyed by lead id.
func (s *Server) leadsOf(ctx context.Context, view *conversationView, projectID string, refs []tiledesk.RequestRef) (map[string][]byte, error) {
	wants := make([]wanted, len(refs))
	for i, ref := range refs {
		wants[i] = wanted{id: ref.LeadID}
		if ref.LeadUpdatedAt != nil {
			wants[i].v, wants[i].known = versionOf(*ref.LeadUpdatedAt), true
		}
	}
	// The agents' view shares its leads' renderings with the lead lists (kindLead, renderLead).
	return renderCached(s.renders, view.lead, projectID, wants,
		func(ids []string) (map[string]*tiledesk.Lead, error) {
			return s.store.FindLeadsByIDs(ctx, projectID, ids)
		},
		func(l *tiledesk.Lead) (any, version) { return view.renderLead(l), versionOf(l.UpdatedAt) })
}

// requestersOf returns the JSON of the requesters of refs (memberships, with their users), keyed by
// membership id.
func (s *Server) requestersOf(ctx context.Context, view *conversationView, projectID string, refs []tiledesk.RequestRef) (map[string][]byte, error) {
	wants := make([]wanted, len(refs))
	for i, ref := range refs {
		wants[i] = wanted{id: ref.RequesterID}
		if ref.RequesterUpdatedAt != nil {
			wants[i].v, wants[i].known = version{ref.RequesterUpdatedAt.UnixMilli()}, true
			if ref.RequesterUserUpdatedAt != nil {
				wants[i].v[1] = ref.RequesterUserUpdatedAt.UnixMilli()
			}
		}
	}
	return renderCached(s.renders, view.requester, projectID, wants,
		func(ids []string) (map[string]*tiledesk.ProjectUser, error) {
			return s.store.FindProjectUsersByIDs(ctx, projectID, ids)
		},
		func(pu *tiledesk.ProjectUser) (any, version) {
			v := version{pu.UpdatedAt.UnixMilli()}
			if pu.User != nil {
				v[1] = pu.User.UpdatedAt.UnixMilli()
			}
			return view.renderRequester(pu), v
		})
}

// wanted is an object a response needs rendered, at version v when known.
type wanted struct {
	id    string
	v     version
	known bool
}

// renderCached returns the JSON of the wanted objects of a kind, keyed by id: from the render cache
// when it holds them at the wanted version, otherwise read (one read for all of them) and rendered,
// and kept at the version they were read at. An object that is no longer there is left out.
func renderCached[T any](c *renderCache, kind renderKind, projectID string, wants []wanted, read func(ids []string) (map[string]*T, error),
	render func(*T) (any, version)) (map[string][]byte, error) {
	out := make(map[string][]byte, len(wants))
	var missing []string
	for _, w := range wants {
		if w.id == "" || out[w.id] != nil {
			continue
		}
		if w.known {
			if b, ok := c.get(renderKeyOf(kind, projectID, w.id), w.v); ok {
				out[w.id] = b
				continue
			}
		}
		missing = append(missing, w.id)
	}
	if len(missing) == 0 {
		return out, nil
	}
	objects, err := read(missing)
	if err != nil {
		return nil, err
	}
	for id, o := range objects {
		if out[id] != nil {
			continue
		}
		wire, v := render(o)
		b, ok := wire.(preEncoded)
		if !ok {
			var err error
			if b, err = encodeJSON(wire); err != nil {
				return nil, err
			}
		}
		c.put(renderKeyOf(kind, projectID, id), v, b)
		out[id] = b
	}
	return out, nil
}

// renderEach encodes each object once.
func renderEach[T any](objects map[string]*T, render func(*T) any) (map[string][]byte, error) {
	out := make(map[string][]byte, len(objects))
	for id, o := range objects {
		b, err := encodeJSON(render(o))
		if err != nil {
			return nil, err
		}
		out[id] = b
	}
	return out, nil
}

// appendMember appends ,"name": and the object's JSON, or its id when the object is gone (as an
// unpopulated conversation shows it); nothing when there is no id.
func appendMember(b []byte, name string, object []byte, id string) []byte {
	if object == nil && id == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	if object != nil {
		return append(b, object...)
	}
	return appendString(b, id)
}

// appendString appends s as json.Marshal writes it, HTML characters escaped. Cursors are built with
// it and their bytes must not change (TestCursorEncodingUnchanged); a lead's fields go through
// appendJSONString, which writes strings as encodeJSON does.
func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always encodes
	return append(b, q...)
}
