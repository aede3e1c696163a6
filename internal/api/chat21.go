package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/auth"
	"github.com/tiledesk-go/tiledesk/internal/chat21"
)

// The chat21 side of the API: the official widget and agent app get a chat21 token here, connect
// to the MQTT broker at chat21.Path, and the broker hands what they send back to the API as the
// caller the token was issued to (chat21Handler).

// handleChat21Token is the original's createCustomToken: a chat21 token for the caller, who acts
// through it as through its API credential.
func (s *Server) handleChat21Token(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := chat21Identity(c.caller)
	if err != nil {
		return err
	}
	token, err := s.chat21Tokens.Issue(*id)
	if err != nil {
		return err
	}
	first, last := "", ""
	if u := c.caller.user; u != nil {
		first, last = u.Firstname, u.Lastname
	} else if cl := c.caller.claims; cl != nil {
		first, last = cl.Firstname, cl.Lastname
	}
	writeJSON(w, http.StatusOK, map[string]string{"userid": id.UserID, "fullname": id.FullName,
		"firstname": first, "lastname": last, "token": token})
	return nil
}

// chat21Identity is what a chat21 token of the caller carries.
func chat21Identity(c *caller) (*chat21.Identity, error) {
	if c.bot != nil {
		return nil, errMsg(http.StatusForbidden, "Bots do not connect to the chat: they answer through the API.")
	}
	if !chat21.ValidUserID(c.id) {
		return nil, errMsg(http.StatusForbidden, "This identity cannot name a chat inbox.")
	}
	id := &chat21.Identity{UserID: c.id, Subject: c.subject, Scope: c.scope}
	if u := c.user; u != nil {
		id.Subject, id.Generation = auth.SubjectUser, u.TokenGeneration
		id.FullName, id.Email = strings.TrimSpace(u.FullName()), u.Email
	} else if cl := c.claims; cl != nil {
		id.FullName, id.Email = strings.TrimSpace(cl.FullName), cl.Email
		if id.FullName == "" {
			id.FullName = strings.TrimSpace(cl.Firstname + " " + cl.Lastname)
		}
	}
	return id, nil
}

// callerOf is the API caller a chat21 identity acts as: a registered user whose password has not
// changed since the token, a visitor, or a project's customer in its project.
func (s *Server) callerOf(ctx context.Context, id *chat21.Identity) (*caller, error) {
	switch id.Subject {
	case auth.SubjectUser:
		u, err := s.store.FindUserByID(ctx, id.UserID)
		if err != nil {
			return nil, err
		}
		if u.TokenGeneration != id.Generation {
			return nil, tiledesk.Errorf(tiledesk.EUNAUTHORIZED, "the account's password changed since the chat token")
		}
		return &caller{user: u, subject: auth.SubjectUser, id: u.ID, scope: id.Scope}, nil
	case auth.SubjectGuest, auth.SubjectUserExternal:
		claims := &auth.Claims{ID: id.UserID, UID: id.UserID, FullName: id.FullName, Email: id.Email, Subject: id.Subject}
		return &caller{claims: claims, subject: id.Subject, id: id.UserID, scope: id.Scope}, nil
	}
	return nil, tiledesk.Errorf(tiledesk.EUNAUTHORIZED, "a chat token of subject %q", id.Subject)
}

// internalCall marks a request the server makes to itself for a caller it already identified: a
// message a chat21 client sent, posted as POST .../messages posts it. Only the server can put it
// in a request's context.
type internalCall struct {
	caller  *caller
	address string
}

type internalCallKey struct{}

func internalCallOf(r *http.Request) *internalCall {
	ic, _ := r.Context().Value(internalCallKey{}).(*internalCall)
	return ic
}

