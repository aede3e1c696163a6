package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/seed"
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
	full, v, err := s.FindLeadUnlessKept(ctx, p.ID, l.ID, func(u time.Time) bool { asked = u; return false })
	if err != nil || full == nil || full.Attributes["plan"] != "gold" || len(full.Tags) != 1 || !v.Equal(l.UpdatedAt) || !asked.Equal(l.UpdatedAt) {
		t.Fatalf("FindLeadUnlessKept (not kept) = %+v, %v, %v; asked about %v", full, v, err, asked)
	}
	if none, v, err := s.FindLeadUnlessKept(ctx, p.ID, l.ID, func(time.Time) bool { return true }); err != nil || none != nil || !v.Equal(l.UpdatedAt) {
		t.Fatalf("FindLeadUnlessKept (kept) = %+v, %v, %v", none, v, err)
	}
	_, _, err = s.FindLeadUnlessKept(ctx, p.ID, tiledesk.NewID(), func(time.Time) bool { return true })
	wantCode(t, err, tiledesk.ENOTFOUND)
	if v, err := s.LeadVersion(ctx, p.ID, l.ID); err != nil || !v.Equal(l.UpdatedAt) {
		t.Fatalf("LeadVersion = %v, %v; want %v", v, err, l.UpdatedAt)
	}
	_, err = s.LeadVersion(ctx, p.ID, tiledesk.NewID())
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
			got, err := s.FindLeadVersions(ctx, p.ID, f)
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
	if v, err := s.LeadVersion(ctx, p.ID, l.ID); err != nil || !v.Equal(got.UpdatedAt) {
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
	if _, _, err := s.FindLeadUnlessKept(ctx, pb.ID, l.ID, func(time.Time) bool { return true }); tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		t.Fatalf("A's lead through B, kept: %v", err)
	}
	if _, err := s.LeadVersion(ctx, pb.ID, l.ID); tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
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

// testLeadVersions holds FindLeadVersions to FindLeads: the same leads, order, counts and cursors
// (a cursor of one continues in the other), and a version that changes with every change of a lead.
func testLeadVersions(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	p, _ := project(t, s)
	for _, n := range []string{"delta", "alpha", "echo", "charlie", "bravo", "alpha", "Mário Rossi"} {
		mustCreateLead(t, s, newLead(p, n, strings.ToLower(strings.Fields(n)[0])+"@x.io"))
	}
	// Ids the API never makes, which a store reading a page as joined text must still carry.
	for _, id := range []string{"odd,id", "odd id"} {
		l := newLead(p, "odd", "odd@x.io")
		l.ID = id
		mustCreateLead(t, s, l)
	}
	filters := []tiledesk.LeadFilter{{Email: "ALPHA@x.io"}, {Text: "mar ros"}, {Text: "!!"}, {NoCount: true}, {Offset: 2, Limit: 3},
		{Text: "alpha", Limit: 1}, {Text: "alpha", Offset: 5}, {Text: "alpha", NoCount: true},
		// Each way of counting: the project's counter (also on an empty page), a window (also past the
		// last match), and a count apart when a cursor narrows the page.
		{Offset: 10}, {Email: "alpha@x.io", Limit: 1}, {Email: "alpha@x.io", Offset: 5}, {Tags: []string{"none"}},
		// A first page that holds every match counts itself; a full one is counted apart.
		{WithEmail: true, Limit: 100}, {WithEmail: true, Limit: 2}, {WithEmail: true, Limit: 9}, {WithEmail: true, Limit: 8},
		// A counted set of matches sorted by each kind of column: another one, the id, the version.
		{Text: "a", Sort: tiledesk.LeadSortFullname}, {Text: "a", Sort: tiledesk.LeadSortID, Desc: true},
		{Text: "a", Sort: tiledesk.LeadSortUpdatedAt, Limit: 2}}
	for _, sortKey := range []string{tiledesk.LeadSortCreatedAt, tiledesk.LeadSortUpdatedAt, tiledesk.LeadSortFullname,
		tiledesk.LeadSortEmail, tiledesk.LeadSortLeadID, tiledesk.LeadSortID} {
		for _, desc := range []bool{false, true} {
			filters = append(filters, tiledesk.LeadFilter{Sort: sortKey, Desc: desc, Limit: 3})
		}
	}
	for _, f := range filters {
		fromVersions := false
		for i := 0; ; i++ {
			want := findLeads(t, s, p.ID, f)
			got, err := s.FindLeadVersions(ctx, p.ID, f)
			if err != nil {
				t.Fatalf("FindLeadVersions(%+v): %v", f, err)
			}
			if len(got.Versions) != len(want.Leads) || got.Count != want.Count || fmt.Sprint(got.Next) != fmt.Sprint(want.Next) {
				t.Fatalf("filter %+v: versions %+v (count %d, next %v), leads %v (count %d, next %v)", f, got.Versions,
					got.Count, got.Next, leadNames(want.Leads), want.Count, want.Next)
			}
			for k, l := range want.Leads {
				if v := got.Versions[k]; v.ID != l.ID || !v.UpdatedAt.Equal(l.UpdatedAt) {
					t.Fatalf("filter %+v: version %d = %+v, lead %s updated %s", f, k, v, l.ID, l.UpdatedAt)
				}
			}
			if want.Next == nil {
				break
			}
			// Continue alternately from each one's cursor: they are interchangeable.
			if fromVersions {
				f.After = got.Next
			} else {
				f.After = want.Next
			}
			fromVersions = !fromVersions
			if i > 10 {
				t.Fatal("cursor never ends")
			}
		}
	}
	l := findLeads(t, s, p.ID, tiledesk.LeadFilter{Email: "echo@x.io"}).Leads[0]
	before, _ := s.FindLeadVersions(ctx, p.ID, tiledesk.LeadFilter{Email: "echo@x.io"})
	name := "Echo Changed"
	if _, err := s.UpdateLead(ctx, p.ID, l.ID, tiledesk.LeadUpdate{Fullname: &name}, nil); err != nil {
		t.Fatal(err)
	}
	after, _ := s.FindLeadVersions(ctx, p.ID, tiledesk.LeadFilter{Email: "echo@x.io"})
	if !after.Versions[0].UpdatedAt.After(before.Versions[0].UpdatedAt) {
		t.Fatalf("an update left the version at %s (was %s)", after.Versions[0].UpdatedAt, before.Versions[0].UpdatedAt)
	}
	// Leads whose project has no counter row (written by another path): the list counts none, as
	// FindLeads does, instead of failing on the missing count.
	if db, ok := s.(interface{ WriteDB() *sql.DB }); ok {
		if _, err := db.WriteDB().ExecContext(ctx, `DELETE FROM project_counters WHERE id_project = '`+p.ID+`'`); err != nil {
			t.Fatal(err)
		}
		got, err := s.FindLeadVersions(ctx, p.ID, tiledesk.LeadFilter{})
		if want := findLeads(t, s, p.ID, tiledesk.LeadFilter{}); err != nil || got.Count != want.Count || len(got.Versions) != len(want.Leads) {
			t.Fatalf("without a counter row: %d versions, count %d, %v; FindLeads: %d leads, count %d", len(got.Versions), got.Count, err,
				len(want.Leads), want.Count)
		}
	}
}

