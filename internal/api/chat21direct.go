package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/chat21"
)

// Direct chats of the chat21 protocol: a message a teammate sends to another user rather than to
// a group. They are the project's direct messages (POST /:pid/messages), so a message sent either
// way reaches the recipient's inbox and the project's log alike. A direct chat belongs to a
// project both users are members of: chat21 itself knows no projects, and no user can write into
// the inbox of someone it shares no project with.

// errNoDirectProject answers a direct message to a user the sender shares no project with.
var errNoDirectProject = errors.New("the sender shares no project with the recipient")

// isChatGroup says whether a chat21 message goes to a group, as chat21 reads it: its channel
// type says so, or its recipient's id does.
func isChatGroup(recipient, channelType string) bool {
	return channelType == "group" || strings.Contains(recipient, "group-")
}

// sendDirect posts a direct message as its sender would with POST /:pid/messages, in the first
// project (the one the message's attributes name, if any) where the sender is a teammate and
// the recipient a member.
func (h chat21Handler) sendDirect(ctx context.Context, c *caller, address, recipient string, m *chat21.Outgoing) error {
	named, _ := m.Attributes["projectId"].(string)
	pid, err := h.s.directProject(ctx, c, recipient, named)
	if err != nil {
		return err
	}
	body := outgoingBody(m, recipient, cmp.Or(strings.TrimSpace(m.RecipientFullname), recipient), "direct")
	_, err = h.s.callAs(ctx, c, address, http.MethodPost, "/"+pid+"/messages", body)
	return err
}

// outgoingBody is the body of POST /:pid/messages for a message a chat21 client sent.
func outgoingBody(m *chat21.Outgoing, recipient, recipientFullname, channelType string) map[string]any {
	body := map[string]any{"recipient": recipient, "recipientFullname": recipientFullname, "text": m.Text, "channel_type": channelType}
	if m.SenderFullname != "" {
		body["senderFullname"] = m.SenderFullname
	}
	if m.Type != "" {
		body["type"] = m.Type
	}
	if m.Attributes != nil {
		body["attributes"] = m.Attributes
	}
	if m.Metadata != nil {
		body["metadata"] = m.Metadata
	}
	return body
}

// directProject is the project a direct message from c to recipient is written in.
func (s *Server) directProject(ctx context.Context, c *caller, recipient, named string) (string, error) {
	if c.user == nil {
		return "", errMsg(http.StatusForbidden, "Direct messages are between teammates: a visitor writes to its conversation.")
	}
	pids, err := s.sharedProjects(ctx, c, named, []string{recipient}, true)
	if err != nil {
		return "", err
	}
	for _, pid := range pids {
		sender, err := s.chatTeammate(ctx, pid, c.id)
		if err != nil {
			return "", err
		}
		if sender == nil {
			continue
		}
		if to, err := s.chatMemberOf(ctx, pid, recipient); err != nil {
			return "", err
		} else if to != nil {
			return pid, nil
		}
	}
	return "", errNoDirectProject
}

// sharedProjects are the projects a registered caller's new chat with others may be in, in
// order: its token's project, or the one named, or else those of its own where every one of the
// others is a member too (as a visitor as well, with guests). Only these few are then checked
// one by one, however many projects the caller belongs to.
func (s *Server) sharedProjects(ctx context.Context, c *caller, named string, others []string, guests bool) ([]string, error) {
	switch {
	case c.scope != "":
		return []string{c.scope}, nil
	case tiledesk.IsID(named):
		return []string{strings.ToLower(named)}, nil
	}
	pids, err := s.store.FindMembershipProjects(ctx, c.id, false)
	if err != nil {
		return nil, err
	}
	for _, uid := range others {
		if uid == c.id || len(pids) == 0 {
			continue
		}
		theirs := map[string]bool{}
		for _, guest := range []bool{false, true} {
			if guest && !guests {
				break
			}
			some, err := s.store.FindMembershipProjects(ctx, uid, guest)
			if err != nil {
				return nil, err
			}
			for _, pid := range some {
				theirs[pid] = true
			}
		}
		pids = slices.DeleteFunc(pids, func(pid string) bool { return !theirs[pid] })
	}
	return pids, nil
}

