// Package storetest is the one conformance suite every tiledesk.Store must pass. Engine packages run it
// from their tests with a constructor that returns a fresh, migrated, empty store.
package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// NewStore returns a fresh, empty, migrated store that stamps what it writes with the time now
// reads (the engine's default clock when nil); cleanup is the constructor's job (t.Cleanup).
type NewStore func(t *testing.T, now func() time.Time) tiledesk.Store

// Run runs every conformance test against stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, tiledesk.Store)
	}{
		{"Users", testUsers},
		{"UserEmailCaseInsensitive", testUserEmailCase},
		{"UserUpdateAndPassword", testUserUpdate},
		{"Projects", testProjects},
		{"ProjectUpdateDelete", testProjectUpdateDelete},
		{"Memberships", testMemberships},
		{"ProjectUsers", testProjectUsers},
		{"PendingInvitations", testPendingInvitations},
		{"InvitationsWaitForVerifiedEmail", testInvitationsWaitForVerifiedEmail},
		{"EmailsFoldASCIIOnly", testEmailsFoldASCIIOnly},
		{"Departments", testDepartments},
		{"DefaultDepartmentIsUnique", testDefaultDepartmentUnique},
		{"TenantIsolation", testTenantIsolation},
		{"ConcurrentSignups", testConcurrentSignups},
		{"Meta", testMeta},
		{"TimestampsMillisecondUTC", testTimestamps},
		{"EveryChangeNewStamp", testEveryChangeNewStamp},
	}
	tests = append(tests, leadTests...)
	tests = append(tests, requestTests...)
	tests = append(tests, ownerTests...)
	tests = append(tests, sessionTests...)
	tests = append(tests, growthTests...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t, nil))
		})
	}
	t.Run("StampsFromItsClock", func(t *testing.T) { testStampsFromItsClock(t, newStore) })
}

var seq atomic.Int64

// newUser returns an unsaved user with a unique email.
func newUser(prefix string) *tiledesk.User {
	now := tiledesk.Now()
	n := seq.Add(1)
	return &tiledesk.User{ID: tiledesk.NewID(), Email: fmt.Sprintf("%s%d@example.com", prefix, n),
		PasswordHash: "$2a$10$hash", Firstname: "First", Lastname: fmt.Sprintf("Last%d", n),
		Status: tiledesk.UserActive, CreatedAt: now, UpdatedAt: now}
}

func mustCreateUser(t testing.TB, s tiledesk.Store, prefix string) *tiledesk.User {
	t.Helper()
	u := newUser(prefix)
	if err := s.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return u
}

