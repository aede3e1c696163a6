package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

// errTextRequired is the original's answer to a text message without text.
var errTextRequired = &apiError{status: http.StatusUnprocessableEntity, body: map[string]any{"errors": []string{"text field is required"}}}

const maxMessageText = 64 << 10

// messageFields reads a message body (one element of /multi, or the whole body of a post).
type messageFields struct {
	text, typ, sender, senderFullname, recipientFullname, language *string
	status                                                         *int
	attributes, metadata                                           map[string]any
	channel                                                        *tiledesk.Channel
}

func readMessageFields(b *body) messageFields {
	f := messageFields{text: b.str("text"), typ: b.str("type"), sender: b.str("sender"),
		senderFullname:    b.strOf("senderFullname", tiledesk.MaxFullnameBytes),
		recipientFullname: b.strOf("recipientFullname", tiledesk.MaxFullnameBytes),
		language:          b.strOf("language", tiledesk.MaxLanguageBytes), status: b.integer("status", -100, 1000),
		attributes: b.boundedObject("attributes"), metadata: b.boundedObject("metadata")}
	if ch := b.object("channel"); ch != nil {
		if name, _ := ch["name"].(string); name != "" && b.channelNameFits("channel", name) {
			f.channel = &tiledesk.Channel{Name: name}
		}
	}
	if f.typ != nil && (*f.typ == "" || len(*f.typ) > 32) {
		b.fail("type", "must be a message type such as text, image, file", *f.typ)
	}
	return f
}

// textMissing reports whether a text message has no text.
func (f messageFields) textMissing() bool {
	return (f.typ == nil || *f.typ == "text") && (f.text == nil || strings.TrimSpace(*f.text) == "")
}

// newMessage builds a message of the request_id rid from f, sent by sender (named fullname).
func (s *Server) newMessage(c *call, rid, sender, fullname string, f messageFields) *tiledesk.Message {
	now := tiledesk.Millis(s.now())
	m := &tiledesk.Message{ID: tiledesk.NewIDAt(now), ProjectID: c.project.ID, Sender: sender, SenderFullname: fullname,
		Recipient: rid, Type: "text", ChannelType: "group", Channel: tiledesk.Channel{Name: "chat21"},
		Attributes: f.attributes, Metadata: f.metadata, CreatedBy: c.caller.id, CreatedAt: now, UpdatedAt: now}
	set(&m.Text, f.text)
	set(&m.Type, f.typ)
	set(&m.RecipientFullname, f.recipientFullname)
	set(&m.Language, f.language)
	set(&m.Status, f.status)
	if f.channel != nil {
		m.Channel = *f.channel
	}
	if f.senderFullname != nil && strings.TrimSpace(*f.senderFullname) != "" {
		m.SenderFullname = strings.TrimSpace(*f.senderFullname)
	}
	if m.SenderFullname == "" {
		m.SenderFullname = "Guest"
	}
	return m
}

// lastMessage is a message as attributes.last_message keeps it.
func lastMessage(m *tiledesk.Message) json.RawMessage {
	raw, _ := encodeJSON(toMessage(m))
	return raw
}

