package tiledesk

import (
	"context"
	"strings"
	"time"
)

// Canned response events (new here: the original writes none).
const (
	EventCannedCreate = "canned.create"
	EventCannedUpdate = "canned.update"
	EventCannedDelete = "canned.delete"
)

// Canned response statuses: deleted ones are kept, as the original's, until deleted for good.
const (
	CannedActive  = 100
	CannedDeleted = 1000
)

// MaxCannedPerProject bounds a project's canned responses, deleted ones included.
const MaxCannedPerProject = 5000

// Canned is a prepared answer an agent inserts in a conversation: shared with the project's
// members or its author's own.
type Canned struct {
	ID         string
	ProjectID  string
	Title      string
	Text       string
	Shared     bool
	Attributes map[string]any
	Status     int
	CreatedBy  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// VisibleTo reports whether the member acting as userID sees c: shared, or its own.
func (c *Canned) VisibleTo(userID string) bool { return c.Shared || c.CreatedBy == userID }

// MayChange reports whether the member acting as userID with role may change or delete c: its
// author, or an admin for a shared one.
func (c *Canned) MayChange(userID, role string) bool {
	return c.CreatedBy == userID || c.Shared && HasRole(role, RoleAdmin)
}

// CannedPlaceholders are what a canned text may hold, filled from a conversation when it is used.
var CannedPlaceholders = []string{"$recipient_name", "$recipient_email", "$agent_name", "$project_name"}

// FillCanned replaces the placeholders of text with values (by placeholder); the longest name first,
// so that no placeholder is a prefix of another's replacement.
func FillCanned(text string, values map[string]string) string {
	pairs := make([]string, 0, 2*len(values))
	for _, p := range CannedPlaceholders {
		if v, ok := values[p]; ok {
			pairs = append(pairs, p, v)
		}
	}
	return strings.NewReplacer(pairs...).Replace(text)
}

// CannedFilter narrows FindCanned; pages are 0-based.
type CannedFilter struct {
	UserID string // the caller: shared responses and its own
	Text   string // every word must appear in the title or the text, any case
	Page   int
	Limit  int
	ByName bool // sort by title rather than creation
	Desc   bool
}

// CannedStore keeps the projects' canned responses.
type CannedStore interface {
	// CreateCanned saves c and records canned.create (ECONFLICT past MaxCannedPerProject).
	CreateCanned(ctx context.Context, c *Canned) error
	// FindCanned returns a canned response of the project, deleted or not (ENOTFOUND).
	FindCanned(ctx context.Context, projectID, id string) (*Canned, error)
	// FindCanneds lists a page of the project's canned responses that are not deleted.
	FindCanneds(ctx context.Context, projectID string, f CannedFilter) ([]*Canned, error)
	// ChangeCanned applies change and records canned.update (ENOTFOUND).
	ChangeCanned(ctx context.Context, projectID, id string, change func(*Canned) error) (*Canned, error)
	// DeleteCanned removes a canned response for good and records canned.delete (ENOTFOUND).
	DeleteCanned(ctx context.Context, projectID, id string) (*Canned, error)
}
