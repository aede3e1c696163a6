package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

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
			got, err := viewStore(t, s).FindRequestRefs(ctx, c.p.ID, f)
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
	checkRefParts(t, s, c.p.ID, &posted)
	listed, err := viewStore(t, s).FindRequestRefs(ctx, c.p.ID, tiledesk.RequestFilter{Limit: 100})
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
	clock := func() tiledesk.PopulationClock {
		t.Helper()
		at, err := viewStore(t, s).Clocks(ctx, c.p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if at.Population == (tiledesk.PopulationClock{}) {
			t.Skip("this engine keeps no population clock: its lists are always read")
		}
		return at.Population
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

func timeP(t time.Time) *time.Time { return &t }

// checkRefParts checks a ref's population clock parts, where given, against the clocks as they read
// now that nothing else is written, then clears them so that the ref compares with FindRequestRefs'.
func checkRefParts(t *testing.T, s tiledesk.Store, projectID string, ref *tiledesk.RequestRef) {
	t.Helper()
	if ref.Parts == nil {
		return
	}
	clocks, err := viewStore(t, s).Clocks(context.Background(), projectID)
	if err != nil {
		t.Fatal(err)
	}
	if ref.Parts.Members != clocks.Population.Members || ref.Parts.Users != clocks.Population.Users {
		t.Fatalf("PostMessage's clock parts %+v; the clocks read %+v", *ref.Parts, clocks.Population)
	}
	ref.Parts = nil
}

// testRequestSearchFollowsChanges: a conversation is found by the words it has now, through a
// change of its subject, replies (which leave its words alone) and its deletion.
func testRequestSearchFollowsChanges(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	c := newChat(t, s)
	g := c.guest(t)
	r := c.create(t, c.newRequest(g, g.UUIDUser, "hello"))
	found := func(word string) int {
		t.Helper()
		return len(find(t, s, c.p.ID, tiledesk.RequestFilter{Text: word, AllStatuses: true}).Requests)
	}
	if _, err := s.ChangeRequest(ctx, c.p.ID, r.RequestID, nil, func(r *tiledesk.Request, _ tiledesk.RequestEnv) ([]string, error) {
		r.Subject = "zebracorn"
		return nil, nil
	}, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, _, _, err := s.PostMessage(ctx, &tiledesk.MessagePost{Message: c.message(r.RequestID, c.owner.ID, "quokka")}); err != nil {
		t.Fatal(err)
	}
	if n := found("zebra"); n != 1 {
		t.Fatalf("a search for the new subject finds %d conversations, want 1", n)
	}
	if n := found("hello"); n != 1 {
		t.Fatalf("a search for the first text finds %d conversations, want 1", n)
	}
	if _, err := s.DeleteRequest(ctx, c.p.ID, r.RequestID, nil); err != nil {
		t.Fatal(err)
	}
	if n := found("zebra"); n != 0 {
		t.Fatalf("a deleted conversation is still found (%d)", n)
	}
}
