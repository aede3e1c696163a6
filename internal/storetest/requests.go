package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

var requestTests = []struct {
	name string
	fn   func(*testing.T, tiledesk.Store)
}{
	{"RequestCreateRoutesAndSnapshots", testRequestCreate},
	{"RequestRouting", testRequestRouting},
	{"RequestPostMessage", testRequestPostMessage},
	{"RequestConcurrentFirstMessages", testRequestConcurrentFirstMessages},
	{"RequestMessageIdempotency", testRequestMessageIdempotency},
	{"RequestLifecycle", testRequestLifecycle},
	{"RequestFilters", testRequestFilters},
	{"RequestCursor", testRequestCursor},
	{"RequestRefs", testRequestRefs},
	{"RequestVisibility", testRequestVisibility},
	{"RequestVisibilityAgrees", testRequestVisibilityAgrees},
	{"RequestDeleteCascades", testRequestDelete},
	{"RequestTenantIsolation", testRequestTenantIsolation},
	{"WritesUnderLoad", testWritesUnderLoad},
	{"PopulationClock", testPopulationClock},
}

// chat is a project with an owner (an available agent) and helpers to open conversations.
type chat struct {
	s       tiledesk.Store
	p       *tiledesk.Project
	owner   *tiledesk.User
	ownerPU *tiledesk.ProjectUser
	dept    *tiledesk.Department
}

func newChat(t *testing.T, s tiledesk.Store) *chat {
	t.Helper()
	owner := mustCreateUser(t, s, "owner")
	p, pu, d := mustCreateProject(t, s, owner, "Chat")
	return &chat{s: s, p: p, owner: owner, ownerPU: pu, dept: d}
}

// agent adds an agent membership and returns its user.
func (c *chat) agent(t *testing.T, available bool) (*tiledesk.User, *tiledesk.ProjectUser) {
	t.Helper()
	u := mustCreateUser(t, c.s, "agent")
	pu := tiledesk.NewProjectUser(c.p.ID, tiledesk.RoleAgent, c.owner.ID, tiledesk.Now())
	pu.UserID, pu.UserAvailable = u.ID, available
	if err := c.s.CreateProjectUser(context.Background(), pu); err != nil {
		t.Fatal(err)
	}
	return u, pu
}

// guest adds a visitor membership.
func (c *chat) guest(t *testing.T) *tiledesk.ProjectUser {
	t.Helper()
	id := fmt.Sprintf("visitor-%d", seq.Add(1))
	pu := tiledesk.NewProjectUser(c.p.ID, tiledesk.RoleGuest, id, tiledesk.Now())
	pu.UUIDUser = id
	if err := c.s.CreateProjectUser(context.Background(), pu); err != nil {
		t.Fatal(err)
	}
	return pu
}

func (c *chat) newRequest(requester *tiledesk.ProjectUser, leadID, text string) *tiledesk.NewRequest {
	r := &tiledesk.Request{ID: tiledesk.NewID(), ProjectID: c.p.ID, RequestID: fmt.Sprintf("support-group-%s-%d", c.p.ID, seq.Add(1)),
		FirstText: text, Priority: "medium", Channel: tiledesk.Channel{Name: "chat21"},
		ChannelOutbound: tiledesk.Channel{Name: "chat21"}, SmartAssignment: true, RequesterID: requester.ID,
		CreatedBy: leadID}
	return &tiledesk.NewRequest{Request: r, Lead: tiledesk.LeadRef{LeadID: leadID, Fullname: "Visitor " + leadID, Email: leadID + "@example.com"}}
}

func (c *chat) create(t *testing.T, in *tiledesk.NewRequest) *tiledesk.Request {
	t.Helper()
	r, err := c.s.CreateRequest(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateRequest: %v", err)
	}
	return r
}

func (c *chat) message(requestID, sender, text string) *tiledesk.Message {
	now := tiledesk.Now()
	return &tiledesk.Message{ID: tiledesk.NewID(), ProjectID: c.p.ID, Sender: sender, SenderFullname: "Someone",
		Recipient: requestID, Type: "text", ChannelType: "group", Text: text, Channel: tiledesk.Channel{Name: "chat21"},
		CreatedBy: sender, CreatedAt: now, UpdatedAt: now}
}

func assigned(t *testing.T, s tiledesk.Store, pid, userID string) int {
	t.Helper()
	pu, err := s.FindProjectUserByUserID(context.Background(), pid, userID)
	if err != nil {
		t.Fatal(err)
	}
	return pu.NumberAssignedRequests
}

func find(t *testing.T, s tiledesk.Store, pid string, f tiledesk.RequestFilter) *tiledesk.RequestPage {
	t.Helper()
	page, err := s.FindRequests(context.Background(), pid, f)
	if err != nil {
		t.Fatalf("FindRequests(%+v): %v", f, err)
	}
	return page
}

