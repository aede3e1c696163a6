package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

// firstPost is one first message of testFirstMessagesAtOnce, and what PostMessage answered.
type firstPost struct {
	g       *tiledesk.ProjectUser
	in      *tiledesk.NewRequest
	m       *tiledesk.Message
	refused bool // to a department that does not exist
	r       *tiledesk.Request
	created bool
	err     error
}

// firstPosts are one round of testFirstMessagesAtOnce: every visitor opens two conversations,
// a second first message goes to one of them, one goes to an unknown department from a visitor
// of its own, and in the third round a returning visitor writes under a new name.
func firstPosts(t *testing.T, c *chat, guests []*tiledesk.ProjectUser, round int) []*firstPost {
	post := func(g *tiledesk.ProjectUser, text string) *firstPost {
		in := c.newRequest(g, g.UUIDUser, text)
		return &firstPost{g: g, in: in, m: c.message(in.Request.RequestID, g.UUIDUser, text)}
	}
	var posts []*firstPost
	for i := 0; i < 2*len(guests); i++ {
		posts = append(posts, post(guests[i%len(guests)], fmt.Sprintf("hello %d.%d", round, i)))
	}
	twin := post(guests[0], "hello again")
	twin.in.Request.RequestID, twin.m.Recipient = posts[0].in.Request.RequestID, posts[0].in.Request.RequestID
	lost := post(c.guest(t), "lost")
	lost.in.DepartmentID, lost.refused = tiledesk.NewID(), true
	posts = append(posts, twin, lost)
	if round == 2 {
		renamed := post(guests[2], "renamed")
		renamed.in.Lead.Fullname = "Renamed Visitor"
		posts = append(posts, renamed)
	}
	return posts
}

// testFirstMessagesAtOnce posts rounds of first messages at once, as visitors open conversations
// together (where the store writes them in batches, mixing every case a batch must tell apart).
// Each acknowledged message created its conversation, or was added to the one created by the
// other message to it; the refused one left nothing behind; tickets are unique, each visitor has
// one lead, the agent's count and the open count agree with the conversations, and each
// conversation, lead and message has its one event.
func testFirstMessagesAtOnce(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	c := newChat(t, s)
	guests := make([]*tiledesk.ProjectUser, 6)
	for i := range guests {
		guests[i] = c.guest(t)
	}
	var all []*firstPost
	for round := 0; round < 4; round++ {
		posts := firstPosts(t, c, guests, round)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, p := range posts {
			wg.Go(func() {
				<-start
				p.r, _, p.created, _, p.err = s.PostMessage(ctx, &tiledesk.MessagePost{Message: p.m, Create: p.in,
					VisibleTo: tiledesk.VisibilityOf(p.g, p.g.UUIDUser)})
			})
		}
		close(start)
		wg.Wait()
		all = append(all, posts...)
	}
	conversations := map[string]int{} // request_id -> messages acknowledged
	created := map[string]int{}
	for _, p := range all {
		rid := p.in.Request.RequestID
		switch {
		case p.refused && tiledesk.ErrorCode(p.err) != tiledesk.EINVALID:
			t.Fatalf("a first message to an unknown department answered %v", p.err)
		case p.refused:
			if _, err := s.FindRequest(ctx, c.p.ID, rid, nil); tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
				t.Fatalf("the refused conversation %s: FindRequest answered %v", rid, err)
			}
		case p.err != nil:
			t.Fatalf("first message to %s: %v", rid, p.err)
		case p.r.RequestID != rid:
			t.Fatalf("a first message to %s was answered with %s", rid, p.r.RequestID)
		default:
			conversations[rid]++
			if p.created {
				created[rid]++
			}
			if p.in.Lead.Fullname == "Renamed Visitor" && p.r.Snapshot.Lead.Fullname != "Renamed Visitor" {
				t.Fatalf("a visitor's new name gave a conversation of lead %+v", p.r.Snapshot.Lead)
			}
		}
	}
	rids := make([]string, 0, len(conversations))
	for rid, n := range conversations {
		if created[rid] != 1 {
			t.Fatalf("conversation %s was created by %d of its first messages", rid, created[rid])
		}
		msgs, _, err := s.FindMessages(ctx, c.p.ID, rid, tiledesk.MessageFilter{Limit: 100})
		if err != nil || len(msgs) != n {
			t.Fatalf("conversation %s holds %d messages (%v); %d were acknowledged", rid, len(msgs), err, n)
		}
		rids = append(rids, rid)
	}
	checkRequests(t, s, c.p.ID, rids, -1)
	if n := assigned(t, s, c.p.ID, c.owner.ID); n != len(rids) {
		t.Errorf("the agent counts %d assigned conversations; %d were routed to it", n, len(rids))
	}
	if leads := findLeads(t, s, c.p.ID, tiledesk.LeadFilter{Limit: 1000}); leads.Count != len(guests) {
		t.Errorf("%d visitors have %d leads", len(guests), leads.Count)
	}
	messages := 0
	for _, n := range conversations {
		messages += n
	}
	for name, want := range map[string]int{tiledesk.EventRequestCreate: len(rids), tiledesk.EventLeadCreate: len(guests),
		tiledesk.EventMessageCreate: messages} {
		events, err := s.FindEvents(ctx, c.p.ID, tiledesk.EventFilter{Name: name, Limit: tiledesk.MaxEventPage})
		if err != nil || len(events) != want {
			t.Errorf("%d %s events (%v); want %d", len(events), name, err, want)
		}
	}
}

