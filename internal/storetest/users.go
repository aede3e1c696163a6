package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

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
