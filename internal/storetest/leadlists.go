package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

func testLeadFilters(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	p, _ := project(t, s)
	a := newLead(p, "Anna", "anna@example.com")
	a.Tags = []string{"vip", "eu"}
	b := newLead(p, "", "Bob@Example.com")
	b.Tags = []string{"vip"}
	c := newLead(p, "Carla", "")
	d := newLead(p, "Dead", "dead@example.com")
	for _, l := range []*tiledesk.Lead{a, b, c, d} {
		mustCreateLead(t, s, l)
	}
	if _, err := s.DeleteLead(ctx, p.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	deleted := tiledesk.LeadDeleted
	for name, tc := range map[string]struct {
		f    tiledesk.LeadFilter
		want int
	}{
		"default hides deleted":     {tiledesk.LeadFilter{}, 3},
		"email, any case":           {tiledesk.LeadFilter{Email: "bob@EXAMPLE.com"}, 1},
		"with_email":                {tiledesk.LeadFilter{WithEmail: true}, 2},
		"with_fullname":             {tiledesk.LeadFilter{WithFullname: true}, 2},
		"one tag":                   {tiledesk.LeadFilter{Tags: []string{"vip"}}, 2},
		"every tag":                 {tiledesk.LeadFilter{Tags: []string{"vip", "eu"}}, 1},
		"unknown tag":               {tiledesk.LeadFilter{Tags: []string{"nope"}}, 0},
		"deleted status":            {tiledesk.LeadFilter{Status: &deleted}, 1},
		"all statuses":              {tiledesk.LeadFilter{AllStatuses: true}, 4},
		"email and tag":             {tiledesk.LeadFilter{Email: "anna@example.com", Tags: []string{"eu"}}, 1},
		"deleted email not default": {tiledesk.LeadFilter{Email: "dead@example.com"}, 0},
	} {
		page := findLeads(t, s, p.ID, tc.f)
		if len(page.Leads) != tc.want || page.Count != tc.want {
			t.Errorf("%s: %d leads, count %d; want %d (%v)", name, len(page.Leads), page.Count, tc.want, leadNames(page.Leads))
		}
	}
	if page := findLeads(t, s, p.ID, tiledesk.LeadFilter{NoCount: true}); page.Count != 0 || len(page.Leads) != 3 {
		t.Fatalf("NoCount: count %d, %d leads", page.Count, len(page.Leads))
	}
}

func testLeadSearch(t *testing.T, s tiledesk.Store) {
	p, _ := project(t, s)
	for _, l := range []*tiledesk.Lead{
		newLead(p, "Mario Rossi", "m.rossi@example.com"),
		newLead(p, "Mária Bianchi", "maria@example.org"),
		newLead(p, "José Müller", "jose@muller.de"),
		newLead(p, "Luca Verdi", "luca@example.com"),
	} {
		mustCreateLead(t, s, l)
	}
	for q, want := range map[string]int{
		"mar":                 2, // prefix, accent-insensitive: Mario, Mária
		"MARIA":               1,
		"maria":               1,
		"jose":                1,
		"MULLER":              1, // ü matches u
		"rossi":               1,
		"example":             3, // email words
		"example com":         2, // every word must match
		"mar mari":            2, // a word that begins another is implied by it: "mari"
		"m mario ma":          1,
		"rossi rossi":         1,
		"m.rossi@example.com": 1,
		"zzz":                 0,
		"!!!":                 0,
	} {
		page := findLeads(t, s, p.ID, tiledesk.LeadFilter{Text: q})
		if len(page.Leads) != want || page.Count != want {
			t.Errorf("search %q: %v (count %d), want %d", q, leadNames(page.Leads), page.Count, want)
		}
	}
	// Renaming re-indexes.
	l := newLead(p, "Old Name", "")
	mustCreateLead(t, s, l)
	name := "Brand New"
	if _, err := s.UpdateLead(context.Background(), p.ID, l.ID, tiledesk.LeadUpdate{Fullname: &name}, nil); err != nil {
		t.Fatal(err)
	}
	if got := findLeads(t, s, p.ID, tiledesk.LeadFilter{Text: "old"}); len(got.Leads) != 0 {
		t.Fatalf("the old name still matches: %v", leadNames(got.Leads))
	}
	if got := findLeads(t, s, p.ID, tiledesk.LeadFilter{Text: "bran"}); len(got.Leads) != 1 {
		t.Fatalf("the new name does not match: %v", leadNames(got.Leads))
	}
}

// testLeadBroadSearch: a search matching thousands of leads lists and counts through
// FindLeadVersions (matches read once, counted and sorted in one statement) exactly what the same
// filter lists through FindLeads (a page statement and a count), in several orders and at offsets
// (one past the end), without another project's or a deleted lead; so does a narrower one.
func testLeadBroadSearch(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	p, _, _ := seedTwoProjects(t, s, 3000, 1500, nil)
	// The newest leads are deleted: a walk of the list meets them first.
	newest := findLeads(t, s, p.ID, tiledesk.LeadFilter{Limit: 5})
	for _, l := range newest.Leads {
		if _, err := s.DeleteLead(ctx, p.ID, l.ID); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		text  string
		count int
	}{{"example", 2995}, {"exam corp", 599}} {
		for _, f := range []tiledesk.LeadFilter{
			{Text: c.text},
			{Text: c.text, Sort: tiledesk.LeadSortFullname},
			{Text: c.text, Sort: tiledesk.LeadSortCreatedAt, Desc: true, Limit: 100},
			{Text: c.text, Offset: 80},
			{Text: c.text, Sort: tiledesk.LeadSortUpdatedAt, Desc: true, Offset: 2990},
		} {
			want := findLeads(t, s, p.ID, f)
			got, err := viewStore(t, s).FindLeadVersions(ctx, p.ID, f)
			if err != nil {
				t.Fatalf("FindLeadVersions(%+v): %v", f, err)
			}
			var gotIDs []string
			for _, v := range got.Versions {
				gotIDs = append(gotIDs, v.ID)
			}
			if want.Count != c.count || got.Count != c.count || strings.Join(gotIDs, ",") != strings.Join(ids(want.Leads), ",") {
				t.Errorf("search %+v: versions %d leads, count %d; FindLeads %d leads, count %d; want count %d and the same leads in the same order",
					f, len(gotIDs), got.Count, len(want.Leads), want.Count, c.count)
			}
		}
	}
}

func testLeadSortAndCursor(t *testing.T, s tiledesk.Store) {
	p, _ := project(t, s)
	names := []string{"delta", "alpha", "echo", "charlie", "bravo", "alpha"}
	for _, n := range names {
		mustCreateLead(t, s, newLead(p, n, n+"@x.io"))
		time.Sleep(time.Millisecond)
	}
	byName := findLeads(t, s, p.ID, tiledesk.LeadFilter{Sort: tiledesk.LeadSortFullname, Limit: 10})
	if got := fmt.Sprint(leadNames(byName.Leads)); got != "[alpha alpha bravo charlie delta echo]" {
		t.Fatalf("by fullname asc = %s", got)
	}
	newest := findLeads(t, s, p.ID, tiledesk.LeadFilter{Limit: 10})
	if got := fmt.Sprint(leadNames(newest.Leads)); got != "[alpha bravo charlie echo alpha delta]" {
		t.Fatalf("default order (newest first) = %s", got)
	}
	for _, sortKey := range []string{tiledesk.LeadSortCreatedAt, tiledesk.LeadSortUpdatedAt, tiledesk.LeadSortFullname,
		tiledesk.LeadSortEmail, tiledesk.LeadSortLeadID, tiledesk.LeadSortID} {
		for _, desc := range []bool{false, true} {
			all := findLeads(t, s, p.ID, tiledesk.LeadFilter{Sort: sortKey, Desc: desc, Limit: 100})
			var paged []*tiledesk.Lead
			f := tiledesk.LeadFilter{Sort: sortKey, Desc: desc, Limit: 4}
			for i := 0; ; i++ {
				page := findLeads(t, s, p.ID, f)
				if page.Count != len(names) {
					t.Fatalf("count on a cursor page = %d", page.Count)
				}
				paged = append(paged, page.Leads...)
				if page.Next == nil {
					break
				}
				f.After = page.Next
				if i > 10 {
					t.Fatal("cursor never ends")
				}
			}
			if fmt.Sprint(ids(paged)) != fmt.Sprint(ids(all.Leads)) {
				t.Fatalf("sort %s desc=%v: cursor pages %v differ from one page %v", sortKey, desc, leadNames(paged), leadNames(all.Leads))
			}
			offset := findLeads(t, s, p.ID, tiledesk.LeadFilter{Sort: sortKey, Desc: desc, Limit: 4, Offset: 4})
			if fmt.Sprint(ids(offset.Leads)) != fmt.Sprint(ids(all.Leads[4:])) {
				t.Fatalf("sort %s desc=%v: offset page differs", sortKey, desc)
			}
		}
	}
	_, err := s.FindLeads(context.Background(), p.ID, tiledesk.LeadFilter{Sort: "password"})
	wantCode(t, err, tiledesk.EINVALID)
}

func ids(ls []*tiledesk.Lead) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.ID)
	}
	return out
}

