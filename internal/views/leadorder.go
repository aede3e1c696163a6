package views

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// leadOrders keeps, per project, the order of its default lead list (every lead but the deleted
// ones, by creation then id): each lead's creation, id and version, 40 bytes a lead, read at one
// lead clock. While the project's clock reads the same, a page of that list at any depth, by
// cursor or by offset, is a binary search or an index into it instead of a walk of the database's
// index, which by offset (the original's paging, which its console and SDK use) grows with the
// depth.
//
// An order is read in the background when a deep page finds none at the current clock, and not
// again before twenty times as long as the last reading took has passed, so that a project whose
// leads change all the time spends at most a twentieth of a core on readings it cannot use; its
// pages are read from the database meanwhile, as without orders.
type leadOrders struct {
	maxLeads int // in all orders together; a project with more has none
	read     func(ctx context.Context, projectID string, max int) (*leadOrder, error)
	now      func() time.Time
	log      *slog.Logger
	// wait is how long after a reading that took took the next may start (tests take it away).
	wait func(took time.Duration) time.Duration

	mu     sync.Mutex
	spawn  func(func()) // runs a reading; tests run it at once
	slots  map[string]*orderSlot
	held   int  // leads in all orders
	closed bool // no reading starts any more

	// Readings run in the background; close cancels them (ctx) and waits for them (running), so
	// that none outlives the server, or reads a store that is closing.
	ctx     context.Context
	cancel  context.CancelFunc
	running sync.WaitGroup

	// The renderings the orders hold (leadOrder.keep) take at most bodyBudget bytes in all: they
	// are mostly the very bytes the render cache holds, but the cache may let them go.
	bodyBudget int64
	bodyBytes  atomic.Int64
}

type orderSlot struct {
	order     *leadOrder
	used      time.Time
	reading   bool
	notBefore time.Time // no new reading before
}

// leadOrder is one project's default list, ascending: lead i was created at created[i] (Unix
// milliseconds), has id ids[i*24:i*24+24] and its version is updated[i].
//
// bodies[i], once a page has shown lead i, is its JSON rendered at updated[i]: a page from the
// order then copies 40 pointers read one after another, where looking its leads up in the render
// cache, a map of hundreds of thousands of entries, took a quarter of a cursor page's CPU (a cache
// miss or two per lead). The order is used only at its clock, when every lead is at updated[i], so
// a body kept at its index is current as long as the order is of use.
type leadOrder struct {
	clock            int64
	created, updated []int64
	ids              string
	bodies           []atomic.Pointer[[]byte]

	keepMu  sync.Mutex
	owner   *leadOrders // whose bodyBudget keep spends; nil: keep nothing
	kept    int64       // bytes of bodies, under keepMu
	retired bool        // no longer kept by owner: its bodies' bytes are given back, under keepMu
}

// errNotOrdered: an order holds only lowercase ObjectIds, ascending, compared as the database
// compares them; a project that has others is paged by the database.
var errNotOrdered = errors.New("lead order: ids that are not ObjectIds, or not in byte order")

// newLeadOrders keeps orders of up to budget bytes in all (nil: none).
func newLeadOrders(budget int, read func(ctx context.Context, projectID string, max int) (*leadOrder, error),
	log *slog.Logger) *leadOrders {
	if budget <= 0 {
		return nil
	}
	o := &leadOrders{maxLeads: budget / leadOrderBytes, read: read, now: time.Now, log: log,
		wait: readingWait, slots: map[string]*orderSlot{}, bodyBudget: int64(budget)}
	o.ctx, o.cancel = context.WithCancel(context.Background())
	o.spawn = func(f func()) { go f() }
	return o
}

// readingWait spends at most a twentieth of the time on readings, and waits a second at least.
func readingWait(took time.Duration) time.Duration { return max(20*took, time.Second) }

// close cancels the readings under way, waits for them to end, and starts no other.
func (o *leadOrders) close() {
	if o == nil {
		return
	}
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	o.cancel()
	o.running.Wait()
}

// leadOrderBytes is what an order holds per lead: creation, version, a 24-digit id and the
// pointer to its rendering.
const leadOrderBytes = 8 + 8 + 24 + 8

