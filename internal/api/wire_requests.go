package api

import (
	"time"

	"github.com/tiledesk-go/tiledesk"
)

type requestTagJSON struct {
	ID         string         `json:"_id"`
	Tag        string         `json:"tag"`
	Color      string         `json:"color,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

type noteJSON struct {
	ID         string         `json:"_id"`
	Text       string         `json:"text"`
	Attributes map[string]any `json:"attributes,omitempty"`
	CreatedBy  string         `json:"createdBy"`
	CreatedAt  jsTime         `json:"createdAt"`
	UpdatedAt  jsTime         `json:"updatedAt"`
}

type snapshotJSON struct {
	Department           *departmentJSON  `json:"department,omitempty"`
	AvailableAgentsCount int              `json:"availableAgentsCount"`
	Requester            *projectUserJSON `json:"requester,omitempty"`
	Lead                 *leadJSON        `json:"lead,omitempty"`
}

// requestJSON is a conversation as the original serialises it. requester, lead and department are
// ids, or the objects when populated.
type requestJSON struct {
	Status              int               `json:"status"`
	Preflight           bool              `json:"preflight"`
	HasBot              bool              `json:"hasBot"`
	Participants        []string          `json:"participants"`
	Priority            string            `json:"priority"`
	Followers           []string          `json:"followers"`
	ParticipantsAgents  []string          `json:"participantsAgents"`
	ParticipantsBots    []string          `json:"participantsBots"`
	ID                  string            `json:"_id"`
	RequestID           string            `json:"request_id"`
	Requester           any               `json:"requester,omitempty"`
	Lead                any               `json:"lead,omitempty"`
	Subject             string            `json:"subject,omitempty"`
	FirstText           string            `json:"first_text"`
	Department          any               `json:"department,omitempty"`
	AssignedAt          *jsTime           `json:"assigned_at,omitempty"`
	IDProject           string            `json:"id_project"`
	CreatedBy           string            `json:"createdBy"`
	Channel             tiledesk.Channel  `json:"channel"`
	Tags                []requestTagJSON  `json:"tags"`
	Notes               []noteJSON        `json:"notes"`
	CreatedAt           jsTime            `json:"createdAt"`
	Snapshot            snapshotJSON      `json:"snapshot"`
	Contact             *tiledesk.Contact `json:"contact,omitempty"`
	ChannelOutbound     tiledesk.Channel  `json:"channelOutbound"`
	SmartAssignment     bool              `json:"smartAssignment"`
	UpdatedAt           jsTime            `json:"updatedAt"`
	TicketID            int               `json:"ticket_id"`
	V                   int               `json:"__v"`
	Attributes          map[string]any    `json:"attributes,omitempty"`
	Transcript          string            `json:"transcript,omitempty"`
	ClosedAt            *jsTime           `json:"closed_at,omitempty"`
	ClosedBy            string            `json:"closed_by,omitempty"`
	Duration            *int64            `json:"duration,omitempty"`
	FirstResponseAt     *jsTime           `json:"first_response_at,omitempty"`
	WaitingTime         *int64            `json:"waiting_time,omitempty"`
	Rating              *int              `json:"rating,omitempty"`
	RatingMessage       string            `json:"rating_message,omitempty"`
	SourcePage          string            `json:"sourcePage,omitempty"`
	Language            string            `json:"language,omitempty"`
	UserAgent           string            `json:"userAgent,omitempty"`
	Location            map[string]any    `json:"location,omitempty"`
	WorkingStatus       string            `json:"workingStatus,omitempty"`
	Draft               bool              `json:"draft,omitempty"`
	RequesterID         *string           `json:"requester_id"`
	ParticipatingAgents []*userJSON       `json:"participatingAgents,omitempty"`
	ParticipatingBots   any               `json:"participatingBots,omitempty"` // []botRefJSON; nil only in a core (see renderCore)
	IDVirtual           string            `json:"id"`
}

// botRefJSON stands for a bot participant where bots are not populated.
type botRefJSON struct {
	ID string `json:"_id"`
}

// toRequest renders a conversation unpopulated: requester, lead and department as ids.
func toRequest(r *tiledesk.Request) *requestJSON {
	out := &requestJSON{Status: r.Status, Preflight: r.Preflight, HasBot: r.HasBot, Participants: nonNil(r.Participants),
		Priority: r.Priority, Followers: nonNil(r.Followers), ParticipantsAgents: nonNil(r.ParticipantsAgents),
		ParticipantsBots: nonNil(r.ParticipantsBots), ID: r.ID, RequestID: r.RequestID, Subject: r.Subject,
		FirstText: r.FirstText, IDProject: r.ProjectID, CreatedBy: r.CreatedBy, Channel: r.Channel,
		Tags: []requestTagJSON{}, Notes: []noteJSON{}, CreatedAt: jsTime(r.CreatedAt), Contact: r.Contact,
		ChannelOutbound: r.ChannelOutbound, SmartAssignment: r.SmartAssignment, UpdatedAt: jsTime(r.UpdatedAt),
		TicketID: r.TicketID, Attributes: r.Attributes, Transcript: r.Transcript, ClosedBy: r.ClosedBy,
		Duration: r.Duration, WaitingTime: r.WaitingTime, Rating: r.Rating, RatingMessage: r.RatingMessage,
		SourcePage: r.SourcePage, Language: r.Language, UserAgent: r.UserAgent, Location: r.Location,
		WorkingStatus: r.WorkingStatus, Draft: r.Draft, ParticipatingBots: []botRefJSON{}, IDVirtual: r.ID}
	if r.RequesterID != "" {
		out.Requester = r.RequesterID
	}
	if r.LeadID != "" {
		out.Lead = r.LeadID
		id := r.LeadID
		out.RequesterID = &id
	}
	if r.DepartmentID != "" {
		out.Department = r.DepartmentID
	}
	out.AssignedAt, out.ClosedAt, out.FirstResponseAt = jsTimeOf(r.AssignedAt), jsTimeOf(r.ClosedAt), jsTimeOf(r.FirstResponseAt)
	for _, tg := range r.Tags {
		out.Tags = append(out.Tags, requestTagJSON(tg))
	}
	for _, n := range r.Notes {
		out.Notes = append(out.Notes, noteJSON{ID: n.ID, Text: n.Text, Attributes: n.Attributes, CreatedBy: n.CreatedBy,
			CreatedAt: jsTime(n.CreatedAt), UpdatedAt: jsTime(n.UpdatedAt)})
	}
	snap := r.Snapshot
	out.Snapshot.AvailableAgentsCount = snap.AvailableAgentsCount
	if snap.Department != nil {
		out.Snapshot.Department = toDepartment(snap.Department)
	}
	if snap.Requester != nil {
		pu := *snap.Requester
		pu.User = nil
		out.Snapshot.Requester = toProjectUser(&pu, nil)
	}
	if snap.Lead != nil {
		out.Snapshot.Lead = toLead(snap.Lead)
	}
	return out
}

type messageJSON struct {
	SenderFullname    string           `json:"senderFullname"`
	Type              string           `json:"type"`
	ChannelType       string           `json:"channel_type"`
	Status            int              `json:"status"`
	ID                string           `json:"_id"`
	Sender            string           `json:"sender"`
	Recipient         string           `json:"recipient"`
	RecipientFullname string           `json:"recipientFullname,omitempty"`
	Text              string           `json:"text,omitempty"`
	Language          string           `json:"language,omitempty"`
	IDProject         string           `json:"id_project"`
	CreatedBy         string           `json:"createdBy"`
	Channel           tiledesk.Channel `json:"channel"`
	Attributes        map[string]any   `json:"attributes,omitempty"`
	Metadata          map[string]any   `json:"metadata,omitempty"`
	CreatedAt         jsTime           `json:"createdAt"`
	UpdatedAt         jsTime           `json:"updatedAt"`
	V                 int              `json:"__v"`
	// The conversation, when the answer carries it, is added after these (writeJSONWith).
}

func toMessage(m *tiledesk.Message) *messageJSON {
	return &messageJSON{SenderFullname: m.SenderFullname, Type: m.Type, ChannelType: m.ChannelType, Status: m.Status,
		ID: m.ID, Sender: m.Sender, Recipient: m.Recipient, RecipientFullname: m.RecipientFullname, Text: m.Text,
		Language: m.Language, IDProject: m.ProjectID, CreatedBy: m.CreatedBy, Channel: m.Channel,
		Attributes: m.Attributes, Metadata: m.Metadata, CreatedAt: jsTime(m.CreatedAt), UpdatedAt: jsTime(m.UpdatedAt)}
}

func jsTimeOf(t *time.Time) *jsTime {
	if t == nil {
		return nil
	}
	j := jsTime(*t)
	return &j
}
