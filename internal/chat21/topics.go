package chat21

import "strings"

// The topics of the protocol, all under apps/tilechat/. A user's inbox is users/<uid>/...: the
// client subscribes to users/<uid>/# and publishes its receipts, reads, archives and presence
// there; it sends messages on outgoing/users/<uid>/messages/<recipient>/outgoing.
const (
	prefix         = "apps/" + AppID + "/"
	inboxPrefix    = prefix + "users/"
	outgoingPrefix = prefix + "outgoing/users/"
)

// Kinds of what a client publishes.
const (
	pubOutgoing       = "outgoing"        // a message to a user or a group
	pubMessageUpdate  = "message-update"  // {status:200}: the message was received
	pubConversation   = "conversation"    // {is_new:false}: the conversation was read
	pubArchive        = "archive"         // the conversation leaves the user's list
	pubPresence       = "presence"        // {connected:true}, or the will {disconnected:true}
	pubInboxUndefined = "inbox-undefined" // anything else in the user's own inbox
)

// published is a client's publish topic, parsed.
type published struct {
	kind      string
	user      string // the inbox's owner, or the sender
	with      string // the recipient, or the other side of the conversation (cw)
	messageID string
}

// parsePublish reads a topic a client publishes to; ok is false for a topic outside the
// protocol's.
func parsePublish(topic string) (p published, ok bool) {
	if rest, found := strings.CutPrefix(topic, outgoingPrefix); found {
		parts := strings.Split(rest, "/")
		if len(parts) == 4 && parts[1] == "messages" && parts[3] == "outgoing" && parts[0] != "" && parts[2] != "" {
			return published{kind: pubOutgoing, user: parts[0], with: parts[2]}, true
		}
		return p, false
	}
	rest, found := strings.CutPrefix(topic, inboxPrefix)
	if !found {
		return p, false
	}
	parts := strings.Split(rest, "/")
	if parts[0] == "" {
		return p, false
	}
	p = published{kind: pubInboxUndefined, user: parts[0]}
	switch {
	case len(parts) == 5 && parts[1] == "messages" && parts[4] == "update":
		p.kind, p.with, p.messageID = pubMessageUpdate, parts[2], parts[3]
	case len(parts) == 4 && parts[1] == "conversations" && parts[3] == "update":
		p.kind, p.with = pubConversation, parts[2]
	case len(parts) == 4 && parts[1] == "conversations" && parts[3] == "archive":
		p.kind, p.with = pubArchive, parts[2]
	case len(parts) == 3 && parts[1] == "presence":
		p.kind = pubPresence
	}
	return p, true
}

// inboxFilter says whether a subscription filter stays within uid's inbox: its first levels are
// apps/tilechat/users/<uid>, none of them a wildcard.
func inboxFilter(filter, uid string) bool {
	rest, ok := strings.CutPrefix(filter, inboxPrefix+uid)
	return ok && (rest == "" || rest[0] == '/')
}

// Topics the server publishes to a user's inbox.

func messageAdded(uid, with string) string {
	return inboxPrefix + uid + "/messages/" + with + "/clientadded"
}

func messageUpdated(uid, with, messageID string) string {
	return inboxPrefix + uid + "/messages/" + with + "/" + messageID + "/clientupdated"
}

func groupUpdated(uid, group string) string {
	return inboxPrefix + uid + "/groups/" + group + "/clientupdated"
}

func conversationUpdated(uid, with string) string {
	return inboxPrefix + uid + "/conversations/" + with + "/clientupdated"
}

func conversationDeleted(uid, with string) string {
	return inboxPrefix + uid + "/conversations/" + with + "/clientdeleted"
}

func archivedAdded(uid, with string) string {
	return inboxPrefix + uid + "/archived_conversations/" + with + "/clientadded"
}

func hasWildcard(topic string) bool {
	return strings.ContainsAny(topic, "+#")
}
