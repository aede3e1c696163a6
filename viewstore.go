package tiledesk

import (
	"context"
	"time"
)

// ViewStore is what the read views (internal/views) check the renderings they keep against, beside
// what they read through Store: which objects a list shows at which versions, a lead's version
// alone, clocks that move with every change, and the order of a project's leads. Only the views use
// it; no domain rule depends on it. Every engine provides one (internal/sqlstore), and
// internal/storetest holds both to it.
type ViewStore interface {
	// FindLeadVersions is FindLeads that returns only which leads, and the version of each: a list
	// renders the ones it has not rendered at that version yet (FindLeadsByIDs) and reuses the rest.
	FindLeadVersions(ctx context.Context, projectID string, f LeadFilter) (*VersionPage, error)
	// LeadVersion returns only a lead's version (its UpdatedAt, deleted leads included), for a caller
	// that already holds a rendering of it and needs nothing else when that is current.
	LeadVersion(ctx context.Context, projectID, id string) (time.Time, error)
	// FindLeadUnlessKept is FindLeadByID for a caller that keeps leads rendered at some version: it
	// returns the lead's version (its UpdatedAt) and, unless kept reports a rendering at that version
	// (when it returns a nil lead), the lead.
	FindLeadUnlessKept(ctx context.Context, projectID, id string, kept func(updated time.Time) bool) (*Lead, time.Time, error)
	// FindRequestRefs is FindRequests that returns only which conversations, at which version, and
	// what each is populated with; a list renders the ones it has not rendered at that version
	// (FindRequestsByIDs) and reuses the rest.
	FindRequestRefs(ctx context.Context, projectID string, f RequestFilter) (*RequestRefPage, error)

	// LeadListClock returns a number that increases with every change of any of the project's leads
	// (a create, an update, a tag, a deletion of either kind, a bulk load), so that a list rendered
	// after reading it is current for as long as it reads the same; 0 before the project's first
	// lead.
	LeadListClock(ctx context.Context, projectID string) (int64, error)
	// Clocks returns the clocks the store keeps for the views (see Clocks); a clock it does not keep
	// is zero, and costs nothing to ask for.
	Clocks(ctx context.Context, projectID string) (Clocks, error)
	// KeptLeadClock is Clocks' KeptLeads alone: where the store keeps no lead clock it is 0 and costs
	// nothing, where Clocks would read the population clock.
	KeptLeadClock(ctx context.Context, projectID string) (int64, error)
	// LeadOrder reads the project's default lead list (every lead but the deleted ones) ordered by
	// creation, then id, calling each with every lead's id, creation and version. It reads the
	// list's clock (LeadListClock) first and returns it: the order read is at least as new. It
	// stops, reporting ok=false, past max leads.
	LeadOrder(ctx context.Context, projectID string, max int, each func(id string, created, updated time.Time) error) (clock int64, ok bool, err error)
}

// Clocks are what a store can tell the views of a project without reading its rows for each
// answer. A zero clock is one the store does not keep: a view keeps nothing under it, and reads.
type Clocks struct {
	// KeptLeads is the project's lead clock (LeadListClock) where the store gives it for less than a
	// statement of its own: kept between its own writes where it is the only writer of its
	// database, read in rounds shared by concurrent callers where it is not; 0 elsewhere.
	KeptLeads int64
	// Population moves with every change, committed by any process, of what a populated list of
	// the project's conversations shows; zero where the engine keeps no such clock.
	Population PopulationClock
}

// PopulationClock is the clocks of what a populated list of conversations shows, each moved by
// every change of what it counts: two reads of one list at the same clock are the same.
type PopulationClock struct {
	Requests int64 // the project's conversations
	Leads    int64 // the project's leads (LeadListClock)
	Members  int64 // the project's memberships and departments
	Users    int64 // every user
}
