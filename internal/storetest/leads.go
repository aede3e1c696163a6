package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

var leadTests = []struct {
	name string
	fn   func(*testing.T, tiledesk.Store)
}{
	{"LeadCreateFind", testLeadCreateFind},
	{"LeadIdempotency", testLeadIdempotency},
	{"LeadIdempotencyConcurrent", testLeadIdempotencyConcurrent},
	{"LeadFilters", testLeadFilters},
	{"LeadSearch", testLeadSearch},
	{"LeadBroadSearch", testLeadBroadSearch},
	{"LeadSearchWordLengths", testLeadSearchWordLengths},
	{"LeadSortAndCursor", testLeadSortAndCursor},
	{"LeadVersions", testLeadVersions},
	{"LeadListClock", testLeadListClock},
	{"LeadOrder", testLeadOrder},
	{"LeadCursorWhileWriting", testLeadCursorWhileWriting},
	{"LeadSyncFeedWhileWriting", testLeadSyncFeedWhileWriting},
	{"LeadUpdate", testLeadUpdate},
	{"LeadDelete", testLeadDelete},
	{"LeadTenantIsolation", testLeadTenantIsolation},
	{"SeedLeads", testSeedLeads},
}

// NewProject returns a fresh project of a fresh owner, for an engine's own tests.
func NewProject(t testing.TB, s tiledesk.Store) (*tiledesk.Project, *tiledesk.User) {
	return project(t, s)
}

// project returns a fresh project of a fresh owner.
func project(t testing.TB, s tiledesk.Store) (*tiledesk.Project, *tiledesk.User) {
	t.Helper()
	owner := mustCreateUser(t, s, "owner")
	p, _, _ := mustCreateProject(t, s, owner, "Leads")
	return p, owner
}

func newLead(p *tiledesk.Project, fullname, email string) *tiledesk.Lead {
	return &tiledesk.Lead{ID: tiledesk.NewID(), ProjectID: p.ID, LeadID: fmt.Sprintf("lead-%d", seq.Add(1)),
		Fullname: fullname, Email: email, Tags: []string{}, Status: tiledesk.LeadActive, CreatedBy: p.CreatedBy}
}

func mustCreateLead(t *testing.T, s tiledesk.Store, l *tiledesk.Lead) *tiledesk.Lead {
	t.Helper()
	got, replayed, err := s.CreateLead(context.Background(), l, nil)
	if err != nil || replayed {
		t.Fatalf("CreateLead = %v, replayed %v", err, replayed)
	}
	return got
}

func findLeads(t *testing.T, s tiledesk.Store, pid string, f tiledesk.LeadFilter) *tiledesk.LeadPage {
	t.Helper()
	page, err := s.FindLeads(context.Background(), pid, f)
	if err != nil {
		t.Fatalf("FindLeads(%+v): %v", f, err)
	}
	return page
}

func leadNames(ls []*tiledesk.Lead) []string {
	out := []string{}
	for _, l := range ls {
		out = append(out, l.Fullname)
	}
	return out
}