// chat21Broker starts the broker at its first connection.
func (s *Server) chat21Broker() *chat21.Broker {
	s.brokerOnce.Do(func() {
		s.chatProcess = uuid.NewString()
		b, err := chat21.New(chat21.Options{Tokens: s.chat21Tokens, Handler: chat21Handler{s}, Events: s.store, Bus: s.events,
			Log: s.log, MaxPerUser: s.liveOpts.MaxPerUser, MaxPerAddress: s.liveOpts.MaxPerAddress, Heartbeat: chatHeartbeat})
		if err != nil {
			s.log.Error("chat21: the broker did not start", "err", err)
			return
		}
		s.broker.Store(b)
	})
	return s.broker.Load()
}

// serveMQTT serves the chat21 clients' MQTT websocket; the client's address is the one the API
// resolved (behind trusted proxies).
func (s *Server) serveMQTT(w http.ResponseWriter, r *http.Request, in *reqInfo) {
	in.route = "mqtt"
	b := s.chat21Broker()
	if b == nil {
		writeJSON(w, http.StatusServiceUnavailable, msgBody{Success: false, Msg: "The chat is not available."})
		return
	}
	r.RemoteAddr = netip.AddrPortFrom(in.ip, 0).String()
	b.ServeHTTP(w, r)
}

// chat21Handler is the API's part in the broker.
type chat21Handler struct{ s *Server }

func (h chat21Handler) Admit(ctx context.Context, id *chat21.Identity) error {
	_, err := h.s.callerOf(ctx, id)
	return err
}

// chatHeartbeat is how often a process refreshes its records of its users' chat connections;
// chatPresenceStale is how long a record lasts unrefreshed (its process stopped without saying
// so): its user counts as gone from that process.
const (
	chatHeartbeat     = 30 * time.Second
	chatPresenceStale = 3 * chatHeartbeat
)

// Presence records that a registered user's chat connections came to this process, or all left
// it: the user is online in each project where it is an agent while one process holds some
// (presence {status, changedAt} on the memberships, with project_user.update): offline, routing
// gives it no conversation, whatever availability it set. Visitors' presence is not kept.
func (h chat21Handler) Presence(ctx context.Context, id *chat21.Identity, online bool) {
	if id.Subject != auth.SubjectUser {
		return
	}
	now := h.s.now()
	if _, err := h.s.store.SetChatPresence(ctx, id.UserID, h.s.chatProcess, online, now, now.Add(-chatPresenceStale)); err != nil {
		h.s.log.Warn("chat21: presence not recorded", "user", id.UserID, "err", err)
	}
}

// Heartbeat refreshes this process's records of its users' chat connections, and clears the
// stale records of processes that stopped without saying so: their users are offline unless
// another process holds their connections.
func (h chat21Handler) Heartbeat(ctx context.Context) {
	now := h.s.now()
	if err := h.s.store.TouchChatPresence(ctx, h.s.chatProcess, now); err != nil {
		h.s.log.Warn("chat21: presence not refreshed", "err", err)
		return
	}
	fresh := now.Add(-chatPresenceStale)
	stale, err := h.s.store.FindStaleChatPresence(ctx, fresh, 1000)
	if err != nil {
		h.s.log.Warn("chat21: stale presence not read", "err", err)
		return
	}
	for _, p := range stale {
		if _, err := h.s.store.SetChatPresence(ctx, p.UserID, p.Process, false, now, fresh); err != nil && tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
			h.s.log.Warn("chat21: stale presence not cleared", "user", p.UserID, "err", err)
		}
	}
	if len(stale) > 0 {
		h.s.log.Info("chat21: stale chat presence cleared", "records", len(stale))
	}
}

// Read records a user's read mark of a conversation it sees.
func (h chat21Handler) Read(ctx context.Context, id *chat21.Identity, with string) error {
	c, err := h.s.callerOf(ctx, id)
	if err != nil {
		return err
	}
	if groupProject(with) == "" {
		_, err := h.s.markChat(ctx, c, with, true, false)
		return err
	}
	req, m, err := h.s.chatRequest(ctx, c, with)
	if err != nil {
		return err
	}
	return h.s.store.MarkChat(ctx, m.pid, req.RequestID, id.UserID, true, false, h.s.now())
}

