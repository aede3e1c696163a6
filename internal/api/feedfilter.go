package api

import (
	"context"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// eventFilter decides which events of the log a caller of the feed sees, and renders them.
// Owners and admins see every event. Agents and supervisors see a conversation's events when they may
// see the conversation through the REST routes (tiledesk.Visibility: the store's by-id read with
// their visibility; supervisors see every conversation), decided on the conversation as it is now, or, once deleted, as its last event
// shows it; and every event of the kinds in agentKinds. Anything else (pending invitations, which
// carry the invitee's address and are the admins' business, and events of kinds added later) is
// for admins only, so that a new kind is never shown to agents by default.
type eventFilter struct {
	s         *Server
	projectID string
	v         *tiledesk.Visibility // nil: sees everything
	admin     bool
	// seen caches, per conversation (request_id), whether the caller sees it, for one call.
	seen map[string]bool
}

// agentKinds are the kinds of events that are not about one conversation and that agents see.
var agentKinds = map[string]bool{"lead": true, "department": true, "project_user": true, "project": true, "event": true}

// adminOnlyEvents are events of agentKinds that only admins see.
var adminOnlyEvents = map[string]bool{tiledesk.EventInvitePending: true, tiledesk.EventInvitePendingDelete: true}

func (s *Server) newEventFilter(c *call) *eventFilter {
	return &eventFilter{s: s, projectID: c.project.ID, v: visibilityOf(c),
		admin: tiledesk.HasRole(c.member.Role, tiledesk.RoleAdmin), seen: map[string]bool{}}
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

// seesConversation decides whether the caller sees the conversation rid; last is its state in the
// event (nil for a message's event), used once the conversation no longer exists.
func (f *eventFilter) seesConversation(ctx context.Context, rid string, last *tiledesk.Request) (bool, error) {
	if f.v == nil {
		return true, nil
	}
	if ok, known := f.seen[rid]; known {
		return ok, nil
	}
	ok, err := f.decideConversation(ctx, rid, last)
	if err != nil {
		return false, err
	}
	f.seen[rid] = ok
	return ok, nil
}

func (f *eventFilter) decideConversation(ctx context.Context, rid string, last *tiledesk.Request) (bool, error) {
	store := f.s.store
	_, err := store.FindRequest(ctx, f.projectID, rid, f.v)
	if err == nil || tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		return err == nil, err
	}
	// Not found with the caller's visibility: hidden from it, or deleted.
	if _, err = store.FindRequest(ctx, f.projectID, rid, nil); err == nil || tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		return false, err
	}
	if last == nil { // a message of a deleted conversation: nothing left to decide on
		return false, nil
	}
	restricted := false
	if last.DepartmentID != "" {
		d, err := store.FindDepartmentByID(ctx, f.projectID, last.DepartmentID)
		switch {
		case err == nil:
			restricted = d.IDGroup != ""
		case tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND:
			return false, err
		}
	}
	return f.v.Sees(last, restricted), nil
}
