package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/seed"
)

// Seeder is the bulk-load path benchmarks use (sqlstore.Store.SeedLeads).
type Seeder interface {
	SeedLeads(ctx context.Context, leads []*tiledesk.Lead) error
}

// seedTwoProjects bulk-loads n leads into a new project and m into another, created an hour ago a
// millisecond apart, after adjust (if any) has changed them; it skips the test, saying so, where
// the store has no bulk path.
func seedTwoProjects(t *testing.T, s tiledesk.Store, n, m int, adjust func([]*tiledesk.Lead)) (p, other *tiledesk.Project, leads []*tiledesk.Lead) {
	t.Helper()
	sd, ok := s.(Seeder)
	if !ok {
		t.Skip("this store has no SeedLeads bulk path")
	}
	p, owner := project(t, s)
	other, otherOwner := project(t, s)
	base := tiledesk.Now().Add(-time.Hour)
	leads = append(seed.Leads(p.ID, owner.ID, 0, n, base), seed.Leads(other.ID, otherOwner.ID, n, m, base)...)
	if adjust != nil {
		adjust(leads)
	}
	if err := sd.SeedLeads(context.Background(), leads); err != nil {
		t.Fatalf("SeedLeads: %v", err)
	}
	return p, other, leads
}

// testSeedLeads holds the bulk path to the same contract as CreateLead: seeded leads are found by id,
// filters, tags and search, counted, and a later change is stamped after every seeded one.
func testSeedLeads(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	p, other, leads := seedTwoProjects(t, s, 1234, 10, func(leads []*tiledesk.Lead) { leads[3].Status = tiledesk.LeadDeleted })
	got, err := s.FindLeadByID(ctx, p.ID, leads[42].ID)
	if err != nil || got.Email != seed.Email(42) || got.Fullname != seed.Fullname(42) || got.Attributes["source"] != "email" {
		t.Fatalf("FindLeadByID(seeded 42) = %+v, %v", got, err)
	}
	if page := findLeads(t, s, p.ID, tiledesk.LeadFilter{}); page.Count != 1233 || page.Leads[0].ID != leads[1233].ID {
		t.Fatalf("default list: count %d (want 1233, one deleted), first %s", page.Count, page.Leads[0].ID)
	}
	if page := findLeads(t, s, other.ID, tiledesk.LeadFilter{}); page.Count != 10 {
		t.Fatalf("other project's count = %d, want 10", page.Count)
	}
	if page := findLeads(t, s, p.ID, tiledesk.LeadFilter{Tags: []string{"vip"}}); page.Count != 124 {
		t.Fatalf("vip leads = %d, want 124 (every 10th of 1234)", page.Count)
	}
	if page := findLeads(t, s, p.ID, tiledesk.LeadFilter{Email: seed.Email(77)}); len(page.Leads) != 1 || page.Leads[0].ID != leads[77].ID {
		t.Fatalf("email filter found %v", leadNames(page.Leads))
	}
	if page := findLeads(t, s, p.ID, tiledesk.LeadFilter{Text: "nicolo"}); page.Count == 0 {
		t.Fatal("search for an accented seeded name found nothing")
	}
	l := mustCreateLead(t, s, newLead(p, "After Seed", ""))
	if !l.UpdatedAt.After(leads[1233].UpdatedAt) {
		t.Fatalf("a change after seeding is stamped %v, not after the last seeded %v", l.UpdatedAt, leads[1233].UpdatedAt)
	}
}
