package views

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
	"github.com/tiledesk-go/tiledesk/internal/storetest"
)

// Each cache, changed behind its back: a change that moves no clock and no version is not seen
// (the cache answered), and the same change made as every write must make it, moving the lead
// clock with the row, is seen at once. The changes are made in SQL, as another process would
// make them; handing the write pool out makes the store read its clocks on every call.

// behindTheViews runs SQL on the store's database, as another process would.
func behindTheViews(t *testing.T, st *sqlstore.Store) func(query string, args ...any) {
	raw := st.WriteDB()
	return func(query string, args ...any) {
		t.Helper()
		if _, err := raw.Exec(fmt.Sprintf(query, args...)); err != nil {
			t.Fatal(err)
		}
	}
}

// renameUnseen renames a lead and gives it a new version, without moving the project's lead clock:
// what no write may do.
const renameUnseen = `UPDATE leads SET fullname = '%s', updated_at = updated_at + 1 WHERE id_project = '%s' AND id = '%s'`

// moveLeadClock moves the project's lead clock, as every write of a lead does with the row.
const moveLeadClock = `UPDATE project_counters SET leads_clock = leads_clock + 1 WHERE id_project = '%s'`

// TestKeptListsChangedBehindTheirBack: the head of a lead list and a lookup by email are kept under
// the project's lead clock, and only that clock makes them read again.
func TestKeptListsChangedBehindTheirBack(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		st := openStore(t, engine)
		p, _ := storetest.NewProject(t, st)
		createLeads(t, st, p, 3)
		counter := &readCounter{}
		v := newTestViews(t, st, counter)
		sql := behindTheViews(t, st)
		byEmail := head(40)
		byEmail.Email = "lead1@example.com"
		for _, f := range []tiledesk.LeadFilter{head(2), byEmail} {
			reads := func(want int32) testPage {
				t.Helper()
				counter.pages.Store(0)
				got, _ := page(t, v, p.ID, f)
				if n := counter.pages.Load(); n != want {
					t.Fatalf("%+v: %d pages read, want %d", f, n, want)
				}
				return got
			}
			first := reads(1)
			reads(0)
			target := first.Leads[0]
			sql(renameUnseen, "Unseen", p.ID, target.ID)
			if got := reads(0); got.Leads[0].Fullname != target.Fullname {
				t.Fatalf("%+v: a change that moved no clock shows %q: the kept page was not served", f, got.Leads[0].Fullname)
			}
			sql(moveLeadClock, p.ID)
			if got := reads(1); got.Leads[0].Fullname != "Unseen" {
				t.Fatalf("%+v: after the lead clock moved the page shows %q", f, got.Leads[0].Fullname)
			}
		}
	})
}

// TestLeadOrderChangedBehindItsBack: a page from a lead order shows the renderings the order keeps
// while the lead clock reads what it read the order at, and the change once the clock moves.
func TestLeadOrderChangedBehindItsBack(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		st := openStore(t, engine)
		p, _ := storetest.NewProject(t, st)
		createLeads(t, st, p, 5)
		counter := &readCounter{}
		v := newTestViews(t, st, counter)
		sql := behindTheViews(t, st)
		v.Leads.orders.readInline()
		f := deep(t, st, p.ID, 2)
		page(t, v, p.ID, f) // reads the order; the page from the store
		first, _ := page(t, v, p.ID, f)
		target := first.Leads[0]
		sql(renameUnseen, "Unseen", p.ID, target.ID)
		counter.pages.Store(0)
		if got, _ := page(t, v, p.ID, f); got.Leads[0].Fullname != target.Fullname || counter.pages.Load() != 0 {
			t.Fatalf("a change that moved no clock shows %q (%d pages read): the order did not answer",
				got.Leads[0].Fullname, counter.pages.Load())
		}
		sql(moveLeadClock, p.ID)
		v.Leads.orders.now = func() time.Time { return time.Now().Add(time.Hour) } // past the wait between readings
		if got, _ := page(t, v, p.ID, f); got.Leads[0].Fullname != "Unseen" {
			t.Fatalf("after the lead clock moved the page shows %q", got.Leads[0].Fullname)
		}
		if got, _ := page(t, v, p.ID, f); got.Leads[0].Fullname != "Unseen" {
			t.Fatalf("the order read after the change shows %q", got.Leads[0].Fullname)
		}
	})
}

