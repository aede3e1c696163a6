package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/seed"
)

// Bench measures the hot lead operations on a store seeded with n leads in one project. Engine
// packages call it from a Benchmark function; profile with -cpuprofile.
func Bench(b *testing.B, s tiledesk.Store, n int) {
	sd, ok := s.(Seeder)
	if !ok {
		b.Skip("this store has no SeedLeads bulk path")
	}
	bs := seedBench(b, s, sd, n)
	bs.reads(b)
	bs.writes(b)
}

// benchSet is a store seeded for Bench: one project, and its leads in the order they were made.
type benchSet struct {
	s     tiledesk.Store
	p     *tiledesk.Project
	leads []*tiledesk.Lead // id, email and creation of each
}

// pick is the i-th lead of a walk that visits them all in no order.
func (bs *benchSet) pick(i int) *tiledesk.Lead { return bs.leads[(i*7919)%len(bs.leads)] }

// seedBench seeds n leads into a fresh project, in bulk.
func seedBench(b *testing.B, s tiledesk.Store, sd Seeder, n int) *benchSet {
	ctx := context.Background()
	p, owner := project(b, s)
	now := tiledesk.Now()
	base := now.Add(-time.Duration(n+1) * time.Millisecond)
	var leads []*tiledesk.Lead
	start := time.Now()
	for i := 0; i < n; i += 10000 {
		batch := seed.Leads(p.ID, owner.ID, i, min(10000, n-i), base)
		if err := sd.SeedLeads(ctx, batch); err != nil {
			b.Fatal(err)
		}
		for _, l := range batch {
			leads = append(leads, &tiledesk.Lead{ID: l.ID, Email: l.Email, CreatedAt: l.CreatedAt})
		}
	}
	if name, _ := s.Engine(); name == "postgres" {
		// As after any bulk load, PostgreSQL plans badly until autovacuum has analysed the table.
		if db, ok := s.(interface{ WriteDB() *sql.DB }); ok {
			if _, err := db.WriteDB().ExecContext(ctx, `ANALYZE`); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Logf("seeded %d leads in %v", n, time.Since(start).Round(time.Millisecond))
	return &benchSet{s: s, p: p, leads: leads}
}

// reads measures the lookups and the lists.
func (bs *benchSet) reads(b *testing.B) {
	ctx := context.Background()
	s, p, leads, n, pick := bs.s, bs.p, bs.leads, len(bs.leads), bs.pick
	find := func(b *testing.B, f func(i int) tiledesk.LeadFilter) {
		for i := 0; b.Loop(); i++ {
			if _, err := s.FindLeads(ctx, p.ID, f(i)); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("FindLeadByID", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := s.FindLeadByID(ctx, p.ID, pick(i).ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("FindLeads/first-page", func(b *testing.B) {
		find(b, func(int) tiledesk.LeadFilter { return tiledesk.LeadFilter{Limit: 40} })
	})
	deep := func(i int) tiledesk.LeadFilter {
		l := leads[len(leads)/10+(i*7919)%(len(leads)/10+1)] // a page 80-90% down the newest-first list
		return tiledesk.LeadFilter{Limit: 40, After: &tiledesk.Cursor{Sort: tiledesk.LeadSortCreatedAt, Desc: true,
			Value: l.CreatedAt.UnixMilli(), ID: l.ID}}
	}
	// What the API's lists read: the versions of a page, whose leads it renders or reuses.
	versions := func(b *testing.B, f func(i int) tiledesk.LeadFilter) {
		for i := 0; b.Loop(); i++ {
			if _, err := viewStore(b, s).FindLeadVersions(ctx, p.ID, f(i)); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("FindLeads/deep-cursor", func(b *testing.B) { find(b, deep) })
	b.Run("FindLeadVersions/first-page", func(b *testing.B) {
		versions(b, func(int) tiledesk.LeadFilter { return tiledesk.LeadFilter{Limit: 40} })
	})
	b.Run("FindLeadVersions/deep-cursor", func(b *testing.B) { versions(b, deep) })
	b.Run("LeadListClock", func(b *testing.B) {
		for b.Loop() {
			if _, err := viewStore(b, s).LeadListClock(ctx, p.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("LeadOrder", func(b *testing.B) { // the whole default list, as a lead order reads it
		for b.Loop() {
			if _, ok, err := viewStore(b, s).LeadOrder(ctx, p.ID, n, func(string, time.Time, time.Time) error { return nil }); err != nil || !ok {
				b.Fatal(ok, err)
			}
		}
	})
	b.Run("FindLeads/deep-offset", func(b *testing.B) {
		find(b, func(int) tiledesk.LeadFilter { return tiledesk.LeadFilter{Limit: 40, Offset: n * 9 / 10} })
	})
	b.Run("FindLeads/email", func(b *testing.B) {
		find(b, func(i int) tiledesk.LeadFilter { return tiledesk.LeadFilter{Limit: 40, Email: pick(i).Email} })
	})
	b.Run("FindLeadVersions/email", func(b *testing.B) {
		versions(b, func(i int) tiledesk.LeadFilter { return tiledesk.LeadFilter{Limit: 40, Email: pick(i).Email} })
	})
	b.Run("FindLeadVersions/text", func(b *testing.B) {
		versions(b, func(i int) tiledesk.LeadFilter { return tiledesk.LeadFilter{Limit: 40, Text: seed.SearchQuery(i)} })
	})
	b.Run("FindLeads/text", func(b *testing.B) {
		find(b, func(i int) tiledesk.LeadFilter {
			return tiledesk.LeadFilter{Limit: 40, Text: seed.SearchQuery(i)}
		})
	})
}

// writes measures a lead's creation and change, after the reads: they change the list.
func (bs *benchSet) writes(b *testing.B) {
	ctx := context.Background()
	b.Run("CreateLead", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			l := newLead(bs.p, "Bench Lead", fmt.Sprintf("bench%d@example.com", i))
			if _, _, err := bs.s.CreateLead(ctx, l, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("UpdateLead", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			company := fmt.Sprintf("Company %d", i)
			if _, err := bs.s.UpdateLead(ctx, bs.p.ID, bs.pick(i).ID, tiledesk.LeadUpdate{Company: &company}, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