func testRequestCreate(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	c := newChat(t, s)
	g := c.guest(t)
	in := c.newRequest(g, g.UUIDUser, "Hello, I need help")
	r := c.create(t, in)
	if r.TicketID != 1 || r.Status != tiledesk.RequestAssigned || fmt.Sprint(r.Participants) != "["+c.owner.ID+"]" ||
		fmt.Sprint(r.ParticipantsAgents) != "["+c.owner.ID+"]" || len(r.ParticipantsBots) != 0 || r.HasBot ||
		r.DepartmentID != c.dept.ID || r.AssignedAt == nil || r.LeadID == "" {
		t.Fatalf("created request = %+v", r)
	}
	if r.Snapshot.Department == nil || r.Snapshot.Department.ID != c.dept.ID || r.Snapshot.Requester == nil ||
		r.Snapshot.Requester.ID != g.ID || r.Snapshot.Lead == nil || r.Snapshot.AvailableAgentsCount != 1 {
		t.Fatalf("snapshot = %+v", r.Snapshot)
	}
	lead, err := s.FindLeadByLeadID(ctx, c.p.ID, g.UUIDUser)
	if err != nil || lead.ID != r.LeadID || lead.CreatedBy != "system" || lead.Email != g.UUIDUser+"@example.com" {
		t.Fatalf("lead of the request = %+v, %v", lead, err)
	}
	if n := assigned(t, s, c.p.ID, c.owner.ID); n != 1 {
		t.Fatalf("owner's number_assigned_requests = %d, want 1", n)
	}
	got, err := s.FindRequest(ctx, c.p.ID, r.RequestID, nil)
	if err != nil || got.ID != r.ID || got.Snapshot.Lead == nil || got.Snapshot.Lead.ID != lead.ID || !got.UpdatedAt.Equal(r.UpdatedAt) {
		t.Fatalf("FindRequest = %+v, %v", got, err)
	}
	second := c.create(t, c.newRequest(g, g.UUIDUser, "Again"))
	if second.TicketID != 2 || second.LeadID != r.LeadID {
		t.Fatalf("second request: ticket %d lead %s; want 2 and the same lead", second.TicketID, second.LeadID)
	}
	other := newChat(t, s)
	og := other.guest(t)
	if r3 := other.create(t, other.newRequest(og, og.UUIDUser, "x")); r3.TicketID != 1 {
		t.Fatalf("tickets are per project: %d", r3.TicketID)
	}
	dup := c.newRequest(g, g.UUIDUser, "dup")
	dup.Request.RequestID = r.RequestID
	_, err = s.CreateRequest(ctx, dup)
	wantCode(t, err, tiledesk.ECONFLICT)
	bad := c.newRequest(g, g.UUIDUser, "bad")
	bad.DepartmentID = tiledesk.NewID()
	_, err = s.CreateRequest(ctx, bad)
	wantCode(t, err, tiledesk.EINVALID)
	if tiledesk.ErrorField(err) != "departmentid" {
		t.Fatalf("unknown department error names %q", tiledesk.ErrorField(err))
	}
	evs := events(t, s, c.p.ID, "")
	var names []string
	for _, ev := range evs {
		names = append(names, ev.Name)
	}
	for _, want := range []string{tiledesk.EventLeadCreate, tiledesk.EventRequestCreate} {
		if !slices.Contains(names, want) {
			t.Fatalf("events %v lack %s", names, want)
		}
	}
	// A lead that comes back with a new email gets it.
	in3 := c.newRequest(g, g.UUIDUser, "new email")
	in3.Lead.Email = "changed@example.com"
	c.create(t, in3)
	if l, _ := s.FindLeadByID(ctx, c.p.ID, r.LeadID); l.Email != "changed@example.com" {
		t.Fatalf("lead email = %q", l.Email)
	}
	if page := find(t, s, c.p.ID, tiledesk.RequestFilter{RequesterEmail: "changed@example.com"}); page.Count != 3 {
		t.Fatalf("requests by the lead's new email = %d, want 3", page.Count)
	}
}

