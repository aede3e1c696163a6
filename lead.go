package tiledesk

import (
	"context"
	"time"
)

// Lead statuses.
const (
	LeadTemp    = 50
	LeadActive  = 100
	LeadDeleted = 1000
)

// IsLeadStatus reports whether s is a status a lead may have.
func IsLeadStatus(s int) bool { return s == LeadTemp || s == LeadActive || s == LeadDeleted }

// Lead is a visitor or customer of a project. LeadID is the client's identifier of the person (a uuid
// by default, or the visitor's user id for leads created by conversations).
type Lead struct {
	ID            string
	ProjectID     string
	LeadID        string
	Fullname      string
	Email         string
	Phone         string
	Company       string
	Note          string
	StreetAddress string
	City          string
	Region        string
	Zipcode       string
	Country       string
	Tags          []string
	Attributes    map[string]any
	Properties    map[string]any
	Status        int
	CreatedBy     string
	CreatedAt     time.Time
	// UpdatedAt increases strictly with every committed change of a project's leads, in commit
	// order, so that "changed after T" never misses nor repeats a change.
	UpdatedAt time.Time
}

// Sort keys of lead lists.
const (
	LeadSortCreatedAt = "createdAt"
	LeadSortUpdatedAt = "updatedAt"
	LeadSortFullname  = "fullname"
	LeadSortEmail     = "email"
	LeadSortLeadID    = "lead_id"
	LeadSortID        = "_id"
)

// IsLeadSort reports whether s is a sort key of lead lists.
func IsLeadSort(s string) bool {
	switch s {
	case LeadSortCreatedAt, LeadSortUpdatedAt, LeadSortFullname, LeadSortEmail, LeadSortLeadID, LeadSortID:
		return true
	}
	return false
}

// Cursor is a position in a sorted list: the sort key and direction it was made for, and the sort
// value and id of the last row returned. Value is an int64 for time keys, a string otherwise.
type Cursor struct {
	Sort  string
	Desc  bool
	Value any
	ID    string
}

// LeadFilter selects and orders leads. Zero values mean "no condition".
type LeadFilter struct {
	Status       *int // nil: every lead but the deleted ones (unless AllStatuses)
	AllStatuses  bool
	Email        string
	WithEmail    bool
	WithFullname bool
	Tags         []string // every one must be present
	Text         string   // full-text: prefix match on the words of fullname and email
	UpdatedSince *time.Time
	Sort         string
	Desc         bool
	Limit        int
	Offset       int
	After        *Cursor // continue after this position (Sort and Desc come from it)
	NoCount      bool
}

// LeadPage is a page of leads, the total count of the filter (unless NoCount) and the position to
// continue from (nil on the last page).
type LeadPage struct {
	Leads []*Lead
	Count int
	Next  *Cursor
}

// Version names an object and the instant of its latest change. For leads and requests that instant
// identifies the content: every change of a project's leads (and of its requests) is stamped by the
// project's clock with a distinct, increasing updated_at, so a copy rendered at a Version stays
// current for as long as the object's Version is the same.
type Version struct {
	ID        string
	UpdatedAt time.Time
}

// VersionPage is a page of Versions, with the count and cursor of the matching page of objects.
type VersionPage struct {
	Versions []Version
	Count    int
	Next     *Cursor
}

// LeadUpdate lists lead changes; nil means unchanged.
type LeadUpdate struct {
	Fullname, Email, Phone, Company, Note         *string
	StreetAddress, City, Region, Zipcode, Country *string
	Status                                        *int
	Attributes                                    map[string]any // replaces
	MergeAttributes                               map[string]any // merges key by key
	MergeProperties                               map[string]any
	Tags                                          []string // replaces
	AddTags                                       []string // adds, without duplicates
	RemoveTag                                     *string
	RenameTag                                     *[2]string // {from, to}: the tag from becomes to
}

// Idempotency identifies a create that a client may retry: the same Key returns the first result.
// Hash fingerprints the request; the same key with another request is a conflict.
type Idempotency struct {
	Key  string
	Hash string
}

// LeadStore keeps leads. Every method is scoped by project.
type LeadStore interface {
	// CreateLead inserts l and records lead.create. With idem, a retry of the same key returns the
	// lead the first call created (replayed=true) and creates nothing; the same key with another
	// request is ECONFLICT.
	CreateLead(ctx context.Context, l *Lead, idem *Idempotency) (stored *Lead, replayed bool, err error)
	FindLeadByID(ctx context.Context, projectID, id string) (*Lead, error)
	// FindLeadByLeadID returns the newest lead with that lead_id.
	FindLeadByLeadID(ctx context.Context, projectID, leadID string) (*Lead, error)
	FindLeads(ctx context.Context, projectID string, f LeadFilter) (*LeadPage, error)
	// UpdateLead applies upd and records lead.update. check, when given, sees the current lead inside
	// the transaction and may refuse the change (If-Match).
	UpdateLead(ctx context.Context, projectID, id string, upd LeadUpdate, check func(*Lead) error) (*Lead, error)
	// DeleteLead marks a lead deleted (status 1000) and records lead.delete.
	DeleteLead(ctx context.Context, projectID, id string) (*Lead, error)
	// DeleteLeadPermanently removes a lead and records lead.delete.
	DeleteLeadPermanently(ctx context.Context, projectID, id string) (*Lead, error)
}
