package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/pgtest"
	"github.com/tiledesk-go/tiledesk/internal/postgres"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
	"github.com/tiledesk-go/tiledesk/internal/storetest"
)

// eachEngine runs fn on a fresh migrated store of every engine (PostgreSQL when
// TILEDESK_TEST_POSTGRES names a server).
func eachEngine(t *testing.T, fn func(t *testing.T, s *sqlstore.Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, openSQLite(t)) })
	t.Run("postgres", func(t *testing.T) {
		ctx := context.Background()
		s, err := postgres.Open(ctx, pgtest.FreshSchema(t), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.Migrate(ctx, nil); err != nil {
			t.Fatal(err)
		}
		fn(t, s)
	})
}

// everyInitial is a search of 36 one-letter words: every letter and digit.
var everyInitial = strings.Join(strings.Split("abcdefghijklmnopqrstuvwxyz0123456789", ""), " ")

// largeText is a conversation's first text of about 3 KB whose words begin with every letter and
// digit, different for each n.
func largeText(n int) string {
	var b strings.Builder
	for _, c := range "abcdefghijklmnopqrstuvwxyz0123456789" {
		for k := range 10 {
			fmt.Fprintf(&b, "%c%x%c ", c, n*10+k, 'a'+rune(k))
		}
	}
	return b.String()
}

// createConversations creates n conversations in p, each with its own lead, 8 at a time.
func createConversations(t *testing.T, s *sqlstore.Store, p *tiledesk.Project, n int, text func(int) string) {
	t.Helper()
	ctx := context.Background()
	guest := tiledesk.NewProjectUser(p.ID, tiledesk.RoleGuest, "visitor-"+p.ID, tiledesk.Now())
	guest.UUIDUser = guest.ID
	if err := s.CreateProjectUser(ctx, guest); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				leadID := fmt.Sprintf("visitor-%s-%d", p.ID, i)
				r := &tiledesk.Request{ID: tiledesk.NewID(), ProjectID: p.ID, RequestID: fmt.Sprintf("support-group-%s-%d", p.ID, i),
					FirstText: text(i), Priority: "medium", Channel: tiledesk.Channel{Name: "chat21"},
					ChannelOutbound: tiledesk.Channel{Name: "chat21"}, RequesterID: guest.ID, CreatedBy: leadID}
				if _, err := s.CreateRequest(ctx, &tiledesk.NewRequest{Request: r, Participants: []string{p.CreatedBy},
					Lead: tiledesk.LeadRef{LeadID: leadID, Fullname: "Visitor " + leadID}}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}

// TestSearchLooksUpOnlyItsProject: a search's lookup in the full-text index yields its own
// project's rows only, however much of another tenant's data matches it. A project with one
// conversation searches 36 one-letter words while another project holds 2,000 large conversations
// whose words begin with every one of them: the index hands the query the one conversation, not
// the other tenant's 2,000 (which it then had to read and drop, each search).
func TestSearchLooksUpOnlyItsProject(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		big, _ := storetest.NewProject(t, s)
		small, _ := storetest.NewProject(t, s)
		createConversations(t, s, big, 2000, largeText)
		createConversations(t, s, small, 1, func(int) string { return largeText(7) })

		began := time.Now()
		page, err := s.FindRequests(ctx, small.ID, tiledesk.RequestFilter{Text: everyInitial, Limit: 40})
		took := time.Since(began)
		if err != nil || page.Count != 1 || len(page.Requests) != 1 {
			t.Fatalf("the small project's search found %+v, %v; want its one conversation", page, err)
		}
		t.Logf("the small project's search of 36 one-letter words took %v", took)
		for _, c := range []struct{ table, text string }{{"requests", everyInitial}, {"leads", "visitor"}} {
			n, err := s.TextMatchesForTest(ctx, c.table, small.ID, c.text)
			if err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("the index lookup of a search of %s for %q yields %d rows, want the project's 1", c.table, c.text, n)
			}
		}
		// The other tenant's searches find all of its own.
		if page, err := s.FindRequests(ctx, big.ID, tiledesk.RequestFilter{Text: "a b 9", Limit: 40}); err != nil || page.Count != 2000 {
			t.Fatalf("the large project's search counts %v (%v), want 2000", page.Count, err)
		}
		if page, err := s.FindLeads(ctx, big.ID, tiledesk.LeadFilter{Text: "visitor", Limit: 40}); err != nil || page.Count != 2000 {
			t.Fatalf("the large project's lead search counts %v (%v), want 2000", page.Count, err)
		}
	})
}
