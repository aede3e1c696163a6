package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/seed"
	"github.com/tiledesk-go/tiledesk/internal/views"
)

// recordingStore notes what the server reads through it: the ids of each read of leads by id, and
// the limit of each read of whole leads or conversations.
type recordingStore struct {
	tiledesk.Store
	mu     sync.Mutex
	byID   []int
	limits []int
}

func (s *recordingStore) FindLeadsByIDs(ctx context.Context, projectID string, ids []string) (map[string]*tiledesk.Lead, error) {
	s.mu.Lock()
	s.byID = append(s.byID, len(ids))
	s.mu.Unlock()
	return s.Store.FindLeadsByIDs(ctx, projectID, ids)
}

func (s *recordingStore) FindLeads(ctx context.Context, projectID string, f tiledesk.LeadFilter) (*tiledesk.LeadPage, error) {
	s.mu.Lock()
	s.limits = append(s.limits, f.Limit)
	s.mu.Unlock()
	return s.Store.FindLeads(ctx, projectID, f)
}

func (s *recordingStore) FindRequests(ctx context.Context, projectID string, f tiledesk.RequestFilter) (*tiledesk.RequestPage, error) {
	s.mu.Lock()
	s.limits = append(s.limits, f.Limit)
	s.mu.Unlock()
	return s.Store.FindRequests(ctx, projectID, f)
}

func (s *recordingStore) reset() (byID, limits []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byID, limits, s.byID, s.limits = s.byID, s.limits, nil, nil
	return byID, limits
}

// recordedLeadsEnv is a leads environment whose server reads through a recordingStore.
func recordedLeadsEnv(t *testing.T) (*leadsEnv, *recordingStore) {
	rec := &recordingStore{}
	e := newLeadsEnvWith(t, func(c *Config) { rec.Store, c.Store = c.Store, rec })
	return e, rec
}

// pageThrough follows a list's next_cursor from path to its end and returns the ids listed, in
// order, failing when a page's body passes maxPageBytes (and some room for its envelope) or a page
// does not count the whole selection.
func pageThrough(t *testing.T, e *testEnv, path, key string, count int, cred cred) (ids []string, pages int) {
	t.Helper()
	next := ""
	for {
		p := path
		if next != "" {
			p += "&cursor=" + url.QueryEscape(next)
		}
		r := e.do("GET", p, nil, cred).want(t, 200)
		if len(r.body) > maxPageBytes+4096 {
			t.Fatalf("GET %s: a page of %d bytes, more than %d", p, len(r.body), maxPageBytes)
		}
		var page struct {
			Count int               `json:"count"`
			Items []json.RawMessage `json:"leads"`
			Reqs  []json.RawMessage `json:"requests"`
			Next  *string           `json:"next_cursor"`
		}
		if err := json.Unmarshal(r.body, &page); err != nil {
			t.Fatal(err)
		}
		items := append(page.Items, page.Reqs...)
		if len(items) == 0 || page.Count != count {
			t.Fatalf("GET %s: %d items, count %d; want at least one and the count %d", p, len(items), page.Count, count)
		}
		for _, it := range items {
			var o map[string]any
			if err := json.Unmarshal(it, &o); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, o[key].(string))
		}
		pages++
		if page.Next == nil {
			return ids, pages
		}
		next = *page.Next
	}
}

