package api

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/chat21"
)

// Projects are the projects whose conversations a chat21 user may be a member of: a registered
// user's memberships, a visitor's (or a project customer's) one project.
func (h chat21Handler) Projects(ctx context.Context, id *chat21.Identity) ([]string, error) {
	if id.Scope != "" {
		return []string{id.Scope}, nil
	}
	guest := id.Subject != "user"
	return h.s.store.FindMembershipProjects(ctx, id.UserID, guest)
}

// Deliveries are the copies of a new message for the members of its conversation: its agents and
// bots, and its requester (a visitor gets no internal note). Each member's copy is delivered to
// its inbox with the conversation as the group it belongs to.
func (h chat21Handler) Deliveries(ctx context.Context, ev *tiledesk.Event) ([]chat21.Delivery, error) {
	if ev.Name != tiledesk.EventMessageCreate {
		return nil, nil
	}
	var m tiledesk.Message
	if err := json.Unmarshal(ev.Payload, &m); err != nil {
		return nil, err
	}
	req, err := h.s.store.FindRequest(ctx, ev.ProjectID, m.Recipient, nil)
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
		return nil, nil // not a conversation's message, or one deleted since
	} else if err != nil {
		return nil, err
	}
	members := append([]string{}, req.ParticipantsAgents...)
	for _, bot := range req.ParticipantsBots {
		members = append(members, tiledesk.BotPrefix+bot)
	}
	requester := ""
	if pu, err := h.s.store.FindProjectUserByID(ctx, ev.ProjectID, req.RequesterID); err == nil {
		requester = pu.UserID
		if pu.UUIDUser != "" {
			requester = pu.UUIDUser
		}
	}
	internal := tiledesk.IsInternal(m.Attributes)
	if requester != "" && !internal {
		members = append(members, requester)
	}
	slices.Sort(members)
	members = slices.Compact(members)
	group := ""
	if lead, err := h.s.store.FindLeadByID(ctx, ev.ProjectID, req.LeadID); err == nil {
		group = lead.Fullname
	}
	if group == "" {
		group = "Guest"
	}
	out := make([]chat21.Delivery, 0, len(members))
	for _, to := range members {
		c := chat21Copy(&m, to, group)
		if to == requester {
			c.Attributes = tiledesk.WithoutInternal(m.Attributes)
		}
		out = append(out, chat21.Delivery{To: to, With: m.Recipient, Message: c})
	}
	return out, nil
}

// chat21Copy is a member's copy of a message, as the chat21 clients read it.
func chat21Copy(m *tiledesk.Message, to, group string) *chat21.Message {
	typ := m.Type
	if typ == "" {
		typ = "text"
	}
	var metadata any
	if len(m.Metadata) > 0 {
		metadata = m.Metadata
	}
	return &chat21.Message{MessageID: m.ID, Sender: m.Sender, SenderFullname: m.SenderFullname,
		Recipient: m.Recipient, RecipientFullname: group, Text: m.Text, Type: typ, ChannelType: "group",
		Attributes: m.Attributes, Metadata: metadata, AppID: chat21.AppID, Timestamp: m.CreatedAt.UnixMilli(),
		Status: chat21.StatusDelivered, TimelineOf: to, ConversWith: m.Recipient}
}
