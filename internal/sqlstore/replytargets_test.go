package sqlstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

func keptConversation(rid string) *tiledesk.Request {
	at := time.UnixMilli(1_700_000_000_000)
	first := at.Add(time.Second)
	return &tiledesk.Request{ProjectID: "p1", ID: "id-" + rid, RequestID: rid, RequesterID: "visitor-pu",
		ParticipantsAgents: []string{"agent-1"}, Followers: []string{"follower-pu"}, FirstResponseAt: &first,
		WorkingStatus: "open", CreatedAt: at, UpdatedAt: at.Add(2 * time.Second)}
}

// TestReplyTargetsAnswerOnlyWhatTheConversationDecides: a kept conversation serves the callers
// whose right to see it rests on the conversation alone (its requester, participants, followers),
// and never one for whom a department's restriction, which is not kept, could decide.
func TestReplyTargetsAnswerOnlyWhatTheConversationDecides(t *testing.T) {
	k := newReplyTargets()
	k.keep(keptConversation("r1"))
	for _, c := range []struct {
		name string
		v    *tiledesk.Visibility
		kept bool
	}{
		{"the project's own writes", nil, true},
		{"its requester", &tiledesk.Visibility{Visitor: true, ProjectUserID: "visitor-pu"}, true},
		{"another visitor", &tiledesk.Visibility{Visitor: true, ProjectUserID: "other-pu"}, false},
		{"a participating agent", &tiledesk.Visibility{UserID: "agent-1", ProjectUserID: "agent-1-pu"}, true},
		{"a following agent", &tiledesk.Visibility{UserID: "agent-2", ProjectUserID: "follower-pu"}, true},
		{"any other agent", &tiledesk.Visibility{UserID: "agent-3", ProjectUserID: "agent-3-pu"}, false},
	} {
		if got := k.target("p1", "r1", c.v); (got != nil) != c.kept {
			t.Errorf("%s: kept conversation given = %v, want %v", c.name, got != nil, c.kept)
		}
	}
	if k.target("p2", "r1", nil) != nil {
		t.Error("a conversation of another project was given")
	}
	got := k.target("p1", "r1", nil)
	want := keptConversation("r1")
	if got.ID != want.ID || !got.UpdatedAt.Equal(want.UpdatedAt) || !got.CreatedAt.Equal(want.CreatedAt) ||
		!got.FirstResponseAt.Equal(*want.FirstResponseAt) || got.WorkingStatus != want.WorkingStatus {
		t.Fatalf("kept %+v, given %+v", want, got)
	}
	got.WorkingStatus = "changed by its caller"
	if again := k.target("p1", "r1", nil); again.WorkingStatus != "open" {
		t.Fatal("a caller's change reached the kept conversation")
	}
	k.forget("p1", "r1")
	if k.target("p1", "r1", nil) != nil {
		t.Fatal("a forgotten conversation was given")
	}
}

// TestReplyTargetsBounded: past maxReplyTargets the oldest kept conversations go.
func TestReplyTargetsBounded(t *testing.T) {
	k := newReplyTargets()
	for i := range maxReplyTargets + 10 {
		k.keep(keptConversation(fmt.Sprint(i)))
		if i%1000 == 0 { // forgotten and kept again: still one conversation
			k.forget("p1", fmt.Sprint(i))
			k.keep(keptConversation(fmt.Sprint(i)))
		}
	}
	if len(k.kept) > maxReplyTargets {
		t.Fatalf("%d conversations kept, at most %d", len(k.kept), maxReplyTargets)
	}
	if k.target("p1", "1", nil) != nil || k.target("p1", fmt.Sprint(maxReplyTargets+9), nil) == nil {
		t.Fatal("not the oldest conversations were let go")
	}
}

// TestReplyTargetsForgetKeepsOnePlace: a conversation whose copy is forgotten and kept again, as
// replies through several processes make it, keeps one place in the eviction order.
func TestReplyTargetsForgetKeepsOnePlace(t *testing.T) {
	k := newReplyTargets()
	for range 1000 {
		k.keep(keptConversation("r1"))
		k.forget("p1", "r1")
	}
	k.forget("p1", "never kept")
	if len(k.order) != 1 || len(k.kept) != 1 {
		t.Fatalf("one conversation forgotten and kept 1,000 times holds %d places and %d entries", len(k.order), len(k.kept))
	}
	if k.target("p1", "r1", nil) != nil {
		t.Fatal("a forgotten conversation was given")
	}
	k.keep(keptConversation("r1"))
	if k.target("p1", "r1", nil) == nil {
		t.Fatal("a conversation kept again after being forgotten was not given")
	}
}
