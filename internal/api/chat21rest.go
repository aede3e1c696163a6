package api

import (
	"cmp"
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/chat21"
)

// The chat REST routes the chat21 clients read their lists with (the original's
// chat21-http-server, under /chatapi/api as the official deployments proxy it). A user reads its
// own inbox only: another user's answers 404. Conversations are the user's conversations of
// every project it is a member of (a visitor: those it started; an agent: those it takes part
// in), open ones, or closed ones as the archived.

// chatListLimit is how many conversations or messages a list answers, as the original.
const chatListLimit = 200

// chatCaller identifies the caller of a chat route by its chat21 token (raw in Authorization, or
// ?jwt=, ?JWT=, ?token=, as the clients send it), or else by an API credential.
func (s *Server) chatCaller(r *http.Request) (*caller, error) {
	token := stripScheme(strings.TrimSpace(r.Header.Get("Authorization")))
	q := r.URL.Query()
	for _, name := range []string{"jwt", "JWT", "token"} {
		if token == "" {
			token = q.Get(name)
		}
	}
	if token != "" {
		if id, err := s.chat21Tokens.Verify(token); err == nil {
			c, err := s.callerOf(r.Context(), id)
			if err != nil {
				return nil, errUnauthorized
			}
			return c, nil
		}
	}
	return s.authenticate(r)
}

// chatInbox checks the route names the tilechat app and the caller's own inbox.
func chatInbox(r *http.Request, c *call) error {
	if r.PathValue("app") != chat21.AppID || r.PathValue("uid") != c.caller.id {
		return errNotFound
	}
	return nil
}

func chatAnswer(w http.ResponseWriter, result any) {
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "result": result})
}

// handleChatList serves GET .../{uid}/conversations and .../{uid}/archived_conversations, and the
// group route GET .../groups/{gid}, which shares their shape.
func (s *Server) handleChatList(w http.ResponseWriter, r *http.Request, c *call) error {
	if r.PathValue("uid") == "groups" && r.PathValue("app") == chat21.AppID {
		return s.chatGroup(w, r, c, r.PathValue("list"))
	}
	if err := chatInbox(r, c); err != nil {
		return err
	}
	switch r.PathValue("list") {
	case "conversations":
		return s.chatConversations(w, r, c, false, "")
	case "archived_conversations":
		return s.chatConversations(w, r, c, true, "")
	}
	return errNotFound
}

// handleChatListItem serves .../conversations/archived, .../conversations/{cw} and
// .../archived_conversations/{cw}.
func (s *Server) handleChatListItem(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := chatInbox(r, c); err != nil {
		return err
	}
	cw := r.PathValue("cw")
	switch list := r.PathValue("list"); {
	case list == "conversations" && cw == "archived":
		return s.chatConversations(w, r, c, true, "")
	case list == "conversations":
		return s.chatConversations(w, r, c, false, cw)
	case list == "archived_conversations":
		return s.chatConversations(w, r, c, true, cw)
	}
	return errNotFound
}

// chatMember is the caller's membership in a project and what it sees there.
type chatMember struct {
	pid     string
	member  *tiledesk.ProjectUser
	v       *tiledesk.Visibility
	visitor bool
}

// chatMembers are the caller's active memberships, in the projects its conversations may be in.
func (s *Server) chatMembers(ctx context.Context, c *caller) ([]chatMember, error) {
	guest := c.user == nil
	pids := []string{c.scope}
	if c.scope == "" {
		var err error
		if pids, err = s.store.FindMembershipProjects(ctx, c.id, guest); err != nil {
			return nil, err
		}
	}
	var out []chatMember
	for _, pid := range pids {
		pu, err := s.store.FindMember(ctx, pid, c.id, guest)
		if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND || err == nil && !pu.IsActive() {
			continue
		} else if err != nil {
			return nil, err
		}
		v := tiledesk.VisibilityOf(pu, c.id)
		out = append(out, chatMember{pid: pid, member: pu, v: v, visitor: v.IsVisitor()})
	}
	return out, nil
}

// chatConversations answers the caller's conversations, or the one cw: open ones, or archived
// ones (closed, or archived by the user since their last message).
func (s *Server) chatConversations(w http.ResponseWriter, r *http.Request, c *call, archived bool, cw string) error {
	members, err := s.chatMembers(r.Context(), c.caller)
	if err != nil {
		return err
	}
	out := []*chat21Conversation{}
	for _, m := range members {
		reqs, err := s.chatCandidates(r.Context(), m, c.caller.id, archived, cw)
		if err != nil {
			return err
		}
		rids := make([]string, len(reqs))
		for i, req := range reqs {
			rids[i] = req.RequestID
		}
		states, err := s.store.FindChatStates(r.Context(), m.pid, c.caller.id, rids)
		if err != nil {
			return err
		}
		for _, req := range reqs {
			conv, err := s.chatConversation(r, m, req, c.caller.id)
			if err != nil {
				return err
			}
			conv.applyMarks(states[req.RequestID])
			if conv.Archived == archived {
				out = append(out, conv)
			}
		}
	}
	if out, err = s.chatOtherList(r.Context(), members, c.caller.id, cw, archived, out); err != nil {
		return err
	}
	slices.SortFunc(out, func(a, b *chat21Conversation) int { return cmp.Compare(b.Timestamp, a.Timestamp) })
	if len(out) > chatListLimit {
		out = out[:chatListLimit]
	}
	chatAnswer(w, out)
	return nil
}

