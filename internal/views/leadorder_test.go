package views

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/seed"
	"github.com/tiledesk-go/tiledesk/internal/storetest"
)

// readInline makes the orders read in the request that starts a reading, so that tests know when
// an order is there.
func (o *leadOrders) readInline() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.spawn = func(read func()) { read() }
}

// orderAt returns the project's order if it is kept and was read at clock.
func (o *leadOrders) orderAt(projectID string, clock int64) *leadOrder {
	o.mu.Lock()
	defer o.mu.Unlock()
	if slot := o.slots[projectID]; slot != nil && slot.order != nil && slot.order.clock == clock {
		return slot.order
	}
	return nil
}

// keptBytes is the size of the renderings the order keeps.
func (l *leadOrder) keptBytes() int64 {
	l.keepMu.Lock()
	defer l.keepMu.Unlock()
	return l.kept
}

// TestLeadOrderPagesMatchTheStore: every page an order answers, by cursor (at a lead, at a deleted
// lead, between leads, in a run of leads created in the same millisecond) or by offset, in either
// direction, of any size, with or without the count, is the page the store reads: the same
// versions in the same order, the same count and the same next cursor.
func TestLeadOrderPagesMatchTheStore(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, "sqlite")
	p, owner := storetest.NewProject(t, st)
	other, _ := storetest.NewProject(t, st)
	leads := seed.Leads(p.ID, owner.ID, 0, 97, tiledesk.Now().Add(-time.Hour))
	// Five leads of one millisecond whose ids run against their insertion.
	for k := 40; k < 45; k++ {
		leads[k].CreatedAt = leads[40].CreatedAt
	}
	for a, b := 40, 44; a < b; a, b = a+1, b-1 {
		leads[a].ID, leads[b].ID = leads[b].ID, leads[a].ID
	}
	deleted := map[int]bool{0: true, 13: true, 41: true, 96: true}
	for k := range deleted {
		leads[k].Status = tiledesk.LeadDeleted
	}
	if err := st.SeedLeads(ctx, append(leads, seed.Leads(other.ID, owner.ID, 500, 9, tiledesk.Now())...)); err != nil {
		t.Fatal(err)
	}
	order, err := readLeadOrder(ctx, st, p.ID, 1000)
	if err != nil || order == nil {
		t.Fatalf("readLeadOrder = %v, %v", order, err)
	}
	if order.len() != 97-len(deleted) {
		t.Fatalf("the order holds %d leads, want %d", order.len(), 97-len(deleted))
	}

	var filters []tiledesk.LeadFilter
	for _, sortKey := range []string{"", tiledesk.LeadSortCreatedAt} {
		for _, desc := range []bool{false, true} {
			for _, limit := range []int{1, 3, 40, 200} {
				for _, offset := range []int{0, 1, 39, 40, 41, 92, 93, 94, 120} {
					filters = append(filters, tiledesk.LeadFilter{Sort: sortKey, Desc: desc, Limit: limit, Offset: offset},
						tiledesk.LeadFilter{Sort: sortKey, Desc: desc, Limit: limit, Offset: offset, NoCount: true})
				}
			}
		}
	}
	ms := func(k int) int64 { return leads[k].CreatedAt.UnixMilli() }
	for _, desc := range []bool{false, true} {
		for _, at := range []struct {
			value int64
			id    string
		}{
			{ms(20), leads[20].ID}, {ms(13), leads[13].ID}, {ms(42), leads[42].ID}, {ms(40), leads[44].ID},
			{ms(41), leads[41].ID}, {ms(0), leads[0].ID}, {ms(96), leads[96].ID}, {ms(50), "000000000000000000000000"},
			{ms(50), "ffffffffffffffffffffffff"}, {ms(0) - 5, leads[3].ID}, {ms(96) + 5, leads[3].ID},
		} {
			for _, limit := range []int{1, 4, 40} {
				filters = append(filters, tiledesk.LeadFilter{Limit: limit,
					After: &tiledesk.Cursor{Sort: tiledesk.LeadSortCreatedAt, Desc: desc, Value: at.value, ID: at.id}})
			}
		}
	}
	for _, f := range filters {
		desc, ok := orderedList(f)
		if !ok {
			t.Fatalf("orderedList refused %+v", f)
		}
		// Follow each list to its end, from the order's cursors, against the store's pages.
		for range 100 {
			want, err := st.FindLeadVersions(ctx, p.ID, f)
			if err != nil {
				t.Fatal(err)
			}
			got, span := order.page(f, desc)
			if fmt.Sprint(got.Versions) != fmt.Sprint(want.Versions) || got.Count != want.Count ||
				fmt.Sprint(got.Next) != fmt.Sprint(want.Next) {
				t.Fatalf("filter %+v after %+v:\norder %v (count %d, next %v)\nstore %v (count %d, next %v)", f, f.After,
					got.Versions, got.Count, got.Next, want.Versions, want.Count, want.Next)
			}
			for k, v := range got.Versions {
				if i := span.at(k); order.id(i) != v.ID || order.updated[i] != v.UpdatedAt.UnixMilli() {
					t.Fatalf("filter %+v: lead %d of the page is %s, its span places it at %d, %s", f, k, v.ID, i, order.id(i))
				}
			}
			if got.Next == nil || f.Offset > 0 {
				break
			}
			f.After = got.Next
		}
	}
}