func testLeadCreateFind(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	p, _ := project(t, s)
	l := newLead(p, "Lead One", "Lead1@Example.com")
	l.Phone, l.City = "+39 06 1234", "Roma"
	l.Attributes = map[string]any{"plan": "gold", "age": 42.0}
	l.Tags = []string{"vip"}
	mustCreateLead(t, s, l)
	if l.CreatedAt.IsZero() || l.UpdatedAt.Before(l.CreatedAt) {
		t.Fatalf("stamps: created %v updated %v", l.CreatedAt, l.UpdatedAt)
	}
	got, err := s.FindLeadByID(ctx, p.ID, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Fullname != "Lead One" || got.Email != "Lead1@Example.com" || got.Phone != "+39 06 1234" || got.City != "Roma" ||
		got.Attributes["plan"] != "gold" || got.Attributes["age"] != 42.0 || len(got.Tags) != 1 || got.Status != tiledesk.LeadActive ||
		!got.UpdatedAt.Equal(l.UpdatedAt) || !got.CreatedAt.Equal(l.CreatedAt) {
		t.Fatalf("FindLeadByID = %+v", got)
	}
	// FindLeadUnlessKept: the lead when the caller keeps nothing at its version, only the version when it does.
	var asked time.Time
	full, v, err := viewStore(t, s).FindLeadUnlessKept(ctx, p.ID, l.ID, func(u time.Time) bool { asked = u; return false })
	if err != nil || full == nil || full.Attributes["plan"] != "gold" || len(full.Tags) != 1 || !v.Equal(l.UpdatedAt) || !asked.Equal(l.UpdatedAt) {
		t.Fatalf("FindLeadUnlessKept (not kept) = %+v, %v, %v; asked about %v", full, v, err, asked)
	}
	if none, v, err := viewStore(t, s).FindLeadUnlessKept(ctx, p.ID, l.ID, func(time.Time) bool { return true }); err != nil || none != nil || !v.Equal(l.UpdatedAt) {
		t.Fatalf("FindLeadUnlessKept (kept) = %+v, %v, %v", none, v, err)
	}
	_, _, err = viewStore(t, s).FindLeadUnlessKept(ctx, p.ID, tiledesk.NewID(), func(time.Time) bool { return true })
	wantCode(t, err, tiledesk.ENOTFOUND)
	if v, err := viewStore(t, s).LeadVersion(ctx, p.ID, l.ID); err != nil || !v.Equal(l.UpdatedAt) {
		t.Fatalf("LeadVersion = %v, %v; want %v", v, err, l.UpdatedAt)
	}
	_, err = viewStore(t, s).LeadVersion(ctx, p.ID, tiledesk.NewID())
	wantCode(t, err, tiledesk.ENOTFOUND)
	byLeadID, err := s.FindLeadByLeadID(ctx, p.ID, l.LeadID)
	if err != nil || byLeadID.ID != l.ID {
		t.Fatalf("FindLeadByLeadID = %+v, %v", byLeadID, err)
	}
	_, err = s.FindLeadByID(ctx, p.ID, tiledesk.NewID())
	wantCode(t, err, tiledesk.ENOTFOUND)
	_, err = s.FindLeadByLeadID(ctx, p.ID, "nobody")
	wantCode(t, err, tiledesk.ENOTFOUND)
	if evs := events(t, s, p.ID, tiledesk.EventLeadCreate); len(evs) != 1 || evs[0].ObjectID != l.ID {
		t.Fatalf("lead.create events = %+v", evs)
	}
	if page := findLeads(t, s, p.ID, tiledesk.LeadFilter{}); page.Count != 1 || len(page.Leads) != 1 || page.Next != nil {
		t.Fatalf("list = count %d, %d leads, next %v", page.Count, len(page.Leads), page.Next)
	}
}

func testLeadIdempotency(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	p, _ := project(t, s)
	idem := &tiledesk.Idempotency{Key: "retry-1", Hash: "h1"}
	first, replayed, err := s.CreateLead(ctx, newLead(p, "Once", ""), idem)
	if err != nil || replayed {
		t.Fatalf("first create = %v, replayed %v", err, replayed)
	}
	again, replayed, err := s.CreateLead(ctx, newLead(p, "Once", ""), idem)
	if err != nil || !replayed || again.ID != first.ID {
		t.Fatalf("retry = %+v, replayed %v, %v; want the first lead", again, replayed, err)
	}
	_, _, err = s.CreateLead(ctx, newLead(p, "Other", ""), &tiledesk.Idempotency{Key: "retry-1", Hash: "h2"})
	wantCode(t, err, tiledesk.ECONFLICT)
	if page := findLeads(t, s, p.ID, tiledesk.LeadFilter{}); page.Count != 1 {
		t.Fatalf("leads after retries = %d, want 1", page.Count)
	}
	// Keys are per project.
	q, _ := project(t, s)
	if _, replayed, err := s.CreateLead(ctx, newLead(q, "Elsewhere", ""), idem); err != nil || replayed {
		t.Fatalf("same key in another project = replayed %v, %v", replayed, err)
	}
}

func testLeadIdempotencyConcurrent(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	p, _ := project(t, s)
	const n = 12
	ids := make(chan string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, _, err := s.CreateLead(ctx, newLead(p, "Racer", ""), &tiledesk.Idempotency{Key: "same", Hash: "h"})
			if err != nil {
				t.Errorf("concurrent idempotent create: %v", err)
				return
			}
			ids <- l.ID
		}()
	}
	wg.Wait()
	close(ids)
	distinct := map[string]bool{}
	for id := range ids {
		distinct[id] = true
	}
	if len(distinct) != 1 {
		t.Fatalf("%d concurrent creates with one key made %d leads", n, len(distinct))
	}
	if page := findLeads(t, s, p.ID, tiledesk.LeadFilter{}); page.Count != 1 {
		t.Fatalf("count = %d, want 1", page.Count)
	}
}