// TestLeadOrderKeepsRenderings: a page from a current lead order is answered with the renderings
// the order keeps, without the render cache (emptied here) and without reading a lead; a change
// of any lead is shown at once, and the order that no longer serves gives its bytes back.
func TestLeadOrderKeepsRenderings(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		st := openStore(t, engine)
		p, _ := storetest.NewProject(t, st)
		createLeads(t, st, p, 5)
		counter := &readCounter{}
		v := newTestViews(t, st, counter)
		v.Leads.orders.readInline()
		f := deep(t, st, p.ID, 2)
		page(t, v, p.ID, f) // reads the order, the page from the store
		_, first := page(t, v, p.ID, f)
		if v.Leads.orders.bodyBytes.Load() == 0 {
			t.Fatal("a page from the order kept none of its renderings")
		}

		v.Leads.renders = newRenderCache(64 << 20)
		counter.pages.Store(0)
		counter.byIDs.Store(0)
		byOffset := head(2)
		byOffset.Offset = 2
		for _, g := range []tiledesk.LeadFilter{f, byOffset} {
			if _, body := page(t, v, p.ID, g); !bytes.Equal(body, first) {
				t.Fatalf("%+v from the order's renderings:\n%s\nwant\n%s", g, body, first)
			}
		}
		if n, b := counter.pages.Load(), counter.byIDs.Load(); n != 0 || b != 0 {
			t.Fatalf("pages from the order read %d pages and %d sets of leads, want none", n, b)
		}

		var shown testPage
		if err := json.Unmarshal(first, &shown); err != nil {
			t.Fatal(err)
		}
		renamed := "Renamed elsewhere"
		if _, err := st.UpdateLead(ctx, p.ID, shown.Leads[0].ID, tiledesk.LeadUpdate{Fullname: &renamed}, nil); err != nil {
			t.Fatal(err)
		}
		v.Leads.orders.now = func() time.Time { return time.Now().Add(time.Hour) } // past the wait between readings
		if _, body := page(t, v, p.ID, f); !bytes.Contains(body, []byte(renamed)) {
			t.Fatalf("after a change the page shows %s", body)
		}
		if n := v.Leads.orders.bodyBytes.Load(); n != 0 {
			t.Fatalf("the stale order, read again, still holds %d bytes of renderings", n)
		}
		if _, body := page(t, v, p.ID, f); !bytes.Contains(body, []byte(renamed)) {
			t.Fatalf("the order read after the change shows %s", body)
		}
	})
}

// TestOrderPagesReadTheirWrites: while readers page through a deep page of the default list and
// look a lead up by email, with the project's lead order read again after every change (the wait
// between readings taken away), a lead changed on that page shows its change on the next read of
// the page, and of the lookup, every time.
func TestOrderPagesReadTheirWrites(t *testing.T) { forEachEngine(t, testOrderPagesReadTheirWrites) }

func testOrderPagesReadTheirWrites(t *testing.T, engine string) {
	ctx := context.Background()
	st := openStore(t, engine)
	p, _ := storetest.NewProject(t, st)
	createLeads(t, st, p, 60)
	v := newTestViews(t, st, nil)
	// A reading may start right after the last, however long that took.
	v.Leads.orders.wait = func(time.Duration) time.Duration { return 0 }
	deepList := deep(t, st, p.ID, 40)
	first, _ := page(t, v, p.ID, deepList)
	var ids []string
	for _, l := range first.Leads {
		ids = append(ids, l.ID)
	}
	target := ids[5]
	lookup := head(40)
	lookup.Email = first.Leads[5].Email
	// onPage is the target's name on a page, which must hold the leads it held at first (the deep
	// page) or the target alone (the lookup), in that order.
	onPage := func(f tiledesk.LeadFilter) (string, error) {
		a, err := v.Leads.Page(ctx, p.ID, f, f.Limit, nil)
		if err != nil {
			return "", err
		}
		var got testPage
		if err := json.Unmarshal(a.Body, &got); err != nil {
			return "", err
		}
		var listed []string
		name := ""
		for _, l := range got.Leads {
			listed = append(listed, l.ID)
			if l.ID == target {
				name = l.Fullname
			}
		}
		want := ids
		if f.Email != "" {
			want = []string{target}
		}
		if !slices.Equal(listed, want) {
			return "", fmt.Errorf("%+v lists %v, want %v", f, listed, want)
		}
		return name, nil
	}

	errs := make(chan error, 4)
	done := make(chan struct{})
	var readers sync.WaitGroup
	for range 3 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				f := deepList
				if rand.IntN(2) == 0 {
					f = lookup
				}
				if _, err := onPage(f); err != nil {
					errs <- fmt.Errorf("reader: %v", err)
					return
				}
			}
		}()
	}
	for i := 1; i <= 50; i++ {
		want := fmt.Sprintf("v%d", i)
		if _, err := st.UpdateLead(ctx, p.ID, target, tiledesk.LeadUpdate{Fullname: &want}, nil); err != nil {
			t.Fatal(err)
		}
		check := func(f tiledesk.LeadFilter) {
			t.Helper()
			if got, err := onPage(f); err != nil || got != want {
				t.Fatalf("after the change to %s, %+v shows %q (%v)", want, f, got, err)
			}
		}
		check(lookup) // read, then kept
		check(lookup)
		// The page from the store until the order read after the change answers it and keeps its
		// renderings, then from those.
		clock, err := st.LeadListClock(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			check(deepList)
			if order := v.Leads.orders.orderAt(p.ID, clock); order != nil && order.keptBytes() > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after the change to %s no order kept the page's renderings within 10 s", want)
			}
		}
		check(deepList)
	}
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
