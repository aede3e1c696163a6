package api

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/chat21"
)

// Chat groups over the chat REST routes: a chat among teammates of one project other than a
// conversation (tiledesk.ChatGroup). Its owner, or an admin of its project, manages it; a member
// may leave it; only members read it and write in it. Each change is told to the members as the
// original tells it (a group update with its notification, and an info message from "system").

// chatGroupIDPrefix starts every chat group's id: chat21 tells a group by it.
const chatGroupIDPrefix = "group-"

// isChatGroupID says whether id names a chat group rather than a support group or a user.
func isChatGroupID(id string) bool {
	return groupProject(id) == "" && isChatGroup(id, "")
}

// chatTeammate is a user's active membership as a teammate (role agent or above) of a project;
// nil when it has none.
func (s *Server) chatTeammate(ctx context.Context, pid, uid string) (*tiledesk.ProjectUser, error) {
	pu, err := s.store.FindMember(ctx, pid, uid, false)
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if !pu.IsActive() || pu.RoleType != tiledesk.RoleTypeAgent || !tiledesk.HasRole(pu.Role, tiledesk.RoleAgent) {
		return nil, nil
	}
	return pu, nil
}

// chatGroupOf is a chat group the caller is a member of (404 otherwise, as for a group that does
// not exist).
func (s *Server) chatGroupOf(ctx context.Context, c *caller, gid string) (*tiledesk.ChatGroup, error) {
	g, err := s.store.FindChatGroup(ctx, gid)
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
		return nil, errNotFound
	} else if err != nil {
		return nil, err
	}
	if c.scope != "" && c.scope != g.ProjectID || !slices.Contains(g.Members, c.id) {
		return nil, errNotFound
	}
	// A member who is no longer a teammate of the group's project has no part in it.
	if pu, err := s.chatTeammate(ctx, g.ProjectID, c.id); err != nil || pu == nil {
		return nil, cmp.Or(err, error(errNotFound))
	}
	return g, nil
}

// mayManage says whether the caller manages a chat group: its owner, or an admin of its project
// who is a member.
func (s *Server) mayManage(ctx context.Context, c *caller, g *tiledesk.ChatGroup) error {
	if c.id == g.Owner {
		return nil
	}
	pu, err := s.chatTeammate(ctx, g.ProjectID, c.id)
	if err != nil {
		return err
	}
	if pu == nil || !tiledesk.HasRole(pu.Role, tiledesk.RoleAdmin) {
		return errMsg(http.StatusForbidden, "Only the group's owner, or an admin of its project, changes it.")
	}
	return nil
}

// chatGroupJSON is a chat group as the chat routes answer it and the group updates carry it.
func chatGroupJSON(g *tiledesk.ChatGroup, notification map[string]any) map[string]any {
	members := make(map[string]int, len(g.Members))
	for _, m := range g.Members {
		members[m] = 1
	}
	attrs := g.Attributes
	if attrs == nil {
		attrs = map[string]any{}
	}
	out := map[string]any{"uid": g.ID, "name": g.Name, "owner": g.Owner, "members": members, "attributes": attrs,
		"appId": chat21.AppID, "createdOn": g.CreatedAt.UnixMilli(), "updatedOn": g.UpdatedAt.UnixMilli()}
	if notification != nil {
		out["notification"] = notification
	}
	return out
}

// toChatGroupChange is a chat group's change as its event hands it out: the group, what the change
// tells its members (key), who joined and who left.
func toChatGroupChange(c *tiledesk.ChatGroupChange) map[string]any {
	out := map[string]any{"_id": c.Group.ID, "group": chatGroupJSON(c.Group, nil), "id_project": c.Group.ProjectID,
		"joined": orNone(c.Joined), "left": orNone(c.Left)}
	if c.Key != "" {
		out["key"] = c.Key
	}
	return out
}

func orNone(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}

// handleChatGroupCreate creates a chat group: {group_name, group_members: {"<id>": 1, ...},
// group_id?, group_owner?, attributes?}, in a project where the caller and every member are
// teammates (attributes.projectId, or else the first such project of the caller's).
func (s *Server) handleChatGroupCreate(w http.ResponseWriter, r *http.Request, c *call) error {
	if r.PathValue("app") != chat21.AppID {
		return errNotFound
	}
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	name := groupName(b)
	gid := b.strOf("group_id", 100)
	owner := b.strOf("group_owner", 100)
	attrs := b.boundedObject("attributes")
	members := chatMemberSet(b, "group_members", true)
	if gid != nil && (!strings.HasPrefix(*gid, chatGroupIDPrefix) || !chat21.ValidUserID(*gid)) {
		b.fail("group_id", `must start with "group-" and hold no "/", "+", "#" or "."`, *gid)
	}
	if err := b.err(); err != nil {
		return err
	}
	if !slices.Contains(members, c.caller.id) {
		members = append(members, c.caller.id)
		slices.Sort(members) // kept sorted, as a set of members compares
	}
	if len(members) > tiledesk.MaxChatGroupMembers {
		return invalidField("group_members", "body", "a group has at most "+strconv.Itoa(tiledesk.MaxChatGroupMembers)+" members")
	}
	named, _ := attrs["projectId"].(string)
	pid, err := s.chatGroupProject(r.Context(), c.caller, named, members)
	if err != nil {
		return err
	}
	g := &tiledesk.ChatGroup{ID: chatGroupIDPrefix + strings.ReplaceAll(uuid.NewString(), "-", ""), ProjectID: pid, Name: name,
		Owner: c.caller.id, Members: members, Attributes: attrs}
	if gid != nil {
		g.ID = *gid
	}
	if owner != nil && *owner != c.caller.id {
		if err := s.mayManage(r.Context(), c.caller, &tiledesk.ChatGroup{ProjectID: pid}); err != nil {
			return err
		}
		if !slices.Contains(members, *owner) {
			return invalidField("group_owner", "body", "must be one of the group's members")
		}
		g.Owner = *owner
	}
	now := tiledesk.Millis(s.now())
	g.CreatedAt, g.UpdatedAt = now, now
	infos := []tiledesk.ChatInfo{chatInfo(g, tiledesk.ChatGroupCreated, "Group created", map[string]any{"creator": c.caller.id}, now)}
	for _, m := range members {
		fullname := s.chatName(r.Context(), m)
		infos = append(infos, chatInfo(g, tiledesk.ChatGroupMemberJoined, fullname+" joined group on creation",
			map[string]any{"member_id": m, "fullname": fullname}, now))
	}
	change := &tiledesk.ChatGroupChange{Group: g, Key: tiledesk.ChatGroupCreated, Joined: members, Notify: members}
	if err := s.store.CreateChatGroup(r.Context(), change, infos); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "group": chatGroupJSON(g, nil)})
	return nil
}

