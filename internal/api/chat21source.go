package api

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

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
	switch ev.Name {
	case tiledesk.EventRequestClose:
		return chat21Archived(ev)
	case tiledesk.EventRequestParticipantsLeave, tiledesk.EventRequestParticipantsJoin:
		return h.participantDeliveries(ctx, ev)
	case tiledesk.EventDirectMessageCreate:
		return h.directDeliveries(ctx, ev)
	case tiledesk.EventDirectMessageUpdate:
		return h.directReceipts(ctx, ev)
	case tiledesk.EventChatGroupUpdate:
		return h.chatGroupChangeDeliveries(ctx, ev)
	case tiledesk.EventMessageCreate:
	default:
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
	members := chat21Members(req)
	requester := chat21Requester(req)
	if tiledesk.IsInternal(m.Attributes) { // agents only
		members = slices.DeleteFunc(members, func(id string) bool { return id == requester })
	}
	group := chat21GroupName(req)
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

// participantDeliveries tell a support group's join or leave, as the original does: the one who
// left gets the conversation archived, the one who joined its history; the members (and the one
// who left) get the group with the notification, then the info message.
func (h chat21Handler) participantDeliveries(ctx context.Context, ev *tiledesk.Event) ([]chat21.Delivery, error) {
	subj, err := decodeEvent(ev)
	if err != nil || subj.Request == nil || subj.Member == "" {
		return nil, err
	}
	req, member := subj.Request, subj.Member
	key, what := tiledesk.ChatGroupMemberJoined, "added to group"
	var out []chat21.Delivery
	if ev.Name == tiledesk.EventRequestParticipantsLeave {
		key, what = tiledesk.ChatGroupMemberLeft, "removed from group"
		out = chat21ArchivedFor(req, []string{member})
	} else if out, err = h.chat21History(ctx, ev.ProjectID, req, member); err != nil {
		return nil, err
	}
	to := chat21Members(req)
	if !slices.Contains(to, member) {
		to = append(to, member)
	}
	requester, group := chat21Requester(req), chat21GroupName(req)
	notification := map[string]any{"messagelabel": map[string]any{"key": key, "parameters": map[string]any{"member_id": member}}}
	for _, uid := range to {
		out = append(out, chat21.Delivery{To: uid, With: req.RequestID, Group: supportGroupJSON(req, uid == requester, notification)})
	}
	// A notice the clients show or hide, not a message of the conversation's history.
	name := h.s.chatName(ctx, member)
	info := infoMessage("info-"+ev.ID, ev.ProjectID, req.RequestID, group, key, name+" "+what,
		map[string]any{"member_id": member, "fullname": name}, ev.CreatedAt)
	for _, uid := range to {
		out = append(out, chat21.Delivery{To: uid, With: req.RequestID, Message: chat21Copy(info, uid, group)})
	}
	return out, nil
}

// chat21History gives a member who joined a conversation its history, as the original copies it
// on a join: the newest 200 messages, oldest first, each marked __history.
func (h chat21Handler) chat21History(ctx context.Context, pid string, req *tiledesk.Request, member string) ([]chat21.Delivery, error) {
	msgs, _, err := h.s.store.FindMessages(ctx, pid, req.RequestID, tiledesk.MessageFilter{Limit: chatListLimit, Newest: true})
	if err != nil {
		return nil, err
	}
	slices.Reverse(msgs)
	group := chat21GroupName(req)
	out := make([]chat21.Delivery, 0, len(msgs))
	for _, m := range msgs {
		c := chat21Copy(m, member, group)
		c.History = "true"
		out = append(out, chat21.Delivery{To: member, With: req.RequestID, Message: c})
	}
	return out, nil
}

// chat21Archived archives a closed conversation for all its members.
func chat21Archived(ev *tiledesk.Event) ([]chat21.Delivery, error) {
	subj, err := decodeEvent(ev)
	if err != nil || subj.Request == nil {
		return nil, err
	}
	return chat21ArchivedFor(subj.Request, chat21Members(subj.Request)), nil
}

// chat21ArchivedFor is a conversation, archived, in the lists of some of its members (and the one
// who left), as the original archives.
func chat21ArchivedFor(req *tiledesk.Request, to []string) []chat21.Delivery {
	requester := chat21Requester(req)
	out := make([]chat21.Delivery, 0, len(to))
	for _, uid := range to {
		conv := chat21ConversationOf(req, uid, uid == requester)
		conv.Archived = true
		out = append(out, chat21.Delivery{To: uid, With: req.RequestID, Archived: conv})
	}
	return out
}

// chat21Members are the members of a conversation's group: its agents and bots, and its requester.
func chat21Members(req *tiledesk.Request) []string {
	members := append([]string{}, req.ParticipantsAgents...)
	for _, bot := range req.ParticipantsBots {
		members = append(members, tiledesk.BotPrefix+bot)
	}
	if requester := chat21Requester(req); requester != "" {
		members = append(members, requester)
	}
	slices.Sort(members)
	return slices.Compact(members)
}

// chat21Requester is the chat21 user of a conversation's requester: a visitor's uuid, or a
// registered user's id ("" when unknown).
func chat21Requester(req *tiledesk.Request) string {
	pu := req.Snapshot.Requester
	if pu == nil {
		return ""
	}
	if pu.UUIDUser != "" {
		return pu.UUIDUser
	}
	return pu.UserID
}

// chat21GroupName is a conversation's group name, as the original names it: its lead's name, or
// its subject, or "Guest".
func chat21GroupName(req *tiledesk.Request) string {
	if l := req.Snapshot.Lead; l != nil && strings.TrimSpace(l.Fullname) != "" {
		return strings.TrimSpace(l.Fullname)
	}
	if req.Subject != "" {
		return req.Subject
	}
	return "Guest"
}

// chat21Conversation is a conversation in a user's list, as the chat21 clients read it: the last
// message and the conversation's flags.
type chat21Conversation struct {
	TimelineOf        string         `json:"timelineOf"`
	ConversWith       string         `json:"conversWith"`
	Key               string         `json:"key"`
	Recipient         string         `json:"recipient"`
	RecipientFullname string         `json:"recipient_fullname"`
	Sender            string         `json:"sender"`
	SenderFullname    string         `json:"sender_fullname"`
	Text              string         `json:"text"`
	LastMessageText   string         `json:"last_message_text"`
	Type              string         `json:"type"`
	ChannelType       string         `json:"channel_type"`
	Attributes        map[string]any `json:"attributes,omitempty"`
	AppID             string         `json:"app_id"`
	Timestamp         int64          `json:"timestamp"`
	Status            int            `json:"status"`
	IsNew             bool           `json:"is_new"`
	Archived          bool           `json:"archived"`
	// lastAt is when the message the conversation shows as its last was written.
	lastAt time.Time
}

// chat21ConversationOf is a conversation in uid's list: its last message (the first, before a
// second is written), in the visitor's view for a visitor.
func chat21ConversationOf(req *tiledesk.Request, uid string, visitor bool) *chat21Conversation {
	attrs := req.Attributes
	if visitor {
		attrs = tiledesk.WithoutInternal(attrs)
	}
	c := &chat21Conversation{TimelineOf: uid, ConversWith: req.RequestID, Key: req.RequestID, Recipient: req.RequestID,
		RecipientFullname: chat21GroupName(req), Sender: chat21Requester(req), Text: req.FirstText, Type: "text",
		ChannelType: "group", AppID: chat21.AppID, Timestamp: req.UpdatedAt.UnixMilli(), Status: chat21.StatusDelivered,
		Archived: req.Status >= tiledesk.RequestClosed}
	if l := req.Snapshot.Lead; l != nil {
		c.SenderFullname = l.Fullname
	}
	if last, ok := attrs["last_message"].(map[string]any); ok {
		text, _ := last["text"].(string)
		sender, _ := last["sender"].(string)
		name, _ := last["senderFullname"].(string)
		typ, _ := last["type"].(string)
		lastAttrs, _ := last["attributes"].(map[string]any)
		c.setLast(text, sender, name, typ, lastAttrs, lastMessageAt(req))
	}
	c.LastMessageText = c.Text
	c.lastAt = lastMessageAt(req)
	return c
}

// applyMarks marks the conversation archived when the user archived it since its last message
// (closed, it is archived anyway), and new when its last message is someone else's and came after
// the user last read it.
func (c *chat21Conversation) applyMarks(st tiledesk.ChatState) {
	last := c.lastAt
	if st.ArchivedAt != nil && !st.ArchivedAt.Before(last) {
		c.Archived = true
	}
	c.IsNew = !c.Archived && c.Sender != c.TimelineOf && (st.ReadAt == nil || st.ReadAt.Before(last))
}

// lastMessageAt is when a conversation's last message was written: the first one's, the
// conversation's creation, until a second one.
func lastMessageAt(req *tiledesk.Request) time.Time {
	if last, ok := req.Attributes["last_message"].(map[string]any); ok {
		if at, ok := last["createdAt"].(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
				return t
			}
		}
	}
	return req.CreatedAt
}

// setLast makes a message, written at at, the conversation's last.
func (c *chat21Conversation) setLast(text, sender, senderFullname, typ string, attributes map[string]any, at time.Time) {
	c.Text, c.LastMessageText, c.Sender, c.SenderFullname, c.Attributes, c.lastAt = text, text, sender, senderFullname, attributes, at
	if typ != "" {
		c.Type = typ
	}
}

// updatesConversation says whether a message becomes its conversation's last, as chat21 has it:
// unless its attributes say "updateconversation": false.
func updatesConversation(attributes map[string]any) bool {
	v, ok := attributes["updateconversation"].(bool)
	return !ok || v
}
