package api

import (
	"context"
	"encoding/json"

	"github.com/tiledesk-go/tiledesk"
)

// renderPopulated renders conversations as the original populates them: lead, department and
// requester (with its user) as objects, participatingAgents and participatingBots. Each is
// assembled from pieces: the conversation's own JSON and each lead's come from the render cache
// when it holds them at their current versions, and are read (one query per kind) and rendered
// otherwise; departments, requesters and agents are read once for the page and rendered once each.
// have holds conversations the caller already read whole.
func (s *Server) renderPopulated(ctx context.Context, projectID string, refs []tiledesk.RequestRef, have map[string]*tiledesk.Request) ([][]byte, error) {
	cores, err := s.renderCores(ctx, projectID, refs, have)
	if err != nil {
		return nil, err
	}
	leads, err := s.leadsOf(ctx, projectID, refs)
	if err != nil {
		return nil, err
	}
	var deptIDs, requesterIDs, agentIDs []string
	for _, ref := range refs {
		deptIDs, requesterIDs = append(deptIDs, ref.DepartmentID), append(requesterIDs, ref.RequesterID)
		agentIDs = append(agentIDs, ref.ParticipantsAgents...)
	}
	departments, err := s.store.FindDepartmentsByIDs(ctx, projectID, deptIDs)
	if err != nil {
		return nil, err
	}
	requesters, err := s.store.FindProjectUsersByIDs(ctx, projectID, requesterIDs)
	if err != nil {
		return nil, err
	}
	users, err := s.store.FindUsersByIDs(ctx, agentIDs)
	if err != nil {
		return nil, err
	}
	deptJSON, err := renderEach(departments, func(d *tiledesk.Department) any { return toDepartment(d) })
	if err != nil {
		return nil, err
	}
	requesterJSON, err := renderEach(requesters, func(pu *tiledesk.ProjectUser) any { return toProjectUser(pu, nil) })
	if err != nil {
		return nil, err
	}
	userJSON, err := renderEach(users, func(u *tiledesk.User) any { return toUser(u) })
	if err != nil {
		return nil, err
	}

	out := make([][]byte, 0, len(refs))
	for _, ref := range refs {
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
		out = append(out, b)
	}
	return out, nil
}

// renderCores returns the JSON of each conversation without the members renderPopulated adds
// (lead, department, requester, participatingAgents, participatingBots), keyed by id.
func (s *Server) renderCores(ctx context.Context, projectID string, refs []tiledesk.RequestRef, have map[string]*tiledesk.Request) (map[string][]byte, error) {
	out := make(map[string][]byte, len(refs))
	var missing []string
	for _, ref := range refs {
		if b, ok := s.renders.get(requestKey(projectID, ref.ID), ref.UpdatedAt); ok {
			out[ref.ID] = b
		} else if have[ref.ID] == nil {
			missing = append(missing, ref.ID)
		}
	}
	read := have
	if len(missing) > 0 {
		var err error
		if read, err = s.store.FindRequestsByIDs(ctx, projectID, missing); err != nil {
			return nil, err
		}
		for id, r := range have {
			read[id] = r
		}
	}
	for id, r := range read {
		if out[id] != nil {
			continue
		}
		core := toRequest(r)
		core.Requester, core.Lead, core.Department, core.ParticipatingBots = nil, nil, nil, nil
		b, err := encodeJSON(core)
		if err != nil {
			return nil, err
		}
		s.renders.put(requestKey(projectID, id), r.UpdatedAt, b)
		out[id] = b
	}
	return out, nil
}

// leadsOf returns the JSON of the leads of refs, keyed by lead id: from the render cache at the
// version the ref carries, or read and rendered.
func (s *Server) leadsOf(ctx context.Context, projectID string, refs []tiledesk.RequestRef) (map[string][]byte, error) {
	out := make(map[string][]byte, len(refs))
	var missing []string
	for _, ref := range refs {
		if ref.LeadID == "" || out[ref.LeadID] != nil {
			continue
		}
		if ref.LeadUpdatedAt != nil {
			if b, ok := s.renders.get(leadKey(projectID, ref.LeadID), *ref.LeadUpdatedAt); ok {
				out[ref.LeadID] = b
				continue
			}
		}
		missing = append(missing, ref.LeadID)
	}
	if len(missing) == 0 {
		return out, nil
	}
	leads, err := s.store.FindLeadsByIDs(ctx, projectID, missing)
	if err != nil {
		return nil, err
	}
	for id, l := range leads {
		if out[id], err = s.renderLead(l); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func requestKey(projectID, id string) string { return "request\x00" + projectID + "\x00" + id }

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

func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always encodes
	return append(b, q...)
}
