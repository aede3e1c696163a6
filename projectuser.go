package tiledesk

import (
	"context"
	"time"
)

// Roles, weakest first. A route that requires a role admits that role and every stronger one.
const (
	RoleGuest      = "guest"
	RoleUser       = "user"
	RoleTeammate   = "teammate"
	RoleAgent      = "agent"
	RoleSupervisor = "supervisor"
	RoleAdmin      = "admin"
	RoleOwner      = "owner"
)

var roleRank = map[string]int{
	RoleGuest: 1, RoleUser: 2, RoleTeammate: 3, RoleAgent: 4, RoleSupervisor: 5, RoleAdmin: 6, RoleOwner: 7,
}

// IsRole reports whether name is one of the standard roles.
func IsRole(name string) bool { return roleRank[name] > 0 }

// HasRole reports whether role is at least min in the hierarchy. Unknown roles rank below guest.
func HasRole(role, min string) bool {
	return roleRank[role] > 0 && roleRank[role] >= roleRank[min]
}

// Role types of a membership: agents work the project, users are its visitors and customers.
const (
	RoleTypeAgent = 1
	RoleTypeUser  = 2
)

// RoleTypeOf returns the role type the original assigns to a role.
func RoleTypeOf(role string) int {
	if HasRole(role, RoleTeammate) {
		return RoleTypeAgent
	}
	return RoleTypeUser
}

// Membership statuses.
const (
	MemberActive   = "active"
	MemberDisabled = "disabled"
)

// ProjectUser is the membership of a registered user (UserID) or of a guest / external visitor
// (UUIDUser) in a project, with its role.
type ProjectUser struct {
	ID                     string
	ProjectID              string
	UserID                 string // registered users
	UUIDUser               string // guests and external users
	Role                   string
	RoleType               int
	UserAvailable          bool
	Presence               *Presence // nil until the agent's chat app first connects
	ProfileStatus          string
	MaxAssignedChat        *int
	NumberAssignedRequests int
	LastLoginAt            time.Time
	Permissions            []string
	Tags                   []string
	Status                 string
	Trashed                bool
	Attributes             map[string]any
	Settings               map[string]any
	CreatedBy              string
	CreatedAt              time.Time
	UpdatedAt              time.Time

	User *User // populated by finders for registered users; nil otherwise
}

// Presence is whether an agent's chat app (the official agent app, over the chat21 protocol) is
// connected: online from its first connection, offline once its last one is gone.
type Presence struct {
	Status    string // PresenceOnline or PresenceOffline
	ChangedAt time.Time
}

// Presence statuses.
const (
	PresenceOnline  = "online"
	PresenceOffline = "offline"
)

// Available reports whether routing may give the member conversations: it said it is available,
// and its chat app, if it ever connected, is connected. An agent who never used the chat app is
// as available as it says.
func (pu *ProjectUser) Available() bool {
	return pu.UserAvailable && (pu.Presence == nil || pu.Presence.Status != PresenceOffline)
}

// IsActive reports whether the membership grants access.
func (pu *ProjectUser) IsActive() bool { return pu.Status == MemberActive && !pu.Trashed }

// IsActiveOwner reports whether the membership is one of those that keep a project owned.
func (pu *ProjectUser) IsActiveOwner() bool { return pu.Role == RoleOwner && pu.IsActive() }

// ErrLastOwner is the ECONFLICT a store answers to a change that would leave a project without an
// active owner (an active owner membership of an active user).
func ErrLastOwner() *Error {
	return Errorf(ECONFLICT, "The project must keep an active owner: make another member owner first.")
}