// TestOrderedList: only the default list by creation is answered from an order.
func TestOrderedList(t *testing.T) {
	active := tiledesk.LeadActive
	since := time.Now()
	cursor := func(sortKey string, v any) *tiledesk.Cursor {
		return &tiledesk.Cursor{Sort: sortKey, Value: v, ID: "6650a1b2c3d4e5f601234567"}
	}
	for _, f := range []tiledesk.LeadFilter{{Status: &active}, {AllStatuses: true}, {Email: "a@b.c"}, {WithEmail: true},
		{WithFullname: true}, {Tags: []string{"vip"}}, {Text: "mar"}, {UpdatedSince: &since},
		{Sort: tiledesk.LeadSortUpdatedAt}, {Sort: tiledesk.LeadSortFullname}, {Sort: tiledesk.LeadSortID},
		{After: cursor(tiledesk.LeadSortUpdatedAt, int64(5))}, {After: cursor(tiledesk.LeadSortCreatedAt, "5")}} {
		if _, ok := orderedList(f); ok {
			t.Errorf("orderedList accepted %+v", f)
		}
	}
	for _, f := range []tiledesk.LeadFilter{{}, {Offset: 40}, {Sort: tiledesk.LeadSortCreatedAt}, {NoCount: true},
		{After: cursor(tiledesk.LeadSortCreatedAt, int64(5))}} {
		if _, ok := orderedList(f); !ok {
			t.Errorf("orderedList refused %+v", f)
		}
	}
}

// TestLeadOrderNeedsObjectIDs: a project holding an id of another kind is paged by the store.
func TestLeadOrderNeedsObjectIDs(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, "sqlite")
	p, owner := storetest.NewProject(t, st)
	l := seed.Leads(p.ID, owner.ID, 0, 3, tiledesk.Now())
	l[1].ID = "imported-7"
	if err := st.SeedLeads(ctx, l); err != nil {
		t.Fatal(err)
	}
	if order, err := readLeadOrder(ctx, st, p.ID, 100); !errors.Is(err, errNotOrdered) || order != nil {
		t.Fatalf("readLeadOrder = %v, %v; want errNotOrdered", order, err)
	}
	if order, err := readLeadOrder(ctx, st, p.ID, 2); err != nil || order != nil {
		t.Fatalf("past max: readLeadOrder = %v, %v; want none", order, err)
	}
}

