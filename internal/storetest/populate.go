package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// Population is what Populate wrote, by id, for reading it back.
type Population struct {
	Users    []string
	Projects []*PopulatedProject
}

// PopulatedProject is one project of a Population.
type PopulatedProject struct {
	ID            string
	Requests      []string // request ids
	Subscriptions []string
}

// Populate fills s through its API as a deployment would be: two projects, each with members
// (agents, visitors), departments, an invitation, leads (tags, attributes, an idempotency key),
// conversations with messages, tags, notes and followers, custom events, webhook subscriptions
// with delivery records, a queued redelivery and a moved cursor, a bot with an intent, groups
// and a library tag, and the token secret; leads is the number of leads per project besides those
// the conversations create.
func Populate(t *testing.T, s tiledesk.Store, leads int) *Population {
	t.Helper()
	ctx := context.Background()
	if _, err := s.SetMetaIfAbsent(ctx, "jwt_secret", "populated-secret"); err != nil {
		t.Fatal(err)
	}
	pop := &Population{}
	for i := range 2 {
		c := newChat(t, s)
		pp := &PopulatedProject{ID: c.p.ID}
		pop.Projects = append(pop.Projects, pp)
		agent, agentPU := c.agent(t, true)
		pop.Users = append(pop.Users, c.owner.ID, agent.ID)
		invite(t, s, c.p, c.owner, fmt.Sprintf("invited%d@example.com", i), tiledesk.RoleAgent)
		now := tiledesk.Now()
		d := &tiledesk.Department{ID: tiledesk.NewID(), ProjectID: c.p.ID, Name: "Billing ünïcode", Routing: tiledesk.RoutingPooled,
			Status: tiledesk.DepartmentVisible, IDBot: "bot1", BotOnly: true, CreatedBy: c.owner.ID, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateDepartment(ctx, d); err != nil {
			t.Fatal(err)
		}
		populateLeads(t, s, c.p, leads)
		for j := range 3 {
			pp.Requests = append(pp.Requests, populateConversation(t, c, agentPU, j))
		}
		if err := s.AddCustomEvent(ctx, c.p.ID, tiledesk.NewID(), json.RawMessage(`{"b": 1.50, "a": [1e2, "x"], "n": null}`)); err != nil {
			t.Fatal(err)
		}
		pp.Subscriptions = populateSubscriptions(t, s, c.p)
		if err := s.CreateBot(ctx, NewBot(c.p, "Helper bot"), []*tiledesk.Intent{NewIntent("start", `\\start`, "Hi ✓")}); err != nil {
			t.Fatal(err)
		}
		populateCatalogues(t, s, c.p, agent.ID)
	}
	return pop
}

func populateLeads(t *testing.T, s tiledesk.Store, p *tiledesk.Project, n int) {
	ctx := context.Background()
	for i := range n {
		l := newLead(p, fmt.Sprintf("Lead %d Ünïcode 💬", i), fmt.Sprintf("Lead%d@Example.com", i))
		l.Tags = []string{"vip", fmt.Sprintf("t%d", i%3)}
		l.Attributes = map[string]any{"score": 1.5 * float64(i), "nested": map[string]any{"z": true, "a": []any{1, "two"}}}
		l.Properties = map[string]any{"plan": "pro"}
		var idem *tiledesk.Idempotency
		if i == 0 {
			idem = &tiledesk.Idempotency{Key: "lead-key-" + p.ID, Hash: "h1"}
		}
		if _, _, err := s.CreateLead(ctx, l, idem); err != nil {
			t.Fatalf("CreateLead: %v", err)
		}
		if i%4 == 1 {
			note := "updated"
			if _, err := s.UpdateLead(ctx, p.ID, l.ID, tiledesk.LeadUpdate{Note: &note, AddTags: []string{"later"}}, nil); err != nil {
				t.Fatal(err)
			}
		}
		if i%5 == 2 {
			if _, err := s.DeleteLead(ctx, p.ID, l.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// populateConversation opens a conversation by a visitor's first message, answers it, and gives
// it tags, a note and a follower; the second one is closed.
func populateConversation(t *testing.T, c *chat, follower *tiledesk.ProjectUser, j int) string {
	ctx := context.Background()
	g := c.guest(t)
	in := c.newRequest(g, g.UUIDUser, fmt.Sprintf("hello %d, ça va?", j))
	rid := in.Request.RequestID
	idem := &tiledesk.Idempotency{Key: fmt.Sprintf("send-%d", j), Hash: "h"}
	if _, _, _, _, err := c.s.PostMessage(ctx, &tiledesk.MessagePost{Message: c.message(rid, g.UUIDUser, in.Request.FirstText),
		Create: in, VisibleTo: tiledesk.VisibilityOf(g, g.UUIDUser), Idempotency: idem}); err != nil {
		t.Fatal(err)
	}
	reply := c.message(rid, c.owner.ID, "how can I help?")
	reply.Attributes = map[string]any{"subtype": "info", "n": 3}
	if _, _, _, _, err := c.s.PostMessage(ctx, &tiledesk.MessagePost{Message: reply,
		LastMessage: json.RawMessage(`{"text":"how can I help?"}`)}); err != nil {
		t.Fatal(err)
	}
	owner := tiledesk.Actor{Member: c.ownerPU, UserID: c.owner.ID}
	note, err := tiledesk.AddRequestNote(owner, "call back", map[string]any{"when": "tomorrow"})
	if err != nil {
		t.Fatal(err)
	}
	follow, err := tiledesk.AddRequestFollower(follower.ID, func(id string) (*tiledesk.ProjectUser, error) {
		return c.s.FindProjectUserByID(ctx, c.p.ID, id)
	})
	if err != nil {
		t.Fatal(err)
	}
	changes := []tiledesk.RequestChange{note, follow,
		tiledesk.AddRequestTags([]tiledesk.RequestTag{{ID: tiledesk.NewID(), Tag: "billing", Color: "#f00"}})}
	if j == 1 {
		changes = append(changes, tiledesk.CloseRequest(owner, false))
	}
	for _, change := range changes {
		if _, err := c.s.ChangeRequest(ctx, c.p.ID, rid, nil, change, nil); err != nil {
			t.Fatal(err)
		}
	}
	return rid
}

// populateSubscriptions subscribes to lead.create twice, records two attempts at one event on the
// first, moves its cursor and queues a redelivery.
func populateSubscriptions(t *testing.T, s tiledesk.Store, p *tiledesk.Project) []string {
	ctx := context.Background()
	ds := deliveryStore(t, s)
	sub := mustSubscribe(t, s, newSubscription(p, "lead.create", "https://example.com/a"))
	other := mustSubscribe(t, s, newSubscription(p, "request.create", "https://example.com/b"))
	last := WaitNumbered(t, s, p.ID, int64(len(events(t, s, p.ID, ""))))
	now := time.Now()
	held, ok, err := ds.LeaseSubscription(ctx, p.ID, sub.ID, "populate", now, now.Add(time.Minute))
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	var first *tiledesk.Delivery
	for attempt, status := range []string{tiledesk.DeliveryFailed, tiledesk.DeliverySucceeded} {
		d := &tiledesk.Delivery{ID: tiledesk.NewID(), ProjectID: p.ID, SubscriptionID: sub.ID,
			DeliveryID: tiledesk.DeliveryID(sub.ID, last), Seq: last, Event: "lead.create", Attempt: attempt + 1,
			Status: status, Code: 500 - 300*attempt, Latency: 12 * time.Millisecond, Error: "boom", CreatedAt: now}
		held.State.Cursor = last
		if ok, err := ds.SaveSubscriptionState(ctx, held, "populate", now.Add(time.Minute), []*tiledesk.Delivery{d}); !ok || err != nil {
			t.Fatalf("SaveSubscriptionState: %v %v", ok, err)
		}
		first = d
	}
	if err := s.Redeliver(ctx, p.ID, sub.ID, first.DeliveryID); err != nil {
		t.Fatal(err)
	}
	return []string{sub.ID, other.ID}
}

// populateCatalogues adds a group, a trashed group and a library tag to p.
func populateCatalogues(t *testing.T, s tiledesk.Store, p *tiledesk.Project, member string) {
	ctx := context.Background()
	now := tiledesk.Millis(tiledesk.Now())
	for i, trashed := range []bool{false, true} {
		g := &tiledesk.Group{ID: tiledesk.NewIDAt(now), ProjectID: p.ID, Name: fmt.Sprintf("Groupe n°%d", i), Members: []string{member},
			Enabled: true, Trashed: trashed, Attributes: map[string]any{"k": 1.25}, CreatedBy: p.CreatedBy, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	tag := &tiledesk.LibraryTag{ID: tiledesk.NewIDAt(now), ProjectID: p.ID, Tag: "rimborso €", Color: "#43B1F2",
		CreatedBy: p.CreatedBy, CreatedAt: now, UpdatedAt: now}
	if _, _, err := s.CreateLibraryTag(ctx, tag); err != nil {
		t.Fatal(err)
	}
}