// chatCandidates are the conversations of a membership a list may show: the one cw; or its open
// ones, and for the archived list its closed ones too (an open one the user archived is there).
func (s *Server) chatCandidates(ctx context.Context, m chatMember, uid string, archived bool, cw string) ([]*tiledesk.Request, error) {
	if cw != "" {
		if groupProject(cw) != m.pid {
			return nil, nil
		}
		req, err := s.store.FindRequest(ctx, m.pid, cw, m.v)
		if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
			return nil, nil
		}
		return []*tiledesk.Request{req}, err
	}
	f := tiledesk.RequestFilter{VisibleTo: m.v, Sort: tiledesk.RequestSortUpdatedAt, Desc: true, Limit: chatListLimit, NoCount: true}
	if m.visitor {
		f.RequesterID = m.member.ID
	} else {
		f.Participant = uid
	}
	page, err := s.store.FindRequests(ctx, m.pid, f)
	if err != nil || !archived {
		return page.Requests, err
	}
	f.Statuses = []int{tiledesk.RequestClosed}
	closed, err := s.store.FindRequests(ctx, m.pid, f)
	if err != nil {
		return nil, err
	}
	return append(page.Requests, closed.Requests...), nil
}

// chatConversation is a conversation in uid's list. Its last message is the newest one that
// updates the conversation (not "updateconversation": false) and, for a visitor, is no internal
// note.
func (s *Server) chatConversation(r *http.Request, m chatMember, req *tiledesk.Request, uid string) (*chat21Conversation, error) {
	conv := chat21ConversationOf(req, uid, m.visitor)
	last, _ := req.Attributes["last_message"].(map[string]any)
	shown := func(attrs map[string]any) bool {
		return updatesConversation(attrs) && !(m.visitor && tiledesk.IsInternal(attrs))
	}
	if last == nil || shown(asObject(last["attributes"])) {
		return conv, nil
	}
	msgs, _, err := s.store.FindMessages(r.Context(), m.pid, req.RequestID, tiledesk.MessageFilter{Limit: 20, Newest: true})
	if err != nil {
		return nil, err
	}
	for _, msg := range msgs {
		if shown(msg.Attributes) {
			attrs := msg.Attributes
			if m.visitor {
				attrs = tiledesk.WithoutInternal(attrs)
			}
			conv.setLast(msg.Text, msg.Sender, msg.SenderFullname, msg.Type, attrs, msg.CreatedAt)
			break
		}
	}
	return conv, nil
}

func asObject(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// handleChatMessages answers a conversation's newest messages, newest first, as the caller sees
// them (a visitor: no internal note).
func (s *Server) handleChatMessages(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := chatInbox(r, c); err != nil {
		return err
	}
	if cw := r.PathValue("cw"); isChatGroupID(cw) {
		return s.chatGroupMessages(w, r, c, cw)
	} else if groupProject(cw) == "" && !isChatGroup(cw, "") {
		return s.chatDirectMessages(w, r, c, cw)
	}
	req, m, err := s.chatRequest(r.Context(), c.caller, r.PathValue("cw"))
	if err != nil {
		return err
	}
	msgs, _, err := s.store.FindMessages(r.Context(), m.pid, req.RequestID, tiledesk.MessageFilter{Limit: chatListLimit, Newest: true})
	if err != nil {
		return err
	}
	group := chat21GroupName(req)
	out := make([]*chat21.Message, 0, len(msgs))
	for _, msg := range msgs {
		if m.visitor && tiledesk.IsInternal(msg.Attributes) {
			continue
		}
		mc := chat21Copy(msg, c.caller.id, group)
		if m.visitor {
			mc.Attributes = tiledesk.WithoutInternal(msg.Attributes)
		}
		out = append(out, mc)
	}
	chatAnswer(w, out)
	return nil
}

// chatRequest is a support group's conversation, if the caller sees it.
func (s *Server) chatRequest(ctx context.Context, c *caller, gid string) (*tiledesk.Request, *chatMember, error) {
	pid := groupProject(gid)
	if pid == "" || c.scope != "" && c.scope != pid {
		return nil, nil, errNotFound // a token of one project acts in no other
	}
	members, err := s.chatMembers(ctx, &caller{user: c.user, claims: c.claims, subject: c.subject, id: c.id, scope: pid})
	if err != nil || len(members) == 0 {
		return nil, nil, cmp.Or(err, error(errNotFound))
	}
	req, err := s.store.FindRequest(ctx, pid, gid, members[0].v)
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
		return nil, nil, errNotFound
	}
	return req, &members[0], err
}