// groupName reads a chat group's name, required.
func groupName(b *body) string {
	name := strings.TrimSpace(b.requiredStr("group_name"))
	if len(name) > tiledesk.MaxFullnameBytes {
		b.fail("group_name", "must be at most "+strconv.Itoa(tiledesk.MaxFullnameBytes)+" bytes", nil)
	}
	return name
}

// chatMemberSet reads a {"<id>": 1, ...} set of members, sorted.
func chatMemberSet(b *body, field string, required bool) []string {
	set := b.boundedObject(field)
	if set == nil {
		if required && b.err() == nil {
			b.fail(field, `is required: {"<member id>": 1, ...}`, nil)
		}
		return nil
	}
	out := make([]string, 0, len(set))
	for id := range set {
		if !chat21.ValidUserID(id) {
			b.fail(field, "names a member that is no user id", id)
			continue
		}
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// chatGroupProject is the project a new chat group of the caller's is made in: the one named, or
// the caller's first, where it and every member are teammates.
func (s *Server) chatGroupProject(ctx context.Context, c *caller, named string, members []string) (string, error) {
	if c.user == nil {
		return "", errMsg(http.StatusForbidden, "Chat groups are among teammates: a visitor writes in its conversations.")
	}
	pids, err := s.sharedProjects(ctx, c, named, members, false)
	if err != nil {
		return "", err
	}
	for _, pid := range pids {
		if ok, err := s.allTeammates(ctx, pid, members); err != nil || ok {
			return pid, err
		}
	}
	return "", invalidField("group_members", "body", "must all be teammates of one project with the caller")
}

// allTeammates says whether every one of users is a teammate of the project.
func (s *Server) allTeammates(ctx context.Context, pid string, users []string) (bool, error) {
	for _, uid := range users {
		pu, err := s.chatTeammate(ctx, pid, uid)
		if err != nil || pu == nil {
			return false, err
		}
	}
	return true, nil
}

// chatName is a user's full name, or its id.
func (s *Server) chatName(ctx context.Context, uid string) string {
	if u, err := s.store.FindUserByID(ctx, uid); err == nil && strings.TrimSpace(u.FullName()) != "" {
		return strings.TrimSpace(u.FullName())
	}
	return uid
}

// chatInfo is an info message of a chat group, kept as its message, with its event's payload.
func chatInfo(g *tiledesk.ChatGroup, key, text string, parameters map[string]any, at time.Time) tiledesk.ChatInfo {
	m := infoMessage(tiledesk.NewIDAt(at), g.ProjectID, g.ID, g.Name, key, text, parameters, at)
	body, _ := encodeJSON(toMessage(m))
	return tiledesk.ChatInfo{Message: m, Event: body}
}

// infoMessage is the original's info message in a group, from "system": a notice of a change
// (attributes.subtype info, with the messagelabel's key and parameters) the clients show or hide.
func infoMessage(id, pid, gid, groupName, key, text string, parameters map[string]any, at time.Time) *tiledesk.Message {
	return &tiledesk.Message{ID: id, ProjectID: pid, Sender: "system", SenderFullname: "System", Recipient: gid,
		RecipientFullname: groupName, Type: "text", ChannelType: "group", Text: text, Channel: tiledesk.Channel{Name: "chat21"},
		CreatedBy: "system", CreatedAt: at, UpdatedAt: at,
		Attributes: map[string]any{"subtype": "info", "messagelabel": map[string]any{"key": key, "parameters": parameters}}}
}

// changeChatGroup applies a change to a chat group the caller is a member of (a member who left
// is none), and answers the group.
func (s *Server) changeChatGroup(w http.ResponseWriter, r *http.Request, c *call, gid string,
	change func(g *tiledesk.ChatGroup, at time.Time) (*tiledesk.ChatGroupChange, []tiledesk.ChatInfo, error)) error {
	if _, err := s.chatGroupOf(r.Context(), c.caller, gid); err != nil {
		return err
	}
	now := tiledesk.Millis(s.now())
	g, err := s.store.ChangeChatGroup(r.Context(), gid, func(g *tiledesk.ChatGroup) (*tiledesk.ChatGroupChange, []tiledesk.ChatInfo, error) {
		if !slices.Contains(g.Members, c.caller.id) {
			return nil, nil, errNotFound
		}
		return change(g, now)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "group": chatGroupJSON(g, nil)})
	return nil
}