// chatMemberOf is a chat user's active membership in a project, a registered user's or a
// visitor's; nil when it has none.
func (s *Server) chatMemberOf(ctx context.Context, pid, uid string) (*tiledesk.ProjectUser, error) {
	for _, guest := range []bool{false, true} {
		pu, err := s.store.FindMember(ctx, pid, uid, guest)
		if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		if pu.IsActive() {
			return pu, nil
		}
	}
	return nil, nil
}

// directDeliveries are the copies of a new direct message: the sender's (status 100) with the
// recipient, the recipient's (status 150) with the sender, each to a member of the project only.
func (h chat21Handler) directDeliveries(ctx context.Context, ev *tiledesk.Event) ([]chat21.Delivery, error) {
	m, err := directMessageOf(ev)
	if err != nil {
		return nil, err
	}
	if isChatGroupID(m.Recipient) {
		return h.chatGroupDeliveries(ctx, ev, m)
	}
	if m.ChannelType != "direct" || isChatGroup(m.Recipient, "") {
		return nil, nil
	}
	var out []chat21.Delivery
	to := []string{m.Sender, m.Recipient}
	if m.Recipient == m.Sender {
		to = to[:1] // a note to oneself: one copy
	}
	for _, uid := range to {
		pu, err := h.s.chatMemberOf(ctx, ev.ProjectID, uid)
		if err != nil {
			return nil, err
		}
		if pu != nil {
			c := chat21DirectCopy(m, uid)
			out = append(out, chat21.Delivery{To: uid, With: c.ConversWith, Message: c})
		}
	}
	return out, nil
}

// chat21DirectCopy is a user's copy of a direct message: its own are sent (100), others'
// delivered to it (150).
func chat21DirectCopy(m *tiledesk.Message, uid string) *chat21.Message {
	c := chat21Copy(m, uid, m.RecipientFullname)
	c.ChannelType, c.ConversWith = "direct", directCounterpart(m, uid)
	received := m.Status >= chat21.StatusReceived
	switch {
	case m.Sender == uid && received:
		c.Status = chat21.StatusReturned
	case m.Sender == uid:
		c.Status = chat21.StatusSent
	case received:
		c.Status = chat21.StatusReceived
	}
	return c
}

// directCounterpart is the other side of a direct message, for uid.
func directCounterpart(m *tiledesk.Message, uid string) string {
	if m.Sender == uid {
		return m.Recipient
	}
	return m.Sender
}

// chatCopy is uid's copy of a message outside conversations: of a direct chat, or of a chat
// group (delivered, 150, to every member as the original delivers group messages).
func chatCopy(m *tiledesk.Message, uid string) *chat21.Message {
	if isChatGroupID(m.Recipient) {
		return chat21Copy(m, uid, m.RecipientFullname)
	}
	return chat21DirectCopy(m, uid)
}

// chatConversationOfMessage is uid's conversation (direct chat or chat group) whose last message
// is m.
func chatConversationOfMessage(m *tiledesk.Message, uid string) *chat21Conversation {
	copied := chatCopy(m, uid)
	c := &chat21Conversation{TimelineOf: uid, ConversWith: copied.ConversWith, Key: copied.ConversWith,
		Recipient: m.Recipient, RecipientFullname: m.RecipientFullname, Type: copied.Type, ChannelType: copied.ChannelType,
		AppID: chat21.AppID, Timestamp: copied.Timestamp, Status: copied.Status}
	c.setLast(m.Text, m.Sender, m.SenderFullname, copied.Type, m.Attributes, m.CreatedAt)
	return c
}

