package tiledesk

import (
	"context"
	"slices"
	"time"
)

// Group events, with the original's names.
const (
	EventGroupCreate = "group.create"
	EventGroupUpdate = "group.update"
	EventGroupDelete = "group.delete"
)

// Bounds of a project's groups.
const (
	MaxGroupsPerProject = 500
	MaxGroupMembers     = 1000
)

// Group is a named set of a project's agents (user ids): a department restricted to it routes its
// conversations to them.
type Group struct {
	ID         string
	ProjectID  string
	Name       string
	Members    []string
	Enabled    bool
	Trashed    bool
	Attributes map[string]any
	CreatedBy  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Grants reports whether g opens its departments' conversations to userID: an enabled group, not
// trashed, that holds it.
func (g *Group) Grants(userID string) bool {
	return g.Enabled && !g.Trashed && slices.Contains(g.Members, userID)
}

// GroupFilter narrows FindGroups.
type GroupFilter struct {
	Member      string // only groups holding this user id
	WithTrashed bool
}

// GroupStore keeps the projects' groups.
type GroupStore interface {
	// CreateGroup saves g and records group.create (ECONFLICT past MaxGroupsPerProject).
	CreateGroup(ctx context.Context, g *Group) error
	// FindGroup returns a group of the project, trashed or not (ENOTFOUND).
	FindGroup(ctx context.Context, projectID, id string) (*Group, error)
	// FindGroups lists the project's groups, oldest first.
	FindGroups(ctx context.Context, projectID string, f GroupFilter) ([]*Group, error)
	// ChangeGroup applies change to a group and records group.update (ENOTFOUND).
	ChangeGroup(ctx context.Context, projectID, id string, change func(*Group) error) (*Group, error)
	// DeleteGroup trashes a group, or with hard deletes it, and records group.delete (ENOTFOUND;
	// EFORBIDDEN while a department routes to it).
	DeleteGroup(ctx context.Context, projectID, id string, hard bool) (*Group, error)
}
