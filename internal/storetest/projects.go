package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

func testProjects(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	owner := mustCreateUser(t, s, "owner")
	p, pu, d := mustCreateProject(t, s, owner, "Acme")
	got, err := s.FindProjectByID(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Acme" || got.Profile.Name != "Sandbox" || got.Profile.TrialDays != 14 ||
		len(got.Channels) != 1 || got.Channels[0].Name != "chat21" || got.Versions != 20115 ||
		got.IPFilter == nil || got.BannedUsers == nil || got.CreatedBy != owner.ID {
		t.Fatalf("FindProjectByID = %+v", got)
	}
	gotPU, err := s.FindProjectUserByUserID(ctx, p.ID, owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	if gotPU.ID != pu.ID || gotPU.Role != tiledesk.RoleOwner || gotPU.RoleType != tiledesk.RoleTypeAgent ||
		!gotPU.UserAvailable || gotPU.Status != tiledesk.MemberActive {
		t.Fatalf("owner membership = %+v", gotPU)
	}
	def, err := s.FindDefaultDepartment(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if def.ID != d.ID || def.Name != tiledesk.DefaultDepartmentName || def.Routing != tiledesk.RoutingAssigned || !def.Default {
		t.Fatalf("default department = %+v", def)
	}
	if evs := events(t, s, p.ID, tiledesk.EventProjectCreate); len(evs) != 1 || evs[0].ObjectID != p.ID {
		t.Fatalf("project.create events = %+v", evs)
	}
	_, err = s.FindProjectByID(ctx, tiledesk.NewID())
	wantCode(t, err, tiledesk.ENOTFOUND)
}

func testProjectUpdateDelete(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	owner := mustCreateUser(t, s, "owner")
	p, _, _ := mustCreateProject(t, s, owner, "Before")
	name, on := "After", true
	got, err := s.UpdateProject(ctx, p.ID, tiledesk.ProjectUpdate{Name: &name, ActiveOperatingHours: &on,
		Settings: map[string]any{"chat_limit_on": true}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "After" || !got.ActiveOperatingHours || got.Settings["chat_limit_on"] != true {
		t.Fatalf("UpdateProject = %+v", got)
	}
	if !got.UpdatedAt.After(p.UpdatedAt) && !got.UpdatedAt.Equal(p.UpdatedAt) {
		t.Fatalf("UpdatedAt went backwards: %v < %v", got.UpdatedAt, p.UpdatedAt)
	}
	if evs := events(t, s, p.ID, tiledesk.EventProjectUpdate); len(evs) != 1 {
		t.Fatalf("project.update events = %d, want 1", len(evs))
	}
	del, err := s.DeleteProject(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if del.Status != tiledesk.ProjectDeleted {
		t.Fatalf("deleted status = %d", del.Status)
	}
	_, err = s.FindProjectByID(ctx, p.ID)
	wantCode(t, err, tiledesk.ENOTFOUND)
	_, err = s.UpdateProject(ctx, p.ID, tiledesk.ProjectUpdate{Name: &name})
	wantCode(t, err, tiledesk.ENOTFOUND)
	_, err = s.DeleteProject(ctx, p.ID)
	wantCode(t, err, tiledesk.ENOTFOUND)
}

func testMemberships(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	owner := mustCreateUser(t, s, "owner")
	other := mustCreateUser(t, s, "other")
	p1, _, _ := mustCreateProject(t, s, owner, "One")
	time.Sleep(2 * time.Millisecond)
	p2, _, _ := mustCreateProject(t, s, owner, "Two")
	mustCreateProject(t, s, other, "NotMine")
	deleted, _, _ := mustCreateProject(t, s, owner, "Deleted")
	if _, err := s.DeleteProject(ctx, deleted.ID); err != nil {
		t.Fatal(err)
	}
	ms, err := s.FindMemberships(ctx, owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Project.ID != p2.ID || ms[1].Project.ID != p1.ID {
		t.Fatalf("memberships = %d, want p2 then p1", len(ms))
	}
	if ms[0].ProjectUser.Role != tiledesk.RoleOwner || ms[0].ProjectUser.ProjectID != p2.ID {
		t.Fatalf("membership project user = %+v", ms[0].ProjectUser)
	}
	// An agent membership of another user's project appears; a guest one never does.
	pu := tiledesk.NewProjectUser(p1.ID, tiledesk.RoleAgent, owner.ID, tiledesk.Now())
	pu.UserID = other.ID
	if err := s.CreateProjectUser(ctx, pu); err != nil {
		t.Fatal(err)
	}
	ms, _ = s.FindMemberships(ctx, other.ID)
	if len(ms) != 2 {
		t.Fatalf("other's memberships = %d, want 2", len(ms))
	}
	disabled := tiledesk.MemberDisabled
	if _, err := s.UpdateProjectUser(ctx, p1.ID, pu.ID, tiledesk.ProjectUserUpdate{Status: &disabled}); err != nil {
		t.Fatal(err)
	}
	ms, _ = s.FindMemberships(ctx, other.ID)
	if len(ms) != 1 {
		t.Fatalf("after disabling, memberships = %d, want 1", len(ms))
	}
}

func testProjectUsers(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	owner := mustCreateUser(t, s, "owner")
	agent := mustCreateUser(t, s, "agent")
	p, ownerPU, _ := mustCreateProject(t, s, owner, "Team")
	pu := tiledesk.NewProjectUser(p.ID, tiledesk.RoleAgent, owner.ID, tiledesk.Now())
	pu.UserID = agent.ID
	if err := s.CreateProjectUser(ctx, pu); err != nil {
		t.Fatal(err)
	}
	again := tiledesk.NewProjectUser(p.ID, tiledesk.RoleAdmin, owner.ID, tiledesk.Now())
	again.UserID = agent.ID
	wantCode(t, s.CreateProjectUser(ctx, again), tiledesk.ECONFLICT)

	guest := tiledesk.NewProjectUser(p.ID, tiledesk.RoleGuest, "visitor-1", tiledesk.Now())
	guest.UUIDUser = "visitor-1"
	if err := s.CreateProjectUser(ctx, guest); err != nil {
		t.Fatal(err)
	}
	dupGuest := tiledesk.NewProjectUser(p.ID, tiledesk.RoleGuest, "visitor-1", tiledesk.Now())
	dupGuest.UUIDUser = "visitor-1"
	wantCode(t, s.CreateProjectUser(ctx, dupGuest), tiledesk.ECONFLICT)
	if g, err := s.FindProjectUserByUUID(ctx, p.ID, "visitor-1"); err != nil || g.RoleType != tiledesk.RoleTypeUser {
		t.Fatalf("FindProjectUserByUUID = %+v, %v", g, err)
	}
	if g, err := s.FindMember(ctx, p.ID, "visitor-1", true); err != nil || g.ID != guest.ID {
		t.Fatalf("FindMember(guest) = %+v, %v", g, err)
	}
	if m, err := s.FindMember(ctx, p.ID, agent.ID, false); err != nil || m.ID != pu.ID {
		t.Fatalf("FindMember(user) = %+v, %v", m, err)
	}
	if _, err := s.FindMember(ctx, p.ID, agent.ID, true); tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		t.Fatalf("a user id looked up as a guest uuid: %v", err)
	}

	list, err := s.FindProjectUsers(ctx, p.ID, tiledesk.ProjectUserFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != ownerPU.ID || list[1].ID != pu.ID {
		t.Fatalf("agent list = %d members, want owner then agent", len(list))
	}
	if list[1].User == nil || list[1].User.Email != agent.Email {
		t.Fatalf("user not populated: %+v", list[1].User)
	}
	guests, _ := s.FindProjectUsers(ctx, p.ID, tiledesk.ProjectUserFilter{Roles: []string{tiledesk.RoleGuest}})
	if len(guests) != 1 || guests[0].UUIDUser != "visitor-1" || guests[0].User != nil {
		t.Fatalf("guest list = %+v", guests)
	}

	role, avail, max := tiledesk.RoleAdmin, false, 3
	upd, err := s.UpdateProjectUser(ctx, p.ID, pu.ID, tiledesk.ProjectUserUpdate{Role: &role, UserAvailable: &avail,
		MaxAssignedChat: &max})
	if err != nil {
		t.Fatal(err)
	}
	if upd.Role != tiledesk.RoleAdmin || upd.UserAvailable || upd.MaxAssignedChat == nil || *upd.MaxAssignedChat != 3 ||
		upd.User == nil {
		t.Fatalf("UpdateProjectUser = %+v", upd)
	}
	got, _ := s.FindProjectUserByID(ctx, p.ID, pu.ID)
	if got.Role != tiledesk.RoleAdmin || got.User == nil || got.User.ID != agent.ID {
		t.Fatalf("FindProjectUserByID after update = %+v", got)
	}
	upd, _ = s.UpdateProjectUser(ctx, p.ID, pu.ID, tiledesk.ProjectUserUpdate{ClearMaxAssignedChat: true})
	if upd.MaxAssignedChat != nil {
		t.Fatal("ClearMaxAssignedChat left a value")
	}
	if got.Presence != nil {
		t.Fatalf("a presence before any: %+v", got.Presence)
	}
	at := time.UnixMilli(1_772_366_400_123).UTC()
	s.UpdateProjectUser(ctx, p.ID, pu.ID, tiledesk.ProjectUserUpdate{Presence: &tiledesk.Presence{Status: tiledesk.PresenceOffline, ChangedAt: at}})
	got, _ = s.FindProjectUserByID(ctx, p.ID, pu.ID)
	if got.Presence == nil || got.Presence.Status != tiledesk.PresenceOffline || !got.Presence.ChangedAt.Equal(at) || got.MaxAssignedChat != nil {
		t.Fatalf("the presence kept: %+v", got.Presence)
	}
	if evs := events(t, s, p.ID, tiledesk.EventProjectUserUpdate); len(evs) != 3 {
		t.Fatalf("project_user.update events = %d, want 2", len(evs))
	}
	if err := s.DeleteProjectUser(ctx, p.ID, pu.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.FindProjectUserByID(ctx, p.ID, pu.ID)
	wantCode(t, err, tiledesk.ENOTFOUND)
	wantCode(t, s.DeleteProjectUser(ctx, p.ID, pu.ID), tiledesk.ENOTFOUND)
	_, err = s.UpdateProjectUser(ctx, p.ID, pu.ID, tiledesk.ProjectUserUpdate{Role: &role})
	wantCode(t, err, tiledesk.ENOTFOUND)
	if evs := events(t, s, p.ID, tiledesk.EventProjectUserDelete); len(evs) != 1 || evs[0].ObjectID != pu.ID {
		t.Fatalf("project_user.delete events = %+v", evs)
	}
}

func testTenantIsolation(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	a := mustCreateUser(t, s, "a")
	b := mustCreateUser(t, s, "b")
	pa, puA, da := mustCreateProject(t, s, a, "A")
	pb, _, _ := mustCreateProject(t, s, b, "B")
	if _, err := s.FindProjectUserByID(ctx, pb.ID, puA.ID); tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		t.Fatalf("membership of A found through B: %v", err)
	}
	if _, err := s.FindProjectUserByUserID(ctx, pb.ID, a.ID); tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		t.Fatalf("A's owner is a member of B: %v", err)
	}
	if _, err := s.FindDepartmentByID(ctx, pb.ID, da.ID); tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		t.Fatalf("department of A found through B: %v", err)
	}
	name := "hijacked"
	_, err := s.UpdateDepartment(ctx, pb.ID, da.ID, tiledesk.DepartmentUpdate{Name: &name})
	wantCode(t, err, tiledesk.ENOTFOUND)
	_, err = s.DeleteDepartment(ctx, pb.ID, da.ID)
	wantCode(t, err, tiledesk.ENOTFOUND)
	role := tiledesk.RoleGuest
	_, err = s.UpdateProjectUser(ctx, pb.ID, puA.ID, tiledesk.ProjectUserUpdate{Role: &role})
	wantCode(t, err, tiledesk.ENOTFOUND)
	wantCode(t, s.DeleteProjectUser(ctx, pb.ID, puA.ID), tiledesk.ENOTFOUND)
	list, _ := s.FindProjectUsers(ctx, pb.ID, tiledesk.ProjectUserFilter{})
	for _, pu := range list {
		if pu.ProjectID != pb.ID || pu.UserID == a.ID {
			t.Fatalf("B's list holds %+v", pu)
		}
	}
	depts, _ := s.FindDepartments(ctx, pb.ID, tiledesk.DepartmentFilter{})
	for _, d := range depts {
		if d.ProjectID != pb.ID {
			t.Fatalf("B's departments hold %+v", d)
		}
	}
	if evs := events(t, s, pb.ID, ""); len(evs) == 0 {
		t.Fatal("B has no events")
	} else {
		for _, ev := range evs {
			if ev.ProjectID != pb.ID {
				t.Fatalf("B's events hold one of %s", ev.ProjectID)
			}
		}
	}
	// A's data is untouched by every attempt above.
	if d, _ := s.FindDepartmentByID(ctx, pa.ID, da.ID); d == nil || d.Name == "hijacked" {
		t.Fatalf("A's department changed: %+v", d)
	}
	if pu, _ := s.FindProjectUserByID(ctx, pa.ID, puA.ID); pu == nil || pu.Role != tiledesk.RoleOwner {
		t.Fatalf("A's owner changed: %+v", pu)
	}
}
