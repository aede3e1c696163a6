package live

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

// Methods of publish frames.
const (
	methodCreate = "CREATE"
	methodUpdate = "UPDATE"
	methodDelete = "DELETE"
)

// methodOf is the publish method of an event, "" for an event no frame reports.
func methodOf(name string) string {
	switch name {
	case tiledesk.EventRequestCreate, tiledesk.EventMessageCreate:
		return methodCreate
	case tiledesk.EventRequestDelete, tiledesk.EventProjectUserDelete:
		return methodDelete
	case tiledesk.EventProjectUserUpdate:
		return methodUpdate
	}
	if strings.HasPrefix(name, "request.") {
		return methodUpdate // every other change of a conversation
	}
	return ""
}

// listed says whether a conversation's changes go to its project's list topic, as the original
// publishes them: not a preflight, not a draft, past the temporary status.
func listed(r *tiledesk.Request) bool {
	return !r.Preflight && !r.Draft && r.Status > tiledesk.RequestTemp
}

// decision is what a subscriber gets of an event.
type decision struct {
	method       string
	drop         bool // the subscriber may no longer follow the topic
	conversation bool // the frame is the message's conversation (Item.RenderConversation)
}

// decide says what sub gets of an event, seen through grant g: a frame (method set), nothing, or
// the end of its subscription.
func decide(t Topic, g *Grant, e *prepared) decision {
	it, name := e.it, e.ev.Name
	method := methodOf(name)
	switch {
	case it.Request != nil:
		if t.Kind == TopicProjectUser || (t.Kind != TopicRequests && it.Request.RequestID != t.ID) {
			return decision{}
		}
		if !g.Visibility.Sees(it.Request, e.restricted) {
			// A conversation the subscriber no longer sees ends its topics of that conversation.
			return decision{drop: t.Kind != TopicRequests}
		}
		if t.Kind == TopicMessages || (t.Kind == TopicRequests && !listed(it.Request)) {
			return decision{}
		}
		return decision{method: method}
	case it.Message != nil:
		if name != tiledesk.EventMessageCreate {
			return decision{}
		}
		if t.Kind == TopicMessages && it.Message.Recipient == t.ID {
			return decision{method: method}
		}
		conv := it.Conversation
		if t.Kind == TopicRequests && conv != nil && it.RenderConversation != nil && listed(conv) && g.Visibility.Sees(conv, e.restricted) {
			return decision{method: methodUpdate, conversation: true}
		}
	case it.ProjectUser != nil:
		if t.Kind == TopicProjectUser && it.ProjectUser.ID == t.ID && method != "" {
			return decision{method: method}
		}
	}
	return decision{}
}

// topicsOf are the topics an event may concern.
func topicsOf(pid string, it *Item) []string {
	switch {
	case it.Request != nil:
		list, one, msgs := requestTopics(pid, it.Request.RequestID)
		return []string{list, one, msgs}
	case it.Message != nil:
		list, _, msgs := requestTopics(pid, it.Message.Recipient)
		return []string{msgs, list}
	case it.ProjectUser != nil:
		return []string{"/" + pid + "/project_users/" + it.ProjectUser.ID}
	}
	return nil
}

// deliver hands one event to the subscribers of the topics it concerns. Called with h.mu held.
func (h *Hub) deliver(p *project, e prepared) {
	if pu := e.it.ProjectUser; pu != nil {
		h.memberChanged(p, e.ev.Name, pu)
	}
	for _, name := range topicsOf(e.ev.ProjectID, e.it) {
		var frames [2]json.RawMessage // by audience: agents, visitors
		for s := range p.topics[name] {
			if e.ev.Seq <= s.after {
				continue
			}
			d := decide(s.topic, s.grant, &e)
			if d.drop {
				h.unsubscribeLocked(s)
				continue
			}
			if d.method == "" {
				continue
			}
			visitor := s.grant.Visibility.IsVisitor()
			a := 0
			if visitor {
				a = 1
			}
			if frames[a] == nil {
				render := e.it.Render
				if d.conversation {
					render = e.it.RenderConversation
				}
				msg := render(visitor)
				if msg == nil {
					frames[a] = json.RawMessage{} // this audience sees nothing of it
				} else {
					frames[a] = publishFrame(name, d.method, msg, e.ev.Seq, "")
				}
			}
			if len(frames[a]) > 0 {
				h.sendLocked(s, frames[a], e.it)
			}
		}
	}
}

// memberChanged applies a change of a membership to the connections acting with it: a removed or
// deactivated member loses every subscription in the project; a member whose role changed sees
// with its new visibility, and its subscriptions to conversations are checked again. Called with
// h.mu held.
func (h *Hub) memberChanged(p *project, name string, pu *tiledesk.ProjectUser) {
	affected := map[*Client]bool{}
	for _, subs := range p.topics {
		for s := range subs {
			if s.grant.Member.ID == pu.ID {
				affected[s.c] = true
			}
		}
	}
	for c := range affected {
		if name == tiledesk.EventProjectUserDelete || !pu.IsActive() {
			for _, s := range c.subsIn(pu.ProjectID) {
				h.unsubscribeLocked(s)
			}
			continue
		}
		old := c.grants[pu.ProjectID]
		if old != nil && old.Member.Role == pu.Role {
			continue
		}
		g := &Grant{Member: pu, Visibility: tiledesk.VisibilityOf(pu, c.id.UserID)}
		c.grants[pu.ProjectID] = g
		for _, s := range c.subsIn(pu.ProjectID) {
			s.grant = g
		}
		h.recheck(c, pu.ProjectID, g)
	}
}

// publishFrame is a publish frame; resume, when not "", says why a snapshot replaced a resume.
func publishFrame(topic, method string, msg json.RawMessage, seq int64, resume string) json.RawMessage {
	b := make([]byte, 0, len(msg)+len(topic)+96)
	b = append(b, `{"action":"publish","payload":{"topic":`...)
	b = appendString(b, topic)
	b = append(b, `,"method":"`...)
	b = append(b, method...)
	b = append(b, `","message":`...)
	b = append(b, msg...)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, seq, 10)
	if resume != "" {
		b = append(b, `,"resume":`...)
		b = appendString(b, resume)
	}
	return append(b, "}}"...)
}

func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}
