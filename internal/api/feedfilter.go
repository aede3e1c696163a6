package api

import (
	"context"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// eventFilter decides which events of the log a caller of the feed sees, and renders them.
// Owners and admins see every event. Agents and supervisors see a conversation's events when they
// may see the conversation through the REST routes (tiledesk.Visibility: the store's by-id read
// with their visibility; supervisors see every conversation), decided on the conversation as it
// is now, or, once it is deleted, as each event shows it; and every event of the kinds in
// agentKinds. Anything else (pending invitations, which carry the invitee's address and are the
// admins' business, webhook subscriptions, and kinds added later) is for admins only, so that a
// new kind is never shown to agents by default.
type eventFilter struct {
	s         *Server
	projectID string
	v         *tiledesk.Visibility // nil: sees everything
	admin     bool
	// seen caches, per conversation (request_id), what the caller sees of it now, for one call;
	// depts whether a department is restricted.
	seen  map[string]convState
	depts map[string]bool
}

// convState is a conversation as the caller sees it now.
type convState int

const (
	convVisible convState = iota + 1
	convHidden
	convDeleted
)

// agentKinds are the kinds of events that are not about one conversation and that agents see.
var agentKinds = map[string]bool{"lead": true, "department": true, "project_user": true, "project": true, "event": true}

// adminOnlyEvents are events of agentKinds that only admins see.
var adminOnlyEvents = map[string]bool{tiledesk.EventInvitePending: true, tiledesk.EventInvitePendingDelete: true}

func (s *Server) newEventFilter(c *call) *eventFilter {
	return &eventFilter{s: s, projectID: c.project.ID, v: visibilityOf(c),
		admin: tiledesk.HasRole(c.member.Role, tiledesk.RoleAdmin), seen: map[string]convState{}, depts: map[string]bool{}}
}

// render returns the events the caller sees, in the original's shapes.
func (f *eventFilter) render(ctx context.Context, evs []*tiledesk.Event, now time.Time) ([]feedEvent, error) {
	out := make([]feedEvent, 0, len(evs))
	for _, ev := range evs {
		subject, err := decodeEvent(ev)
		if err != nil {
			// An event this server cannot read back is handed out as stored, to admins only, so
			// that it never stalls a reader.
			f.s.log.Warn("feed: undecodable event", "project", ev.ProjectID, "seq", ev.Seq, "err", err)
			subject = &eventSubject{Other: ev.Payload}
			if !f.admin {
				continue
			}
		}
		ok, err := f.sees(ctx, ev, subject)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, feedEvent{Seq: ev.Seq, ID: ev.ID, Name: ev.Name, CreatedAt: jsTime(ev.CreatedAt), Payload: subject.wire(now)})
		}
	}
	return out, nil
}

// sees decides one event.
func (f *eventFilter) sees(ctx context.Context, ev *tiledesk.Event, subject *eventSubject) (bool, error) {
	if f.admin {
		return true, nil
	}
	if rid := subject.requestID(); rid != "" {
		return f.seesConversation(ctx, rid, subject.Request)
	}
	return agentKinds[eventKind(ev.Name)] && !adminOnlyEvents[ev.Name], nil
}

// seesConversation decides whether the caller sees an event of the conversation rid; last is the
// conversation in the event (nil for a message's event), decisive once the conversation no longer
// exists: then each of its events is shown to those who could see it in that state, and its
// messages, gone from the REST routes, to none.
func (f *eventFilter) seesConversation(ctx context.Context, rid string, last *tiledesk.Request) (bool, error) {
	if f.v == nil {
		return true, nil
	}
	st, known := f.seen[rid]
	if !known {
		var err error
		if st, err = f.conversationNow(ctx, rid); err != nil {
			return false, err
		}
		f.seen[rid] = st
	}
	switch {
	case st != convDeleted:
		return st == convVisible, nil
	case last == nil:
		return false, nil
	}
	restricted, err := f.restricted(ctx, last.DepartmentID)
	return err == nil && f.v.Sees(last, restricted), err
}

// conversationNow reads whether the conversation exists and the caller sees it, through the
// store's by-id read with the caller's visibility, as the REST routes do.
func (f *eventFilter) conversationNow(ctx context.Context, rid string) (convState, error) {
	store := f.s.store
	_, err := store.FindRequest(ctx, f.projectID, rid, f.v)
	switch {
	case err == nil:
		return convVisible, nil
	case tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND:
		return 0, err
	}
	// Not found with the caller's visibility: hidden from it, or deleted.
	_, err = store.FindRequest(ctx, f.projectID, rid, nil)
	switch {
	case err == nil:
		return convHidden, nil
	case tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND:
		return 0, err
	}
	return convDeleted, nil
}

// restricted reports whether a department restricts its conversations from the caller: it is
// restricted to a group the caller is not in (a department that no longer exists restricts
// nothing; a group gone, trashed or disabled has no members). Read once per call.
func (f *eventFilter) restricted(ctx context.Context, departmentID string) (bool, error) {
	if departmentID == "" {
		return false, nil
	}
	if r, ok := f.depts[departmentID]; ok {
		return r, nil
	}
	d, err := f.s.store.FindDepartmentByID(ctx, f.projectID, departmentID)
	switch {
	case err == nil && d.IDGroup != "":
		g, err := f.s.store.FindGroup(ctx, f.projectID, d.IDGroup)
		if err != nil && tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
			return false, err
		}
		f.depts[departmentID] = err != nil || !g.Grants(f.v.UserID)
	case err == nil, tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND:
		f.depts[departmentID] = false
	default:
		return false, err
	}
	return f.depts[departmentID], nil
}