// NewProjectUser returns an active membership with the original's defaults.
func NewProjectUser(projectID, role, createdBy string, now time.Time) *ProjectUser {
	return &ProjectUser{
		ID:            NewIDAt(now),
		ProjectID:     projectID,
		Role:          role,
		RoleType:      RoleTypeOf(role),
		UserAvailable: true,
		LastLoginAt:   now,
		Permissions:   []string{},
		Tags:          []string{},
		Status:        MemberActive,
		CreatedBy:     createdBy,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
}

// ProjectUserFilter narrows FindProjectUsers. Empty Roles means every agent-side role (roleType 1).
type ProjectUserFilter struct {
	Roles   []string
	Status  *string // nil: active only
	Trashed bool    // include trashed memberships
}

// ProjectUserUpdate lists changeable membership fields; nil means unchanged.
type ProjectUserUpdate struct {
	Role                   *string
	Status                 *string
	UserAvailable          *bool
	Presence               *Presence
	ProfileStatus          *string
	MaxAssignedChat        *int
	ClearMaxAssignedChat   bool
	NumberAssignedRequests *int
	Attributes             map[string]any
	Tags                   []string
	Trashed                *bool
}

// PendingInvitation is an invitation to an email that has no account with a verified address yet. It
// becomes a membership when an account verifies that address.
type PendingInvitation struct {
	ID        string
	ProjectID string
	Email     string
	Role      string
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ProjectUserStore keeps memberships. Every method is scoped by project id: an id of another project
// is not found.
type ProjectUserStore interface {
	// FindProjectUserByID returns a membership of the project (any status), its user populated.
	FindProjectUserByID(ctx context.Context, projectID, id string) (*ProjectUser, error)

	// FindProjectUserByUserID returns the membership of a registered user (any status), or ENOTFOUND.
	FindProjectUserByUserID(ctx context.Context, projectID, userID string) (*ProjectUser, error)

	// FindProjectUserByUUID returns the membership of a guest or external user, or ENOTFOUND.
	FindProjectUserByUUID(ctx context.Context, projectID, uuid string) (*ProjectUser, error)

	// FindMember returns the membership a caller acts with in a project: by user id for registered
	// users, by uuid for guests and external users (guest true), any status, or ENOTFOUND. It answers
	// the access check of every request, so implementations may serve it from a cache: role and status
	// changes made through the same store are seen at once, others within a few seconds, and its
	// counters (number_assigned_requests) may lag. Use FindProjectUserByID for exact data.
	FindMember(ctx context.Context, projectID, who string, guest bool) (*ProjectUser, error)

	// FindMembershipProjects lists the projects where a registered user (by user id) or a visitor
	// or project customer (by uuid, guest true) has an active membership, at most 1,000.
	FindMembershipProjects(ctx context.Context, who string, guest bool) ([]string, error)

	// FindProjectUsers lists memberships, oldest first, users populated.
	FindProjectUsers(ctx context.Context, projectID string, f ProjectUserFilter) ([]*ProjectUser, error)

	// CreateProjectUser inserts a membership and records project_user.invite (agents) or
	// projectuser.create (visitors). It returns ECONFLICT if the user or uuid is already a member.
	CreateProjectUser(ctx context.Context, pu *ProjectUser) error

	// UpdateProjectUser applies upd, records project_user.update and returns the result. A change
	// of role, status or trashed that would leave the project without an active owner is refused
	// with ErrLastOwner, decided inside the write's transaction: of two owners demoting each other
	// at once, one succeeds.
	UpdateProjectUser(ctx context.Context, projectID, id string, upd ProjectUserUpdate) (*ProjectUser, error)

	// DeleteProjectUser removes a membership for good and records project_user.delete. It refuses
	// with ErrLastOwner, removing nothing, when the membership is the project's last active owner.
	DeleteProjectUser(ctx context.Context, projectID, id string) error

	// SavePendingInvitation inserts an invitation, or updates the role of the existing one for the
	// same project and email, and returns the stored invitation. Emails are kept as their EmailKey.
	SavePendingInvitation(ctx context.Context, inv *PendingInvitation) (*PendingInvitation, error)

	// FindPendingInvitations lists the project's pending invitations, oldest first.
	FindPendingInvitations(ctx context.Context, projectID string) ([]*PendingInvitation, error)

	// FindPendingInvitationByID returns a pending invitation of the project, or ENOTFOUND.
	FindPendingInvitationByID(ctx context.Context, projectID, id string) (*PendingInvitation, error)

	// DeletePendingInvitation revokes a pending invitation, records project_user.invite.pending.delete
	// and returns what was removed, or ENOTFOUND.
	DeletePendingInvitation(ctx context.Context, projectID, id string) (*PendingInvitation, error)
}

// IsBusy reports whether an agent has reached its chat limit: only when the project turns limits on
// (settings.chat_limit_on), against the agent's own max_assigned_chat or else the project's
// settings.max_agent_assigned_chat.
func IsBusy(p *Project, pu *ProjectUser) bool {
	if p == nil || p.Settings["chat_limit_on"] != true {
		return false
	}
	limit := -1
	if pu.MaxAssignedChat != nil {
		limit = *pu.MaxAssignedChat
	} else if n, ok := number(p.Settings["max_agent_assigned_chat"]); ok {
		limit = n
	}
	return limit >= 0 && pu.NumberAssignedRequests >= limit
}

// number reads an integer out of a decoded JSON value.
func number(v any) (int, bool) {
	switch x := v.(type) {
	case float64:
		return int(x), true
	case int:
		return x, true
	case int64:
		return int(x), true
	case interface{ Int64() (int64, error) }:
		n, err := x.Int64()
		return int(n), err == nil
	}
	return 0, false
}
