package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/chat21"
)

// Chat groups' messages: sent over MQTT or with POST /:pid/messages by members only, delivered to
// the members; their changes told to the members.

// sendToChatGroup posts a message a member sent to a chat group as it would with POST
// /:pid/messages.
func (h chat21Handler) sendToChatGroup(ctx context.Context, c *caller, address, gid string, m *chat21.Outgoing) error {
	g, err := h.s.chatGroupOf(ctx, c, gid)
	if err != nil {
		return err
	}
	_, err = h.s.callAs(ctx, c, address, http.MethodPost, "/"+g.ProjectID+"/messages", outgoingBody(m, gid, g.Name, "group"))
	return err
}

// checkChatGroupMessage holds a message to one of the project's chat groups to its members: only
// a member writes in a group. A message to another id is not a chat group's.
func (s *Server) checkChatGroupMessage(ctx context.Context, pid string, m *tiledesk.Message) error {
	if !isChatGroupID(m.Recipient) {
		return nil
	}
	g, err := s.store.FindChatGroup(ctx, m.Recipient)
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND || err == nil && g.ProjectID != pid {
		return nil
	} else if err != nil {
		return err
	}
	if !slices.Contains(g.Members, m.Sender) {
		return errMsg(http.StatusForbidden, "Only a member of the group writes in it.")
	}
	m.ChannelType = "group"
	return nil
}

// chatGroupDeliveries are the copies of a chat group's new message, to its members (one who
// left, told by the info message, too).
func (h chat21Handler) chatGroupDeliveries(ctx context.Context, ev *tiledesk.Event, m *tiledesk.Message) ([]chat21.Delivery, error) {
	g, err := h.s.store.FindChatGroup(ctx, m.Recipient)
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND || err == nil && g.ProjectID != ev.ProjectID {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	to := slices.Clone(g.Members)
	if key, member := infoLabel(m); key == tiledesk.ChatGroupMemberLeft && member != "" && !slices.Contains(to, member) {
		to = append(to, member)
	}
	out := make([]chat21.Delivery, 0, len(to))
	for _, uid := range to {
		// A member who is no longer a teammate of the project gets nothing more.
		if pu, err := h.s.chatTeammate(ctx, g.ProjectID, uid); err != nil {
			return nil, err
		} else if pu != nil {
			out = append(out, chat21.Delivery{To: uid, With: g.ID, Message: chat21Copy(m, uid, m.RecipientFullname)})
		}
	}
	return out, nil
}

// infoLabel is an info message's key and member (parameters.member_id).
func infoLabel(m *tiledesk.Message) (key, member string) {
	if m.Sender != "system" || m.Attributes["subtype"] != "info" {
		return "", ""
	}
	label, _ := m.Attributes["messagelabel"].(map[string]any)
	key, _ = label["key"].(string)
	params, _ := label["parameters"].(map[string]any)
	member, _ = params["member_id"].(string)
	return key, member
}

// chatGroupChangeDeliveries tell a chat group's change: the group, with the change's notification,
// to those the change names; its history to each member who joined; the group's conversation,
// archived, to each who left.
func (h chat21Handler) chatGroupChangeDeliveries(ctx context.Context, ev *tiledesk.Event) ([]chat21.Delivery, error) {
	var change tiledesk.ChatGroupChange
	if err := json.Unmarshal(ev.Payload, &change); err != nil || change.Group == nil {
		return nil, err
	}
	g := change.Group
	var notification map[string]any
	if change.Key != "" {
		params := map[string]any{}
		if len(change.Joined) == 1 {
			params["member_id"] = change.Joined[0]
		} else if len(change.Left) == 1 {
			params["member_id"] = change.Left[0]
		}
		notification = map[string]any{"messagelabel": map[string]any{"key": change.Key, "parameters": params}}
	}
	group := chatGroupJSON(g, notification)
	var out []chat21.Delivery
	for _, uid := range change.Notify {
		if pu, err := h.s.chatTeammate(ctx, g.ProjectID, uid); err != nil {
			return nil, err
		} else if pu != nil {
			out = append(out, chat21.Delivery{To: uid, With: g.ID, Group: group})
		}
	}
	if len(change.Joined) == 0 && len(change.Left) == 0 {
		return out, nil
	}
	msgs, err := h.s.store.FindChatGroupMessages(ctx, g.ProjectID, g.ID, chatListLimit)
	if err != nil {
		return nil, err
	}
	slices.Reverse(msgs)
	for _, uid := range change.Joined {
		for _, m := range msgs {
			if !slices.Contains(change.Infos, m.ID) {
				c := chat21Copy(m, uid, m.RecipientFullname)
				c.History = "true"
				out = append(out, chat21.Delivery{To: uid, With: g.ID, Message: c})
			}
		}
	}
	for _, uid := range change.Left {
		if len(msgs) > 0 {
			conv := chatConversationOfMessage(msgs[len(msgs)-1], uid)
			conv.Archived = true
			out = append(out, chat21.Delivery{To: uid, With: g.ID, Archived: conv})
		}
	}
	return out, nil
}

// chatGroupMessages answers a chat group's newest messages, newest first, to a member.
func (s *Server) chatGroupMessages(w http.ResponseWriter, r *http.Request, c *call, gid string) error {
	g, err := s.chatGroupOf(r.Context(), c.caller, gid)
	if err != nil {
		return err
	}
	msgs, err := s.store.FindChatGroupMessages(r.Context(), g.ProjectID, gid, chatListLimit)
	if err != nil {
		return err
	}
	out := make([]*chat21.Message, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, chat21Copy(m, c.caller.id, m.RecipientFullname))
	}
	chatAnswer(w, out)
	return nil
}
