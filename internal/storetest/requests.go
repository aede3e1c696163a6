package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

var requestTests = []struct {
	name string
	fn   func(*testing.T, tiledesk.Store)
}{
	{"RequestCreateRoutesAndSnapshots", testRequestCreate},
	{"RequestRouting", testRequestRouting},
	{"RequestPostMessage", testRequestPostMessage},
	{"ChatStates", testChatStates},
	{"DirectConversations", testDirectConversations},
	{"DirectMessageStatus", testDirectMessageStatus},
	{"ChatGroups", testChatGroups},
	{"ChatPresence", testChatPresence},
	{"RequestConcurrentFirstMessages", testRequestConcurrentFirstMessages},
	{"FirstMessagesAtOnce", testFirstMessagesAtOnce},
	{"ChatLimitUnderFirstMessagesAtOnce", testChatLimitUnderFirstMessagesAtOnce},
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
	{"RequestSearchFollowsChanges", testRequestSearchFollowsChanges},
	{"RequestActivityOrder", testRequestActivityOrder},
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