// testLeadCursorWhileWriting pages through a list while other writers insert and update leads: every
// lead that existed before paging began is seen exactly once.
func testLeadCursorWhileWriting(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	p, _ := project(t, s)
	before := map[string]bool{}
	for i := 0; i < 120; i++ {
		l := mustCreateLead(t, s, newLead(p, fmt.Sprintf("seed %d", i), ""))
		before[l.ID] = true
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var once sync.Once
	halt := func() { once.Do(func() { close(stop) }); wg.Wait() }
	t.Cleanup(halt)
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, _, err := s.CreateLead(ctx, newLead(p, "new", ""), nil); err != nil {
					t.Errorf("concurrent create: %v", err)
					return
				}
			}
		}()
	}
	seen := map[string]int{}
	f := tiledesk.LeadFilter{Limit: 7}
	for pages := 0; ; pages++ {
		page := findLeads(t, s, p.ID, f)
		for _, l := range page.Leads {
			seen[l.ID]++
		}
		if page.Next == nil {
			break
		}
		f.After = page.Next
		if pages > 10000 {
			t.Fatal("paging never ends")
		}
	}
	halt()
	for id := range before {
		if seen[id] != 1 {
			t.Fatalf("a lead that existed before paging was seen %d times", seen[id])
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("lead %s seen %d times", id, n)
		}
	}
}