// testLeadListClock holds LeadListClock to its promise: it moves on every kind of lead change,
// create, update, tag, soft and physical deletion, a retried create that creates nothing does not
// move it, and one project's changes never move another's.
func testLeadListClock(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	p, _ := project(t, s)
	other, _ := project(t, s)
	clock := func(pid string) int64 {
		t.Helper()
		c, err := s.LeadListClock(ctx, pid)
		if err != nil {
			t.Fatalf("LeadListClock: %v", err)
		}
		// Where the store keeps the clock, what it keeps is the clock.
		if kept, ok, err := s.KeptLeadListClock(ctx, pid); err != nil || ok && kept != c {
			t.Fatalf("KeptLeadListClock = %d, %v, %v; LeadListClock %d", kept, ok, err, c)
		}
		return c
	}
	if c := clock(p.ID); c != 0 {
		t.Fatalf("clock before any lead = %d, want 0", c)
	}
	last := clock(p.ID)
	otherAt := clock(other.ID)
	moved := func(what string) {
		t.Helper()
		now := clock(p.ID)
		if now <= last {
			t.Fatalf("after %s the clock reads %d, was %d", what, now, last)
		}
		last = now
		if c := clock(other.ID); c != otherAt {
			t.Fatalf("after %s in one project another's clock moved %d -> %d", what, otherAt, c)
		}
	}
	idem := &tiledesk.Idempotency{Key: "clock-key", Hash: "h"}
	l, _, err := s.CreateLead(ctx, newLead(p, "Clocked", "clocked@x.io"), idem)
	if err != nil {
		t.Fatal(err)
	}
	moved("a create")
	if _, replayed, err := s.CreateLead(ctx, newLead(p, "Clocked", "clocked@x.io"), idem); err != nil || !replayed {
		t.Fatalf("retried create: replayed %v, %v", replayed, err)
	}
	if c := clock(p.ID); c != last {
		t.Fatalf("a retried create that created nothing moved the clock %d -> %d", last, c)
	}
	for i := range 3 { // several changes within one millisecond still move it
		name := fmt.Sprint("Renamed ", i)
		if _, err := s.UpdateLead(ctx, p.ID, l.ID, tiledesk.LeadUpdate{Fullname: &name}, nil); err != nil {
			t.Fatal(err)
		}
		moved("an update")
	}
	if _, err := s.UpdateLead(ctx, p.ID, l.ID, tiledesk.LeadUpdate{AddTags: []string{"vip"}}, nil); err != nil {
		t.Fatal(err)
	}
	moved("a tag")
	if _, err := s.DeleteLead(ctx, p.ID, l.ID); err != nil {
		t.Fatal(err)
	}
	moved("a deletion")
	if _, err := s.DeleteLeadPermanently(ctx, p.ID, l.ID); err != nil {
		t.Fatal(err)
	}
	moved("a physical deletion")
	if sd, ok := s.(Seeder); ok {
		// A bulk load of leads stamped in the past still moves it.
		if err := sd.SeedLeads(ctx, seed.Leads(p.ID, p.CreatedBy, 900000, 3, tiledesk.Now().Add(-24*time.Hour))); err != nil {
			t.Fatal(err)
		}
		moved("a bulk load of older leads")
	}
}