// get returns the project's order if it was read at clock. Otherwise it returns nil and, unless a
// reading is under way or the last was too recent, starts one.
func (o *leadOrders) get(projectID string, clock int64) *leadOrder {
	if o == nil {
		return nil
	}
	now := o.now()
	o.mu.Lock()
	slot := o.slots[projectID]
	if slot == nil {
		slot = &orderSlot{}
		o.slots[projectID] = slot
	}
	slot.used = now
	if order := slot.order; order != nil && order.clock == clock {
		o.mu.Unlock() // after reading slot.order: a reading's end replaces it under mu
		return order
	}
	start := !o.closed && !slot.reading && !now.Before(slot.notBefore)
	slot.reading = slot.reading || start
	spawn := o.spawn
	if start {
		o.running.Add(1) // under mu, so that close's Wait cannot begin between the check and the Add
	}
	o.mu.Unlock()
	if start {
		spawn(func() {
			defer o.running.Done()
			o.refresh(projectID)
		})
	}
	return nil
}

// refresh reads the project's order and keeps it, making room by dropping the orders least
// recently used.
func (o *leadOrders) refresh(projectID string) {
	ctx, cancel := context.WithTimeout(o.ctx, time.Minute)
	defer cancel()
	began := o.now()
	order, err := o.read(ctx, projectID, o.maxLeads)
	took := o.now().Sub(began)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.forgetIdle(projectID)
	slot := o.slots[projectID]
	slot.reading = false
	slot.notBefore = o.now().Add(o.wait(took))
	o.held -= slot.order.len() // older than any clock to come: never of use again
	slot.order.retire()
	slot.order = nil
	if err != nil || order == nil { // too many leads, ids of another kind, or the database failed
		slot.notBefore = o.now().Add(time.Minute)
		o.log.Debug("lead order not kept", "project", projectID, "took", took, "err", err)
		return
	}
	o.log.Debug("lead order read", "project", projectID, "leads", order.len(), "took", took)
	for o.held+order.len() > o.maxLeads {
		var oldest *orderSlot
		for _, other := range o.slots {
			if other.order != nil && (oldest == nil || other.used.Before(oldest.used)) {
				oldest = other
			}
		}
		if oldest == nil {
			break
		}
		o.held -= oldest.order.len()
		oldest.order.retire()
		oldest.order = nil
	}
	order.owner = o
	slot.order = order
	o.held += order.len()
}

// forgetIdle drops the slots, other than the project's, that hold nothing any more: no order, no
// reading under way and no wait still to keep. Every project that ever asked for a deep page has a
// slot, and a new slot starts a reading, so the map stays as small as the projects with an order
// or a wait. Called with o.mu held.
func (o *leadOrders) forgetIdle(projectID string) {
	now := o.now()
	for pid, slot := range o.slots {
		if pid != projectID && slot.order == nil && !slot.reading && !now.Before(slot.notBefore) {
			delete(o.slots, pid)
		}
	}
}

func (l *leadOrder) len() int {
	if l == nil {
		return 0
	}
	return len(l.created)
}

func (l *leadOrder) id(i int) string { return l.ids[i*24 : i*24+24] }

// body is lead i's rendering kept by keep, or nil.
func (l *leadOrder) body(i int) []byte {
	if i >= len(l.bodies) {
		return nil
	}
	if b := l.bodies[i].Load(); b != nil {
		return *b
	}
	return nil
}

// keep holds body, lead i's JSON rendered at updated[i], for the pages to come, within the
// owner's budget.
func (l *leadOrder) keep(i int, body []byte) {
	if l.owner == nil || l.owner.bodyBytes.Load()+int64(len(body)) > l.owner.bodyBudget {
		return // without the lock: once the budget is spent, every page of a large list comes here
	}
	l.keepMu.Lock()
	defer l.keepMu.Unlock()
	if l.owner == nil || l.retired || i >= len(l.bodies) || l.bodies[i].Load() != nil {
		return
	}
	n := int64(len(body))
	if l.owner.bodyBytes.Add(n) > l.owner.bodyBudget {
		l.owner.bodyBytes.Add(-n)
		return
	}
	l.bodies[i].Store(&body)
	l.kept += n
}