// TestLeadPagesBoundedInBytes: a page of large leads ends once its JSON would pass maxPageBytes,
// with the cursor to go on from there, and reads about as many leads as it shows; paging through
// by that cursor lists every lead once, in the list's order, in either direction and by either
// sort. A lead larger than a page comes alone.
func TestLeadPagesBoundedInBytes(t *testing.T) {
	e, rec := recordedLeadsEnv(t)
	leads := seed.Leads(e.pid, e.owner.id, 0, 60, tiledesk.Now().Add(-time.Hour))
	for i, l := range leads {
		l.Note = strings.Repeat("n", 300<<10)
		if i == 17 {
			l.Note = strings.Repeat("N", maxPageBytes+1)
		}
	}
	if err := e.engine.SeedLeads(context.Background(), leads); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"limit=1000", "limit=1000&direction=1", "limit=1000&sort=fullname", "limit=500&no_count=false"} {
		want, err := e.store.FindLeads(context.Background(), e.pid, leadFilterOf(t, q))
		if err != nil {
			t.Fatal(err)
		}
		rec.reset()
		ids, pages := pageThrough(t, e.testEnv, "/"+e.pid+"/leads?"+q, "_id", 60, e.agent.jwt())
		var wantIDs []string
		for _, l := range want.Leads {
			wantIDs = append(wantIDs, l.ID)
		}
		if !slices.Equal(ids, wantIDs) {
			t.Fatalf("%s: paging listed %d leads %v\nwant the %d in order %v", q, len(ids), ids, len(wantIDs), wantIDs)
		}
		if pages < 60*300/4096+1 {
			t.Errorf("%s: %d pages for 18 MB of leads", q, pages)
		}
		byID, _ := rec.reset()
		read := 0
		for _, n := range byID {
			read += n
			if n > views.MaxReadChunk {
				t.Errorf("%s: one read asked for %d leads", q, n)
			}
		}
		if read > 2*60 {
			t.Errorf("%s: %d leads read for 60 shown", q, read)
		}
	}
}

// leadFilterOf is the store's filter of a lead list's query.
func leadFilterOf(t *testing.T, query string) tiledesk.LeadFilter {
	t.Helper()
	f, _, err := leadListQuery(httptest.NewRequest("GET", "/x/leads?"+query, nil))
	if err != nil {
		t.Fatal(err)
	}
	f.NoCount = true
	return f
}

// TestConversationPagesBoundedInBytes: a page of conversations with large texts ends as a page of
// leads does, populated or not, and paging on lists every conversation once.
func TestConversationPagesBoundedInBytes(t *testing.T) {
	e, rec := recordedLeadsEnv(t)
	ctx := context.Background()
	guest := tiledesk.NewProjectUser(e.pid, tiledesk.RoleGuest, "visitor-pages", tiledesk.Now())
	guest.UUIDUser = guest.ID
	if err := e.store.CreateProjectUser(ctx, guest); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 30 {
		rid := fmt.Sprintf("support-group-%s-%d", e.pid, i)
		r := &tiledesk.Request{ID: tiledesk.NewID(), ProjectID: e.pid, RequestID: rid,
			FirstText: strings.Repeat(fmt.Sprint("question ", i, " "), 25_000), Priority: "medium",
			Channel: tiledesk.Channel{Name: "chat21"}, ChannelOutbound: tiledesk.Channel{Name: "chat21"},
			RequesterID: guest.ID, CreatedBy: guest.UUIDUser, Attributes: map[string]any{"n": i}}
		if _, err := e.store.CreateRequest(ctx, &tiledesk.NewRequest{Request: r, Participants: []string{e.owner.id},
			Lead: tiledesk.LeadRef{LeadID: "lead-" + rid, Fullname: "Visitor"}}); err != nil {
			t.Fatal(err)
		}
		want = append([]string{rid}, want...) // newest first
	}
	for _, q := range []string{"limit=100", "limit=100&no_populate=true"} {
		rec.reset()
		ids, pages := pageThrough(t, e.testEnv, "/"+e.pid+"/requests?"+q, "request_id", 30, e.owner.jwt())
		if !slices.Equal(ids, want) {
			t.Fatalf("%s: paging listed %v\nwant %v", q, ids, want)
		}
		if pages < 30*250/4096+1 {
			t.Errorf("%s: %d pages for 7.5 MB of conversations", q, pages)
		}
		if _, limits := rec.reset(); slices.Max(append(limits, 0)) > views.MaxReadChunk {
			t.Errorf("%s: conversations read whole %v at a time", q, limits)
		}
	}
}
