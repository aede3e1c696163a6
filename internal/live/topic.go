package live

import (
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

// TopicKind is what a topic follows.
type TopicKind uint8

// The topics a client may subscribe to, as the original names them.
const (
	TopicRequests    TopicKind = iota + 1 // /<pid>/requests: the project's open conversations
	TopicRequest                          // /<pid>/requests/<request_id>: one conversation
	TopicMessages                         // /<pid>/requests/<request_id>/messages: its messages
	TopicProjectUser                      // /<pid>/project_users/<project_user_id>: the caller's own membership
)

// maxTopicBytes bounds a topic name: a request_id is a few dozen bytes.
const maxTopicBytes = 512

// Topic is a parsed topic name.
type Topic struct {
	Name      string // as the client wrote it, with the ids lower-cased where they are ObjectIds
	Kind      TopicKind
	ProjectID string
	ID        string // the request_id or project_user id; "" for TopicRequests
}

// ParseTopic reads a topic name; false for anything that is not one of the topics above.
func ParseTopic(s string) (Topic, bool) {
	if len(s) > maxTopicBytes || !strings.HasPrefix(s, "/") {
		return Topic{}, false
	}
	parts := strings.Split(s[1:], "/")
	if len(parts) < 2 || !tiledesk.IsID(parts[0]) {
		return Topic{}, false
	}
	t := Topic{ProjectID: strings.ToLower(parts[0])}
	switch {
	case len(parts) == 2 && parts[1] == "requests":
		t.Kind = TopicRequests
	case len(parts) == 3 && parts[1] == "requests" && parts[2] != "":
		t.Kind, t.ID = TopicRequest, parts[2]
	case len(parts) == 4 && parts[1] == "requests" && parts[2] != "" && parts[3] == "messages":
		t.Kind, t.ID = TopicMessages, parts[2]
	case len(parts) == 3 && parts[1] == "project_users" && tiledesk.IsID(parts[2]):
		t.Kind, t.ID = TopicProjectUser, strings.ToLower(parts[2])
	default:
		return Topic{}, false
	}
	t.Name = t.name()
	return t, true
}

func (t Topic) name() string {
	switch t.Kind {
	case TopicRequests:
		return "/" + t.ProjectID + "/requests"
	case TopicRequest:
		return "/" + t.ProjectID + "/requests/" + t.ID
	case TopicMessages:
		return "/" + t.ProjectID + "/requests/" + t.ID + "/messages"
	}
	return "/" + t.ProjectID + "/project_users/" + t.ID
}

// requestTopics are the names of the topics that follow a conversation.
func requestTopics(projectID, requestID string) (list, one, messages string) {
	return "/" + projectID + "/requests", "/" + projectID + "/requests/" + requestID,
		"/" + projectID + "/requests/" + requestID + "/messages"
}
