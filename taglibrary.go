package tiledesk

import (
	"context"
	"time"
)

// Tag library events (new here: the original writes none).
const (
	EventTagCreate = "tag.create"
	EventTagUpdate = "tag.update"
	EventTagDelete = "tag.delete"
)

// MaxLibraryTags bounds a project's tag library.
const MaxLibraryTags = 2000

// LibraryTag is a tag of a project's library: the names and colors its agents pick from when they
// tag conversations and leads. Its name is unique in the project.
type LibraryTag struct {
	ID         string
	ProjectID  string
	Tag        string
	Color      string
	Attributes map[string]any
	// RenamedFrom is the tag's former name while conversations and leads still carry it: the
	// server renames them, and clears it once none does (FinishTagRename).
	RenamedFrom string
	CreatedBy   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// LibraryTagFilter pages FindLibraryTags; pages are 0-based.
type LibraryTagFilter struct {
	ByName bool // sort by name rather than by creation
	Desc   bool
	Page   int
	Limit  int
}

// TagLibraryStore keeps the projects' tag libraries.
type TagLibraryStore interface {
	// CreateLibraryTag saves t and records tag.create, unless the project has a tag of that name:
	// then it returns that one and created false (the original's answer to a duplicate).
	// ECONFLICT past MaxLibraryTags.
	CreateLibraryTag(ctx context.Context, t *LibraryTag) (stored *LibraryTag, created bool, err error)
	// FindLibraryTag returns a tag of the project (ENOTFOUND).
	FindLibraryTag(ctx context.Context, projectID, id string) (*LibraryTag, error)
	// FindLibraryTags lists a page of the project's tags.
	FindLibraryTags(ctx context.Context, projectID string, f LibraryTagFilter) ([]*LibraryTag, error)
	// ChangeLibraryTag applies change and records tag.update (ENOTFOUND; ECONFLICT when the name is
	// another tag's).
	ChangeLibraryTag(ctx context.Context, projectID, id string, change func(*LibraryTag) error) (*LibraryTag, error)
	// DeleteLibraryTag deletes a tag and records tag.delete (ENOTFOUND).
	DeleteLibraryTag(ctx context.Context, projectID, id string) (*LibraryTag, error)
	// PendingTagRenames lists, at most limit, tags of every project whose rename is still being
	// carried to conversations and leads.
	PendingTagRenames(ctx context.Context, limit int) ([]*LibraryTag, error)
	// FinishTagRename clears a tag's RenamedFrom, if it is still from.
	FinishTagRename(ctx context.Context, projectID, id, from string) error
}