// Archive records a user's archiving of a conversation it sees, in its own list only: the
// conversation stays open for the others, and comes back to the user's list with its next
// message.
func (h chat21Handler) Archive(ctx context.Context, id *chat21.Identity, with string) (any, error) {
	c, err := h.s.callerOf(ctx, id)
	if err != nil {
		return nil, err
	}
	if groupProject(with) == "" {
		return h.s.markChat(ctx, c, with, false, true)
	}
	req, m, err := h.s.chatRequest(ctx, c, with)
	if err != nil {
		return nil, err
	}
	if err := h.s.store.MarkChat(ctx, m.pid, req.RequestID, id.UserID, false, true, h.s.now()); err != nil {
		return nil, err
	}
	conv := chat21ConversationOf(req, id.UserID, m.visitor)
	conv.Archived = true
	return conv, nil
}

// groupProject is the project of a support group's id, support-group-<project id>-<uuid>; "" for
// another id.
func groupProject(gid string) string {
	rest, ok := strings.CutPrefix(gid, "support-group-")
	if !ok {
		return ""
	}
	pid, _, _ := strings.Cut(rest, "-")
	if !tiledesk.IsID(pid) {
		return ""
	}
	return strings.ToLower(pid)
}

// Send posts a message sent to a support group as its sender would with POST
// /:pid/requests/:request_id/messages: the first one creates the conversation and routes it.
func (h chat21Handler) Send(ctx context.Context, id *chat21.Identity, address, recipient string, m *chat21.Outgoing) error {
	c, err := h.s.callerOf(ctx, id)
	if err != nil {
		return err
	}
	pid := groupProject(recipient)
	switch {
	case pid != "":
	case isChatGroupID(recipient):
		return h.sendToChatGroup(ctx, c, address, recipient, m)
	case isChatGroup(recipient, m.ChannelType):
		return fmt.Errorf("%q is no group's id", recipient)
	default:
		return h.sendDirect(ctx, c, address, recipient, m)
	}
	body := map[string]any{"text": m.Text, "senderFullname": m.SenderFullname}
	if m.Type != "" {
		body["type"] = m.Type
	}
	if m.Attributes != nil {
		body["attributes"] = m.Attributes
		// The widget says on the first message what the conversation starts with.
		for attr, field := range map[string]string{"departmentId": "departmentid", "sourcePage": "sourcePage", "lang": "language", "client": "userAgent"} {
			if v, ok := m.Attributes[attr].(string); ok && v != "" {
				body[field] = v
			}
		}
	}
	if m.Metadata != nil {
		body["metadata"] = m.Metadata
	}
	_, err = h.s.callAs(ctx, c, address, http.MethodPost, "/"+pid+"/requests/"+url.PathEscape(recipient)+"/messages", body)
	return err
}

// callAs has the server answer a call of the API made for an identified caller, through every
// rule a client's call passes; an answer other than 200 is an error carrying it (apiError).
func (s *Server) callAs(ctx context.Context, c *caller, address, method, path string, body any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(raw)
	}
	ctx = context.WithValue(ctx, internalCallKey{}, &internalCall{caller: c, address: address})
	req, err := http.NewRequestWithContext(ctx, method, path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.RemoteAddr = address
	answer := &capturedAnswer{header: http.Header{}}
	s.ServeHTTP(answer, req)
	if answer.status != http.StatusOK {
		var out any
		if json.Unmarshal(answer.body.Bytes(), &out) != nil {
			out = map[string]any{"success": false, "msg": strings.TrimSpace(answer.body.String())}
		}
		return nil, &apiError{status: answer.status, body: out}
	}
	return answer.body.Bytes(), nil
}

// capturedAnswer keeps an answer the server gave itself.
type capturedAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (a *capturedAnswer) Header() http.Header { return a.header }

func (a *capturedAnswer) WriteHeader(status int) {
	if a.status == 0 {
		a.status = status
	}
}

func (a *capturedAnswer) Write(b []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	return a.body.Write(b)
}