// TestLeadOrderReadings: an order is used only at the clock it was read at; a stale one starts one
// reading at a time, no sooner than twenty times the last reading's length (a minute after a
// failure); orders past the budget push out the least recently used; a project past it has none.
func TestLeadOrderReadings(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	sizes := map[string]int{"a": 6, "b": 6, "c": 1, "huge": 11}
	clocks := map[string]int64{"a": 1, "b": 1, "c": 1, "huge": 1}
	var reads []string
	var fail error
	o := newLeadOrders(10*leadOrderBytes, func(_ context.Context, pid string, max int) (*leadOrder, error) {
		reads = append(reads, pid)
		now = now.Add(200 * time.Millisecond) // the reading takes 200 ms
		if fail != nil {
			return nil, fail
		}
		if sizes[pid] > max {
			return nil, nil
		}
		return &leadOrder{clock: clocks[pid], created: make([]int64, sizes[pid]), updated: make([]int64, sizes[pid])}, nil
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	o.now = func() time.Time { return now }
	o.readInline()
	get := func(pid string, clock int64) bool { return o.get(pid, clock) != nil }

	if get("a", 1) || len(reads) != 1 {
		t.Fatalf("the first page found an order, or started %d readings", len(reads))
	}
	if !get("a", 1) || len(reads) != 1 {
		t.Fatalf("the order read at clock 1 was not used at clock 1 (%d readings)", len(reads))
	}
	clocks["a"] = 2
	if get("a", 2) || len(reads) != 1 {
		t.Fatalf("a stale order was used, or read again within 20 x 200 ms (%d readings)", len(reads))
	}
	now = now.Add(4 * time.Second)
	if get("a", 2) || len(reads) != 2 || !get("a", 2) {
		t.Fatalf("after 4 s the order was not read again at the new clock (%d readings)", len(reads))
	}

	// b fits only if a goes: a, the least recently used, goes.
	now = now.Add(time.Second)
	get("b", 1)
	if !get("b", 1) || get("a", 2) || o.held != 6 {
		t.Fatalf("b: %v, a kept: %v, held %d; want b in, a out, 6 held", get("b", 1), get("a", 2), o.held)
	}
	// A project past the budget has none, and is not read again for a minute.
	get("huge", 1)
	now = now.Add(30 * time.Second)
	if get("huge", 1) || len(reads) != 4 {
		t.Fatalf("a project past the budget: %d readings, want 4 (none again within a minute)", len(reads))
	}
	if !get("b", 1) {
		t.Fatal("a project past the budget pushed out another's order")
	}
	// A failed reading is not retried for a minute either.
	fail = errors.New("database down")
	clocks["b"] = 2
	now = now.Add(time.Hour)
	get("b", 2)
	now = now.Add(30 * time.Second)
	if get("b", 2) || len(reads) != 5 || o.held != 0 {
		t.Fatalf("after a failed reading: %d readings (want 5), %d held (want 0: the stale order is dropped)", len(reads), o.held)
	}

	// Slots that hold nothing (a, pushed out; huge, past its wait) go at the next reading; b
	// keeps its wait, and b is not read again before it ends.
	fail = nil
	get("c", 1)
	if _, ok := o.slots["b"]; len(o.slots) != 2 || !ok || len(reads) != 6 {
		t.Fatalf("after another project's reading %d slots are kept (want b's and c's), %d readings", len(o.slots), len(reads))
	}
	if get("b", 2) || len(reads) != 6 {
		t.Fatalf("b was read again within its wait: %d readings", len(reads))
	}
}

// TestLeadOrderBodyBudget: the renderings orders keep stay within their owner's budget, one per
// lead, and an order that is let go gives its bytes back and keeps nothing more.
func TestLeadOrderBodyBudget(t *testing.T) {
	o := newLeadOrders(100, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	a := &leadOrder{created: make([]int64, 3), updated: make([]int64, 3), bodies: make([]atomic.Pointer[[]byte], 3), owner: o}
	b := &leadOrder{created: make([]int64, 3), updated: make([]int64, 3), bodies: make([]atomic.Pointer[[]byte], 3), owner: o}
	body := func(n int) []byte { return bytes.Repeat([]byte("x"), n) }
	a.keep(0, body(40))
	a.keep(0, body(30)) // lead 0 is kept already
	b.keep(1, body(50))
	b.keep(2, body(20)) // past the budget: 110 > 100
	if got := o.bodyBytes.Load(); got != 90 || len(a.body(0)) != 40 || b.body(2) != nil || a.body(1) != nil {
		t.Fatalf("kept %d bytes (want 90), lead 0 of a %d bytes (want 40), lead 2 of b kept: %v", got, len(a.body(0)), b.body(2) != nil)
	}
	a.retire()
	a.retire() // once only
	if got := o.bodyBytes.Load(); got != 50 {
		t.Fatalf("after a is let go %d bytes are held, want 50", got)
	}
	a.keep(1, body(10))
	b.keep(2, body(20))
	if got := o.bodyBytes.Load(); got != 70 || a.body(1) != nil || len(b.body(2)) != 20 {
		t.Fatalf("%d bytes held (want 70); a let go keeps %v", got, a.body(1) != nil)
	}
	if (&leadOrder{}).body(5) != nil {
		t.Fatal("an order without renderings returned one")
	}
}

// TestLeadOrderReadingsStopOnClose: a reading under way when the server closes is cancelled and
// waited for, and none starts afterwards, so that no reading outlives the server or reads a
// store that is closing.
func TestLeadOrderReadingsStopOnClose(t *testing.T) {
	started, ended := make(chan struct{}), make(chan struct{})
	var readings atomic.Int32
	o := newLeadOrders(10*leadOrderBytes, func(ctx context.Context, pid string, max int) (*leadOrder, error) {
		readings.Add(1)
		close(started)
		<-ctx.Done() // a reading that would otherwise take a minute
		time.Sleep(20 * time.Millisecond)
		close(ended)
		return nil, ctx.Err()
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if o.get("p", 1) != nil {
		t.Fatal("an order before any reading")
	}
	<-started
	closed := make(chan struct{})
	go func() { o.close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("close did not stop the reading under way")
	}
	select {
	case <-ended:
	default:
		t.Fatal("close returned while a reading was still running")
	}
	if o.get("q", 1) != nil || readings.Load() != 1 {
		t.Fatalf("a reading started after close (%d readings)", readings.Load())
	}
}