func testLeadUpdate(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	p, _ := project(t, s)
	l := newLead(p, "Lead", "lead@example.com")
	l.Attributes = map[string]any{"a": 1.0, "b": 2.0}
	l.Tags = []string{"x"}
	mustCreateLead(t, s, l)
	got, err := s.UpdateLead(ctx, p.ID, l.ID, tiledesk.LeadUpdate{MergeAttributes: map[string]any{"b": 3.0, "c": 4.0},
		MergeProperties: map[string]any{"p": true}, AddTags: []string{"y", "x", "y"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Attributes["a"] != 1.0 || got.Attributes["b"] != 3.0 || got.Attributes["c"] != 4.0 || got.Properties["p"] != true ||
		fmt.Sprint(got.Tags) != "[x y]" || !got.UpdatedAt.After(l.UpdatedAt) {
		t.Fatalf("merged update = %+v", got)
	}
	if v, err := viewStore(t, s).LeadVersion(ctx, p.ID, l.ID); err != nil || !v.Equal(got.UpdatedAt) {
		t.Fatalf("LeadVersion after an update = %v, %v; want %v", v, err, got.UpdatedAt)
	}
	if page := findLeads(t, s, p.ID, tiledesk.LeadFilter{Tags: []string{"y"}}); len(page.Leads) != 1 {
		t.Fatal("an added tag is not filterable")
	}
	x := "x"
	got, _ = s.UpdateLead(ctx, p.ID, l.ID, tiledesk.LeadUpdate{RemoveTag: &x, Attributes: map[string]any{"only": "this"}}, nil)
	if fmt.Sprint(got.Tags) != "[y]" || len(got.Attributes) != 1 {
		t.Fatalf("after removing x and replacing attributes = %+v", got)
	}
	if page := findLeads(t, s, p.ID, tiledesk.LeadFilter{Tags: []string{"x"}}); len(page.Leads) != 0 {
		t.Fatal("a removed tag still filters")
	}
	refused := tiledesk.Errorf(tiledesk.EPRECONDITION, "changed")
	name := "Nope"
	_, err = s.UpdateLead(ctx, p.ID, l.ID, tiledesk.LeadUpdate{Fullname: &name}, func(*tiledesk.Lead) error { return refused })
	wantCode(t, err, tiledesk.EPRECONDITION)
	if again, _ := s.FindLeadByID(ctx, p.ID, l.ID); again.Fullname != "Lead" {
		t.Fatalf("a refused update was written: %q", again.Fullname)
	}
	_, err = s.UpdateLead(ctx, p.ID, tiledesk.NewID(), tiledesk.LeadUpdate{Fullname: &name}, nil)
	wantCode(t, err, tiledesk.ENOTFOUND)
	if evs := events(t, s, p.ID, tiledesk.EventLeadUpdate); len(evs) != 2 {
		t.Fatalf("lead.update events = %d, want 2", len(evs))
	}
}

func testLeadDelete(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	p, _ := project(t, s)
	a, b := mustCreateLead(t, s, newLead(p, "A", "")), mustCreateLead(t, s, newLead(p, "B", ""))
	del, err := s.DeleteLead(ctx, p.ID, a.ID)
	if err != nil || del.Status != tiledesk.LeadDeleted {
		t.Fatalf("DeleteLead = %+v, %v", del, err)
	}
	if page := findLeads(t, s, p.ID, tiledesk.LeadFilter{}); page.Count != 1 || len(page.Leads) != 1 || page.Leads[0].ID != b.ID {
		t.Fatalf("after a soft delete: count %d, %v", page.Count, leadNames(page.Leads))
	}
	// Deleting twice does not count twice; restoring counts again.
	if _, err := s.DeleteLead(ctx, p.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	active := tiledesk.LeadActive
	if _, err := s.UpdateLead(ctx, p.ID, a.ID, tiledesk.LeadUpdate{Status: &active}, nil); err != nil {
		t.Fatal(err)
	}
	if page := findLeads(t, s, p.ID, tiledesk.LeadFilter{}); page.Count != 2 {
		t.Fatalf("count after restore = %d, want 2", page.Count)
	}
	gone, err := s.DeleteLeadPermanently(ctx, p.ID, b.ID)
	if err != nil || gone.ID != b.ID {
		t.Fatalf("DeleteLeadPermanently = %+v, %v", gone, err)
	}
	_, err = s.FindLeadByID(ctx, p.ID, b.ID)
	wantCode(t, err, tiledesk.ENOTFOUND)
	_, err = s.DeleteLeadPermanently(ctx, p.ID, b.ID)
	wantCode(t, err, tiledesk.ENOTFOUND)
	if page := findLeads(t, s, p.ID, tiledesk.LeadFilter{}); page.Count != 1 {
		t.Fatalf("count after a permanent delete = %d, want 1", page.Count)
	}
	if evs := events(t, s, p.ID, tiledesk.EventLeadDelete); len(evs) != 3 {
		t.Fatalf("lead.delete events = %d, want 3", len(evs))
	}
}

func testLeadTenantIsolation(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	pa, _ := project(t, s)
	pb, _ := project(t, s)
	l := newLead(pa, "Secret", "secret@a.com")
	l.Tags = []string{"t"}
	mustCreateLead(t, s, l)
	mustCreateLead(t, s, newLead(pb, "Mine", "mine@b.com"))
	if _, err := s.FindLeadByID(ctx, pb.ID, l.ID); tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		t.Fatalf("A's lead through B: %v", err)
	}
	if _, _, err := viewStore(t, s).FindLeadUnlessKept(ctx, pb.ID, l.ID, func(time.Time) bool { return true }); tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		t.Fatalf("A's lead through B, kept: %v", err)
	}
	if _, err := viewStore(t, s).LeadVersion(ctx, pb.ID, l.ID); tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		t.Fatalf("A's lead's version through B: %v", err)
	}
	if _, err := s.FindLeadByLeadID(ctx, pb.ID, l.LeadID); tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		t.Fatalf("A's lead_id through B: %v", err)
	}
	name := "pwned"
	if _, err := s.UpdateLead(ctx, pb.ID, l.ID, tiledesk.LeadUpdate{Fullname: &name}, nil); tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		t.Fatalf("update of A's lead through B: %v", err)
	}
	if _, err := s.DeleteLead(ctx, pb.ID, l.ID); tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		t.Fatalf("delete of A's lead through B: %v", err)
	}
	if _, err := s.DeleteLeadPermanently(ctx, pb.ID, l.ID); tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		t.Fatalf("permanent delete of A's lead through B: %v", err)
	}
	for _, f := range []tiledesk.LeadFilter{{}, {Text: "secret"}, {Email: "secret@a.com"}, {Tags: []string{"t"}}, {AllStatuses: true}} {
		for _, got := range findLeads(t, s, pb.ID, f).Leads {
			if got.ProjectID != pb.ID {
				t.Fatalf("B's list with %+v holds A's lead", f)
			}
		}
	}
	if got, _ := s.FindLeadByID(ctx, pa.ID, l.ID); got.Fullname != "Secret" || got.Status != tiledesk.LeadActive {
		t.Fatalf("A's lead changed: %+v", got)
	}
}
