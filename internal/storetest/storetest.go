// Package storetest is the one conformance suite every tiledesk.Store must pass. Engine packages run it
// from their tests with a constructor that returns a fresh, migrated, empty store.
package storetest

import (
	"context"
	"fmt"
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
	tests = append(tests, eventLogTests...)
	tests = append(tests, subscriptionTests...)
	tests = append(tests, botTests...)
	tests = append(tests, analyticsTests...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t, nil))
		})
	}
	t.Run("StampsFromItsClock", func(t *testing.T) { testStampsFromItsClock(t, newStore) })
	t.Run("EventLogPruning", func(t *testing.T) { testEventLogPruning(t, newStore) })
}

// viewStore is s as the views read it: every engine's store keeps what the views check their
// renderings against (tiledesk.ViewStore), and is held to it here. A store that wraps another
// (storecache) is read through the one it wraps, as the views read past the identity caches.
func viewStore(t testing.TB, s tiledesk.Store) tiledesk.ViewStore {
	for {
		if v, ok := s.(tiledesk.ViewStore); ok {
			return v
		}
		wrapper, ok := s.(interface{ Unwrap() tiledesk.Store })
		if !ok {
			t.Fatalf("%T is no tiledesk.ViewStore", s)
		}
		s = wrapper.Unwrap()
	}
}

// stampsInCommitOrder reports whether the store stamps a project's changes strictly in commit
// order (SQLite's one writer) rather than only each row's versions apart (PostgreSQL's many).
func stampsInCommitOrder(s tiledesk.Store) bool {
	for {
		if o, ok := s.(interface{ StampsInCommitOrder() bool }); ok {
			return o.StampsInCommitOrder()
		}
		wrapper, ok := s.(interface{ Unwrap() tiledesk.Store })
		if !ok {
			return false
		}
		s = wrapper.Unwrap()
	}
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

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
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
