package tiledesk

import (
	"context"
	"encoding/json"
	"time"
)

// Chat group events: a group made, or changed (members, name, attributes).
const (
	EventChatGroupCreate = "chat_group.create"
	EventChatGroupUpdate = "chat_group.update"
)

// Bounds of chat groups.
const (
	MaxChatGroupMembers     = 256
	MaxChatGroupsPerProject = 10_000
)

// What a chat group change tells its members (the chat21 protocol's notification keys).
const (
	ChatGroupCreated           = "GROUP_CREATED"
	ChatGroupMemberJoined      = "MEMBER_JOINED_GROUP"
	ChatGroupMemberLeft        = "MEMBER_LEFT_GROUP"
	ChatGroupDataUpdated       = "DATA_UPDATED_GROUP"
	ChatGroupAttributesUpdated = "ATTRIBUTES_UPDATED_GROUP"
)

// ChatGroup is a chat among teammates of a project other than a conversation (a chat21 group
// whose id is not a support group's): named, with an owner and members. Its messages are the
// project's direct messages to the group's id. Its id is unique across projects, as the chat
// clients name a group by its id alone.
type ChatGroup struct {
	ID         string
	ProjectID  string
	Name       string
	Owner      string
	Members    []string
	Attributes map[string]any
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// ChatGroupChange is what a change of a chat group did, as its event records it: the group as it
// now is, the notification key, who joined and who left, and who is told (the members before the
// change as well as after).
type ChatGroupChange struct {
	Group  *ChatGroup
	Key    string   `json:",omitempty"`
	Joined []string `json:",omitempty"`
	Left   []string `json:",omitempty"`
	Notify []string
	// Infos are the ids of the info messages the change wrote: a member who joined gets them as
	// they are delivered, not again in the history it is given.
	Infos []string `json:",omitempty"`
}

// ChatInfo is an info message a change of a chat group writes in the group ("X joined"), with its
// direct_message.create payload.
type ChatInfo struct {
	Message *Message
	Event   json.RawMessage
}

// ChatGroupStore keeps the chat groups.
type ChatGroupStore interface {
	// CreateChatGroup saves a new group and its info messages, recording chat_group.create with
	// the change (ECONFLICT when the id is taken, or past MaxChatGroupsPerProject).
	CreateChatGroup(ctx context.Context, change *ChatGroupChange, infos []ChatInfo) error
	// FindChatGroup returns a group by its id (ENOTFOUND).
	FindChatGroup(ctx context.Context, id string) (*ChatGroup, error)
	// ChangeChatGroup applies change to a group read locked; the change it answers is recorded as
	// chat_group.update with its info messages, unless it is nil (nothing changed).
	ChangeChatGroup(ctx context.Context, id string, change func(*ChatGroup) (*ChatGroupChange, []ChatInfo, error)) (*ChatGroup, error)
	// FindChatGroupConversations returns, newest first, the last message of each group of the
	// project a user is a member of.
	FindChatGroupConversations(ctx context.Context, projectID, member string, limit int) ([]*Message, error)
	// FindChatGroupMessages returns a group's newest messages, newest first.
	FindChatGroupMessages(ctx context.Context, projectID, groupID string, limit int) ([]*Message, error)
}