// handleMessageCreate posts a message; to a request_id that does not exist yet it creates the
// conversation (and its lead), in one transaction.
func (s *Server) handleMessageCreate(w http.ResponseWriter, r *http.Request, c *call) error {
	rid, err := requestIDOf(r)
	if err != nil {
		return err
	}
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	mf := readMessageFields(b)
	cf := readConversationFields(b)
	if mf.text != nil && len(*mf.text) > maxMessageText {
		b.fail("text", fmt.Sprintf("must be at most %d bytes", maxMessageText), nil)
	}
	if visibilityOf(c).IsVisitor() && tiledesk.IsInternal(mf.attributes) {
		b.fail("attributes."+tiledesk.InternalKey, "only agents write internal messages", nil)
	}
	if err := b.err(); err != nil {
		return err
	}
	if mf.textMissing() {
		return errTextRequired
	}
	idem, err := idempotency(r, b.raw)
	if err != nil {
		return err
	}
	rq, err := s.requesterOf(r, c, mf.sender)
	if err != nil {
		return err
	}
	m := s.newMessage(c, rid, rq.leadID, rq.fullname, mf)
	if mf.senderFullname == nil && rq.fullname == "" {
		m.SenderFullname = "Guest"
	}
	create, err := s.newConversation(c, rid, m.Text, rq, cf)
	if err != nil {
		return err
	}
	if mf.senderFullname != nil && strings.TrimSpace(*mf.senderFullname) != "" {
		create.Lead.Fullname = strings.TrimSpace(*mf.senderFullname)
	}
	if create.Lead.Email != "" {
		create.Request.Contact = &tiledesk.Contact{Email: create.Lead.Email}
	}
	if err := s.checkMembers(r, c, create); err != nil {
		return err
	}
	post := &tiledesk.MessagePost{Message: m, LastMessage: lastMessage(m), Create: create, Idempotency: idem,
		VisibleTo: visibilityOf(c), Ref: &tiledesk.RequestRef{}}
	req, stored, _, replayed, err := s.store.PostMessage(r.Context(), post)
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND && c.caller.bot != nil && rq.member == c.member {
		// A bot sees every conversation of its project: what was not found is the requester of a
		// new one, which the bot itself cannot be.
		return errBotNeedsSender
	} else if err != nil {
		return err
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	view := viewOf(c)
	populated, err := s.views.Requests.One(r.Context(), view, req, post.Ref)
	if err != nil {
		return err
	}
	if view == visitorView {
		out := toVisitorMessage(stored)
		if out == nil { // an agent's note replayed by a visitor's Idempotency-Key
			return errNotFound
		}
		writeJSONWith(w, http.StatusOK, out, "request", populated)
		return nil
	}
	writeJSONWith(w, http.StatusOK, toMessage(stored), "request", populated)
	return nil
}

// handleMessagesMulti appends several messages to an existing conversation, in order, atomically.
func (s *Server) handleMessagesMulti(w http.ResponseWriter, r *http.Request, c *call) error {
	rid, err := requestIDOf(r)
	if err != nil {
		return err
	}
	v, err := decodeValue(r)
	if err != nil {
		return err
	}
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 || len(arr) > 1000 {
		return invalidField("body", "body", "the body must be a JSON array of 1 to 1000 messages")
	}
	msgs := make([]*tiledesk.Message, 0, len(arr))
	for i, e := range arr {
		obj, ok := e.(map[string]any)
		if !ok {
			return invalidField(fmt.Sprintf("[%d]", i), "body", "each message must be a JSON object")
		}
		b := &body{m: obj}
		mf := readMessageFields(b)
		if err := b.err(); err != nil {
			return withinField(err, fmt.Sprintf("[%d].", i))
		}
		if mf.textMissing() {
			return errTextRequired
		}
		rq, err := s.requesterOf(r, c, mf.sender)
		if err != nil {
			return err
		}
		m := s.newMessage(c, rid, rq.leadID, rq.fullname, mf)
		msgs = append(msgs, m)
	}
	if _, err := s.store.AddMessages(r.Context(), c.project.ID, rid, visibilityOf(c), msgs, lastMessage(msgs[len(msgs)-1])); tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
		return errMsg(http.StatusNotFound, "Request doesn't exist.")
	} else if err != nil {
		return err
	}
	out := make([]*messageJSON, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, toMessage(m))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// handleMessageList answers every message, oldest first, as the original; with limit (and then
// cursor) it answers a page, the next page's cursor in the X-Next-Cursor header.
func (s *Server) handleMessageList(w http.ResponseWriter, r *http.Request, c *call) error {
	req, err := s.visibleRequest(r, c)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var f tiledesk.MessageFilter
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return invalidQuery("limit", "must be a whole number from 1 to 1000", v)
		}
		f.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		cur, err := decodeCursor(v)
		if err != nil || cur.Sort != tiledesk.RequestSortCreatedAt {
			return invalidQuery("cursor", "is not a cursor this list returned", v)
		}
		if f.Limit == 0 {
			return invalidQuery("limit", "is required with cursor", "")
		}
		f.After = cur
	}
	items, next, err := s.messagePage(r.Context(), viewOf(c), c.project.ID, req.RequestID, f)
	if err != nil {
		return err
	}
	if next != nil {
		w.Header().Set("X-Next-Cursor", *encodeCursor(next))
	}
	body := make([]byte, 0, 2+len(items)*512)
	body = append(body, '[')
	for i, b := range items {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, b...)
	}
	writeRaw(w, http.StatusOK, append(body, ']'))
	return nil
}

func (s *Server) handleMessageGet(w http.ResponseWriter, r *http.Request, c *call) error {
	req, err := s.visibleRequest(r, c)
	if err != nil {
		return err
	}
	id, err := pathID(r, "mid")
	if err != nil {
		return err
	}
	m, err := s.store.FindMessage(r.Context(), c.project.ID, req.RequestID, id)
	if err != nil {
		return err
	}
	out := messageView(viewOf(c), m)
	if out == nil {
		return errNotFound
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// handleMessageCSV streams a conversation's messages (streamCSV).
func (s *Server) handleMessageCSV(w http.ResponseWriter, r *http.Request, c *call) error {
	req, err := s.visibleRequest(r, c)
	if err != nil {
		return err
	}
	return s.streamCSV(w, r, c, "messages.csv", messageCSVHeader,
		s.messageCSVBatch(c.project.ID, req.RequestID, visibilityOf(c).IsVisitor()))
}
