package api

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/views"
)

// How the views' answers are written: internal/views keeps, looks up and joins renderings, and
// these functions are the wire shapes it joins.

// The audiences of conversations: the members who work the project read the original's documents
// (agentView), visitors their own view of them (visitorView, visitor_view.go).
const (
	agentView   = views.Agents
	visitorView = views.Visitors
)

// viewOf is the audience of conversations the caller is.
func viewOf(c *call) views.Audience {
	if visibilityOf(c).IsVisitor() {
		return visitorView
	}
	return agentView
}

// viewWire is the wire the views write with.
var viewWire = views.Wire{
	Lead:      appendLeadJSON,
	List:      appendListBody,
	Populated: appendPopulated,
	Agents: views.ConversationWire{
		Core: encoder(func(r *tiledesk.Request) any {
			core := toRequest(r)
			core.Requester, core.Lead, core.Department, core.ParticipatingBots = nil, nil, nil, nil
			return core
		}),
		Unpopulated: encoder(func(r *tiledesk.Request) any { return toRequest(r) }),
		Requester:   encoder(func(pu *tiledesk.ProjectUser) any { return toProjectUser(pu, nil) }),
		Department:  encoder(func(d *tiledesk.Department) any { return toDepartment(d) }),
		Agent:       encoder(func(u *tiledesk.User) any { return toUser(u) }),
	},
	Visitors: views.ConversationWire{
		Core:        encoder(func(r *tiledesk.Request) any { return toVisitorRequest(r, false) }),
		Unpopulated: encoder(func(r *tiledesk.Request) any { return toVisitorRequest(r, true) }),
		Lead:        encoder(func(l *tiledesk.Lead) any { return toVisitorLead(l) }),
		Requester:   encoder(func(pu *tiledesk.ProjectUser) any { return toVisitorRequester(pu) }),
		Department:  encoder(func(d *tiledesk.Department) any { return toVisitorDepartment(d) }),
		Agent:       encoder(func(u *tiledesk.User) any { return toVisitorAgent(u) }),
	},
	Tag: etagOf,
}

// encoder renders an object as its wire form encodes.
func encoder[T any](wire func(*T) any) func(*T) ([]byte, error) {
	return func(o *T) ([]byte, error) { return encodeJSON(wire(o)) }
}

// appendListBody appends {"perPage","count",name,"next_cursor"}, assembled from the items'
// rendered JSON.
func appendListBody(buf []byte, name string, limit, count int, items [][]byte, next *tiledesk.Cursor) []byte {
	buf = slices.Grow(buf, listHeadroom+len(name)+listBytes(items))
	buf = append(buf, `{"perPage":`...)
	buf = strconv.AppendInt(buf, int64(limit), 10)
	buf = append(buf, `,"count":`...)
	buf = strconv.AppendInt(buf, int64(count), 10)
	buf = append(buf, `,"`...)
	buf = append(buf, name...)
	buf = append(buf, `":`...)
	buf = appendList(buf, items)
	buf = append(buf, `,"next_cursor":`...)
	buf = appendCursor(buf, next)
	return append(buf, '}')
}

// appendPopulated appends a conversation as the original populates it: its own JSON with lead,
// department and requester as objects (their ids when they are gone), participatingAgents and
// participatingBots.
func appendPopulated(b []byte, p *views.Populated) []byte {
	b = append(b, p.Core[:len(p.Core)-1]...) // without its closing brace
	b = appendMember(b, "lead", p.Lead, p.LeadID)
	b = appendMember(b, "department", p.Department, p.DepartmentID)
	b = appendMember(b, "requester", p.Requester, p.RequesterID)
	b = append(b, `,"participatingAgents":`...)
	b = appendList(b, p.Agents)
	b = append(b, `,"participatingBots":[`...)
	for i, id := range p.Bots {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"_id":`...)
		b = appendString(b, id)
		b = append(b, '}')
	}
	return append(b, "]}"...)
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
