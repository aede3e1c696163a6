package tiledesk

import (
	"context"
	"time"
)

// StalePresence is a process's record of a user's chat connections that was not seen again in
// time: the process stopped without saying so.
type StalePresence struct {
	UserID  string
	Process string
}

// ChatPresenceStore keeps which server processes hold chat connections of each registered user,
// and the presence of the user's agent memberships that follows from all of them: online while
// one process holds some, whichever process the user connected to last or left first.
type ChatPresenceStore interface {
	// SetChatPresence records that process holds (online) or no longer holds the user's chat
	// connections, at at, and sets the presence of the user's active agent memberships from every
	// process's record seen after freshAfter; it answers the memberships whose presence changed
	// (each with its project_user.update).
	SetChatPresence(ctx context.Context, userID, process string, online bool, at, freshAfter time.Time) ([]*ProjectUser, error)
	// TouchChatPresence marks every record of a process seen at at.
	TouchChatPresence(ctx context.Context, process string, at time.Time) error
	// FindStaleChatPresence lists records not seen since before, at most limit.
	FindStaleChatPresence(ctx context.Context, before time.Time, limit int) ([]StalePresence, error)
}
