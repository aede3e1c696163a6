package tiledesk

import (
	"context"
	"time"
)

// ChatState is what a chat user (the chat21 protocol's clients) did to a conversation in its own
// list: when it last read it, and when it archived it. A conversation is new for the user when a
// message of someone else came after its last reading, and archived until a message comes after
// its archiving.
type ChatState struct {
	ReadAt     *time.Time
	ArchivedAt *time.Time
}

// ChatStateStore keeps the chat users' states of their conversations.
type ChatStateStore interface {
	// MarkChat records, for a user, that it read (read) and/or archived (archive) a conversation
	// at at; what it does not mark is kept.
	MarkChat(ctx context.Context, projectID, requestID, userID string, read, archive bool, at time.Time) error
	// FindChatStates returns a user's states of conversations of a project, by request_id; a
	// conversation the user never marked is absent.
	FindChatStates(ctx context.Context, projectID, userID string, requestIDs []string) (map[string]ChatState, error)
}