// FirstMessagesAtOnce is the conformance test of first messages posted at once, for an engine's
// own tests to run on a store whose batches they then inspect.
func FirstMessagesAtOnce(t *testing.T, s tiledesk.Store) { testFirstMessagesAtOnce(t, s) }

// NewVisitorChat is a project whose owner is its one available agent, with n visitors, and a
// function making a visitor's first message, text, to a new conversation.
func NewVisitorChat(t *testing.T, s tiledesk.Store, n int) (p *tiledesk.Project, first func(visitor int, text string) *tiledesk.MessagePost) {
	c := newChat(t, s)
	guests := make([]*tiledesk.ProjectUser, n)
	for i := range guests {
		guests[i] = c.guest(t)
	}
	return c.p, func(visitor int, text string) *tiledesk.MessagePost {
		g := guests[visitor]
		in := c.newRequest(g, g.UUIDUser, text)
		return &tiledesk.MessagePost{Message: c.message(in.Request.RequestID, g.UUIDUser, text), Create: in,
			VisibleTo: tiledesk.VisibilityOf(g, g.UUIDUser)}
	}
}

// testChatLimitUnderFirstMessagesAtOnce opens more conversations at once than the one agent's
// chat limit allows: the agent gets as many as its limit, the rest wait unassigned.
func testChatLimitUnderFirstMessagesAtOnce(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	c := newChat(t, s)
	const limit = 3
	if _, err := s.UpdateProjectUser(ctx, c.p.ID, c.ownerPU.ID, tiledesk.ProjectUserUpdate{MaxAssignedChat: new(limit)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateProject(ctx, c.p.ID, tiledesk.ProjectUpdate{Settings: map[string]any{"chat_limit_on": true}}); err != nil {
		t.Fatal(err)
	}
	guests := []*tiledesk.ProjectUser{c.guest(t), c.guest(t), c.guest(t), c.guest(t)}
	start := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	routed := 0
	for i := 0; i < 10; i++ {
		g := guests[i%len(guests)]
		in := c.newRequest(g, g.UUIDUser, "hello")
		post := &tiledesk.MessagePost{Message: c.message(in.Request.RequestID, g.UUIDUser, "hello"), Create: in,
			VisibleTo: tiledesk.VisibilityOf(g, g.UUIDUser)}
		wg.Go(func() {
			<-start
			r, _, _, _, err := s.PostMessage(ctx, post)
			if err != nil {
				t.Errorf("first message: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if len(r.ParticipantsAgents) > 0 {
				routed++
			}
		})
	}
	close(start)
	wg.Wait()
	if routed != limit || assigned(t, s, c.p.ID, c.owner.ID) != limit {
		t.Fatalf("an agent limited to %d conversations got %d (it counts %d)", limit, routed, assigned(t, s, c.p.ID, c.owner.ID))
	}
}
