package api

import (
	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/views"
)

// The visitor's view. A guest (anonymous or custom-token visitor, or any member below agent) gets
// its conversations, their messages and the answers to its own writes in these shapes, written
// field by field: what the widget and the SDKs read of a conversation (ids, status, texts, the
// department's name and messages, the agents' names, its own lead and contact, its rating) and
// nothing the agents keep about it. Never included: notes, tags, followers, the transcript, the
// snapshot, working status, priority, location, user agent, timings, the agents' emails, phones,
// descriptions and attributes, the lead's notes, properties, attributes and tags, the requester's
// permissions, settings and attributes; and whatever is marked internal (tiledesk.InternalKey):
// such messages, and such objects inside attributes. visitor_view_test.go holds the allow-list.

type visitorRequestJSON struct {
	Status             int               `json:"status"`
	Preflight          bool              `json:"preflight"`
	HasBot             bool              `json:"hasBot"`
	Participants       []string          `json:"participants"`
	ParticipantsAgents []string          `json:"participantsAgents"`
	ParticipantsBots   []string          `json:"participantsBots"`
	ID                 string            `json:"_id"`
	RequestID          string            `json:"request_id"`
	Requester          any               `json:"requester,omitempty"`
	Lead               any               `json:"lead,omitempty"`
	Subject            string            `json:"subject,omitempty"`
	FirstText          string            `json:"first_text"`
	Department         any               `json:"department,omitempty"`
	IDProject          string            `json:"id_project"`
	CreatedBy          string            `json:"createdBy"`
	Channel            tiledesk.Channel  `json:"channel"`
	CreatedAt          jsTime            `json:"createdAt"`
	Contact            *tiledesk.Contact `json:"contact,omitempty"`
	UpdatedAt          jsTime            `json:"updatedAt"`
	TicketID           int               `json:"ticket_id"`
	V                  int               `json:"__v"`
	Attributes         map[string]any    `json:"attributes,omitempty"`
	ClosedAt           *jsTime           `json:"closed_at,omitempty"`
	Rating             *int              `json:"rating,omitempty"`
	RatingMessage      string            `json:"rating_message,omitempty"`
	SourcePage         string            `json:"sourcePage,omitempty"`
	Language           string            `json:"language,omitempty"`
	RequesterID        *string           `json:"requester_id"`
	ParticipatingBots  any               `json:"participatingBots,omitempty"` // only in an unpopulated answer's place: nil
	IDVirtual          string            `json:"id"`
}

// toVisitorRequest renders a conversation for its visitor; withIDs gives requester, lead and
// department as ids (an unpopulated answer), otherwise they are left for the views to populate.
func toVisitorRequest(r *tiledesk.Request, withIDs bool) *visitorRequestJSON {
	out := &visitorRequestJSON{Status: r.Status, Preflight: r.Preflight, HasBot: r.HasBot, Participants: nonNil(r.Participants),
		ParticipantsAgents: nonNil(r.ParticipantsAgents), ParticipantsBots: nonNil(r.ParticipantsBots), ID: r.ID,
		RequestID: r.RequestID, Subject: r.Subject, FirstText: r.FirstText, IDProject: r.ProjectID, CreatedBy: r.CreatedBy,
		Channel: r.Channel, CreatedAt: jsTime(r.CreatedAt), Contact: r.Contact, UpdatedAt: jsTime(r.UpdatedAt),
		TicketID: r.TicketID, Attributes: tiledesk.WithoutInternal(r.Attributes), ClosedAt: jsTimeOf(r.ClosedAt),
		Rating: r.Rating, RatingMessage: r.RatingMessage, SourcePage: r.SourcePage, Language: r.Language, IDVirtual: r.ID}
	if r.LeadID != "" {
		id := r.LeadID
		out.RequesterID = &id
	}
	if withIDs {
		if r.RequesterID != "" {
			out.Requester = r.RequesterID
		}
		if r.LeadID != "" {
			out.Lead = r.LeadID
		}
		if r.DepartmentID != "" {
			out.Department = r.DepartmentID
		}
		out.ParticipatingBots = []botRefJSON{}
	}
	return out
}

// visitorLeadJSON is the visitor's own contact as it gave it.
type visitorLeadJSON struct {
	ID       string `json:"_id"`
	LeadID   string `json:"lead_id"`
	Fullname string `json:"fullname,omitempty"`
	Email    string `json:"email,omitempty"`
}

func toVisitorLead(l *tiledesk.Lead) *visitorLeadJSON {
	return &visitorLeadJSON{ID: l.ID, LeadID: l.LeadID, Fullname: l.Fullname, Email: l.Email}
}

// visitorRequesterJSON is the visitor's own membership.
type visitorRequesterJSON struct {
	ID              string `json:"_id"`
	IDProject       string `json:"id_project"`
	IDUser          string `json:"id_user,omitempty"`
	UUIDUser        string `json:"uuid_user,omitempty"`
	Role            string `json:"role"`
	RoleType        int    `json:"roleType"`
	Status          string `json:"status"`
	IsAuthenticated bool   `json:"isAuthenticated"`
	IDVirtual       string `json:"id"`
}

func toVisitorRequester(pu *tiledesk.ProjectUser) *visitorRequesterJSON {
	return &visitorRequesterJSON{ID: pu.ID, IDProject: pu.ProjectID, IDUser: pu.UserID, UUIDUser: pu.UUIDUser, Role: pu.Role,
		RoleType: pu.RoleType, Status: pu.Status, IsAuthenticated: pu.Role != tiledesk.RoleGuest, IDVirtual: pu.ID}
}

// visitorDepartmentJSON is what the widget shows of a department.
type visitorDepartmentJSON struct {
	ID          string `json:"_id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	OnlineMsg   string `json:"online_msg,omitempty"`
	OfflineMsg  string `json:"offline_msg,omitempty"`
	HasBot      bool   `json:"hasBot"`
	IDVirtual   string `json:"id"`
}

func toVisitorDepartment(d *tiledesk.Department) *visitorDepartmentJSON {
	return &visitorDepartmentJSON{ID: d.ID, Name: d.Name, Description: d.Description, OnlineMsg: d.OnlineMsg,
		OfflineMsg: d.OfflineMsg, HasBot: d.HasBot(), IDVirtual: d.ID}
}

// visitorAgentJSON is an agent as a visitor sees it: who answers, by name.
type visitorAgentJSON struct {
	ID        string `json:"_id"`
	Firstname string `json:"firstname"`
	Lastname  string `json:"lastname"`
}

func toVisitorAgent(u *tiledesk.User) *visitorAgentJSON {
	return &visitorAgentJSON{ID: u.ID, Firstname: u.Firstname, Lastname: u.Lastname}
}

// toVisitorMessage renders a message for a visitor; nil for a message it must not see. Every
// field of a message the visitor may see is its to read (the message's wire type holds nothing
// else), except what is marked internal in its attributes.
func toVisitorMessage(m *tiledesk.Message) *messageJSON {
	if tiledesk.IsInternal(m.Attributes) {
		return nil
	}
	out := toMessage(m)
	out.Attributes = tiledesk.WithoutInternal(m.Attributes)
	return out
}

// messageView renders one message for the caller's view; nil when the caller may not see it.
func messageView(view views.Audience, m *tiledesk.Message) any {
	if view == visitorView {
		if v := toVisitorMessage(m); v != nil {
			return v
		}
		return nil
	}
	return toMessage(m)
}