// testLeadSyncFeedWhileWriting follows the updated_since feed while writers create, update and delete
// leads: stamps arrive strictly increasing (nothing repeated, nothing out of order), and once the
// writers stop the follower's copy equals the store exactly (nothing missed).
func testLeadSyncFeedWhileWriting(t *testing.T, s tiledesk.Store) {
	if !stampsInCommitOrder(s) {
		t.Skip("many writers stamp each row apart, not a project's changes in commit order: the event feed is the gap-free follower there")
	}
	ctx := context.Background()
	p, _ := project(t, s)
	var written atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var once sync.Once
	halt := func() { once.Do(func() { close(stop) }); wg.Wait() }
	t.Cleanup(halt)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var mine []string
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				switch {
				case len(mine) < 5 || i%3 == 0:
					var l *tiledesk.Lead
					l, _, err = s.CreateLead(ctx, newLead(p, fmt.Sprintf("w%d-%d", w, i), ""), nil)
					if err == nil {
						mine = append(mine, l.ID)
					}
				case i%7 == 0:
					_, err = s.DeleteLead(ctx, p.ID, mine[i%len(mine)])
				default:
					name := fmt.Sprintf("w%d-%d-renamed", w, i)
					_, err = s.UpdateLead(ctx, p.ID, mine[i%len(mine)], tiledesk.LeadUpdate{Fullname: &name}, nil)
				}
				if err != nil {
					t.Errorf("writer: %v", err)
					return
				}
				written.Add(1)
			}
		}(w)
	}
	copyOf := map[string]time.Time{}
	var last time.Time
	follow := func() {
		f := tiledesk.LeadFilter{UpdatedSince: &last, AllStatuses: true, Sort: tiledesk.LeadSortUpdatedAt, Limit: 25, NoCount: true}
		for {
			page := findLeads(t, s, p.ID, f)
			for _, l := range page.Leads {
				if !l.UpdatedAt.After(last) {
					t.Fatalf("feed went from %v back to %v", last, l.UpdatedAt)
				}
				last = l.UpdatedAt
				copyOf[l.ID] = l.UpdatedAt
			}
			if page.Next == nil {
				return
			}
			f.After = page.Next
		}
	}
	for written.Load() < 300 {
		follow()
	}
	halt()
	follow()
	all := findLeads(t, s, p.ID, tiledesk.LeadFilter{AllStatuses: true, Limit: 100000})
	if len(all.Leads) != len(copyOf) {
		t.Fatalf("the follower knows %d leads, the store has %d", len(copyOf), len(all.Leads))
	}
	for _, l := range all.Leads {
		if !copyOf[l.ID].Equal(l.UpdatedAt) {
			t.Fatalf("the follower missed the last change of %s (%v, store %v)", l.ID, copyOf[l.ID], l.UpdatedAt)
		}
	}
}
