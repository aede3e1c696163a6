package tiledesk

import (
	"context"
	"time"
)

// ViewStore is what the read views (internal/views) check the renderings they keep against,
// besides what they read through Store: which objects a list shows at which versions, a lead's
// version alone, clocks that move with every change, and the order of a project's leads.
type ViewStore interface {
	FindLeadVersions(ctx context.Context, projectID string, f LeadFilter) (*VersionPage, error)
	LeadVersion(ctx context.Context, projectID, id string) (time.Time, error)
	FindLeadUnlessKept(ctx context.Context, projectID, id string, kept func(updated time.Time) bool) (*Lead, time.Time, error)
	LeadListClock(ctx context.Context, projectID string) (int64, error)
	KeptLeadListClock(ctx context.Context, projectID string) (clock int64, ok bool, err error)
	LeadOrder(ctx context.Context, projectID string, max int, each func(id string, created, updated time.Time) error) (clock int64, ok bool, err error)
	FindRequestRefs(ctx context.Context, projectID string, f RequestFilter) (*RequestRefPage, error)
	PopulationClock(ctx context.Context, projectID string) (clock ListClock, ok bool, err error)
}
