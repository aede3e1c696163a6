package tiledesk

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Request statuses (the original's requestConstants).
const (
	RequestTemp       = 50   // created by flows before a real first message; hidden from lists
	RequestUnassigned = 100  // waiting in the pool
	RequestAbandoned  = 150  // abandoned by every agent
	RequestAssigned   = 200  // has participants (bots count)
	RequestServed     = 300  // defined by the original, unused
	RequestClosed     = 1000 // closed
)

// IsRequestStatus reports whether s is a request status.
func IsRequestStatus(s int) bool {
	switch s {
	case RequestTemp, RequestUnassigned, RequestAbandoned, RequestAssigned, RequestServed, RequestClosed:
		return true
	}
	return false
}

// BotPrefix marks bot participants: "bot_<bot id>".
const BotPrefix = "bot_"

// Request is a conversation. RequestID is the client's string id (the widget makes
// "support-group-<project>-<uuid>"); ID is the ObjectId.
type Request struct {
	ID                 string
	ProjectID          string
	RequestID          string
	TicketID           int
	RequesterID        string // the requester's project user id
	LeadID             string // the lead's ObjectId
	Subject            string
	FirstText          string
	Status             int
	Preflight          bool
	Draft              bool
	HasBot             bool
	Participants       []string // user ids and "bot_<id>"
	ParticipantsAgents []string
	ParticipantsBots   []string // bot ids without the prefix
	Priority           string
	Followers          []string // project user ids
	DepartmentID       string
	Transcript         string
	FirstResponseAt    *time.Time
	AssignedAt         *time.Time
	ClosedAt           *time.Time
	WaitingTime        *int64 // ms from creation to the first agent reply
	Duration           *int64 // ms from creation to closing
	ClosedBy           string
	Tags               []RequestTag
	Notes              []Note
	Rating             *int
	RatingMessage      string
	Snapshot           RequestSnapshot
	SourcePage         string
	Language           string
	UserAgent          string
	Channel            Channel
	ChannelOutbound    Channel
	Attributes         map[string]any
	Location           map[string]any
	SmartAssignment    bool
	WorkingStatus      string
	Contact            *Contact
	CreatedBy          string
	CreatedAt          time.Time
	UpdatedAt          time.Time // strictly increasing per project in commit order, as for leads
}

// RequestTag is a tag of a conversation.
type RequestTag struct {
	ID         string         `json:"_id"`
	Tag        string         `json:"tag"`
	Color      string         `json:"color,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

// Note is an agents' note on a conversation.
type Note struct {
	ID         string         `json:"_id"`
	Text       string         `json:"text"`
	Attributes map[string]any `json:"attributes,omitempty"`
	CreatedBy  string         `json:"createdBy"`
	CreatedAt  time.Time      `json:"createdAt"`
	UpdatedAt  time.Time      `json:"updatedAt"`
}

// Contact is how to reach the requester, set for conversations created by a message.
type Contact struct {
	Phone      string `json:"phone,omitempty"`
	Email      string `json:"email,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
}

// RequestSnapshot is the copy of the department, requester and lead taken when the conversation was
// created, as the original keeps it.
type RequestSnapshot struct {
	Department           *Department
	Requester            *ProjectUser
	Lead                 *Lead
	AvailableAgentsCount int
}

// IsOpen reports whether a request appears in the default lists: not closed, not temporary, not
// abandoned, not a preflight.
func (r *Request) IsOpen() bool {
	return r.Status < RequestClosed && r.Status != RequestTemp && r.Status != RequestAbandoned && !r.Preflight
}

// SetParticipants replaces the participants, derives the agent and bot lists and hasBot, and
// recomputes the status (200 with participants, 100 without) unless the request is closed.
func (r *Request) SetParticipants(ids []string, now time.Time) {
	out := []string{}
	for _, id := range ids {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	r.Participants = out
	r.ParticipantsAgents, r.ParticipantsBots = []string{}, []string{}
	for _, p := range out {
		if bot, ok := strings.CutPrefix(p, BotPrefix); ok {
			r.ParticipantsBots = append(r.ParticipantsBots, bot)
		} else {
			r.ParticipantsAgents = append(r.ParticipantsAgents, p)
		}
	}
	r.HasBot = len(r.ParticipantsBots) > 0
	if r.Status == RequestClosed {
		return
	}
	if len(out) > 0 {
		r.Status = RequestAssigned
		if r.AssignedAt == nil {
			t := now
			r.AssignedAt = &t
		}
	} else {
		r.Status = RequestUnassigned
	}
}

// AddParticipant adds one participant.
func (r *Request) AddParticipant(id string, now time.Time) {
	r.SetParticipants(append(slices.Clone(r.Participants), id), now)
}

// RemoveParticipant removes one participant; it reports whether it was there.
func (r *Request) RemoveParticipant(id string, now time.Time) bool {
	if !slices.Contains(r.Participants, id) {
		return false
	}
	r.SetParticipants(slices.DeleteFunc(slices.Clone(r.Participants), func(p string) bool { return p == id }), now)
	return true
}

// Close closes the request at now, by closedBy, keeping transcript.
func (r *Request) Close(closedBy string, now time.Time, transcript string) {
	r.Status = RequestClosed
	t := now
	r.ClosedAt = &t
	r.ClosedBy = closedBy
	d := now.Sub(r.CreatedAt).Milliseconds()
	r.Duration = &d
	r.Transcript = transcript
}

// Reopen reopens a closed request: assigned with participants, unassigned without.
func (r *Request) Reopen(now time.Time) {
	r.Status = RequestUnassigned
	r.SetParticipants(r.Participants, now)
}

// Transcript renders messages as the original does on close: "DD/MM/YYYY, HH:MM:SS name: text" lines
// joined by CRLF (times in UTC), within MaxTranscriptBytes (see TranscriptBuilder).
func Transcript(msgs []*Message) string {
	var tb TranscriptBuilder
	for _, m := range msgs {
		if !tb.Add(m) {
			break
		}
	}
	return tb.String()
}

// TranscriptBuilder builds a transcript one message at a time, oldest first. The first line that
// would take it past MaxTranscriptBytes ends it with TranscriptCut instead, so that its reader can
// stop reading messages there.
type TranscriptBuilder struct {
	b    strings.Builder
	full bool
}

// transcriptStamp is the layout of a line's time.
const transcriptStamp = "02/01/2006, 15:04:05"

// Add adds m's line, and reports false once the transcript is full.
func (t *TranscriptBuilder) Add(m *Message) bool {
	if t.full {
		return false
	}
	sep := ""
	if t.b.Len() > 0 {
		sep = "\r\n"
	}
	n := len(sep) + len(transcriptStamp) + 1 + len(m.SenderFullname) + 2 + len(m.Text)
	if t.b.Len()+n > MaxTranscriptBytes-len("\r\n"+TranscriptCut) {
		t.b.WriteString(sep + TranscriptCut)
		t.full = true
		return false
	}
	t.b.WriteString(sep + m.CreatedAt.UTC().Format(transcriptStamp) + " " + m.SenderFullname + ": " + m.Text)
	return true
}

// String returns the transcript.
func (t *TranscriptBuilder) String() string { return t.b.String() }

// Agent is a candidate for routing: an agent-side membership and whether it may take a conversation.
type Agent struct {
	UserID    string
	Available bool // active, user_available and below its chat limit
}

// Routing is the outcome of routing a new or rerouted conversation.
type Routing struct {
	Participants         []string
	AvailableAgentsCount int
}

// Route decides who gets a conversation of department d. A department with a bot gives it to the bot
// (unless noBot); "assigned" routing gives it to an available agent, round robin after the agent who
// got the previous one (lastAssigned); "pooled" routing, or nobody available, leaves it unassigned.
// Agents come sorted by user id, so the rotation is stable.
func Route(d *Department, agents []Agent, lastAssigned string, noBot bool) Routing {
	var available []string
	for _, a := range agents {
		if a.Available {
			available = append(available, a.UserID)
		}
	}
	slices.Sort(available)
	out := Routing{Participants: []string{}, AvailableAgentsCount: len(available)}
	switch {
	case d.IDBot != "" && !noBot:
		out.Participants = []string{BotPrefix + d.IDBot}
	case d.Routing == RoutingAssigned && len(available) > 0:
		next := available[0]
		if i, found := slices.BinarySearch(available, lastAssigned); lastAssigned != "" {
			if found {
				i++
			}
			next = available[i%len(available)]
		}
		out.Participants = []string{next}
	}
	return out
}

// Message is one message of a conversation (Recipient is the request_id).
type Message struct {
	ID                string
	ProjectID         string
	Sender            string
	SenderFullname    string
	Recipient         string
	RecipientFullname string
	Type              string
	ChannelType       string
	Text              string
	Language          string
	Channel           Channel
	Status            int
	Attributes        map[string]any
	Metadata          map[string]any
	CreatedBy         string
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// LeadRef describes the lead of a new conversation: found by LeadID, created when missing, and given
// the newer fullname and email when they changed.
type LeadRef struct {
	LeadID     string
	Fullname   string
	Email      string
	Attributes map[string]any
}

// NewRequest is a conversation to create. Request carries what the client chose (ids, texts, channel,
// requester...); the store fills lead, ticket, department, routing, snapshot and status.
type NewRequest struct {
	Request      *Request
	Lead         LeadRef
	DepartmentID string   // "" for the project's default department
	Participants []string // explicit participants skip routing
	NoBot        bool
}

// MessagePost is a message for a conversation that may not exist yet.
type MessagePost struct {
	Message *Message
	// LastMessage is the message as clients read it (a JSON object), kept in the request's
	// attributes.last_message. Encoded by the caller, outside the store's write path.
	LastMessage json.RawMessage
	// Create describes the conversation to create when Message.Recipient names none.
	Create *NewRequest
	// VisibleTo is who writes: posting into an existing conversation it may not see is ENOTFOUND
	// (nil: anyone). A new request_id creates a conversation whatever it is.
	VisibleTo   *Visibility
	Idempotency *Idempotency
	// Ref, when set, receives the versions of the objects the conversation is populated with, as
	// read with the returned conversation after the commit (see ViewStore.FindRequestRefs), so that
	// the answer can be assembled from renderings already made; left zero where PostMessage does
	// not read them.
	Ref *RequestRef
}

// RequestFilter selects and orders requests.
type RequestFilter struct {
	Statuses       []int // empty: the default (open) list
	AllStatuses    bool
	DepartmentID   string
	Participant    string
	LeadID         string
	RequesterID    string
	RequesterEmail string
	Text           string
	Tags           []string
	HasBot         *bool
	Channel        string // "offline" (email, form), "online" (anything else) or a channel name
	TicketID       *int
	Priority       string
	WorkingStatus  *StringMatch
	Preflight      bool // include preflight requests
	ExcludeDrafts  bool
	From, To       *time.Time // createdAt range, To exclusive
	UpdatedSince   *time.Time
	// VisibleTo, when set, limits the list to what a member may see (Visibility).
	VisibleTo *Visibility
	Sort      string
	Desc      bool
	Limit     int
	Offset    int
	After     *Cursor
	NoCount   bool
}

// StringMatch is a workingStatus condition: equal, not equal, in or not in a set.
type StringMatch struct {
	Op     string // "eq", "ne", "in", "nin"
	Values []string
}

// Sort keys of request lists.
const (
	RequestSortCreatedAt = "createdAt"
	RequestSortUpdatedAt = "updatedAt"
	RequestSortTicketID  = "ticket_id"
	RequestSortID        = "_id"
)

// IsRequestSort reports whether s is a sort key of request lists.
func IsRequestSort(s string) bool {
	switch s {
	case RequestSortCreatedAt, RequestSortUpdatedAt, RequestSortTicketID, RequestSortID:
		return true
	}
	return false
}

// RequestPage is a page of requests.
type RequestPage struct {
	Requests []*Request
	Count    int
	Next     *Cursor
}

// RequestCounts are the counters of GET /requests/count.
type RequestCounts struct {
	Unassigned, Assigned, BotAssigned, Closed int
}

// RequestEnv gives a change what it may need to read inside the request's transaction.
type RequestEnv interface {
	// Department returns a department of the project ("" for the default one); NoDepartment when
	// there is none.
	Department(id string) (*Department, error)
	// Route routes the request to department d.
	Route(d *Department, noBot bool) (Routing, error)
	// Transcript returns the transcript of the request's messages (Transcript), reading no more
	// of them than it keeps: a conversation may hold any number of messages.
	Transcript() (string, error)
	// Member returns an active membership of the project by user id, uuid or membership id.
	Member(id string) (*ProjectUser, error)
	Now() time.Time
}

// RequestChange changes r inside its transaction and returns the names of the events it caused
// besides request.update. The rules that build them are in request_rules.go, request_members.go and
// request_notes.go.
type RequestChange func(r *Request, env RequestEnv) (events []string, err error)

// MessageFilter pages the messages of a conversation, oldest first.
type MessageFilter struct {
	Limit int // 0: every message
	After *Cursor
	// Newest lists the newest Limit messages, newest first, without a cursor (After is ignored).
	Newest bool
}

// RequestRef is what a list needs to assemble a conversation: its version, and the ids (and, for
// the lead, the version) of the objects it is populated with.
type RequestRef struct {
	Version
	LeadID        string
	LeadUpdatedAt *time.Time // nil when the lead no longer exists
	DepartmentID  string
	RequesterID   string
	// The versions of the requester's membership and of its user (nil: gone, or a visitor
	// without a user). Every change of a membership or a user stamps it with a new updated_at.
	RequesterUpdatedAt     *time.Time
	RequesterUserUpdatedAt *time.Time
	ParticipantsAgents     []string
	ParticipantsBots       []string
	// Parts, when not nil, holds the members' and users' parts of the project's population clock
	// (ViewStore.Clocks) read with the ref, before anything it is populated with: a reader that has
	// it need not read the clock again.
	Parts *PopulationClock
}

// RequestRefPage is a page of RequestRefs, with the count and cursor of the same page of
// conversations.
type RequestRefPage struct {
	Refs  []RequestRef
	Count int
	Next  *Cursor
}

// RequestStore keeps conversations and their messages. Every method is scoped by project.
type RequestStore interface {
	// CreateRequest creates a conversation in one transaction: lead found or created, ticket id,
	// routing, snapshot, events lead.create (if new) and request.create.
	CreateRequest(ctx context.Context, in *NewRequest) (*Request, error)
	// PostMessage adds a message to its conversation, creating the conversation (as CreateRequest)
	// when it does not exist, in one transaction with the events (message.create, and request.create
	// etc. when created). Concurrent first messages to one request_id create one conversation.
	PostMessage(ctx context.Context, in *MessagePost) (r *Request, m *Message, created, replayed bool, err error)
	// AddMessages appends messages to an existing conversation (ENOTFOUND when missing or when v
	// may not see it).
	AddMessages(ctx context.Context, projectID, requestID string, v *Visibility, msgs []*Message, lastMessage json.RawMessage) (*Request, error)
	// FindRequest returns a conversation by its request_id; ENOTFOUND when there is none or v may
	// not see it (nil: anyone).
	FindRequest(ctx context.Context, projectID, requestID string, v *Visibility) (*Request, error)
	FindRequests(ctx context.Context, projectID string, f RequestFilter) (*RequestPage, error)
	// FindRequestsByIDs loads conversations by ObjectId.
	FindRequestsByIDs(ctx context.Context, projectID string, ids []string) (map[string]*Request, error)
	CountRequests(ctx context.Context, projectID string, visibleTo *Visibility) (*RequestCounts, error)
	// AddDirectMessage stores a message outside any conversation (to a user or a group) and
	// records direct_message.create with event as its payload.
	AddDirectMessage(ctx context.Context, m *Message, event json.RawMessage) error
	// FindDirectMessages lists the project's messages outside conversations, newest first.
	FindDirectMessages(ctx context.Context, projectID string, limit, offset int) ([]*Message, error)
	// FindDirectMessage returns one of the project's direct messages.
	FindDirectMessage(ctx context.Context, projectID, id string) (*Message, error)
	// RaiseDirectMessageStatus sets a direct message's status to m.Status (and its updatedAt to
	// m.UpdatedAt) if it was lower, recording direct_message.update with event as its payload;
	// false when it was not lower (nothing written).
	RaiseDirectMessageStatus(ctx context.Context, m *Message, event json.RawMessage) (bool, error)
	// FindDirectConversations returns, newest first, the last direct message (channel_type
	// "direct") a user exchanged with each of the others it wrote to or heard from in a project.
	FindDirectConversations(ctx context.Context, projectID, userID string, limit int) ([]*Message, error)
	// FindDirectMessagesBetween returns the newest direct messages two users exchanged in a project,
	// newest first.
	FindDirectMessagesBetween(ctx context.Context, projectID, a, b string, limit int) ([]*Message, error)
	// LastAssigned is the agent (user id) the project's last routed conversation went to, "" for
	// none: where routing's rotation goes on from.
	LastAssigned(ctx context.Context, projectID string) (string, error)
	// WaitingTimeSince averages the waiting time (ms) of the project's conversations created at or
	// after since: n is how many there are, avg nil when none has a waiting time.
	WaitingTimeSince(ctx context.Context, projectID string, since time.Time) (n int, avg *float64, err error)
	// ChangeRequest applies change to a conversation in one transaction, keeping participants,
	// assignment counters and counts in step, and records request.update plus the change's events.
	// A conversation v may not see is ENOTFOUND, before check runs. check, when given, may refuse
	// the change after seeing the current request (If-Match).
	ChangeRequest(ctx context.Context, projectID, requestID string, v *Visibility, change RequestChange, check func(*Request) error) (*Request, error)
	// DeleteRequest removes a conversation with its messages, in one transaction (ENOTFOUND when v
	// may not see it).
	DeleteRequest(ctx context.Context, projectID, requestID string, v *Visibility) (*Request, error)
	FindMessages(ctx context.Context, projectID, requestID string, f MessageFilter) ([]*Message, *Cursor, error)
	FindMessage(ctx context.Context, projectID, requestID, id string) (*Message, error)

	// Population of request lists, one query per kind.
	FindLeadsByIDs(ctx context.Context, projectID string, ids []string) (map[string]*Lead, error)
	FindDepartmentsByIDs(ctx context.Context, projectID string, ids []string) (map[string]*Department, error)
	FindProjectUsersByIDs(ctx context.Context, projectID string, ids []string) (map[string]*ProjectUser, error)
	FindUsersByIDs(ctx context.Context, ids []string) (map[string]*User, error)
}
