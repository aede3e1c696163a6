package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

var ownerTests = []struct {
	name string
	fn   func(*testing.T, tiledesk.Store)
}{
	{"LastOwnerStays", testLastOwnerStays},
	{"OwnersDemotingEachOther", testOwnersDemotingEachOther},
}

// activeOwners counts the project's active owner memberships.
func activeOwners(t *testing.T, s tiledesk.Store, projectID string) int {
	t.Helper()
	owners, err := s.FindProjectUsers(context.Background(), projectID, tiledesk.ProjectUserFilter{Roles: []string{tiledesk.RoleOwner}})
	if err != nil {
		t.Fatal(err)
	}
	return len(owners)
}

// addMember makes u a member of the project with role.
func addMember(t *testing.T, s tiledesk.Store, projectID string, u *tiledesk.User, role string) *tiledesk.ProjectUser {
	t.Helper()
	pu := tiledesk.NewProjectUser(projectID, role, u.ID, tiledesk.Now())
	pu.UserID = u.ID
	if err := s.CreateProjectUser(context.Background(), pu); err != nil {
		t.Fatal(err)
	}
	return pu
}

// The last active owner can be neither demoted, disabled, trashed nor removed; once another owner
// exists, it can.
func testLastOwnerStays(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	owner := mustCreateUser(t, s, "owner")
	p, opu, _ := mustCreateProject(t, s, owner, "Owned")
	agent, disabled, trashed := tiledesk.RoleAgent, tiledesk.MemberDisabled, true
	for name, upd := range map[string]tiledesk.ProjectUserUpdate{
		"demote": {Role: &agent}, "disable": {Status: &disabled}, "trash": {Trashed: &trashed},
	} {
		_, err := s.UpdateProjectUser(ctx, p.ID, opu.ID, upd)
		if tiledesk.ErrorCode(err) != tiledesk.ECONFLICT || err.Error() != tiledesk.ErrLastOwner().Error() {
			t.Fatalf("%s of the last owner: %v, want ErrLastOwner", name, err)
		}
	}
	wantCode(t, s.DeleteProjectUser(ctx, p.ID, opu.ID), tiledesk.ECONFLICT)
	if n := activeOwners(t, s, p.ID); n != 1 {
		t.Fatalf("%d active owners after refused changes, want 1", n)
	}
	// Changes that keep the owner an owner go through.
	available := false
	if _, err := s.UpdateProjectUser(ctx, p.ID, opu.ID, tiledesk.ProjectUserUpdate{UserAvailable: &available,
		Role: ptr(tiledesk.RoleOwner)}); err != nil {
		t.Fatalf("a change that keeps the owner: %v", err)
	}
	// An owner whose membership is disabled does not count.
	second := addMember(t, s, p.ID, mustCreateUser(t, s, "second"), tiledesk.RoleOwner)
	if _, err := s.UpdateProjectUser(ctx, p.ID, second.ID, tiledesk.ProjectUserUpdate{Status: &disabled}); err != nil {
		t.Fatalf("disabling a second owner: %v", err)
	}
	_, err := s.UpdateProjectUser(ctx, p.ID, opu.ID, tiledesk.ProjectUserUpdate{Role: &agent})
	wantCode(t, err, tiledesk.ECONFLICT)
	active := tiledesk.MemberActive
	if _, err := s.UpdateProjectUser(ctx, p.ID, second.ID, tiledesk.ProjectUserUpdate{Status: &active}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateProjectUser(ctx, p.ID, opu.ID, tiledesk.ProjectUserUpdate{Role: &agent}); err != nil {
		t.Fatalf("demoting one of two owners: %v", err)
	}
	wantCode(t, s.DeleteProjectUser(ctx, p.ID, second.ID), tiledesk.ECONFLICT)
	if err := s.DeleteProjectUser(ctx, p.ID, opu.ID); err != nil {
		t.Fatalf("removing a former owner: %v", err)
	}
	if n := activeOwners(t, s, p.ID); n != 1 {
		t.Fatalf("%d active owners, want 1", n)
	}
}

func ptr[T any](v T) *T { return &v }

// Owners demoting, disabling or removing each other at the same moment leave at least one active
// owner, on every engine: the decision is taken inside the write's transaction, not before it.
func testOwnersDemotingEachOther(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	for round := 0; round < 10; round++ {
		p, a, _ := mustCreateProject(t, s, mustCreateUser(t, s, "a"), "Race")
		b := addMember(t, s, p.ID, mustCreateUser(t, s, "b"), tiledesk.RoleOwner)
		c := addMember(t, s, p.ID, mustCreateUser(t, s, "c"), tiledesk.RoleOwner)
		agent, disabled := tiledesk.RoleAgent, tiledesk.MemberDisabled
		changes := []func() error{
			func() error {
				_, err := s.UpdateProjectUser(ctx, p.ID, a.ID, tiledesk.ProjectUserUpdate{Role: &agent})
				return err
			},
			func() error {
				_, err := s.UpdateProjectUser(ctx, p.ID, b.ID, tiledesk.ProjectUserUpdate{Status: &disabled})
				return err
			},
			func() error { return s.DeleteProjectUser(ctx, p.ID, c.ID) },
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, len(changes))
		for i, change := range changes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = change()
			}()
		}
		close(start)
		wg.Wait()
		refused := 0
		for _, err := range errs {
			if err != nil {
				if tiledesk.ErrorCode(err) != tiledesk.ECONFLICT {
					t.Fatalf("round %d: %v, want ErrLastOwner or success", round, err)
				}
				refused++
			}
		}
		if n := activeOwners(t, s, p.ID); n != 1 || refused != 1 {
			t.Fatalf("round %d: %d active owners left and %d changes refused, want 1 and 1", round, n, refused)
		}
	}
}
