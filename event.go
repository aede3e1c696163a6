package tiledesk

import (
	"context"
	"encoding/json"
	"time"
)

// Event names recorded by the stores, as the original names them.
const (
	EventUserSignup          = "user.signup"
	EventUserUpdate          = "user.update"
	EventUserDelete          = "user.delete"
	EventProjectCreate       = "project.create"
	EventProjectUpdate       = "project.update"
	EventProjectDelete       = "project.delete"
	EventProjectUserInvite   = "project_user.invite"
	EventProjectUserCreate   = "projectuser.create"
	EventProjectUserUpdate   = "project_user.update"
	EventProjectUserDelete   = "project_user.delete"
	EventInvitePending       = "project_user.invite.pending"
	EventInvitePendingDelete = "project_user.invite.pending.delete"
	EventDepartmentCreate    = "department.create"
	EventDepartmentUpdate    = "department.update"
	EventDepartmentDelete    = "department.delete"
	EventLeadCreate          = "lead.create"
	EventLeadUpdate          = "lead.update"
	EventLeadDelete          = "lead.delete"
	EventRequestCreate       = "request.create"
	EventRequestUpdate       = "request.update"
	EventRequestClose        = "request.close"
	EventRequestReopen       = "request.reopen"
	EventRequestDelete       = "request.delete"
	EventRequestParticipants = "request.participants.update"
	EventRequestDepartment   = "request.department.update"
	EventRequestAttributes   = "request.attributes.update"
	EventRequestTags         = "request.tag.update"
	EventRequestFollowers    = "request.followers.update"
	EventRequestSatisfaction = "request.satisfaction"
	EventMessageCreate       = "message.create"
)

// Event is a row of the outbox: written in the same transaction as the change it describes, so that
// the events of exactly the committed changes exist. Payload is the changed object as the store saw it.
type Event struct {
	ID        string
	ProjectID string // "" for events outside any project (user.signup)
	Name      string
	ObjectID  string
	Payload   json.RawMessage
	CreatedAt time.Time
}

// EventFilter narrows FindEvents.
type EventFilter struct {
	Name    string
	AfterID string // only events with a greater id
	Limit   int
}

// EventStore reads the outbox.
type EventStore interface {
	// FindEvents lists events of a project (or, for projectID "", of no project), oldest first.
	FindEvents(ctx context.Context, projectID string, f EventFilter) ([]*Event, error)
}
