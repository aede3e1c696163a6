package tiledesk

import (
	"context"
	"strings"
	"time"
)

// Project statuses.
const (
	ProjectActive  = 100
	ProjectDeleted = 0
)

// Project is a tenant: every other object but users belongs to exactly one.
type Project struct {
	ID                   string
	Name                 string
	ActiveOperatingHours bool
	OperatingHours       string // a JSON document kept as the client sent it, as the original does
	TimeSlots            map[string]any
	Settings             map[string]any
	Widget               map[string]any
	Attributes           map[string]any
	Status               int
	Profile              ProjectProfile
	Versions             int
	Channels             []Channel
	IPFilterEnabled      bool
	IPFilter             []string
	IPFilterDenyEnabled  bool
	IPFilterDeny         []string
	BannedUsers          []BannedUser
	CreatedBy            string
	CreatedAt            time.Time
	UpdatedAt            time.Time

	// The project's keys (see POST /:pid/keys/generate), never shown by its renderings nor written
	// into its events.
	JWTSecret string `json:"-"` // signs the project's customers' tokens (HS256)
	PublicKey string `json:"-"` // PEM, handed out with its private half, which is not kept
}

// ProjectProfile is the plan of a project. Plans are not enforced by this server; the profile is kept
// for clients that read it.
type ProjectProfile struct {
	TrialDays int    `json:"trialDays"`
	Name      string `json:"name"`
	Agents    int    `json:"agents"`
	Type      string `json:"type"`
}

// Channel names a messaging channel, e.g. {"name":"chat21"}.
type Channel struct {
	Name string `json:"name"`
}

// BannedUser is a visitor banned from a project.
type BannedUser struct {
	ID     string `json:"_id"`
	UserID string `json:"id"`
	IP     string `json:"ip,omitempty"`
}

// NewProject returns a project with the original's defaults.
func NewProject(name, createdBy string, now time.Time) *Project {
	return &Project{
		ID:           NewIDAt(now),
		Name:         name,
		Status:       ProjectActive,
		Profile:      ProjectProfile{Name: "Sandbox", TrialDays: 14, Agents: 0, Type: "free"},
		Versions:     20115,
		Channels:     []Channel{{Name: "chat21"}},
		IPFilter:     []string{},
		IPFilterDeny: []string{},
		BannedUsers:  []BannedUser{},
		CreatedBy:    createdBy,
		CreatedAt:    now,
		UpdatedAt:    now,
	}
}

// ProjectUpdate lists what an admin may change; nil means unchanged. Map fields replace the stored
// value when non-nil.
type ProjectUpdate struct {
	Name                 *string
	ActiveOperatingHours *bool
	OperatingHours       *string
	TimeSlots            map[string]any
	Settings             map[string]any
	Widget               map[string]any
	Channels             []Channel
	IPFilterEnabled      *bool
	IPFilter             []string
	IPFilterDenyEnabled  *bool
	IPFilterDeny         []string
	// SettingsPaths sets single settings by dotted path ("email.autoSendTranscriptToRequester"),
	// inside the update's transaction, after Settings.
	SettingsPaths map[string]any
	// Attributes are merged into the project's, key by key (PATCH /projects/:id/attributes).
	Attributes map[string]any
	JWTSecret  *string
	PublicKey  *string
}

// SetPath sets a dotted path in a JSON object, creating intermediate objects and replacing
// non-object values on the way.
func SetPath(m map[string]any, path string, v any) {
	for {
		head, rest, more := strings.Cut(path, ".")
		if !more {
			m[head] = v
			return
		}
		next, ok := m[head].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[head] = next
		}
		m, path = next, rest
	}
}

// Membership is a project user together with its project, as GET /projects lists them.
type Membership struct {
	ProjectUser *ProjectUser
	Project     *Project
}

// ProjectStore keeps projects.
type ProjectStore interface {
	// CreateProject inserts p, its owner's membership and its default department in one
	// transaction, and records project.create.
	CreateProject(ctx context.Context, p *Project, owner *ProjectUser, dept *Department) error

	// FindProjectByID returns an active project, or ENOTFOUND (also for deleted projects).
	FindProjectByID(ctx context.Context, id string) (*Project, error)

	// UpdateProject applies upd to an active project, records project.update and returns the
	// result, or ENOTFOUND.
	UpdateProject(ctx context.Context, id string, upd ProjectUpdate) (*Project, error)

	// DeleteProject marks an active project deleted (its data stays, unreachable), records
	// project.delete and returns it, or ENOTFOUND.
	DeleteProject(ctx context.Context, id string) (*Project, error)

	// FindMemberships returns the active agent-side memberships (roleType 1) of a registered user in
	// active projects, the most recently updated project first.
	FindMemberships(ctx context.Context, userID string) ([]Membership, error)
}
