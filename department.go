package tiledesk

import (
	"context"
	"time"
)

// Routing modes of a department.
const (
	RoutingPooled   = "pooled"   // new conversations wait unassigned for an agent to take them
	RoutingAssigned = "assigned" // new conversations go to an available agent, round robin
)

// Department statuses: 1 visible everywhere, 0 hidden from the widget, -1 hidden from the dashboard too.
const (
	DepartmentVisible      = 1
	DepartmentHiddenWidget = 0
	DepartmentHiddenAll    = -1
)

// DefaultDepartmentName is the name of the department every new project gets.
const DefaultDepartmentName = "Default Department"

// Department routes a project's conversations.
type Department struct {
	ID          string
	ProjectID   string
	Name        string
	Description string
	Routing     string
	IDBot       string // "" when no bot
	IDGroup     string // "" when every agent qualifies
	BotOnly     bool
	Default     bool
	Status      int
	Groups      []DepartmentGroup
	Tags        []string
	OnlineMsg   string
	OfflineMsg  string
	CreatedBy   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// DepartmentGroup splits a department's traffic among groups by percentage.
type DepartmentGroup struct {
	ID         string  `json:"_id"`
	GroupID    string  `json:"group_id"`
	Percentage float64 `json:"percentage"`
}

// HasBot reports whether conversations of this department start with a bot.
func (d *Department) HasBot() bool { return d.IDBot != "" }

// NewDefaultDepartment returns the department a new project starts with.
func NewDefaultDepartment(projectID, createdBy string, now time.Time) *Department {
	return &Department{
		ID:        NewIDAt(now),
		ProjectID: projectID,
		Name:      DefaultDepartmentName,
		Routing:   RoutingAssigned,
		Default:   true,
		Status:    DepartmentVisible,
		Groups:    []DepartmentGroup{},
		Tags:      []string{},
		CreatedBy: createdBy,
		CreatedAt: now,
		UpdatedAt: now,
	}
}

// DepartmentFilter narrows FindDepartments.
type DepartmentFilter struct {
	MinStatus  *int // nil: only visible (status 1)
	SortByName bool
}

// DepartmentUpdate lists changeable fields; nil means unchanged. IDBot and IDGroup point to "" to clear.
type DepartmentUpdate struct {
	Name        *string
	Description *string
	Routing     *string
	IDBot       *string
	IDGroup     *string
	BotOnly     *bool
	Default     *bool
	Status      *int
	Groups      []DepartmentGroup
	OnlineMsg   *string
	OfflineMsg  *string
}

// DepartmentStore keeps departments. At most one department of a project is the default: making one
// default clears the flag on the others in the same transaction.
type DepartmentStore interface {
	FindDepartmentByID(ctx context.Context, projectID, id string) (*Department, error)
	// FindDefaultDepartment returns the project's default department, or ENOTFOUND.
	FindDefaultDepartment(ctx context.Context, projectID string) (*Department, error)
	FindDepartments(ctx context.Context, projectID string, f DepartmentFilter) ([]*Department, error)
	// CreateDepartment inserts d and records department.create.
	CreateDepartment(ctx context.Context, d *Department) error
	// UpdateDepartment applies upd and records department.update.
	UpdateDepartment(ctx context.Context, projectID, id string, upd DepartmentUpdate) (*Department, error)
	// DeleteDepartment removes a department and records department.delete. The default department
	// cannot be deleted (ECONFLICT).
	DeleteDepartment(ctx context.Context, projectID, id string) (*Department, error)
}
