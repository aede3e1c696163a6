package tiledesk

import (
	"slices"
	"strings"
)

// The rules that change a conversation. Each builds the RequestChange that RequestStore.ChangeRequest
// applies inside the conversation's transaction, once the store has found that the actor may see
// the conversation (Visibility); a rule refuses with an *Error. Rules whose input refers to other
// objects (members, leads) check those references when they are built, through a lookup.

// Rules whose refusals a client tells apart from other refusals of their code (Error.Rule).
const (
	// RuleCloseByParticipant: below admin, an agent closes only the conversations it takes part in.
	RuleCloseByParticipant = "close_by_participant"
	// RuleParticipantPresent: a participant is removed only from a conversation it takes part in.
	RuleParticipantPresent = "participant_present"
	// RuleNoteText: a note has a text.
	RuleNoteText = "note_text"
	// RuleDepartmentExists: a conversation goes to a department of its project.
	RuleDepartmentExists = "department_exists"
)

// Actor is who changes a conversation: an active membership of the conversation's project, acting as
// a user.
type Actor struct {
	Member *ProjectUser
	UserID string // the user id it acts as (a visitor's uuid)
}

// Visibility is what the actor may see (VisibilityOf); the rules that depend on who acts decide
// with the same notion.
func (a Actor) Visibility() *Visibility { return VisibilityOf(a.Member, a.UserID) }

// isAdmin reports whether the actor administers the project (admins and owners).
func (a Actor) isAdmin() bool { return HasRole(a.Member.Role, RoleAdmin) }

// takesPart reports whether the actor is among r's agents.
func (a Actor) takesPart(r *Request) bool { return slices.Contains(r.ParticipantsAgents, a.UserID) }

// NoDepartment is the refusal of a department id that names no department of the project ("": the
// project has no default department).
func NoDepartment(id string) *Error {
	e := Invalid("departmentid", "no department %s in this project", id)
	if id == "" {
		e = Invalid("departmentid", "the project has no default department")
	}
	e.Rule = RuleDepartmentExists
	return e
}

// mayClose is who may close a conversation, however it asks: admins and owners any they see, other
// agents those they take part in, a visitor its own (which is all it sees).
func mayClose(a Actor, r *Request) error {
	if a.Visibility().IsVisitor() || a.isAdmin() || a.takesPart(r) {
		return nil
	}
	return &Error{Code: EFORBIDDEN, Rule: RuleCloseByParticipant,
		Message: "You must be among the participants to close a conversation."}
}

// CloseRequest closes a conversation by a, writing its transcript; one already closed is left as it
// is unless force.
func CloseRequest(a Actor, force bool) RequestChange {
	return func(r *Request, env RequestEnv) ([]string, error) {
		if err := mayClose(a, r); err != nil {
			return nil, err
		}
		if r.Status == RequestClosed && !force {
			return nil, nil
		}
		transcript, err := env.Transcript()
		if err != nil {
			return nil, err
		}
		r.Close(a.UserID, env.Now(), transcript)
		return []string{EventRequestClose}, nil
	}
}

// ReopenRequest reopens a closed conversation: assigned with participants, unassigned without.
func ReopenRequest() RequestChange { return reopen }

func reopen(r *Request, env RequestEnv) ([]string, error) {
	if r.Status != RequestClosed {
		return nil, nil
	}
	r.Reopen(env.Now())
	return []string{EventRequestReopen}, nil
}

// SetRequestStatus moves a conversation to status (a request status) as the rules made for it do:
// closing is CloseRequest (who may, transcript and event), leaving the closed status reopens the
// conversation before the status asked for is set.
func SetRequestStatus(a Actor, status int) RequestChange {
	closer := CloseRequest(a, false)
	return func(r *Request, env RequestEnv) ([]string, error) {
		switch {
		case status == r.Status:
			return nil, nil
		case status == RequestClosed:
			return closer(r, env)
		case r.Status == RequestClosed:
			events, err := reopen(r, env)
			r.Status = status
			return events, err
		}
		r.Status = status
		return nil, nil
	}
}

// RateRequest sets a conversation's rating and its message; nil leaves either as it is.
func RateRequest(rating *int, message *string) RequestChange {
	return func(r *Request, _ RequestEnv) ([]string, error) {
		if rating != nil {
			r.Rating = rating
		}
		setIf(&r.RatingMessage, message)
		return []string{EventRequestSatisfaction}, nil
	}
}

// RequestPatch is what a patch of a conversation sets; nil leaves a field as it is.
type RequestPatch struct {
	Status          *int // a request status, changed as SetRequestStatus
	LeadID          *string
	Tags            []RequestTag // replaces the tags unless nil
	Rating          *int
	RatingMessage   *string
	SourcePage      *string
	Language        *string
	FirstText       *string
	Subject         *string
	Priority        *string
	SmartAssignment *bool
	WorkingStatus   *string
	ChannelName     *string
	Location        map[string]any
}

