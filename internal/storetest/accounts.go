package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

func invite(t *testing.T, s tiledesk.Store, p *tiledesk.Project, by *tiledesk.User, email, role string) *tiledesk.PendingInvitation {
	t.Helper()
	now := tiledesk.Now()
	inv, err := s.SavePendingInvitation(context.Background(), &tiledesk.PendingInvitation{ID: tiledesk.NewID(),
		ProjectID: p.ID, Email: email, Role: role, CreatedBy: by.ID, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatalf("SavePendingInvitation: %v", err)
	}
	return inv
}

func testPendingInvitations(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	owner := mustCreateUser(t, s, "owner")
	p, _, _ := mustCreateProject(t, s, owner, "Invites")
	other, _, _ := mustCreateProject(t, s, owner, "Other")
	first := invite(t, s, p, owner, "New.Comer@Example.com", tiledesk.RoleAgent)
	if first.Email != "new.comer@example.com" {
		t.Fatalf("invitation email = %q, want lower case", first.Email)
	}
	second := invite(t, s, p, owner, "new.comer@example.com", tiledesk.RoleAdmin)
	if second.ID != first.ID || second.Role != tiledesk.RoleAdmin {
		t.Fatalf("re-invite = %+v, want the first invitation with role admin", second)
	}
	third := invite(t, s, p, owner, "third@example.com", tiledesk.RoleAgent)
	invite(t, s, other, owner, "elsewhere@example.com", tiledesk.RoleAgent)

	list, err := s.FindPendingInvitations(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != first.ID || list[1].ID != third.ID {
		t.Fatalf("pending invitations = %+v, want the project's two, oldest first", list)
	}
	got, err := s.FindPendingInvitationByID(ctx, p.ID, third.ID)
	if err != nil || got.Email != "third@example.com" {
		t.Fatalf("FindPendingInvitationByID = %+v, %v", got, err)
	}
	// Tenancy: an invitation is found and revoked only through its own project.
	_, err = s.FindPendingInvitationByID(ctx, other.ID, third.ID)
	wantCode(t, err, tiledesk.ENOTFOUND)
	_, err = s.DeletePendingInvitation(ctx, other.ID, third.ID)
	wantCode(t, err, tiledesk.ENOTFOUND)

	gone, err := s.DeletePendingInvitation(ctx, p.ID, third.ID)
	if err != nil || gone.ID != third.ID {
		t.Fatalf("DeletePendingInvitation = %+v, %v", gone, err)
	}
	_, err = s.DeletePendingInvitation(ctx, p.ID, third.ID)
	wantCode(t, err, tiledesk.ENOTFOUND)
	if evs := events(t, s, p.ID, tiledesk.EventInvitePendingDelete); len(evs) != 1 || evs[0].ObjectID != third.ID {
		t.Fatalf("%s events = %+v", tiledesk.EventInvitePendingDelete, evs)
	}
	if list, _ := s.FindPendingInvitations(ctx, p.ID); len(list) != 1 {
		t.Fatalf("pending invitations after a revoke = %d, want 1", len(list))
	}
	// A revoked invitation no longer applies.
	u := newUser("third")
	u.Email = "third@example.com"
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := s.VerifyUserEmail(ctx, u.ID, u.Email); err != nil {
		t.Fatal(err)
	}
	if ms, _ := s.FindMemberships(ctx, u.ID); len(ms) != 0 {
		t.Fatalf("memberships from a revoked invitation = %d", len(ms))
	}
}

// testInvitationsWaitForVerifiedEmail: signing up with an invited address takes nothing; verifying
// the address turns the invitations into memberships, once.
func testInvitationsWaitForVerifiedEmail(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	owner := mustCreateUser(t, s, "owner")
	p, _, _ := mustCreateProject(t, s, owner, "Invites")
	member, _, _ := mustCreateProject(t, s, owner, "Already")
	gone, _, _ := mustCreateProject(t, s, owner, "Deleted")
	invite(t, s, p, owner, "victim@example.com", tiledesk.RoleAdmin)
	invite(t, s, member, owner, "victim@example.com", tiledesk.RoleAdmin)
	invite(t, s, gone, owner, "victim@example.com", tiledesk.RoleAgent)
	if _, err := s.DeleteProject(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}

	u := newUser("victim")
	u.Email = "Victim@Example.com"
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if ms, _ := s.FindMemberships(ctx, u.ID); len(ms) != 0 {
		t.Fatalf("sign-up took %d invitations before the address was verified", len(ms))
	}
	if list, _ := s.FindPendingInvitations(ctx, p.ID); len(list) != 1 {
		t.Fatalf("invitations after sign-up = %d, want 1 still pending", len(list))
	}
	// Already a member of one invited project (as a teammate): verification keeps that membership.
	pu := tiledesk.NewProjectUser(member.ID, tiledesk.RoleTeammate, owner.ID, tiledesk.Now())
	pu.UserID = u.ID
	if err := s.CreateProjectUser(ctx, pu); err != nil {
		t.Fatal(err)
	}

	_, err := s.VerifyUserEmail(ctx, u.ID, "someone.else@example.com")
	wantCode(t, err, tiledesk.ENOTFOUND) // the address the link was sent to is no longer the user's
	_, err = s.VerifyUserEmail(ctx, tiledesk.NewID(), u.Email)
	wantCode(t, err, tiledesk.ENOTFOUND)

	before := events(t, s, "", tiledesk.EventUserUpdate)
	got, err := s.VerifyUserEmail(ctx, u.ID, "VICTIM@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !got.EmailVerified || !got.UpdatedAt.After(u.UpdatedAt) {
		t.Fatalf("verified user = %+v, want emailverified and a new updatedAt", got)
	}
	if again, _ := s.FindUserByID(ctx, u.ID); !again.EmailVerified {
		t.Fatal("the verification was not stored")
	}
	if n := len(events(t, s, "", tiledesk.EventUserUpdate)); n != len(before)+1 {
		t.Fatalf("user.update events = %d, want %d", n, len(before)+1)
	}
	ms, err := s.FindMemberships(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var projects []string
	for _, m := range ms {
		projects = append(projects, m.ProjectUser.ProjectID+":"+m.ProjectUser.Role)
	}
	slices.Sort(projects)
	want := []string{p.ID + ":" + tiledesk.RoleAdmin, member.ID + ":" + tiledesk.RoleTeammate}
	slices.Sort(want)
	if !slices.Equal(projects, want) {
		t.Fatalf("memberships after verification = %v, want %v (the invited project; the existing one unchanged; none in the deleted one)",
			projects, want)
	}
	if evs := events(t, s, p.ID, tiledesk.EventProjectUserInvite); len(evs) != 1 {
		t.Fatalf("project_user.invite events = %d, want 1", len(evs))
	}
	for _, pid := range []string{p.ID, member.ID} {
		if list, _ := s.FindPendingInvitations(ctx, pid); len(list) != 0 {
			t.Fatalf("invitations of %s left after verification: %+v", pid, list)
		}
	}
	// Verifying again changes nothing and records nothing.
	if _, err := s.VerifyUserEmail(ctx, u.ID, u.Email); err != nil {
		t.Fatal(err)
	}
	if n := len(events(t, s, "", tiledesk.EventUserUpdate)); n != len(before)+1 {
		t.Fatalf("a second verification recorded an event (%d)", n)
	}
}

// testEmailsFoldASCIIOnly: no character outside ASCII folds into another address, in lookups,
// uniqueness, invitations and lead filters, on every engine.
func testEmailsFoldASCIIOnly(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	kate := newUser("kate")
	kate.Email = "kate@example.com"
	if err := s.CreateUser(ctx, kate); err != nil {
		t.Fatal(err)
	}
	for _, spelling := range []string{"\u212Aate@example.com", "kate@example.\u212Aom", "\uff4bate@example.com"} {
		_, err := s.FindUserByEmail(ctx, spelling)
		wantCode(t, err, tiledesk.ENOTFOUND)
	}
	if got, err := s.FindUserByEmail(ctx, "KATE@EXAMPLE.COM"); err != nil || got.ID != kate.ID {
		t.Fatalf("ASCII capitals must still find the account: %+v, %v", got, err)
	}
	// The store keeps a non-ASCII address exactly (the API refuses such addresses for accounts):
	// it is another address, not a duplicate of kate's, and kate verifying takes none of its invitations.
	kelvin := newUser("kelvin")
	kelvin.Email = "\u212Aate@example.com"
	if err := s.CreateUser(ctx, kelvin); err != nil {
		t.Fatalf("the Kelvin-sign address collided with kate's: %v", err)
	}
	if kelvin.Email != "\u212Aate@example.com" {
		t.Fatalf("stored %q, want the address as given", kelvin.Email)
	}
	owner := mustCreateUser(t, s, "owner")
	p, _, _ := mustCreateProject(t, s, owner, "Fold")
	inv := invite(t, s, p, owner, "\u212AATE@EXAMPLE.COM", tiledesk.RoleAdmin)
	if inv.Email != "\u212Aate@example.com" {
		t.Fatalf("invitation email = %q, want ASCII folded only", inv.Email)
	}
	if _, err := s.VerifyUserEmail(ctx, kate.ID, kate.Email); err != nil {
		t.Fatal(err)
	}
	if ms, _ := s.FindMemberships(ctx, kate.ID); len(ms) != 0 {
		t.Fatalf("kate took the invitation of another spelling: %d memberships", len(ms))
	}

	lead := mustCreateLead(t, s, newLead(p, "Kelvin", "\u212Aate@Example.com"))
	plain := mustCreateLead(t, s, newLead(p, "Kate", "KATE@example.com"))
	if page := findLeads(t, s, p.ID, tiledesk.LeadFilter{Email: "kate@example.com"}); page.Count != 1 || page.Leads[0].ID != plain.ID {
		t.Fatalf("leads with email kate@example.com = %d, want only %s", page.Count, plain.ID)
	}
	if page := findLeads(t, s, p.ID, tiledesk.LeadFilter{Email: "\u212Aate@example.COM"}); page.Count != 1 || page.Leads[0].ID != lead.ID {
		t.Fatalf("leads with the Kelvin-sign email = %d, want only %s", page.Count, lead.ID)
	}
}

// EmailKeyUpgrade checks the migration that keys emails again by EmailKey: a lead and a conversation
// whose keys an older version folded with Unicode rules are found by the new key afterwards, and not
// by the old one. age runs the given statements on the database and forgets the migration (so that
// reopen, which opens the store again and migrates it, runs it again).
func EmailKeyUpgrade(t *testing.T, s tiledesk.Store, age func(stmts ...string), reopen func() tiledesk.Store) {
	ctx := context.Background()
	c := newChat(t, s)
	in := c.newRequest(c.guest(t), "elodie", "Bonjour")
	in.Lead.Email = "\u00c9LODIE@Example.com"
	r := c.create(t, in)
	old := "\u00e9lodie@example.com" // strings.ToLower's key: É folded to é
	age(`UPDATE leads SET email_key = '`+old+`' WHERE id_project = '`+c.p.ID+`'`,
		`UPDATE requests SET requester_email = '`+old+`' WHERE id_project = '`+c.p.ID+`'`)
	s = reopen()
	key := "\u00c9lodie@example.com"
	for email, want := range map[string]int{key: 1, "\u00c9LODIE@EXAMPLE.COM": 1, old: 0} {
		if page := findLeads(t, s, c.p.ID, tiledesk.LeadFilter{Email: email}); page.Count != want {
			t.Errorf("leads with email %q after the upgrade = %d, want %d", email, page.Count, want)
		}
		page, err := s.FindRequests(ctx, c.p.ID, tiledesk.RequestFilter{RequesterEmail: email})
		if err != nil {
			t.Fatal(err)
		}
		if page.Count != want || (want == 1 && page.Requests[0].ID != r.ID) {
			t.Errorf("conversations with requester email %q after the upgrade = %d, want %d", email, page.Count, want)
		}
	}
}
