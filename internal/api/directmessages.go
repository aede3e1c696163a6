package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

// Messages outside a conversation (POST /:pid/messages): an agent's message to a user or a group,
// channel_type "direct" unless the body says otherwise. They are kept apart from conversations'
// messages and listed by the project's owner.

// errDirectTextRequired is the original's answer to a direct text message without text.
var errDirectTextRequired = invalidField("text", "body", `Text field is required for messages with type "text"`)

func (s *Server) handleDirectMessageCreate(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	f := readMessageFields(b)
	recipient := b.strOf("recipient", tiledesk.MaxFullnameBytes)
	channelType := b.strOf("channel_type", 32)
	if recipient == nil || strings.TrimSpace(*recipient) == "" {
		b.fail("recipient", "is required", nil)
	}
	if f.recipientFullname == nil || strings.TrimSpace(*f.recipientFullname) == "" {
		b.fail("recipientFullname", "is required", nil)
	}
	if f.text != nil && len(*f.text) > maxMessageText {
		b.fail("text", "must be at most "+strconv.Itoa(maxMessageText)+" bytes", nil)
	}
	if err := b.err(); err != nil {
		return err
	}
	if f.textMissing() {
		return errDirectTextRequired
	}
	// The sender is the caller; an admin may send in the name of another member (a bot's back end).
	sender, fullname := c.caller.id, ""
	if u := c.caller.user; u != nil {
		fullname = strings.TrimSpace(u.Firstname + " " + u.Lastname)
	}
	if f.sender != nil && *f.sender != "" && *f.sender != sender {
		if !tiledesk.HasRole(c.member.Role, tiledesk.RoleAdmin) {
			return errMsg(http.StatusForbidden, "Only an admin sends a message in the name of another sender.")
		}
		sender, fullname = *f.sender, ""
	}
	m := s.newMessage(c, strings.TrimSpace(*recipient), sender, fullname, f)
	m.ChannelType = "direct"
	if channelType != nil && *channelType != "" {
		m.ChannelType = *channelType
	}
	if err := s.checkChatGroupMessage(r.Context(), c.project.ID, m); err != nil {
		return err
	}
	body, err := encodeJSON(toMessage(m))
	if err != nil {
		return err
	}
	if err := s.store.AddDirectMessage(r.Context(), m, body); err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, body)
	return nil
}

// handleDirectMessageList lists the project's direct messages, newest first, ten a page by
// default and at most fifty (a larger limit falls back to ten, as in the original).
func (s *Server) handleDirectMessageList(w http.ResponseWriter, r *http.Request, c *call) error {
	q := r.URL.Query()
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return invalidQuery("limit", "must be a positive integer", v)
		}
		if n <= 50 {
			limit = n
		}
	}
	page := 0
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 100_000 {
			return invalidQuery("page", "must be an integer from 0 to 100000", v)
		}
		page = n
	}
	msgs, err := s.store.FindDirectMessages(r.Context(), c.project.ID, limit, page*limit)
	if err != nil {
		return err
	}
	out := make([]any, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, toMessage(m))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
