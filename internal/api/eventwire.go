package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/webhook"
)

// The event log keeps each changed object as the store saw it (the domain types' JSON); its readers
// (the feed, the websocket, webhooks) hand it out in the original's shapes, rendered here.

// eventSubject is the decoded payload of an event: the object it is about, one of these set.
type eventSubject struct {
	Request      *tiledesk.Request
	Message      *tiledesk.Message
	Lead         *tiledesk.Lead
	Department   *tiledesk.Department
	ProjectUser  *tiledesk.ProjectUser
	Project      *tiledesk.Project
	Subscription *tiledesk.Subscription
	Bot          *tiledesk.Bot
	Intent       *tiledesk.Intent
	Group        *tiledesk.Group
	LibraryTag   *tiledesk.LibraryTag
	Canned       *tiledesk.Canned
	Labels       *tiledesk.Labels
	Invitation   *tiledesk.PendingInvitation
	ChatGroup    *tiledesk.ChatGroupChange
	Other        json.RawMessage // an event of a kind without a domain type here: passed as stored
	// Member is who joined or left, for request.participants.join and .leave, whose payload is
	// {member, request} as the original's.
	Member string
}

// eventKind is the family of an event name: "request", "message", "lead", ...
func eventKind(name string) string {
	kind, _, _ := strings.Cut(name, ".")
	if kind == "projectuser" { // the original's spelling of projectuser.create
		return "project_user"
	}
	return kind
}

// decodeEvent reads an event's payload into its domain type.
func decodeEvent(ev *tiledesk.Event) (*eventSubject, error) {
	var s eventSubject
	var err error
	kind := eventKind(ev.Name)
	if ev.Name == tiledesk.EventInvitePending || ev.Name == tiledesk.EventInvitePendingDelete {
		kind = "invitation" // project_user.invite.pending: an invitation, not a membership
	}
	switch kind {
	case "request":
		if ev.Name == tiledesk.EventRequestParticipantsJoin || ev.Name == tiledesk.EventRequestParticipantsLeave {
			var pe tiledesk.ParticipantEvent
			err = json.Unmarshal(ev.Payload, &pe)
			s.Request, s.Member = pe.Request, pe.Member
			if err == nil && s.Request == nil {
				err = fmt.Errorf("no request")
			}
			break
		}
		s.Request = new(tiledesk.Request)
		err = json.Unmarshal(ev.Payload, s.Request)
	case "message":
		s.Message = new(tiledesk.Message)
		err = json.Unmarshal(ev.Payload, s.Message)
	case "lead":
		s.Lead = new(tiledesk.Lead)
		err = json.Unmarshal(ev.Payload, s.Lead)
	case "department":
		s.Department = new(tiledesk.Department)
		err = json.Unmarshal(ev.Payload, s.Department)
	case "project_user":
		s.ProjectUser = new(tiledesk.ProjectUser)
		err = json.Unmarshal(ev.Payload, s.ProjectUser)
	case "subscription":
		s.Subscription = new(tiledesk.Subscription)
		err = json.Unmarshal(ev.Payload, s.Subscription)
	case "project":
		s.Project = new(tiledesk.Project)
		err = json.Unmarshal(ev.Payload, s.Project)
	case "faqbot":
		s.Bot = new(tiledesk.Bot)
		err = json.Unmarshal(ev.Payload, s.Bot)
	case "faq":
		s.Intent = new(tiledesk.Intent)
		err = json.Unmarshal(ev.Payload, s.Intent)
	case "group":
		s.Group = new(tiledesk.Group)
		err = json.Unmarshal(ev.Payload, s.Group)
	case "tag":
		s.LibraryTag = new(tiledesk.LibraryTag)
		err = json.Unmarshal(ev.Payload, s.LibraryTag)
	case "canned":
		s.Canned = new(tiledesk.Canned)
		err = json.Unmarshal(ev.Payload, s.Canned)
	case "labels":
		s.Labels = new(tiledesk.Labels)
		err = json.Unmarshal(ev.Payload, s.Labels)
	case "invitation":
		s.Invitation = new(tiledesk.PendingInvitation)
		err = json.Unmarshal(ev.Payload, s.Invitation)
	case "chat_group":
		s.ChatGroup = new(tiledesk.ChatGroupChange)
		if err = json.Unmarshal(ev.Payload, s.ChatGroup); err == nil && s.ChatGroup.Group == nil {
			err = fmt.Errorf("no group")
		}
	default:
		s.Other = ev.Payload
	}
	if err != nil {
		return nil, fmt.Errorf("decode %s event %s: %w", ev.Name, ev.ID, err)
	}
	return &s, nil
}

// wire renders the subject in the original's shape for the full (agent, admin, webhook) view.
func (s *eventSubject) wire(now time.Time) any {
	switch {
	case s.Member != "":
		return map[string]any{"member": s.Member, "request": toRequest(s.Request)}
	case s.Request != nil:
		return toRequest(s.Request)
	case s.Message != nil:
		return toMessage(s.Message)
	case s.Lead != nil:
		return toLead(s.Lead)
	case s.Department != nil:
		return toDepartment(s.Department)
	case s.ProjectUser != nil:
		pu := *s.ProjectUser
		pu.User = nil
		return toProjectUser(&pu, nil)
	case s.Project != nil:
		return toProject(s.Project, now)
	case s.Subscription != nil:
		return webhook.Hook(s.Subscription) // never its secret, which the event does not hold
	case s.Bot != nil:
		return toBot(s.Bot) // never its secret, which the event does not hold
	case s.Intent != nil:
		return toIntent(s.Intent)
	case s.Group != nil:
		return toGroup(s.Group)
	case s.LibraryTag != nil:
		return toLibraryTag(s.LibraryTag)
	case s.Canned != nil:
		return toCanned(s.Canned)
	case s.Labels != nil:
		return toLabels(s.Labels)
	case s.Invitation != nil:
		return toInvitation(s.Invitation)
	case s.ChatGroup != nil:
		return toChatGroupChange(s.ChatGroup)
	}
	return s.Other
}

// visitorWire renders the subject as a visitor sees it (no internal notes or attributes); nil
// when a visitor sees nothing of it.
func (s *eventSubject) visitorWire() any {
	switch {
	case s.Request != nil:
		return toVisitorRequest(s.Request, true)
	case s.Message != nil:
		if m := toVisitorMessage(s.Message); m != nil {
			return m
		}
	}
	return nil
}

// requestID is the request_id of the conversation the subject belongs to ("" for none).
func (s *eventSubject) requestID() string {
	switch {
	case s.Request != nil:
		return s.Request.RequestID
	case s.Message != nil:
		return s.Message.Recipient
	}
	return ""
}