// retire gives the bytes of the order's bodies back to its owner's budget, once it no longer
// keeps the order. Called with the owner's mu held.
func (l *leadOrder) retire() {
	if l == nil {
		return
	}
	l.keepMu.Lock()
	defer l.keepMu.Unlock()
	if l.owner != nil && !l.retired {
		l.owner.bodyBytes.Add(-l.kept)
	}
	l.retired = true
}

// compare orders lead i against the position (created, id).
func (l *leadOrder) compare(i int, created int64, id string) int {
	if c := cmp.Compare(l.created[i], created); c != 0 {
		return c
	}
	return strings.Compare(l.id(i), id)
}

// readLeadOrder reads the project's order through the store.
func readLeadOrder(ctx context.Context, store tiledesk.ViewStore, projectID string, max int) (*leadOrder, error) {
	l := &leadOrder{}
	var ids strings.Builder
	clock, ok, err := store.LeadOrder(ctx, projectID, max, func(id string, created, updated time.Time) error {
		var raw [12]byte
		if !objectIDBytes(&raw, id) {
			return errNotOrdered
		}
		c := created.UnixMilli()
		if n := len(l.created); n > 0 && (c < l.created[n-1] || c == l.created[n-1] && id <= ids.String()[ids.Len()-24:]) {
			return errNotOrdered
		}
		l.created = append(l.created, c)
		l.updated = append(l.updated, updated.UnixMilli())
		ids.WriteString(id)
		return nil
	})
	if err != nil || !ok {
		return nil, err
	}
	l.clock, l.ids = clock, ids.String()
	l.bodies = make([]atomic.Pointer[[]byte], len(l.created))
	return l, nil
}

// orderedList reports whether f lists the default list by creation, as orders hold it, and in
// which direction.
func orderedList(f tiledesk.LeadFilter) (desc, ok bool) {
	if f.Status != nil || f.AllStatuses || f.Email != "" || f.WithEmail || f.WithFullname || len(f.Tags) > 0 ||
		f.Text != "" || f.UpdatedSince != nil {
		return false, false
	}
	sortKey, desc := f.Sort, f.Desc
	if f.After != nil {
		if _, isInt := f.After.Value.(int64); !isInt {
			return false, false
		}
		sortKey, desc = f.After.Sort, f.After.Desc
	}
	if sortKey == "" {
		return true, true
	}
	return desc, sortKey == tiledesk.LeadSortCreatedAt
}

// orderSpan places a page in its order: its k-th lead is the order's from + k*step.
type orderSpan struct{ from, step int }

func (s orderSpan) at(k int) int { return s.from + k*s.step }

// page is FindLeadVersions of f, which orderedList accepts, answered from the order, and where
// its leads are in the order.
func (l *leadOrder) page(f tiledesk.LeadFilter, desc bool) (*tiledesk.VersionPage, orderSpan) {
	limit := f.Limit
	if limit <= 0 {
		limit = 40
	}
	n := len(l.created)
	// The page runs from index from, by step, over the leads in its direction.
	var from, left, step int
	switch {
	case f.After != nil && desc:
		v := f.After.Value.(int64)
		from = sort.Search(n, func(i int) bool { return l.compare(i, v, f.After.ID) >= 0 }) - 1
		left, step = from+1, -1
	case f.After != nil:
		v := f.After.Value.(int64)
		from = sort.Search(n, func(i int) bool { return l.compare(i, v, f.After.ID) > 0 })
		left, step = n-from, 1
	case desc:
		from, left, step = n-1-f.Offset, n-f.Offset, -1
	default:
		from, left, step = f.Offset, n-f.Offset, 1
	}
	out := &tiledesk.VersionPage{Versions: make([]tiledesk.Version, 0, min(max(left, 0), limit))}
	for i, k := from, 0; k < limit && k < left; i, k = i+step, k+1 {
		out.Versions = append(out.Versions, tiledesk.Version{ID: l.id(i), UpdatedAt: time.UnixMilli(l.updated[i]).UTC()})
	}
	if left > limit {
		last := from + step*(limit-1)
		out.Next = &tiledesk.Cursor{Sort: tiledesk.LeadSortCreatedAt, Desc: desc, Value: l.created[last], ID: l.id(last)}
	}
	if !f.NoCount {
		out.Count = n
	}
	return out, orderSpan{from, step}
}
