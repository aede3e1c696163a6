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
	// One event per member who joined or left, besides request.participants.update.
	EventRequestParticipantsJoin  = "request.participants.join"
	EventRequestParticipantsLeave = "request.participants.leave"
	EventRequestWorkingStatus     = "request.workingStatus.update"
	EventRequestDepartment        = "request.department.update"
	EventRequestAttributes        = "request.attributes.update"
	EventRequestTags              = "request.tag.update"
	EventRequestFollowers         = "request.followers.update"
	EventRequestSatisfaction      = "request.satisfaction"
	EventMessageCreate            = "message.create"
	// A message outside any conversation (POST /:pid/messages): a kind of its own, so that nothing
	// that follows conversations' messages (the feed's visibility, the websocket's topics) takes it
	// for one. Its payload is the message as the API answers it.
	EventDirectMessageCreate = "direct_message.create"
	// EventDirectMessageUpdate: a direct message's status changed (its recipient's app
	// acknowledged it); the payload is the message as the API answers it.
	EventDirectMessageUpdate = "direct_message.update"
	EventCustom              = "event.emit" // a custom event (POST /:pid/events)
)

// ParticipantEvent is the payload of request.participants.join and .leave: the member (a user id
// or "bot_<id>") who joined or left, and the conversation after the change.
type ParticipantEvent struct {
	Member  string   `json:"member"`
	Request *Request `json:"request"`
}

// Event is an entry of a project's event log: written in the same transaction as the change it
// describes, so that the events of exactly the committed changes exist. Payload is the changed object
// as the store saw it.
type Event struct {
	ID        string
	ProjectID string // "" for events outside any project (user.signup)
	// Seq numbers the project's events from 1 in the order readers observe them: a reader that has
	// seen N never later finds an event below N. 0 until the event is numbered (PostgreSQL numbers
	// events just after their commit; see EventStore.EventsAfter).
	Seq       int64
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

// EventStore reads the event log.
type EventStore interface {
	// FindEvents lists events of a project (or, for projectID "", of no project), oldest first,
	// numbered or not.
	FindEvents(ctx context.Context, projectID string, f EventFilter) ([]*Event, error)
	// EventsAfter lists the project's numbered events with Seq > after, in Seq order, at most
	// limit (1 to MaxEventPage). Events are numbered without gaps, so a reader that resumes after
	// the last Seq it saw misses nothing, unless retention removed it first (see OldestEventSeq).
	EventsAfter(ctx context.Context, projectID string, after int64, limit int) ([]*Event, error)
	// LastEventSeq is the Seq of the project's newest numbered event (0 when it has none); pruning
	// keeps each project's newest event.
	LastEventSeq(ctx context.Context, projectID string) (int64, error)
	// OldestEventSeq is the Seq of the project's oldest event still kept (0 when there is none), so
	// that a reader resuming before it learns that retention removed what it missed.
	OldestEventSeq(ctx context.Context, projectID string) (int64, error)
	// PruneEvents deletes at most batch events created before cutoff, oldest first, and returns how
	// many it deleted. It keeps each project's newest event, from which numbering goes on.
	PruneEvents(ctx context.Context, cutoff time.Time, batch int) (int, error)

	// AddCustomEvent appends a custom event (event.emit) whose id is id and whose payload is the
	// custom event as clients see it ({_id, name, attributes, project_user, ...}).
	AddCustomEvent(ctx context.Context, projectID, id string, payload json.RawMessage) error
	// FindCustomEvents lists the project's custom events the log still keeps, newest first, and
	// how many match f.
	FindCustomEvents(ctx context.Context, projectID string, f CustomEventFilter) ([]*Event, int, error)
	// FindCustomEvent returns one of the project's custom events, or ENOTFOUND.
	FindCustomEvent(ctx context.Context, projectID, id string) (*Event, error)
}

// CustomEventFilter narrows FindCustomEvents.
type CustomEventFilter struct {
	Name        string // the custom event's own name; "" for any
	ProjectUser string // the membership that sent it; "" for any
	Limit       int
	Offset      int
}

// MaxEventPage bounds one read of the event log.
const MaxEventPage = 1000
