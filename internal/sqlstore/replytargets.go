package sqlstore

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/tiledesk-go/tiledesk"
)

// Conversations replied to, kept. A reply reads what it needs of its conversation (replyAtOnce)
// before its statement writes it: a round trip to the database and a statement of its own, beside
// a share of the statement that writes it with other replies. The statement writes only if the
// conversation's version is still the one read, and answers the conversation as written; so the
// process keeps that answer, and the conversation's next reply takes what it needs from it instead
// of reading it. A kept conversation that another writer (or another process) changed since has
// another version in the database: the statement then writes nothing, and the reply reads the
// conversation and tries again, as it does when a change comes between its read and its write.
// What decides whether the caller may see the conversation is the version's too (its requester,
// participants and followers), except a department's restriction, which is not the conversation's:
// a caller whose right to see it could rest on that reads the conversation as before.

// maxReplyTargets bounds the conversations kept; past it the oldest are let go.
const maxReplyTargets = 1 << 15

// replyTarget is what a reply reads of its conversation (messageTargetColumns), as kept.
type replyTarget struct {
	projectID, id, requestID, requesterID string
	participantsAgents, followers         []string
	firstResponseAt                       *int64 // ms
	workingStatus                         string
	createdAt, updatedAt                  int64 // ms
}

type replyTargetKey struct{ projectID, requestID string }

// replyTargets keeps the conversations last written by replies, in the order they were kept.
type replyTargets struct {
	mu    sync.Mutex
	kept  map[replyTargetKey]*replyTarget // nil: forgotten, its place in order kept
	order []replyTargetKey                // each key of kept once, oldest first
	used  atomic.Int64                    // replies that took their conversation from here
}

// RepliesOnKeptConversations counts the replies that took their conversation as this process last
// wrote it, without reading it, since the store opened.
func (s *Store) RepliesOnKeptConversations() int64 {
	if s.replies == nil {
		return 0
	}
	return s.replies.targets.used.Load()
}

func newReplyTargets() *replyTargets {
	return &replyTargets{kept: make(map[replyTargetKey]*replyTarget)}
}

// keep records r, a conversation as a reply's statement wrote it.
func (k *replyTargets) keep(r *tiledesk.Request) {
	t := &replyTarget{projectID: r.ProjectID, id: r.ID, requestID: r.RequestID, requesterID: r.RequesterID,
		participantsAgents: slices.Clone(r.ParticipantsAgents), followers: slices.Clone(r.Followers),
		firstResponseAt: argInt64(msPtr(r.FirstResponseAt)), workingStatus: r.WorkingStatus,
		createdAt: ms(r.CreatedAt), updatedAt: ms(r.UpdatedAt)}
	key := replyTargetKey{r.ProjectID, r.RequestID}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.kept[key]; !ok {
		k.order = append(k.order, key)
	}
	k.kept[key] = t
	for len(k.kept) > maxReplyTargets {
		delete(k.kept, k.order[0])
		k.order = k.order[1:]
	}
}

// forget lets the conversation's copy go: its version turned out to be old. The key keeps its
// place, so that a conversation forgotten and kept again, over and over, takes one place in order.
func (k *replyTargets) forget(projectID, requestID string) {
	key := replyTargetKey{projectID, requestID}
	k.mu.Lock()
	if _, ok := k.kept[key]; ok {
		k.kept[key] = nil
	}
	k.mu.Unlock()
}

// target returns the kept conversation requestID of projectID as a message target for v (a copy
// the caller may change), or nil when none is kept or v's right to see it is not decided by the
// conversation alone.
func (k *replyTargets) target(projectID, requestID string, v *tiledesk.Visibility) *tiledesk.Request {
	k.mu.Lock()
	t := k.kept[replyTargetKey{projectID, requestID}]
	k.mu.Unlock()
	if t == nil {
		return nil
	}
	r := &tiledesk.Request{ProjectID: t.projectID, ID: t.id, RequestID: t.requestID, RequesterID: t.requesterID,
		ParticipantsAgents: t.participantsAgents, Followers: t.followers, WorkingStatus: t.workingStatus,
		CreatedAt: fromMS(t.createdAt), UpdatedAt: fromMS(t.updatedAt)}
	if t.firstResponseAt != nil {
		at := fromMS(*t.firstResponseAt)
		r.FirstResponseAt = &at
	}
	// Seen whatever the department's restriction: the restriction alone is not kept.
	if v.Sees(r, false) != v.Sees(r, true) {
		return nil
	}
	if !v.Sees(r, false) {
		return nil
	}
	k.used.Add(1)
	return r
}