// mustCreateProject creates a project owned by owner, the way POST /projects does.
func mustCreateProject(t testing.TB, s tiledesk.Store, owner *tiledesk.User, name string) (*tiledesk.Project, *tiledesk.ProjectUser, *tiledesk.Department) {
	t.Helper()
	now := tiledesk.Now()
	p := tiledesk.NewProject(name, owner.ID, now)
	pu := tiledesk.NewProjectUser(p.ID, tiledesk.RoleOwner, owner.ID, now)
	pu.UserID = owner.ID
	d := tiledesk.NewDefaultDepartment(p.ID, owner.ID, now)
	if err := s.CreateProject(context.Background(), p, pu, d); err != nil {
		t.Fatalf("CreateProject: %v", err)
	}
	return p, pu, d
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := tiledesk.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func events(t *testing.T, s tiledesk.Store, projectID, name string) []*tiledesk.Event {
	t.Helper()
	evs, err := s.FindEvents(context.Background(), projectID, tiledesk.EventFilter{Name: name})
	if err != nil {
		t.Fatalf("FindEvents: %v", err)
	}
	return evs
}

func testUsers(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	empty, err := s.IsEmpty(ctx)
	if err != nil || !empty {
		t.Fatalf("IsEmpty on a fresh store = %v, %v; want true", empty, err)
	}
	u := newUser("ann")
	u.Attributes = map[string]any{"plan": "pro", "n": 2.0}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if empty, _ := s.IsEmpty(ctx); empty {
		t.Fatal("IsEmpty after a signup = true")
	}
	got, err := s.FindUserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != u.Email || got.PasswordHash != u.PasswordHash || got.Firstname != "First" ||
		got.Attributes["plan"] != "pro" || got.Attributes["n"] != 2.0 || got.Status != tiledesk.UserActive {
		t.Fatalf("FindUserByID = %+v", got)
	}
	if !got.CreatedAt.Equal(u.CreatedAt) {
		t.Fatalf("CreatedAt = %v, want %v", got.CreatedAt, u.CreatedAt)
	}
	dup := newUser("x")
	dup.Email = u.Email
	wantCode(t, s.CreateUser(ctx, dup), tiledesk.ECONFLICT)
	_, err = s.FindUserByID(ctx, tiledesk.NewID())
	wantCode(t, err, tiledesk.ENOTFOUND)
	_, err = s.FindUserByEmail(ctx, "nobody@example.com")
	wantCode(t, err, tiledesk.ENOTFOUND)
	if evs := events(t, s, "", tiledesk.EventUserSignup); len(evs) != 1 || evs[0].ObjectID != u.ID {
		t.Fatalf("user.signup events = %+v, want one for %s", evs, u.ID)
	}
	if evs := events(t, s, "", tiledesk.EventUserSignup); string(evs[0].Payload) == "" ||
		contains(string(evs[0].Payload), u.PasswordHash) {
		t.Fatalf("user.signup payload must exist and must not carry the password hash: %s", evs[0].Payload)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func testUserEmailCase(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	u := newUser("Case")
	u.Email = "Mixed.Case@Example.COM"
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindUserByEmail(ctx, "mixed.case@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != "mixed.case@example.com" {
		t.Fatalf("stored email = %q, want lower case", got.Email)
	}
	if _, err := s.FindUserByEmail(ctx, "MIXED.CASE@EXAMPLE.COM"); err != nil {
		t.Fatalf("lookup by upper-case email: %v", err)
	}
	dup := newUser("y")
	dup.Email = "MIXED.case@example.com"
	wantCode(t, s.CreateUser(ctx, dup), tiledesk.ECONFLICT)
}

func testUserUpdate(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	u := mustCreateUser(t, s, "upd")
	name, phone := "Renamed", "+390000000"
	got, err := s.UpdateUser(ctx, u.ID, tiledesk.UserUpdate{Firstname: &name, Phone: &phone})
	if err != nil {
		t.Fatal(err)
	}
	if got.Firstname != "Renamed" || got.Lastname != u.Lastname || got.Phone != phone {
		t.Fatalf("UpdateUser = %+v", got)
	}
	again, _ := s.FindUserByID(ctx, u.ID)
	if again.Firstname != "Renamed" {
		t.Fatalf("update not stored: %+v", again)
	}
	if err := s.SetUserPassword(ctx, u.ID, u.PasswordHash, "$2a$10$other"); err != nil {
		t.Fatal(err)
	}
	again, _ = s.FindUserByID(ctx, u.ID)
	if again.PasswordHash != "$2a$10$other" {
		t.Fatalf("password hash = %q", again.PasswordHash)
	}
	wantCode(t, s.SetUserPassword(ctx, tiledesk.NewID(), "$2a$10$other", "x"), tiledesk.ENOTFOUND)
	_, err = s.UpdateUser(ctx, tiledesk.NewID(), tiledesk.UserUpdate{Firstname: &name})
	wantCode(t, err, tiledesk.ENOTFOUND)
}

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
	if evs := events(t, s, p.ID, tiledesk.EventProjectUserUpdate); len(evs) != 2 {
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

func testDepartments(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	owner := mustCreateUser(t, s, "owner")
	p, _, def := mustCreateProject(t, s, owner, "Depts")
	now := tiledesk.Now()
	d := &tiledesk.Department{ID: tiledesk.NewID(), ProjectID: p.ID, Name: "Billing", Routing: tiledesk.RoutingPooled,
		Status: tiledesk.DepartmentVisible, IDBot: "bot1", CreatedBy: owner.ID, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateDepartment(ctx, d); err != nil {
		t.Fatal(err)
	}
	hidden := &tiledesk.Department{ID: tiledesk.NewID(), ProjectID: p.ID, Name: "Hidden", Routing: tiledesk.RoutingPooled,
		Status: tiledesk.DepartmentHiddenWidget, CreatedBy: owner.ID, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateDepartment(ctx, hidden); err != nil {
		t.Fatal(err)
	}
	visible, err := s.FindDepartments(ctx, p.ID, tiledesk.DepartmentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(visible) != 2 || visible[0].ID != def.ID || visible[1].ID != d.ID {
		t.Fatalf("visible departments = %d, want default then Billing", len(visible))
	}
	zero := 0
	all, _ := s.FindDepartments(ctx, p.ID, tiledesk.DepartmentFilter{MinStatus: &zero, SortByName: true})
	if len(all) != 3 || all[0].Name != "Billing" || all[1].Name != tiledesk.DefaultDepartmentName || all[2].Name != "Hidden" {
		t.Fatalf("all departments by name = %v", names(all))
	}
	got, err := s.FindDepartmentByID(ctx, p.ID, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.IDBot != "bot1" || !got.HasBot() || got.Groups == nil || got.Tags == nil {
		t.Fatalf("FindDepartmentByID = %+v", got)
	}
	name, empty, routing := "Sales", "", tiledesk.RoutingAssigned
	upd, err := s.UpdateDepartment(ctx, p.ID, d.ID, tiledesk.DepartmentUpdate{Name: &name, IDBot: &empty, Routing: &routing})
	if err != nil {
		t.Fatal(err)
	}
	if upd.Name != "Sales" || upd.HasBot() || upd.Routing != tiledesk.RoutingAssigned {
		t.Fatalf("UpdateDepartment = %+v", upd)
	}
	_, err = s.DeleteDepartment(ctx, p.ID, def.ID)
	wantCode(t, err, tiledesk.ECONFLICT)
	del, err := s.DeleteDepartment(ctx, p.ID, d.ID)
	if err != nil || del.ID != d.ID {
		t.Fatalf("DeleteDepartment = %+v, %v", del, err)
	}
	_, err = s.FindDepartmentByID(ctx, p.ID, d.ID)
	wantCode(t, err, tiledesk.ENOTFOUND)
	_, err = s.DeleteDepartment(ctx, p.ID, d.ID)
	wantCode(t, err, tiledesk.ENOTFOUND)
	for _, name := range []string{tiledesk.EventDepartmentCreate, tiledesk.EventDepartmentUpdate, tiledesk.EventDepartmentDelete} {
		if len(events(t, s, p.ID, name)) == 0 {
			t.Fatalf("no %s event", name)
		}
	}
}

func names(ds []*tiledesk.Department) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name)
	}
	return out
}

func testDefaultDepartmentUnique(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	owner := mustCreateUser(t, s, "owner")
	p, _, def := mustCreateProject(t, s, owner, "Defaults")
	now := tiledesk.Now()
	d := &tiledesk.Department{ID: tiledesk.NewID(), ProjectID: p.ID, Name: "New default", Routing: tiledesk.RoutingPooled,
		Default: true, Status: tiledesk.DepartmentVisible, CreatedBy: owner.ID, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateDepartment(ctx, d); err != nil {
		t.Fatal(err)
	}
	got, _ := s.FindDefaultDepartment(ctx, p.ID)
	if got.ID != d.ID {
		t.Fatalf("default = %s, want the new one %s", got.Name, d.Name)
	}
	old, _ := s.FindDepartmentByID(ctx, p.ID, def.ID)
	if old.Default {
		t.Fatal("the old default department is still default")
	}
	no := false
	_, err := s.UpdateDepartment(ctx, p.ID, d.ID, tiledesk.DepartmentUpdate{Default: &no})
	wantCode(t, err, tiledesk.EINVALID)
	yes := true
	if _, err := s.UpdateDepartment(ctx, p.ID, def.ID, tiledesk.DepartmentUpdate{Default: &yes}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.FindDefaultDepartment(ctx, p.ID); got.ID != def.ID {
		t.Fatalf("default after switching back = %s", got.Name)
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

func testConcurrentSignups(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	const n = 16
	var wg sync.WaitGroup
	var ok, conflict atomic.Int32
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := newUser("race")
			u.Email = "same@example.com"
			switch err := s.CreateUser(ctx, u); tiledesk.ErrorCode(err) {
			case "":
				ok.Add(1)
			case tiledesk.ECONFLICT:
				conflict.Add(1)
			default:
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent signup: %v", err)
	}
	if ok.Load() != 1 || conflict.Load() != n-1 {
		t.Fatalf("concurrent signups: %d created, %d conflicts; want 1 and %d", ok.Load(), conflict.Load(), n-1)
	}
}

func testMeta(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	_, err := s.GetMeta(ctx, "jwt_secret")
	wantCode(t, err, tiledesk.ENOTFOUND)
	v, err := s.SetMetaIfAbsent(ctx, "jwt_secret", "first")
	if err != nil || v != "first" {
		t.Fatalf("SetMetaIfAbsent = %q, %v", v, err)
	}
	v, err = s.SetMetaIfAbsent(ctx, "jwt_secret", "second")
	if err != nil || v != "first" {
		t.Fatalf("second SetMetaIfAbsent = %q, %v; want the first value kept", v, err)
	}
	if v, _ := s.GetMeta(ctx, "jwt_secret"); v != "first" {
		t.Fatalf("GetMeta = %q", v)
	}
}

func testTimestamps(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	u := newUser("ts")
	u.CreatedAt = time.Date(2024, 5, 24, 14, 2, 24, 512_000_000, time.UTC)
	u.UpdatedAt = u.CreatedAt
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	got, _ := s.FindUserByID(ctx, u.ID)
	if !got.CreatedAt.Equal(u.CreatedAt) || got.CreatedAt.Location() != time.UTC {
		t.Fatalf("CreatedAt = %v, want %v in UTC", got.CreatedAt, u.CreatedAt)
	}
}

// testEveryChangeNewStamp: every change of a membership or a user carries a new, later updated_at,
// even several within one millisecond; lists cache renderings by it.
func testEveryChangeNewStamp(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	owner := mustCreateUser(t, s, "stamps")
	p, pu, _ := mustCreateProject(t, s, owner, "Stamps")
	last := pu.UpdatedAt
	for i := range 5 {
		n := i + 1
		got, err := s.UpdateProjectUser(ctx, p.ID, pu.ID, tiledesk.ProjectUserUpdate{NumberAssignedRequests: &n})
		if err != nil {
			t.Fatal(err)
		}
		stored, err := s.FindProjectUserByUserID(ctx, p.ID, owner.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.UpdatedAt.After(last) || !stored.UpdatedAt.Equal(got.UpdatedAt) {
			t.Fatalf("membership change %d stamped %s (stored %s) after %s", i, got.UpdatedAt, stored.UpdatedAt, last)
		}
		last = got.UpdatedAt
	}
	last = owner.UpdatedAt
	for i := range 5 {
		name := fmt.Sprint("Name ", i)
		got, err := s.UpdateUser(ctx, owner.ID, tiledesk.UserUpdate{Firstname: &name})
		if err != nil {
			t.Fatal(err)
		}
		if !got.UpdatedAt.After(last) {
			t.Fatalf("user change %d stamped %s after %s", i, got.UpdatedAt, last)
		}
		last = got.UpdatedAt
	}
	for i := range 3 {
		if err := s.SetUserPassword(ctx, owner.ID, owner.PasswordHash, fmt.Sprint("hash-", i)); err != nil {
			t.Fatal(err)
		}
		owner.PasswordHash = fmt.Sprint("hash-", i)
		u, err := s.FindUserByID(ctx, owner.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !u.UpdatedAt.After(last) {
			t.Fatalf("password change %d stamped %s after %s", i, u.UpdatedAt, last)
		}
		last = u.UpdatedAt
	}
}
