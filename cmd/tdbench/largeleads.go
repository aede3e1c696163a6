package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/tiledesk-go/tiledesk/internal/seed"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
)

// The project of large leads: largeLeadCount leads of about largeLeadBytes each (their note), for
// the scenario that pages through them while the server's heap is sampled.
const (
	largeLeadCount = 1000
	largeLeadBytes = 600 << 10
)

// largeFixture is the project of large leads, in the benchmark owner's name.
type largeFixture struct {
	pid     string
	leadIDs []string // oldest first, as seeded
	leadMS  []int64
}

// seedLargeLeadsIfNamed seeds the project of large leads when --scenarios names a scenario that
// needs it: 600 MB is too much to seed for every run.
func seedLargeLeadsIfNamed(ctx context.Context, out io.Writer, store *sqlstore.Store, f *fixture, named map[string]bool) error {
	for _, s := range scenarios {
		if s.largeLeads && named[s.name] {
			fmt.Fprintf(out, "tdbench: seeding %d leads of %d KB into a project of their own\n", largeLeadCount, largeLeadBytes>>10)
			var err error
			f.large, err = seedLargeLeads(ctx, store, f.ownerID)
			return err
		}
	}
	return nil
}

func seedLargeLeads(ctx context.Context, store *sqlstore.Store, ownerID string) (*largeFixture, error) {
	p, err := seedProject(ctx, store, "Large leads", ownerID)
	if err != nil {
		return nil, err
	}
	lf := &largeFixture{pid: p.ID}
	base := p.CreatedAt.Add(-time.Hour)
	for i := 0; i < largeLeadCount; i += 10 {
		batch := seed.Leads(p.ID, ownerID, i, 10, base.Add(time.Duration(i)*time.Millisecond))
		for k, l := range batch {
			l.Note = strings.Repeat(fmt.Sprintf("note %d of a large lead. ", i+k), largeLeadBytes/24)[:largeLeadBytes]
		}
		if err := store.SeedLeads(ctx, batch); err != nil {
			return nil, fmt.Errorf("seed large leads: %w", err)
		}
		for _, l := range batch {
			lf.leadIDs = append(lf.leadIDs, l.ID)
			lf.leadMS = append(lf.leadMS, l.CreatedAt.UnixMilli())
		}
	}
	return lf, nil
}

// largePage asks for the largest page of large leads (1,000) after a random one, newest first:
// the server answers the few that fit in a page's bytes, and the cursor after them.
func (f *fixture) largePage(rng *rand.Rand) (*http.Request, error) {
	i := rng.IntN(len(f.large.leadIDs))
	r, err := http.NewRequest(http.MethodGet, f.api+"/"+f.large.pid+"/leads?limit=1000&cursor="+
		cursorOf(f.large.leadMS[i], f.large.leadIDs[i]), nil)
	if err == nil {
		f.jwt(r)
	}
	return r, err
}
