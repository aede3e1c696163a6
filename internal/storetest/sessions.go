package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

var sessionTests = []struct {
	name string
	fn   func(*testing.T, tiledesk.Store)
}{
	{"PasswordMovesTokenGeneration", testPasswordMovesTokenGeneration},
	{"SetUserPasswordComparesAndSets", testSetUserPasswordComparesAndSets},
	{"DeleteUser", testDeleteUser},
}

// Every password change moves the user's token generation; other changes do not.
func testPasswordMovesTokenGeneration(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	u := mustCreateUser(t, s, "gen")
	got, err := s.FindUserByID(ctx, u.ID)
	if err != nil || got.TokenGeneration != 0 {
		t.Fatalf("a new user: generation %v, %v; want 0", got, err)
	}
	name := "Renamed"
	if _, err := s.UpdateUser(ctx, u.ID, tiledesk.UserUpdate{Firstname: &name}); err != nil {
		t.Fatal(err)
	}
	hash := u.PasswordHash
	for want := int64(1); want <= 2; want++ {
		next := fmt.Sprint("$2a$10$other", want)
		if err := s.SetUserPassword(ctx, u.ID, hash, next); err != nil {
			t.Fatal(err)
		}
		hash = next
		byID, _ := s.FindUserByID(ctx, u.ID)
		byMail, _ := s.FindUserByEmail(ctx, u.Email)
		if byID.TokenGeneration != want || byMail.TokenGeneration != want {
			t.Fatalf("after %d password changes: generation %d by id, %d by email", want, byID.TokenGeneration, byMail.TokenGeneration)
		}
	}
	wantCode(t, s.SetUserPassword(ctx, tiledesk.NewID(), hash, "$2a$10$x"), tiledesk.ENOTFOUND)
}

// SetUserPassword changes the hash only while it is still the one the caller checked against: of
// many concurrent changes from one hash exactly one succeeds, and the generation moves once.
func testSetUserPasswordComparesAndSets(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	u := mustCreateUser(t, s, "cas")
	// A stale hash changes nothing.
	wantCode(t, s.SetUserPassword(ctx, u.ID, "$2a$10$stale", "$2a$10$new"), tiledesk.ENOTFOUND)
	if got, err := s.FindUserByID(ctx, u.ID); err != nil || got.PasswordHash != u.PasswordHash || got.TokenGeneration != 0 {
		t.Fatalf("a change from a stale hash wrote: %+v, %v", got, err)
	}

	const n = 16
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = s.SetUserPassword(ctx, u.ID, u.PasswordHash, fmt.Sprint("$2a$10$racer", i))
		}()
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("changes %d and %d from one hash both succeeded", winner, i)
		case err == nil:
			winner = i
		default:
			wantCode(t, err, tiledesk.ENOTFOUND)
		}
	}
	if winner < 0 {
		t.Fatal("no change from the current hash succeeded")
	}
	got, err := s.FindUserByID(ctx, u.ID)
	if err != nil || got.PasswordHash != fmt.Sprint("$2a$10$racer", winner) || got.TokenGeneration != 1 {
		t.Fatalf("after the race: %+v, %v; want the winner's hash and generation 1", got, err)
	}
}

// DeleteUser anonymises the user, moves its generation, disables its memberships and frees its
// email; the last active owner of a project is refused and nothing changes.
func testDeleteUser(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	owner, member := mustCreateUser(t, s, "owner"), mustCreateUser(t, s, "member")
	p, opu, _ := mustCreateProject(t, s, owner, "Kept")
	mpu := addMember(t, s, p.ID, member, tiledesk.RoleAgent)

	deleted, err := s.DeleteUser(ctx, member.ID)
	if err != nil {
		t.Fatal(err)
	}
	if deleted.Status != tiledesk.UserDeleted || deleted.Firstname != "anonymized" || deleted.Lastname != "anonymized" ||
		!strings.HasSuffix(deleted.Email, "@tiledesk.com") || deleted.PasswordHash != "" || deleted.TokenGeneration != 1 {
		t.Fatalf("deleted user = %+v", deleted)
	}
	_, err = s.FindUserByID(ctx, member.ID)
	wantCode(t, err, tiledesk.ENOTFOUND)
	_, err = s.FindUserByEmail(ctx, member.Email)
	wantCode(t, err, tiledesk.ENOTFOUND)
	pu, err := s.FindMember(ctx, p.ID, member.ID, false)
	if err != nil || pu.IsActive() || pu.UserAvailable {
		t.Fatalf("the deleted user's membership: %+v, %v; want disabled and unavailable", pu, err)
	}
	if pu.ID != mpu.ID {
		t.Fatal("another membership was found")
	}
	if evs := events(t, s, "", tiledesk.EventUserDelete); len(evs) != 1 || evs[0].ObjectID != member.ID {
		t.Fatalf("user.delete events = %v", evs)
	}
	again := newUser("again")
	again.Email = member.Email
	if err := s.CreateUser(ctx, again); err != nil {
		t.Fatalf("the deleted user's email is not free: %v", err)
	}
	_, err = s.DeleteUser(ctx, member.ID)
	wantCode(t, err, tiledesk.ENOTFOUND)

	// The last active owner: refused, nothing changed.
	_, err = s.DeleteUser(ctx, owner.ID)
	wantCode(t, err, tiledesk.ECONFLICT)
	if u, err := s.FindUserByID(ctx, owner.ID); err != nil || u.TokenGeneration != 0 {
		t.Fatalf("a refused deletion changed the user: %+v, %v", u, err)
	}
	if pu, _ := s.FindProjectUserByID(ctx, p.ID, opu.ID); !pu.IsActiveOwner() {
		t.Fatal("a refused deletion changed the owner's membership")
	}
	// With another owner it goes through, and the deleted owner no longer keeps the project owned.
	heir := addMember(t, s, p.ID, mustCreateUser(t, s, "heir"), tiledesk.RoleOwner)
	if _, err := s.DeleteUser(ctx, owner.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DeleteProjectUser(ctx, p.ID, heir.ID), tiledesk.ECONFLICT)
}