// lastChatMessages are the last messages of the caller's direct chats and chat groups in a
// membership's project (of the one with cw only, when cw is set).
func (s *Server) lastChatMessages(ctx context.Context, m chatMember, uid, cw string) ([]*tiledesk.Message, error) {
	switch {
	case cw == "":
		direct, err := s.store.FindDirectConversations(ctx, m.pid, uid, chatListLimit)
		if err != nil || m.visitor {
			return direct, err
		}
		groups, err := s.store.FindChatGroupConversations(ctx, m.pid, uid, chatListLimit)
		return append(direct, groups...), err
	case isChatGroupID(cw):
		g, err := s.store.FindChatGroup(ctx, cw)
		if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND || err == nil && (g.ProjectID != m.pid || !slices.Contains(g.Members, uid)) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		return s.store.FindChatGroupMessages(ctx, m.pid, cw, 1)
	case !isChatGroup(cw, ""):
		return s.store.FindDirectMessagesBetween(ctx, m.pid, uid, cw, 1)
	}
	return nil, nil
}

// chatConversationsIn are the caller's direct chats and chat groups in a membership's project
// (the one with cw only, when cw is set), with its marks applied, by conversWith.
func (s *Server) chatConversationsIn(ctx context.Context, m chatMember, uid, cw string) (map[string]*chat21Conversation, error) {
	newest, err := s.lastChatMessages(ctx, m, uid, cw)
	if err != nil || len(newest) == 0 {
		return nil, err
	}
	var convs []*chat21Conversation
	var with []string
	for _, msg := range newest {
		shown, err := s.shownChatMessage(ctx, m.pid, uid, msg)
		if err != nil {
			return nil, err
		}
		if shown != nil {
			convs = append(convs, chatConversationOfMessage(shown, uid))
			with = append(with, convs[len(convs)-1].ConversWith)
		}
	}
	states, err := s.store.FindChatStates(ctx, m.pid, uid, with)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*chat21Conversation, len(convs))
	for i, conv := range convs {
		conv.applyMarks(states[with[i]])
		out[with[i]] = conv
	}
	return out, nil
}

// shownChatMessage is the message a direct chat or chat group whose newest message is newest
// shows as its last: the newest one that updates the conversation (not "updateconversation":
// false), among the last 20; nil when none does.
func (s *Server) shownChatMessage(ctx context.Context, pid, uid string, newest *tiledesk.Message) (*tiledesk.Message, error) {
	if updatesConversation(newest.Attributes) {
		return newest, nil
	}
	var recent []*tiledesk.Message
	var err error
	if isChatGroupID(newest.Recipient) {
		recent, err = s.store.FindChatGroupMessages(ctx, pid, newest.Recipient, 20)
	} else {
		recent, err = s.store.FindDirectMessagesBetween(ctx, pid, uid, directCounterpart(newest, uid), 20)
	}
	for _, m := range recent {
		if updatesConversation(m.Attributes) {
			return m, err
		}
	}
	return nil, err
}

// chatOtherList adds the caller's direct chats and chat groups of every membership to a list,
// the newest per counterpart where two projects hold one.
func (s *Server) chatOtherList(ctx context.Context, members []chatMember, uid, cw string, archived bool, list []*chat21Conversation) ([]*chat21Conversation, error) {
	newest := map[string]*chat21Conversation{}
	for _, m := range members {
		convs, err := s.chatConversationsIn(ctx, m, uid, cw)
		if err != nil {
			return nil, err
		}
		for with, conv := range convs {
			if prev := newest[with]; prev == nil || conv.Timestamp > prev.Timestamp {
				newest[with] = conv
			}
		}
	}
	for _, conv := range newest {
		if conv.Archived == archived {
			list = append(list, conv)
		}
	}
	return list, nil
}

// chatDirectMessages answers the newest messages the caller exchanged with cw, newest first, in
// every project they share.
func (s *Server) chatDirectMessages(w http.ResponseWriter, r *http.Request, c *call, cw string) error {
	members, err := s.chatMembers(r.Context(), c.caller)
	if err != nil {
		return err
	}
	var msgs []*tiledesk.Message
	for _, m := range members {
		some, err := s.store.FindDirectMessagesBetween(r.Context(), m.pid, c.caller.id, cw, chatListLimit)
		if err != nil {
			return err
		}
		msgs = append(msgs, some...)
	}
	slices.SortFunc(msgs, func(a, b *tiledesk.Message) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(b.ID, a.ID))
	})
	out := make([]*chat21.Message, 0, min(len(msgs), chatListLimit))
	for _, msg := range msgs[:min(len(msgs), chatListLimit)] {
		out = append(out, chat21DirectCopy(msg, c.caller.id))
	}
	chatAnswer(w, out)
	return nil
}

