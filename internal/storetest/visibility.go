package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

func testRequestVisibility(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	c := newChat(t, s)
	g := c.guest(t)
	a, apu := c.agent(t, false)
	now := tiledesk.Now()
	grouped := &tiledesk.Department{ID: tiledesk.NewID(), ProjectID: c.p.ID, Name: "VIP", Routing: tiledesk.RoutingPooled,
		IDGroup: "group-1", Status: 1, CreatedBy: c.owner.ID, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateDepartment(ctx, grouped); err != nil {
		t.Fatal(err)
	}
	c.create(t, c.newRequest(g, g.UUIDUser, "open to all"))
	in := c.newRequest(g, g.UUIDUser, "vip only")
	in.DepartmentID = grouped.ID
	vip := c.create(t, in)
	v := &tiledesk.Visibility{UserID: a.ID, ProjectUserID: apu.ID}
	if got := find(t, s, c.p.ID, tiledesk.RequestFilter{VisibleTo: v}); got.Count != 1 || got.Requests[0].ID == vip.ID {
		t.Fatalf("an agent outside the group sees %d conversations", got.Count)
	}
	_, err := s.FindRequest(ctx, c.p.ID, vip.RequestID, v)
	wantCode(t, err, tiledesk.ENOTFOUND)
	if _, err := s.ChangeRequest(ctx, c.p.ID, vip.RequestID, nil, func(r *tiledesk.Request, env tiledesk.RequestEnv) ([]string, error) {
		r.AddParticipant(a.ID, env.Now())
		return nil, nil
	}, nil); err != nil {
		t.Fatal(err)
	}
	if got := find(t, s, c.p.ID, tiledesk.RequestFilter{VisibleTo: v}); got.Count != 2 {
		t.Fatalf("a participant does not see its conversation: %d", got.Count)
	}
	if _, err := s.FindRequest(ctx, c.p.ID, vip.RequestID, v); err != nil {
		t.Fatalf("a participant does not read its conversation: %v", err)
	}
	if got := find(t, s, c.p.ID, tiledesk.RequestFilter{}); got.Count != 2 {
		t.Fatalf("an admin sees %d, want 2", got.Count)
	}
}

// testRequestVisibilityAgrees generates conversations (departments restricted or not, one of them
// deleted since, participants, followers, requesters, closed or open) and members of every kind,
// and checks that what each member lists, counts, reads, changes and writes to by id is exactly
// what tiledesk.Visibility.Sees decides: the lists' SQL and the reads by id cannot disagree. It
// checks with a department restricted to a group (whose members see it), once the group is
// disabled, and once no department is restricted (lists then take a shortcut).
func testRequestVisibilityAgrees(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	c := newChat(t, s)
	rng := rand.New(rand.NewPCG(7, 11))
	dept := func(name, group string) *tiledesk.Department {
		now := tiledesk.Now()
		d := &tiledesk.Department{ID: tiledesk.NewID(), ProjectID: c.p.ID, Name: name, Routing: tiledesk.RoutingPooled,
			IDGroup: group, Status: 1, CreatedBy: c.owner.ID, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateDepartment(ctx, d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	vipGroup := tiledesk.NewID()
	depts := []*tiledesk.Department{c.dept, dept("Open", ""), dept("VIP", vipGroup), dept("Gone", "group-2")}
	var agents []*tiledesk.ProjectUser
	for i := 0; i < 4; i++ {
		_, pu := c.agent(t, false)
		agents = append(agents, pu)
	}
	// The VIP group holds the first two agents: they see VIP's conversations as the others do not.
	now := tiledesk.Millis(tiledesk.Now())
	group := &tiledesk.Group{ID: vipGroup, ProjectID: c.p.ID, Name: "VIP", Members: []string{agents[0].UserID, agents[1].UserID},
		Enabled: true, CreatedBy: c.owner.ID, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateGroup(ctx, group); err != nil {
		t.Fatal(err)
	}
	guests := []*tiledesk.ProjectUser{c.guest(t), c.guest(t)}
	members := append(slices.Clone(agents), guests...)
	for _, role := range []string{tiledesk.RoleSupervisor, tiledesk.RoleTeammate} {
		_, pu := c.agent(t, false)
		if _, err := s.UpdateProjectUser(ctx, c.p.ID, pu.ID, tiledesk.ProjectUserUpdate{Role: &role}); err != nil {
			t.Fatal(err)
		}
		pu.Role = role
		members = append(members, pu)
	}
	members = append(members, c.ownerPU)

	var rids []string
	for i := 0; i < 40; i++ {
		requester := guests[rng.IntN(len(guests))]
		if rng.IntN(5) == 0 {
			requester = agents[rng.IntN(len(agents))]
		}
		in := c.newRequest(requester, fmt.Sprintf("lead-%d", rng.IntN(6)), "generated")
		in.DepartmentID = depts[rng.IntN(len(depts))].ID
		r := c.create(t, in)
		var participants, followers []string
		for _, a := range agents {
			if rng.IntN(4) == 0 {
				participants = append(participants, a.UserID)
			}
			if rng.IntN(5) == 0 {
				followers = append(followers, a.ID)
			}
		}
		closed := rng.IntN(4) == 0
		if _, err := s.ChangeRequest(ctx, c.p.ID, r.RequestID, nil, func(r *tiledesk.Request, env tiledesk.RequestEnv) ([]string, error) {
			r.SetParticipants(participants, env.Now())
			r.Followers = followers
			if closed {
				r.Close(c.owner.ID, env.Now(), "")
			}
			return nil, nil
		}, nil); err != nil {
			t.Fatal(err)
		}
		rids = append(rids, r.RequestID)
	}
	if _, err := s.DeleteDepartment(ctx, c.p.ID, depts[3].ID); err != nil {
		t.Fatal(err)
	}
	// "Gone" restricts nothing any more; VIP restricts all but its group's members.
	inGroup := map[string]bool{agents[0].UserID: true, agents[1].UserID: true}
	checkVisibilityAgrees(t, s, c.p.ID, members, rids, func(dept, user string) bool { return dept == depts[2].ID && !inGroup[user] })

	// A disabled group opens nothing.
	if _, err := s.ChangeGroup(ctx, c.p.ID, vipGroup, func(g *tiledesk.Group) error { g.Enabled = false; return nil }); err != nil {
		t.Fatal(err)
	}
	checkVisibilityAgrees(t, s, c.p.ID, members, rids, func(dept, _ string) bool { return dept == depts[2].ID })

	// No restricted department left: agents see everything, lists without a condition.
	none := ""
	if _, err := s.UpdateDepartment(ctx, c.p.ID, depts[2].ID, tiledesk.DepartmentUpdate{IDGroup: &none}); err != nil {
		t.Fatal(err)
	}
	checkVisibilityAgrees(t, s, c.p.ID, members, rids, func(string, string) bool { return false })
}

// checkVisibilityAgrees compares, for each member, the rule applied to every conversation with the
// conversations its list holds, its counts, and those it may read, change and write to by id.
func checkVisibilityAgrees(t *testing.T, s tiledesk.Store, pid string, members []*tiledesk.ProjectUser, rids []string,
	restricted func(dept, user string) bool) {
	t.Helper()
	ctx := context.Background()
	all := map[string]*tiledesk.Request{}
	for _, rid := range rids {
		r, err := s.FindRequest(ctx, pid, rid, nil)
		if err != nil {
			t.Fatal(err)
		}
		all[rid] = r
	}
	for _, pu := range members {
		userID := pu.UserID
		if userID == "" {
			userID = pu.UUIDUser
		}
		v := tiledesk.VisibilityOf(pu, userID)
		want, open := map[string]bool{}, 0
		for rid, r := range all {
			if v.Sees(r, restricted(r.DepartmentID, userID)) {
				want[rid] = true
				if r.Status == tiledesk.RequestUnassigned || r.Status == tiledesk.RequestAssigned {
					open++
				}
			}
		}
		who := fmt.Sprintf("%s %s", pu.Role, pu.ID)
		page := find(t, s, pid, tiledesk.RequestFilter{VisibleTo: v, AllStatuses: true, Limit: 100})
		listed := map[string]bool{}
		for _, r := range page.Requests {
			listed[r.RequestID] = true
		}
		if page.Count != len(want) || len(listed) != len(want) {
			t.Errorf("%s: the list holds %d (count %d), the rule admits %d", who, len(listed), page.Count, len(want))
		}
		if !v.IsVisitor() {
			counts, err := s.CountRequests(ctx, pid, v)
			if err != nil {
				t.Fatal(err)
			}
			if got := counts.Unassigned + counts.Assigned + counts.BotAssigned; got != open {
				t.Errorf("%s: counts %d open conversations, the rule admits %d", who, got, open)
			}
		}
		for _, rid := range rids {
			_, err := s.FindRequest(ctx, pid, rid, v)
			_, cerr := s.ChangeRequest(ctx, pid, rid, v, func(*tiledesk.Request, tiledesk.RequestEnv) ([]string, error) { return nil, nil }, nil)
			_, merr := s.AddMessages(ctx, pid, rid, v, nil, nil)
			for what, e := range map[string]error{"read": err, "change": cerr, "write to": merr} {
				switch code := tiledesk.ErrorCode(e); {
				case code != "" && code != tiledesk.ENOTFOUND:
					t.Fatalf("%s: %s %s: %v", who, what, rid, e)
				case want[rid] != (code == ""):
					t.Errorf("%s may %s %s: %v, the rule says %v, the list says %v", who, what, rid, code == "", want[rid], listed[rid])
				}
			}
			if listed[rid] != want[rid] {
				t.Errorf("%s: %s listed %v, the rule says %v", who, rid, listed[rid], want[rid])
			}
		}
	}
}