// LeadLookup finds a lead of the conversation's project by its ObjectId (ENOTFOUND when none).
type LeadLookup func(id string) (*Lead, error)

// PatchRequest sets what p sets, by a. A lead must be one of the project's.
func PatchRequest(a Actor, p RequestPatch, leads LeadLookup) (RequestChange, error) {
	if p.LeadID != nil {
		lead := strings.ToLower(*p.LeadID)
		if _, err := leads(lead); ErrorCode(err) == ENOTFOUND {
			return nil, Invalid("lead", "no lead %s in this project", *p.LeadID)
		} else if err != nil {
			return nil, err
		}
		p.LeadID = &lead
	}
	var status RequestChange
	if p.Status != nil {
		status = SetRequestStatus(a, *p.Status)
	}
	return func(r *Request, env RequestEnv) ([]string, error) {
		var events []string
		if status != nil {
			var err error
			if events, err = status(r, env); err != nil {
				return nil, err
			}
		}
		p.apply(r)
		return events, nil
	}, nil
}

// apply sets p's fields but the status.
func (p *RequestPatch) apply(r *Request) {
	setIf(&r.LeadID, p.LeadID)
	if p.Tags != nil {
		r.Tags = p.Tags
	}
	if p.Rating != nil {
		r.Rating = p.Rating
	}
	setIf(&r.RatingMessage, p.RatingMessage)
	setIf(&r.SourcePage, p.SourcePage)
	setIf(&r.Language, p.Language)
	setIf(&r.FirstText, p.FirstText)
	setIf(&r.Subject, p.Subject)
	setIf(&r.Priority, p.Priority)
	setIf(&r.SmartAssignment, p.SmartAssignment)
	setIf(&r.WorkingStatus, p.WorkingStatus)
	setIf(&r.Channel.Name, p.ChannelName)
	if p.Location != nil {
		r.Location = p.Location
	}
}

// MergeRequestAttributes merges m into a conversation's attributes, within the JSON bounds.
// attributes.last_message is the server's: a long last message must not block the client's merges.
func MergeRequestAttributes(m map[string]any) RequestChange {
	return func(r *Request, _ RequestEnv) ([]string, error) {
		attrs, err := MergeJSON("attributes", r.Attributes, m, MaxJSONBytes, "last_message")
		if err != nil {
			return nil, err
		}
		r.Attributes = attrs
		return []string{EventRequestAttributes}, nil
	}
}

// RerouteRequest routes a conversation again, to the department departmentID ("": the one it is in),
// skipping the department's bot when noBot.
func RerouteRequest(departmentID string, noBot bool) RequestChange {
	return func(r *Request, env RequestEnv) ([]string, error) {
		id := departmentID
		if id == "" {
			id = r.DepartmentID
		}
		d, err := env.Department(id)
		if err != nil {
			return nil, err
		}
		out, err := env.Route(d, noBot)
		if err != nil {
			return nil, err
		}
		events := []string{EventRequestParticipants}
		if d.ID != r.DepartmentID {
			events = append(events, EventRequestDepartment)
		}
		r.DepartmentID = d.ID
		r.SetParticipants(out.Participants, env.Now())
		return events, nil
	}
}

// MoveRequest moves a conversation to the department departmentID, which must be named, and routes
// it there.
func MoveRequest(departmentID string, noBot bool) (RequestChange, error) {
	if departmentID == "" {
		return nil, Invalid("departmentid", "is required")
	}
	return RerouteRequest(departmentID, noBot), nil
}

// AssignRequest routes a conversation that is waiting (as RerouteRequest); assigned and closed ones
// stay as they are.
func AssignRequest(departmentID string, noBot bool) RequestChange {
	route := RerouteRequest(departmentID, noBot)
	return func(r *Request, env RequestEnv) ([]string, error) {
		if r.Status == RequestAssigned || r.Status == RequestServed || r.Status == RequestClosed {
			return nil, nil
		}
		return route(r, env)
	}
}

// HandRequestToAgent hands a conversation to a human of its department: it is routed again without
// the department's bot.
func HandRequestToAgent() RequestChange { return RerouteRequest("", true) }

// MayDeleteRequest is who may delete a conversation it sees: the owner, or a member with the
// request_delete permission.
func MayDeleteRequest(a Actor) error {
	if a.Member.Role == RoleOwner || slices.Contains(a.Member.Permissions, "request_delete") {
		return nil
	}
	return Errorf(EFORBIDDEN, "Unauthorized.")
}

// setIf sets *dst to *v unless v is nil.
func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
