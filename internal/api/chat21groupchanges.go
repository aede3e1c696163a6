package api

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/chat21"
)

// chatApp checks the route names the tilechat app.
func chatApp(r *http.Request) error {
	if r.PathValue("app") != chat21.AppID {
		return errNotFound
	}
	return nil
}

// The changes of a chat group: members joining, set, leaving; its name; its attributes.

// chatGroupJoin adds a teammate of the group's project to a chat group (its owner or an admin):
// the members are told (MEMBER_JOINED_GROUP), the new one gets the group's history.
func (s *Server) chatGroupJoin(w http.ResponseWriter, r *http.Request, c *call, gid, member string) error {
	fullname := s.chatName(r.Context(), member)
	return s.changeChatGroup(w, r, c, gid, func(g *tiledesk.ChatGroup, at time.Time) (*tiledesk.ChatGroupChange, []tiledesk.ChatInfo, error) {
		if err := s.mayManage(r.Context(), c.caller, g); err != nil {
			return nil, nil, err
		}
		if slices.Contains(g.Members, member) {
			return nil, nil, tiledesk.Errorf(tiledesk.ECONFLICT, "%s is already a member of the group", member)
		}
		if err := s.joinable(r, g.ProjectID, len(g.Members)+1, []string{member}, "member_id"); err != nil {
			return nil, nil, err
		}
		g.Members = append(g.Members, member)
		slices.Sort(g.Members)
		info := chatInfo(g, tiledesk.ChatGroupMemberJoined, fullname+" added to group", map[string]any{"member_id": member, "fullname": fullname}, at)
		return &tiledesk.ChatGroupChange{Group: g, Key: tiledesk.ChatGroupMemberJoined, Joined: []string{member}, Notify: g.Members},
			[]tiledesk.ChatInfo{info}, nil
	})
}

// joinable checks that users may join a chat group of the project, which would then have size
// members: teammates of its project, within its bound.
func (s *Server) joinable(r *http.Request, pid string, size int, users []string, field string) error {
	if size > tiledesk.MaxChatGroupMembers {
		return invalidField(field, "body", "a group has at most "+strconv.Itoa(tiledesk.MaxChatGroupMembers)+" members")
	}
	ok, err := s.allTeammates(r.Context(), pid, users)
	if err != nil {
		return err
	}
	if !ok {
		return invalidField(field, "body", "must be teammates of the group's project")
	}
	return nil
}

// chatGroupSetMembers sets a chat group's members (its owner or an admin): the members before the
// change are told, each new one is told as on joining and gets the history; a set that changes
// nothing changes nothing.
func (s *Server) chatGroupSetMembers(w http.ResponseWriter, r *http.Request, c *call, gid string, members []string) error {
	names := map[string]string{}
	for _, m := range members {
		names[m] = s.chatName(r.Context(), m)
	}
	return s.changeChatGroup(w, r, c, gid, func(g *tiledesk.ChatGroup, at time.Time) (*tiledesk.ChatGroupChange, []tiledesk.ChatInfo, error) {
		if err := s.mayManage(r.Context(), c.caller, g); err != nil {
			return nil, nil, err
		}
		if slices.Equal(g.Members, members) {
			return nil, nil, nil
		}
		var joined, left []string
		for _, m := range members {
			if !slices.Contains(g.Members, m) {
				joined = append(joined, m)
			}
		}
		for _, m := range g.Members {
			if !slices.Contains(members, m) {
				left = append(left, m)
			}
		}
		if err := s.joinable(r, g.ProjectID, len(members), joined, "members"); err != nil {
			return nil, nil, err
		}
		notify := g.Members
		g.Members = members
		infos := make([]tiledesk.ChatInfo, 0, len(joined))
		for _, m := range joined {
			infos = append(infos, chatInfo(g, tiledesk.ChatGroupMemberJoined, names[m]+" added to group",
				map[string]any{"member_id": m, "fullname": names[m]}, at))
		}
		return &tiledesk.ChatGroupChange{Group: g, Joined: joined, Left: left, Notify: notify}, infos, nil
	})
}

// chatGroupLeave takes a member out of a chat group (the member itself, the owner or an admin):
// the members before are told (MEMBER_LEFT_GROUP), and the group leaves the member's list.
func (s *Server) chatGroupLeave(w http.ResponseWriter, r *http.Request, c *call, gid, member string) error {
	fullname := s.chatName(r.Context(), member)
	return s.changeChatGroup(w, r, c, gid, func(g *tiledesk.ChatGroup, at time.Time) (*tiledesk.ChatGroupChange, []tiledesk.ChatInfo, error) {
		if member != c.caller.id {
			if err := s.mayManage(r.Context(), c.caller, g); err != nil {
				return nil, nil, err
			}
		}
		if !slices.Contains(g.Members, member) {
			return nil, nil, errNotFound
		}
		notify := g.Members
		g.Members = slices.DeleteFunc(slices.Clone(g.Members), func(m string) bool { return m == member })
		info := chatInfo(g, tiledesk.ChatGroupMemberLeft, fullname+" removed from group", map[string]any{"member_id": member, "fullname": fullname}, at)
		return &tiledesk.ChatGroupChange{Group: g, Key: tiledesk.ChatGroupMemberLeft, Left: []string{member}, Notify: notify},
			[]tiledesk.ChatInfo{info}, nil
	})
}

// handleChatGroupUpdate renames a chat group ({group_name}; its owner or an admin): the members
// are told (DATA_UPDATED_GROUP).
func (s *Server) handleChatGroupUpdate(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := chatApp(r); err != nil {
		return err
	}
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	name := groupName(b)
	if err := b.err(); err != nil {
		return err
	}
	return s.changeChatGroup(w, r, c, r.PathValue("gid"), func(g *tiledesk.ChatGroup, _ time.Time) (*tiledesk.ChatGroupChange, []tiledesk.ChatInfo, error) {
		if err := s.mayManage(r.Context(), c.caller, g); err != nil {
			return nil, nil, err
		}
		g.Name = name
		return &tiledesk.ChatGroupChange{Group: g, Key: tiledesk.ChatGroupDataUpdated, Notify: g.Members}, nil, nil
	})
}

// handleChatGroupAttributes replaces a chat group's attributes ({attributes}; its owner or an
// admin): the members are told (ATTRIBUTES_UPDATED_GROUP).
func (s *Server) handleChatGroupAttributes(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := chatApp(r); err != nil {
		return err
	}
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	attrs := b.boundedObject("attributes")
	if attrs == nil && b.err() == nil {
		b.fail("attributes", "is required: an object", nil)
	}
	if err := b.err(); err != nil {
		return err
	}
	return s.changeChatGroup(w, r, c, r.PathValue("gid"), func(g *tiledesk.ChatGroup, _ time.Time) (*tiledesk.ChatGroupChange, []tiledesk.ChatInfo, error) {
		if err := s.mayManage(r.Context(), c.caller, g); err != nil {
			return nil, nil, err
		}
		g.Attributes = attrs
		return &tiledesk.ChatGroupChange{Group: g, Key: tiledesk.ChatGroupAttributesUpdated, Notify: g.Members}, nil, nil
	})
}