// markChat records a user's read mark or archiving of its direct chat with cw, in each project
// where they exchanged messages, or of its chat group cw, and answers the conversation as it now
// is.
func (s *Server) markChat(ctx context.Context, c *caller, cw string, read, archive bool) (*chat21Conversation, error) {
	members, err := s.chatMembers(ctx, c)
	if err != nil {
		return nil, err
	}
	var newest *chat21Conversation
	now := s.now()
	for _, m := range members {
		convs, err := s.chatConversationsIn(ctx, m, c.id, cw)
		if err != nil {
			return nil, err
		}
		conv := convs[cw]
		if conv == nil {
			continue
		}
		if err := s.store.MarkChat(ctx, m.pid, cw, c.id, read, archive, now); err != nil {
			return nil, err
		}
		if newest == nil || conv.Timestamp > newest.Timestamp {
			newest = conv
		}
	}
	if newest == nil {
		return nil, errNotFound
	}
	if archive {
		newest.Archived, newest.IsNew = true, false
	}
	return newest, nil
}

// directMessageOf reads the message of a direct_message.create event, which holds it as the API
// answered it.
func directMessageOf(ev *tiledesk.Event) (*tiledesk.Message, error) {
	var w struct {
		messageJSON
		CreatedAt time.Time `json:"createdAt"`
		UpdatedAt time.Time `json:"updatedAt"`
	}
	if err := json.Unmarshal(ev.Payload, &w); err != nil {
		return nil, err
	}
	return &tiledesk.Message{ID: w.ID, ProjectID: w.IDProject, Sender: w.Sender, SenderFullname: w.SenderFullname,
		Recipient: w.Recipient, RecipientFullname: w.RecipientFullname, Type: w.Type, ChannelType: w.ChannelType,
		Text: w.Text, Language: w.Language, Channel: w.Channel, Status: w.Status, Attributes: w.Attributes,
		Metadata: w.Metadata, CreatedBy: w.CreatedBy, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}, nil
}

// Receive records that a direct message's recipient's app received it: the message is received
// (200), and its sender's copy says so (250). Receipts of group messages are not kept: the
// original's reach no one.
func (h chat21Handler) Receive(ctx context.Context, id *chat21.Identity, with, messageID string) error {
	if isChatGroup(with, "") {
		return nil
	}
	c, err := h.s.callerOf(ctx, id)
	if err != nil {
		return err
	}
	members, err := h.s.chatMembers(ctx, c)
	if err != nil {
		return err
	}
	for _, m := range members {
		msg, err := h.s.store.FindDirectMessage(ctx, m.pid, messageID)
		if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
			continue
		} else if err != nil {
			return err
		}
		if msg.Sender != with || msg.Recipient != c.id || msg.ChannelType != "direct" {
			return errNotFound // not a message this user received from with
		}
		if msg.Status >= chat21.StatusReceived {
			return nil
		}
		msg.Status, msg.UpdatedAt = chat21.StatusReceived, tiledesk.Millis(h.s.now())
		body, err := encodeJSON(toMessage(msg))
		if err != nil {
			return err
		}
		_, err = h.s.store.RaiseDirectMessageStatus(ctx, msg, body)
		return err
	}
	return errNotFound
}

// directReceipts tell a direct message's sender, a member of the project, that its recipient's
// app received it.
func (h chat21Handler) directReceipts(ctx context.Context, ev *tiledesk.Event) ([]chat21.Delivery, error) {
	m, err := directMessageOf(ev)
	if err != nil || m.ChannelType != "direct" || m.Status < chat21.StatusReceived {
		return nil, err
	}
	if pu, err := h.s.chatMemberOf(ctx, ev.ProjectID, m.Sender); err != nil || pu == nil {
		return nil, err
	}
	return []chat21.Delivery{{To: m.Sender, With: m.Recipient,
		Receipt: &chat21.Receipt{TimelineOf: m.Sender, MessageID: m.ID, Status: chat21.StatusReturned}}}, nil
}