// chatGroup answers a support group: the conversation's members and attributes.
func (s *Server) chatGroup(w http.ResponseWriter, r *http.Request, c *call, gid string) error {
	if isChatGroupID(gid) {
		g, err := s.chatGroupOf(r.Context(), c.caller, gid)
		if err != nil {
			return err
		}
		chatAnswer(w, chatGroupJSON(g, nil))
		return nil
	}
	req, m, err := s.chatRequest(r.Context(), c.caller, gid)
	if err != nil {
		return err
	}
	chatAnswer(w, supportGroupJSON(req, m.visitor, nil))
	return nil
}

// supportGroupJSON is a support group as its members read it (a visitor: no internal
// attribute): the conversation's members and "system", which owns it.
func supportGroupJSON(req *tiledesk.Request, visitor bool, notification map[string]any) map[string]any {
	members := map[string]int{"system": 1}
	for _, id := range chat21Members(req) {
		members[id] = 1
	}
	attrs := req.Attributes
	if visitor {
		attrs = tiledesk.WithoutInternal(attrs)
	}
	out := map[string]any{"uid": req.RequestID, "name": chat21GroupName(req), "owner": "system", "members": members,
		"attributes": attrs, "appId": chat21.AppID, "createdOn": req.CreatedAt.UnixMilli(), "updatedOn": req.UpdatedAt.UnixMilli()}
	if notification != nil {
		out["notification"] = notification
	}
	return out
}

// handleChatPost serves the POSTs of the chat routes: a member's joining of a group
// (.../groups/{gid}/members, {list} the group) and a device's registration
// (.../{uid}/instances/{id}, {cw} the device).
func (s *Server) handleChatPost(w http.ResponseWriter, r *http.Request, c *call) error {
	switch {
	case r.PathValue("app") != chat21.AppID:
	case r.PathValue("uid") == "groups" && r.PathValue("cw") == "members":
		b, err := decodeObject(r)
		if err != nil {
			return err
		}
		member := b.requiredStr("member_id")
		if err := b.err(); err != nil {
			return err
		}
		if isChatGroupID(r.PathValue("list")) {
			return s.chatGroupJoin(w, r, c, r.PathValue("list"), member)
		}
		return s.chatGroupCall(w, r, c, r.PathValue("list"), http.MethodPost, "", map[string]string{"member": member})
	case r.PathValue("list") == "instances":
		return s.handleChatInstance(w, r, c)
	}
	return errNotFound
}

// handleChatGroupLeave takes a member out of a support group: out of the conversation's
// participants, with the rights of DELETE /:pid/requests/:rid/participants/:member.
func (s *Server) handleChatGroupLeave(w http.ResponseWriter, r *http.Request, c *call) error {
	if r.PathValue("app") != chat21.AppID {
		return errNotFound
	}
	if isChatGroupID(r.PathValue("gid")) {
		return s.chatGroupLeave(w, r, c, r.PathValue("gid"), r.PathValue("mid"))
	}
	return s.chatGroupCall(w, r, c, r.PathValue("gid"), http.MethodDelete, "/"+url.PathEscape(r.PathValue("mid")), nil)
}

// handleChatGroupSetMembers sets a support group's members: the conversation's participants are
// the members but the conversation's requester and "system".
func (s *Server) handleChatGroupSetMembers(w http.ResponseWriter, r *http.Request, c *call) error {
	if r.PathValue("app") != chat21.AppID {
		return errNotFound
	}
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	if isChatGroupID(r.PathValue("gid")) {
		members := chatMemberSet(b, "members", true)
		if len(members) > tiledesk.MaxChatGroupMembers {
			b.fail("members", "a group has at most "+strconv.Itoa(tiledesk.MaxChatGroupMembers)+" members", nil)
		}
		if err := b.err(); err != nil {
			return err
		}
		return s.chatGroupSetMembers(w, r, c, r.PathValue("gid"), members)
	}
	members := b.object("members")
	if members == nil {
		b.fail("members", `is required: {"<member id>": 1, ...}`, nil)
	}
	if err := b.err(); err != nil {
		return err
	}
	req, _, err := s.chatRequest(r.Context(), c.caller, r.PathValue("gid"))
	if err != nil {
		return err
	}
	ids := []string{}
	for id := range members {
		if id != "system" && id != chat21Requester(req) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return s.chatGroupCall(w, r, c, req.RequestID, http.MethodPut, "", ids)
}

// chatGroupCall changes a support group's participants through the API's participants routes,
// as the caller.
func (s *Server) chatGroupCall(w http.ResponseWriter, r *http.Request, c *call, gid, method, suffix string, body any) error {
	pid := groupProject(gid)
	if pid == "" {
		return errNotFound
	}
	addr := netip.AddrPortFrom(info(r).ip, 0).String()
	if _, err := s.callAs(r.Context(), c.caller, addr, method, "/"+pid+"/requests/"+url.PathEscape(gid)+"/participants"+suffix, body); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	return nil
}

// handleChatInstance takes a client's registration for push notifications, which this server
// does not send: the clients call it at start and need its success only.
func (s *Server) handleChatInstance(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := chatInbox(r, c); err != nil {
		return err
	}
	if _, err := decodeObject(r); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	return nil
}