// testLeadOrder: LeadOrder reads exactly the default list of one project (no deleted lead, no other
// project's), by creation then id (ties included), each lead at its version, after the clock it
// returns; it stops past max, and an error of each stops it.
func testLeadOrder(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	p, owner := project(t, s)
	other, _ := project(t, s)
	type entry struct {
		id               string
		created, updated time.Time
	}
	read := func(pid string, max int) ([]entry, int64, bool) {
		t.Helper()
		var got []entry
		clock, ok, err := s.LeadOrder(ctx, pid, max, func(id string, created, updated time.Time) error {
			got = append(got, entry{id, created, updated})
			return nil
		})
		if err != nil {
			t.Fatalf("LeadOrder: %v", err)
		}
		return got, clock, ok
	}
	if got, clock, ok := read(p.ID, 10); len(got) != 0 || clock != 0 || !ok {
		t.Fatalf("a project without leads: %v, clock %d, ok %v", got, clock, ok)
	}
	var leads []*tiledesk.Lead
	for i := range 6 {
		leads = append(leads, mustCreateLead(t, s, newLead(p, fmt.Sprint("Ordered ", i), "")))
	}
	mustCreateLead(t, s, newLead(other, "Elsewhere", ""))
	if _, err := s.DeleteLead(ctx, p.ID, leads[1].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteLeadPermanently(ctx, p.ID, leads[2].ID); err != nil {
		t.Fatal(err)
	}
	if sd, ok := s.(Seeder); ok { // leads created in the same millisecond are ordered by id
		twins := seed.Leads(p.ID, owner.ID, 900, 3, tiledesk.Now().Add(-time.Minute))
		for _, l := range twins {
			l.CreatedAt = twins[0].CreatedAt
		}
		if err := sd.SeedLeads(ctx, twins); err != nil {
			t.Fatal(err)
		}
	}
	name := "Renamed"
	if _, err := s.UpdateLead(ctx, p.ID, leads[4].ID, tiledesk.LeadUpdate{Fullname: &name}, nil); err != nil {
		t.Fatal(err)
	}

	want := findLeads(t, s, p.ID, tiledesk.LeadFilter{Sort: tiledesk.LeadSortCreatedAt, Limit: 100})
	clockBefore, err := s.LeadListClock(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, clock, ok := read(p.ID, len(want.Leads))
	if !ok || clock != clockBefore {
		t.Fatalf("LeadOrder: ok %v, clock %d; want ok and the list's clock %d", ok, clock, clockBefore)
	}
	if len(got) != len(want.Leads) {
		t.Fatalf("LeadOrder read %d leads, the default list holds %d", len(got), len(want.Leads))
	}
	for i, l := range want.Leads {
		if e := got[i]; e.id != l.ID || !e.created.Equal(l.CreatedAt) || !e.updated.Equal(l.UpdatedAt) {
			t.Fatalf("entry %d = %+v, want lead %s created %v updated %v", i, e, l.ID, l.CreatedAt, l.UpdatedAt)
		}
	}
	if _, _, ok := read(p.ID, len(want.Leads)-1); ok {
		t.Fatal("LeadOrder read past max")
	}
	stop := errors.New("enough")
	if _, _, err := s.LeadOrder(ctx, p.ID, 100, func(string, time.Time, time.Time) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("an error of each came back as %v", err)
	}
}