func testRequestRouting(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	c := newChat(t, s)
	g := c.guest(t)
	a1, pu1 := c.agent(t, true)
	a2, _ := c.agent(t, true)
	c.agent(t, false) // unavailable: never chosen
	counts := map[string]int{}
	for i := 0; i < 6; i++ {
		r := c.create(t, c.newRequest(g, g.UUIDUser, "rr"))
		if len(r.Participants) != 1 || r.Snapshot.AvailableAgentsCount != 3 {
			t.Fatalf("routed to %v with %d available", r.Participants, r.Snapshot.AvailableAgentsCount)
		}
		counts[r.Participants[0]]++
	}
	if counts[c.owner.ID] != 2 || counts[a1.ID] != 2 || counts[a2.ID] != 2 {
		t.Fatalf("round robin spread = %v, want 2 each among the available agents", counts)
	}
	// An agent at its chat limit is skipped.
	limit := 2
	if _, err := s.UpdateProjectUser(ctx, c.p.ID, pu1.ID, tiledesk.ProjectUserUpdate{MaxAssignedChat: &limit}); err != nil {
		t.Fatal(err)
	}
	on := map[string]any{"chat_limit_on": true}
	if _, err := s.UpdateProject(ctx, c.p.ID, tiledesk.ProjectUpdate{Settings: on}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if r := c.create(t, c.newRequest(g, g.UUIDUser, "busy")); r.Participants[0] == a1.ID {
			t.Fatal("an agent at its chat limit got a conversation")
		}
	}
	now := tiledesk.Now()
	pooled := &tiledesk.Department{ID: tiledesk.NewID(), ProjectID: c.p.ID, Name: "Pool", Routing: tiledesk.RoutingPooled,
		Status: 1, CreatedBy: c.owner.ID, CreatedAt: now, UpdatedAt: now}
	bot := &tiledesk.Department{ID: tiledesk.NewID(), ProjectID: c.p.ID, Name: "Bot", Routing: tiledesk.RoutingAssigned,
		IDBot: "b0t", Status: 1, CreatedBy: c.owner.ID, CreatedAt: now, UpdatedAt: now}
	for _, d := range []*tiledesk.Department{pooled, bot} {
		if err := s.CreateDepartment(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	in := c.newRequest(g, g.UUIDUser, "pool")
	in.DepartmentID = pooled.ID
	if r := c.create(t, in); r.Status != tiledesk.RequestUnassigned || len(r.Participants) != 0 {
		t.Fatalf("pooled request = status %d participants %v", r.Status, r.Participants)
	}
	in = c.newRequest(g, g.UUIDUser, "bot")
	in.DepartmentID = bot.ID
	r := c.create(t, in)
	if r.Status != tiledesk.RequestAssigned || !r.HasBot || fmt.Sprint(r.Participants) != "[bot_b0t]" ||
		fmt.Sprint(r.ParticipantsBots) != "[b0t]" || len(r.ParticipantsAgents) != 0 {
		t.Fatalf("bot request = %+v", r)
	}
	in = c.newRequest(g, g.UUIDUser, "nobot")
	in.DepartmentID, in.NoBot = bot.ID, true
	if r := c.create(t, in); r.HasBot || len(r.ParticipantsAgents) != 1 {
		t.Fatalf("nobot request = %v", r.Participants)
	}
	in = c.newRequest(g, g.UUIDUser, "explicit")
	in.Participants = []string{a2.ID}
	if r := c.create(t, in); fmt.Sprint(r.Participants) != "["+a2.ID+"]" || r.Status != tiledesk.RequestAssigned {
		t.Fatalf("explicit participants = %v", r.Participants)
	}
	// Nobody available: unassigned.
	d := newChat(t, s)
	off := false
	if _, err := s.UpdateProjectUser(ctx, d.p.ID, d.ownerPU.ID, tiledesk.ProjectUserUpdate{UserAvailable: &off}); err != nil {
		t.Fatal(err)
	}
	dg := d.guest(t)
	if r := d.create(t, d.newRequest(dg, dg.UUIDUser, "alone")); r.Status != tiledesk.RequestUnassigned || r.Snapshot.AvailableAgentsCount != 0 {
		t.Fatalf("with nobody available = status %d", r.Status)
	}
}

func testRequestPostMessage(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	c := newChat(t, s)
	g := c.guest(t)
	in := c.newRequest(g, g.UUIDUser, "first words")
	rid := in.Request.RequestID
	m1 := c.message(rid, g.UUIDUser, "first words")
	r, m, created, replayed, err := s.PostMessage(ctx, &tiledesk.MessagePost{Message: m1, Create: in, VisibleTo: tiledesk.VisibilityOf(g, g.UUIDUser)})
	if err != nil || !created || replayed || m.ID != m1.ID || r.RequestID != rid || r.FirstText != "first words" {
		t.Fatalf("first message: created %v replayed %v err %v r %+v", created, replayed, err, r)
	}
	if r.Attributes["last_message"] != nil {
		t.Fatal("the first message set last_message")
	}
	// The agent answers: first response time.
	reply := c.message(rid, c.owner.ID, "how can I help?")
	reply.CreatedAt = reply.CreatedAt.Add(1500 * time.Millisecond)
	r, _, created, _, err = s.PostMessage(ctx, &tiledesk.MessagePost{Message: reply, LastMessage: json.RawMessage(`{"text":"how can I help?"}`)})
	if err != nil || created {
		t.Fatalf("reply: created %v err %v", created, err)
	}
	if r.FirstResponseAt == nil || r.WaitingTime == nil || *r.WaitingTime < 1500 ||
		r.Attributes["last_message"].(map[string]any)["text"] != "how can I help?" || !r.UpdatedAt.After(r.CreatedAt) {
		t.Fatalf("after the reply: first response %v waiting %v attrs %v", r.FirstResponseAt, r.WaitingTime, r.Attributes)
	}
	other := c.guest(t)
	// Another visitor cannot write into this conversation: it is not found, and not created again.
	intrusion := c.newRequest(other, other.UUIDUser, "intruder")
	intrusion.Request.RequestID = rid
	_, _, _, _, err = s.PostMessage(ctx, &tiledesk.MessagePost{Message: c.message(rid, other.UUIDUser, "intruder"),
		VisibleTo: tiledesk.VisibilityOf(other, other.UUIDUser), Create: intrusion})
	wantCode(t, err, tiledesk.ENOTFOUND)
	_, _, _, _, err = s.PostMessage(ctx, &tiledesk.MessagePost{Message: c.message("nope", c.owner.ID, "x")})
	wantCode(t, err, tiledesk.ENOTFOUND)
	msgs, next, err := s.FindMessages(ctx, c.p.ID, rid, tiledesk.MessageFilter{})
	if err != nil || len(msgs) != 2 || next != nil || msgs[0].Text != "first words" || msgs[1].Text != "how can I help?" {
		t.Fatalf("messages = %v, %v", len(msgs), err)
	}
	got, err := s.FindMessage(ctx, c.p.ID, rid, m1.ID)
	if err != nil || got.Text != "first words" {
		t.Fatalf("FindMessage = %+v, %v", got, err)
	}
	_, err = s.FindMessage(ctx, c.p.ID, "other", m1.ID)
	wantCode(t, err, tiledesk.ENOTFOUND)
	more := []*tiledesk.Message{c.message(rid, g.UUIDUser, "a"), c.message(rid, g.UUIDUser, "b")}
	r, err = s.AddMessages(ctx, c.p.ID, rid, nil, more, json.RawMessage(`{"text":"b"}`))
	if err != nil || r.Attributes["last_message"].(map[string]any)["text"] != "b" {
		t.Fatalf("AddMessages = %v", err)
	}
	_, err = s.AddMessages(ctx, c.p.ID, "missing", nil, more, nil)
	wantCode(t, err, tiledesk.ENOTFOUND)
	all, _, _ := s.FindMessages(ctx, c.p.ID, rid, tiledesk.MessageFilter{})
	page1, next, _ := s.FindMessages(ctx, c.p.ID, rid, tiledesk.MessageFilter{Limit: 3})
	page2, last, _ := s.FindMessages(ctx, c.p.ID, rid, tiledesk.MessageFilter{Limit: 3, After: next})
	if len(all) != 4 || len(page1) != 3 || next == nil || len(page2) != 1 || last != nil || page2[0].ID != all[3].ID {
		t.Fatalf("message pages: %d then %d of %d", len(page1), len(page2), len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].CreatedAt.Before(all[i-1].CreatedAt) {
			t.Fatal("messages are not oldest first")
		}
	}
	var msgEvents int
	for _, ev := range events(t, s, c.p.ID, tiledesk.EventMessageCreate) {
		if ev.Name == tiledesk.EventMessageCreate {
			msgEvents++
		}
	}
	if msgEvents != 4 {
		t.Fatalf("message.create events = %d, want 4", msgEvents)
	}
}

func testRequestConcurrentFirstMessages(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	c := newChat(t, s)
	g := c.guest(t)
	rid := "support-group-race"
	const n = 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	createdCount := 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			in := c.newRequest(g, g.UUIDUser, "race")
			in.Request.RequestID = rid
			_, _, created, _, err := s.PostMessage(ctx, &tiledesk.MessagePost{Message: c.message(rid, g.UUIDUser, fmt.Sprint(i)), Create: in})
			if err != nil {
				t.Errorf("concurrent first message: %v", err)
				return
			}
			if created {
				mu.Lock()
				createdCount++
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	if createdCount != 1 {
		t.Fatalf("%d first messages created %d conversations", n, createdCount)
	}
	all := find(t, s, c.p.ID, tiledesk.RequestFilter{AllStatuses: true})
	if all.Count != 1 {
		t.Fatalf("conversations = %d, want 1", all.Count)
	}
	msgs, _, _ := s.FindMessages(ctx, c.p.ID, rid, tiledesk.MessageFilter{})
	if len(msgs) != n {
		t.Fatalf("messages = %d, want %d", len(msgs), n)
	}
	leads := findLeads(t, s, c.p.ID, tiledesk.LeadFilter{})
	if leads.Count != 1 {
		t.Fatalf("leads = %d, want 1", leads.Count)
	}
}

func testRequestMessageIdempotency(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	c := newChat(t, s)
	g := c.guest(t)
	in := c.newRequest(g, g.UUIDUser, "hi")
	idem := &tiledesk.Idempotency{Key: "send-1", Hash: "h"}
	_, m1, _, _, err := s.PostMessage(ctx, &tiledesk.MessagePost{Message: c.message(in.Request.RequestID, g.UUIDUser, "hi"), Create: in, Idempotency: idem})
	if err != nil {
		t.Fatal(err)
	}
	r, m2, created, replayed, err := s.PostMessage(ctx, &tiledesk.MessagePost{Message: c.message(in.Request.RequestID, g.UUIDUser, "hi"),
		Create: c.newRequest(g, g.UUIDUser, "hi"), Idempotency: idem})
	if err != nil || !replayed || created || m2.ID != m1.ID || r.RequestID != in.Request.RequestID {
		t.Fatalf("retried send: replayed %v created %v err %v", replayed, created, err)
	}
	msgs, _, _ := s.FindMessages(ctx, c.p.ID, in.Request.RequestID, tiledesk.MessageFilter{})
	if len(msgs) != 1 {
		t.Fatalf("messages after a retried send = %d, want 1", len(msgs))
	}
	_, _, _, _, err = s.PostMessage(ctx, &tiledesk.MessagePost{Message: c.message(in.Request.RequestID, g.UUIDUser, "other"),
		Idempotency: &tiledesk.Idempotency{Key: "send-1", Hash: "different"}})
	wantCode(t, err, tiledesk.ECONFLICT)
}

func testRequestLifecycle(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	c := newChat(t, s)
	g := c.guest(t)
	a, _ := c.agent(t, false)
	r := c.create(t, c.newRequest(g, g.UUIDUser, "help"))
	rid := r.RequestID
	for _, text := range []string{"first", "second"} {
		if _, _, _, _, err := s.PostMessage(ctx, &tiledesk.MessagePost{Message: c.message(rid, g.UUIDUser, text)}); err != nil {
			t.Fatal(err)
		}
	}
	open := find(t, s, c.p.ID, tiledesk.RequestFilter{}).Count
	// Add the agent, then close.
	r, err := s.ChangeRequest(ctx, c.p.ID, rid, nil, func(r *tiledesk.Request, env tiledesk.RequestEnv) ([]string, error) {
		r.AddParticipant(a.ID, env.Now())
		return []string{tiledesk.EventRequestParticipants}, nil
	}, nil)
	if err != nil || len(r.ParticipantsAgents) != 2 || assigned(t, s, c.p.ID, a.ID) != 1 {
		t.Fatalf("add participant: %v %v", r.Participants, err)
	}
	r, err = s.ChangeRequest(ctx, c.p.ID, rid, nil, func(r *tiledesk.Request, env tiledesk.RequestEnv) ([]string, error) {
		transcript, err := env.Transcript()
		if err != nil {
			return nil, err
		}
		r.Close(c.owner.ID, env.Now(), transcript)
		return []string{tiledesk.EventRequestClose}, nil
	}, nil)
	if err != nil || r.Status != tiledesk.RequestClosed || r.ClosedAt == nil || r.Duration == nil || r.ClosedBy != c.owner.ID {
		t.Fatalf("closed = %+v, %v", r, err)
	}
	if want := "Someone: first\r\n"; !containsStr(r.Transcript, want) || !containsStr(r.Transcript, "Someone: second") {
		t.Fatalf("transcript = %q", r.Transcript)
	}
	if assigned(t, s, c.p.ID, a.ID) != 0 || assigned(t, s, c.p.ID, c.owner.ID) != 0 {
		t.Fatal("closing did not release the agents")
	}
	if got := find(t, s, c.p.ID, tiledesk.RequestFilter{}).Count; got != open-1 {
		t.Fatalf("open count after closing = %d, want %d", got, open-1)
	}
	if got := find(t, s, c.p.ID, tiledesk.RequestFilter{Statuses: []int{tiledesk.RequestClosed}}); got.Count != 1 {
		t.Fatalf("closed list = %d", got.Count)
	}
	r, err = s.ChangeRequest(ctx, c.p.ID, rid, nil, func(r *tiledesk.Request, env tiledesk.RequestEnv) ([]string, error) {
		r.Reopen(env.Now())
		return []string{tiledesk.EventRequestReopen}, nil
	}, nil)
	if err != nil || r.Status != tiledesk.RequestAssigned || assigned(t, s, c.p.ID, a.ID) != 1 {
		t.Fatalf("reopened = %d, %v", r.Status, err)
	}
	// Removing every participant leaves it unassigned.
	r, _ = s.ChangeRequest(ctx, c.p.ID, rid, nil, func(r *tiledesk.Request, env tiledesk.RequestEnv) ([]string, error) {
		r.SetParticipants(nil, env.Now())
		return nil, nil
	}, nil)
	if r.Status != tiledesk.RequestUnassigned || assigned(t, s, c.p.ID, a.ID) != 0 {
		t.Fatalf("without participants: status %d", r.Status)
	}
	if got := find(t, s, c.p.ID, tiledesk.RequestFilter{Participant: a.ID}); got.Count != 0 {
		t.Fatal("participant index not updated")
	}
	// Reroute through the env.
	r, err = s.ChangeRequest(ctx, c.p.ID, rid, nil, func(r *tiledesk.Request, env tiledesk.RequestEnv) ([]string, error) {
		d, err := env.Department("")
		if err != nil {
			return nil, err
		}
		out, err := env.Route(d, false)
		if err != nil {
			return nil, err
		}
		r.SetParticipants(out.Participants, env.Now())
		return nil, nil
	}, nil)
	if err != nil || r.Status != tiledesk.RequestAssigned || fmt.Sprint(r.Participants) != "["+c.owner.ID+"]" {
		t.Fatalf("rerouted = %v %v", r.Participants, err)
	}
	refused := tiledesk.Errorf(tiledesk.EPRECONDITION, "changed")
	_, err = s.ChangeRequest(ctx, c.p.ID, rid, nil, func(r *tiledesk.Request, env tiledesk.RequestEnv) ([]string, error) {
		r.Priority = "high"
		return nil, nil
	}, func(*tiledesk.Request) error { return refused })
	wantCode(t, err, tiledesk.EPRECONDITION)
	if got, _ := s.FindRequest(ctx, c.p.ID, rid, nil); got.Priority != "medium" {
		t.Fatal("a refused change was written")
	}
	_, err = s.ChangeRequest(ctx, c.p.ID, "nope", nil, func(*tiledesk.Request, tiledesk.RequestEnv) ([]string, error) { return nil, nil }, nil)
	wantCode(t, err, tiledesk.ENOTFOUND)
	var names []string
	for _, ev := range events(t, s, c.p.ID, "") {
		names = append(names, ev.Name)
	}
	for _, want := range []string{tiledesk.EventRequestUpdate, tiledesk.EventRequestClose, tiledesk.EventRequestReopen, tiledesk.EventRequestParticipants} {
		if !slices.Contains(names, want) {
			t.Fatalf("events lack %s: %v", want, names)
		}
	}
}

func containsStr(s, sub string) bool { return contains(s, sub) }

func testRequestFilters(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	c := newChat(t, s)
	g := c.guest(t)
	a, _ := c.agent(t, false)
	r1 := c.create(t, c.newRequest(g, g.UUIDUser, "Billing question about invoices"))
	in := c.newRequest(g, "other-lead", "Shipping delay")
	in.Participants = []string{a.ID}
	in.Request.Channel = tiledesk.Channel{Name: "email"}
	in.Request.Priority = "high"
	in.Request.Tags = []tiledesk.RequestTag{{ID: tiledesk.NewID(), Tag: "vip"}}
	r2 := c.create(t, in)
	pre := c.newRequest(g, g.UUIDUser, "preflight")
	pre.Request.Preflight = true
	c.create(t, pre)
	yes := true
	ticket := r2.TicketID
	for name, tc := range map[string]struct {
		f    tiledesk.RequestFilter
		want int
	}{
		"default":            {tiledesk.RequestFilter{}, 2},
		"with preflight":     {tiledesk.RequestFilter{Preflight: true}, 3},
		"participant":        {tiledesk.RequestFilter{Participant: a.ID}, 1},
		"lead":               {tiledesk.RequestFilter{LeadID: r1.LeadID}, 1},
		"requester email":    {tiledesk.RequestFilter{RequesterEmail: "OTHER-LEAD@example.com"}, 1},
		"text prefix":        {tiledesk.RequestFilter{Text: "invo"}, 1},
		"text lead name":     {tiledesk.RequestFilter{Text: "visitor"}, 2},
		"tag":                {tiledesk.RequestFilter{Tags: []string{"vip"}}, 1},
		"channel offline":    {tiledesk.RequestFilter{Channel: "offline"}, 1},
		"channel online":     {tiledesk.RequestFilter{Channel: "online"}, 1},
		"channel name":       {tiledesk.RequestFilter{Channel: "chat21"}, 1},
		"ticket":             {tiledesk.RequestFilter{TicketID: &ticket}, 1},
		"priority":           {tiledesk.RequestFilter{Priority: "high"}, 1},
		"hasbot":             {tiledesk.RequestFilter{HasBot: &yes}, 0},
		"status 200":         {tiledesk.RequestFilter{Statuses: []int{200}}, 2},
		"status 100,1000":    {tiledesk.RequestFilter{Statuses: []int{100, 1000}}, 0},
		"all":                {tiledesk.RequestFilter{AllStatuses: true}, 2},
		"department":         {tiledesk.RequestFilter{DepartmentID: c.dept.ID}, 2},
		"requester":          {tiledesk.RequestFilter{RequesterID: g.ID}, 2},
		"working status ne":  {tiledesk.RequestFilter{WorkingStatus: &tiledesk.StringMatch{Op: "ne", Values: []string{"x"}}}, 2},
		"working status in":  {tiledesk.RequestFilter{WorkingStatus: &tiledesk.StringMatch{Op: "in", Values: []string{"x", "y"}}}, 0},
		"created in range":   {tiledesk.RequestFilter{From: timeP(r1.CreatedAt), To: timeP(r1.CreatedAt.Add(time.Hour))}, 2},
		"created before all": {tiledesk.RequestFilter{To: timeP(r1.CreatedAt)}, 0},
		"updated since":      {tiledesk.RequestFilter{UpdatedSince: timeP(r1.UpdatedAt)}, 1},
	} {
		page := find(t, s, c.p.ID, tc.f)
		if len(page.Requests) != tc.want || page.Count != tc.want {
			t.Errorf("%s: %d requests, count %d; want %d", name, len(page.Requests), page.Count, tc.want)
		}
	}
	counts, err := s.CountRequests(ctx, c.p.ID, nil)
	if err != nil || counts.Assigned != 2 || counts.Unassigned != 0 || counts.BotAssigned != 0 {
		t.Fatalf("counts = %+v, %v", counts, err)
	}
}

func timeP(t time.Time) *time.Time { return &t }

func testRequestCursor(t *testing.T, s tiledesk.Store) {
	c := newChat(t, s)
	g := c.guest(t)
	for i := 0; i < 9; i++ {
		c.create(t, c.newRequest(g, g.UUIDUser, fmt.Sprint("r", i)))
	}
	for _, key := range []string{tiledesk.RequestSortCreatedAt, tiledesk.RequestSortUpdatedAt, tiledesk.RequestSortTicketID, tiledesk.RequestSortID} {
		for _, desc := range []bool{true, false} {
			all := find(t, s, c.p.ID, tiledesk.RequestFilter{Sort: key, Desc: desc, Limit: 100})
			var seen []string
			f := tiledesk.RequestFilter{Sort: key, Desc: desc, Limit: 4}
			for {
				page := find(t, s, c.p.ID, f)
				for _, r := range page.Requests {
					seen = append(seen, r.ID)
				}
				if page.Next == nil {
					break
				}
				f.After = page.Next
			}
			var want []string
			for _, r := range all.Requests {
				want = append(want, r.ID)
			}
			if fmt.Sprint(seen) != fmt.Sprint(want) || len(want) != 9 {
				t.Fatalf("sort %s desc %v: cursor pages differ from one page", key, desc)
			}
		}
	}
	byTicket := find(t, s, c.p.ID, tiledesk.RequestFilter{Sort: tiledesk.RequestSortTicketID, Limit: 100})
	for i, r := range byTicket.Requests {
		if r.TicketID != i+1 {
			t.Fatalf("ticket order: position %d has ticket %d", i, r.TicketID)
		}
	}
}

func testRequestDelete(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	c := newChat(t, s)
	g := c.guest(t)
	in := c.newRequest(g, g.UUIDUser, "bye")
	if _, _, _, _, err := s.PostMessage(ctx, &tiledesk.MessagePost{Message: c.message(in.Request.RequestID, g.UUIDUser, "bye"), Create: in}); err != nil {
		t.Fatal(err)
	}
	before := find(t, s, c.p.ID, tiledesk.RequestFilter{}).Count
	del, err := s.DeleteRequest(ctx, c.p.ID, in.Request.RequestID, nil)
	if err != nil || del.RequestID != in.Request.RequestID {
		t.Fatalf("DeleteRequest = %v", err)
	}
	_, err = s.FindRequest(ctx, c.p.ID, in.Request.RequestID, nil)
	wantCode(t, err, tiledesk.ENOTFOUND)
	if msgs, _, _ := s.FindMessages(ctx, c.p.ID, in.Request.RequestID, tiledesk.MessageFilter{}); len(msgs) != 0 {
		t.Fatalf("%d messages survived their conversation", len(msgs))
	}
	if got := find(t, s, c.p.ID, tiledesk.RequestFilter{}).Count; got != before-1 {
		t.Fatalf("open count after delete = %d, want %d", got, before-1)
	}
	if assigned(t, s, c.p.ID, c.owner.ID) != 0 {
		t.Fatal("deleting did not release the agent")
	}
	_, err = s.DeleteRequest(ctx, c.p.ID, in.Request.RequestID, nil)
	wantCode(t, err, tiledesk.ENOTFOUND)
	if evs := events(t, s, c.p.ID, tiledesk.EventRequestDelete); len(evs) != 1 {
		t.Fatalf("request.delete events = %d", len(evs))
	}
}

func testRequestTenantIsolation(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	a, b := newChat(t, s), newChat(t, s)
	ga := a.guest(t)
	in := a.newRequest(ga, ga.UUIDUser, "secret of A")
	if _, _, _, _, err := s.PostMessage(ctx, &tiledesk.MessagePost{Message: a.message(in.Request.RequestID, ga.UUIDUser, "secret"), Create: in}); err != nil {
		t.Fatal(err)
	}
	rid := in.Request.RequestID
	if _, err := s.FindRequest(ctx, b.p.ID, rid, nil); tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		t.Fatalf("A's request through B: %v", err)
	}
	if msgs, _, _ := s.FindMessages(ctx, b.p.ID, rid, tiledesk.MessageFilter{}); len(msgs) != 0 {
		t.Fatal("A's messages through B")
	}
	_, err := s.ChangeRequest(ctx, b.p.ID, rid, nil, func(r *tiledesk.Request, _ tiledesk.RequestEnv) ([]string, error) {
		r.Priority = "pwned"
		return nil, nil
	}, nil)
	wantCode(t, err, tiledesk.ENOTFOUND)
	_, err = s.DeleteRequest(ctx, b.p.ID, rid, nil)
	wantCode(t, err, tiledesk.ENOTFOUND)
	_, _, _, _, err = s.PostMessage(ctx, &tiledesk.MessagePost{Message: b.message(rid, "x", "into A")})
	wantCode(t, err, tiledesk.ENOTFOUND)
	for _, f := range []tiledesk.RequestFilter{{}, {AllStatuses: true}, {Text: "secret"}} {
		if got := find(t, s, b.p.ID, f); got.Count != 0 || len(got.Requests) != 0 {
			t.Fatalf("B's list %+v shows A's conversation", f)
		}
	}
	// Another project's department cannot route B's conversation.
	gb := b.guest(t)
	inB := b.newRequest(gb, gb.UUIDUser, "x")
	inB.DepartmentID = a.dept.ID
	_, err = s.CreateRequest(ctx, inB)
	wantCode(t, err, tiledesk.EINVALID)
	if got, _ := s.FindRequest(ctx, a.p.ID, rid, nil); got.Priority != "medium" {
		t.Fatal("A's request changed")
	}
}

// testRequestRefs holds FindRequestRefs to FindRequests: the same conversations, order, counts and
// cursors (interchangeable), the ids they are populated with, their lead's version, and
// FindRequestsByIDs returning them whole.
func testRequestRefs(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	c := newChat(t, s)
	_, apu := c.agent(t, true)
	for i := 0; i < 7; i++ {
		g := c.guest(t)
		in := c.newRequest(g, g.UUIDUser, fmt.Sprint("r", i))
		if i == 3 {
			in.Participants = []string{"bot_" + tiledesk.NewID(), apu.UserID}
		}
		c.create(t, in)
	}
	var filters []tiledesk.RequestFilter
	for _, key := range []string{tiledesk.RequestSortCreatedAt, tiledesk.RequestSortUpdatedAt, tiledesk.RequestSortTicketID, tiledesk.RequestSortID} {
		for _, desc := range []bool{true, false} {
			filters = append(filters, tiledesk.RequestFilter{Sort: key, Desc: desc, Limit: 3})
		}
	}
	filters = append(filters, tiledesk.RequestFilter{AllStatuses: true, NoCount: true}, tiledesk.RequestFilter{Text: "!!"},
		tiledesk.RequestFilter{VisibleTo: &tiledesk.Visibility{UserID: apu.UserID, ProjectUserID: apu.ID}})
	for _, f := range filters {
		fromRefs := false
		for i := 0; ; i++ {
			want := find(t, s, c.p.ID, f)
			got, err := s.FindRequestRefs(ctx, c.p.ID, f)
			if err != nil {
				t.Fatalf("FindRequestRefs(%+v): %v", f, err)
			}
			if len(got.Refs) != len(want.Requests) || got.Count != want.Count || fmt.Sprint(got.Next) != fmt.Sprint(want.Next) {
				t.Fatalf("filter %+v: %d refs (count %d, next %v), %d requests (count %d, next %v)", f, len(got.Refs),
					got.Count, got.Next, len(want.Requests), want.Count, want.Next)
			}
			var ids []string
			for k, r := range want.Requests {
				ref := got.Refs[k]
				ids = append(ids, ref.ID)
				if ref.ID != r.ID || !ref.UpdatedAt.Equal(r.UpdatedAt) || ref.LeadID != r.LeadID || ref.DepartmentID != r.DepartmentID ||
					ref.RequesterID != r.RequesterID || fmt.Sprint(ref.ParticipantsAgents) != fmt.Sprint(r.ParticipantsAgents) ||
					fmt.Sprint(ref.ParticipantsBots) != fmt.Sprint(r.ParticipantsBots) {
					t.Fatalf("ref %+v of request %+v", ref, r)
				}
				lead, err := s.FindLeadByID(ctx, c.p.ID, r.LeadID)
				if err != nil {
					t.Fatal(err)
				}
				if ref.LeadUpdatedAt == nil || !ref.LeadUpdatedAt.Equal(lead.UpdatedAt) {
					t.Fatalf("ref lead version %v, lead updated %s", ref.LeadUpdatedAt, lead.UpdatedAt)
				}
			}
			whole, err := s.FindRequestsByIDs(ctx, c.p.ID, append(ids, tiledesk.NewID()))
			if err != nil || len(whole) != len(ids) {
				t.Fatalf("FindRequestsByIDs = %d requests, %v; want %d", len(whole), err, len(ids))
			}
			for _, r := range want.Requests {
				if w := whole[r.ID]; w == nil || w.RequestID != r.RequestID || w.FirstText != r.FirstText {
					t.Fatalf("FindRequestsByIDs[%s] = %+v", r.ID, w)
				}
			}
			if want.Next == nil {
				break
			}
			if fromRefs {
				f.After = got.Next
			} else {
				f.After = want.Next
			}
			fromRefs = !fromRefs
			if i > 10 {
				t.Fatal("cursor never ends")
			}
		}
	}
	// A message's Ref is what FindRequestRefs says of its conversation after the commit.
	target := find(t, s, c.p.ID, tiledesk.RequestFilter{Limit: 1}).Requests[0]
	var posted tiledesk.RequestRef
	r, _, _, _, err := s.PostMessage(ctx, &tiledesk.MessagePost{Message: c.message(target.RequestID, c.owner.ID, "reply"), Ref: &posted})
	if err != nil {
		t.Fatal(err)
	}
	listed, err := s.FindRequestRefs(ctx, c.p.ID, tiledesk.RequestFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range listed.Refs {
		if ref.ID == target.ID && (fmt.Sprintf("%+v", ref) != fmt.Sprintf("%+v", posted) || !r.UpdatedAt.Equal(posted.UpdatedAt)) {
			t.Fatalf("PostMessage's ref %+v, FindRequestRefs' %+v (request updated %s)", posted, ref, r.UpdatedAt)
		}
	}
	if posted.ID != target.ID || posted.RequesterUpdatedAt == nil || posted.LeadUpdatedAt == nil {
		t.Fatalf("PostMessage's ref = %+v", posted)
	}
	// Another project's conversations are not found by id.
	other := newChat(t, s)
	any1 := find(t, s, c.p.ID, tiledesk.RequestFilter{Limit: 1}).Requests[0]
	if got, err := s.FindRequestsByIDs(ctx, other.p.ID, []string{any1.ID}); err != nil || len(got) != 0 {
		t.Fatalf("a conversation found through another project: %v, %v", got, err)
	}
}

// testPopulationClock checks that the clock a kept list of conversations is checked against moves
// with every change of what such a list shows, and only then.
func testPopulationClock(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	c := newChat(t, s)
	g := c.guest(t)
	r := c.create(t, c.newRequest(g, g.UUIDUser, "hello"))
	clock := func() tiledesk.ListClock {
		t.Helper()
		at, ok, err := s.PopulationClock(ctx, c.p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			t.Skip("this engine keeps no population clock: its lists are always read")
		}
		return at
	}
	before := clock()
	if again := clock(); again != before {
		t.Fatalf("the clock moved without a change: %v then %v", before, again)
	}
	name, first := "Renamed", "Changed"
	changes := []struct {
		what   string
		change func() error
	}{
		{"a conversation", func() error {
			_, err := s.ChangeRequest(ctx, c.p.ID, r.RequestID, nil, func(r *tiledesk.Request, _ tiledesk.RequestEnv) ([]string, error) {
				r.Subject = "changed"
				return nil, nil
			}, nil)
			return err
		}},
		{"a message", func() error {
			_, _, _, _, err := s.PostMessage(ctx, &tiledesk.MessagePost{Message: c.message(r.RequestID, c.owner.ID, "reply")})
			return err
		}},
		{"a lead", func() error {
			_, err := s.UpdateLead(ctx, c.p.ID, r.LeadID, tiledesk.LeadUpdate{Fullname: &name}, nil)
			return err
		}},
		{"a membership", func() error {
			off := false
			_, err := s.UpdateProjectUser(ctx, c.p.ID, c.ownerPU.ID, tiledesk.ProjectUserUpdate{UserAvailable: &off})
			return err
		}},
		{"a department", func() error {
			_, err := s.UpdateDepartment(ctx, c.p.ID, c.dept.ID, tiledesk.DepartmentUpdate{Name: &name})
			return err
		}},
		{"a user", func() error {
			_, err := s.UpdateUser(ctx, c.owner.ID, tiledesk.UserUpdate{Firstname: &first})
			return err
		}},
	}
	for _, ch := range changes {
		if err := ch.change(); err != nil {
			t.Fatalf("change %s: %v", ch.what, err)
		}
		after := clock()
		if after == before {
			t.Fatalf("a change of %s left the clock at %v", ch.what, before)
		}
		before = after
	}
}
