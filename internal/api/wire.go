package api

import (
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// The wire shapes of the original server (Mongoose documents serialised with toJSON). Field order
// follows the recorded transcripts; fields the original omits when unset are omitempty here.

type userJSON struct {
	Status        int            `json:"status"`
	ID            string         `json:"_id"`
	Email         string         `json:"email"`
	Firstname     string         `json:"firstname"`
	Lastname      string         `json:"lastname"`
	EmailVerified bool           `json:"emailverified"`
	Phone         string         `json:"phone,omitempty"`
	Description   string         `json:"description,omitempty"`
	PublicEmail   string         `json:"public_email,omitempty"`
	PublicWebsite string         `json:"public_website,omitempty"`
	Attributes    map[string]any `json:"attributes,omitempty"`
	CreatedAt     jsTime         `json:"createdAt"`
	UpdatedAt     jsTime         `json:"updatedAt"`
	V             int            `json:"__v"`
}

func toUser(u *tiledesk.User) *userJSON {
	return &userJSON{Status: u.Status, ID: u.ID, Email: u.Email, Firstname: u.Firstname, Lastname: u.Lastname,
		EmailVerified: u.EmailVerified, Phone: u.Phone, Description: u.Description, PublicEmail: u.PublicEmail,
		PublicWebsite: u.PublicWebsite, Attributes: u.Attributes, CreatedAt: jsTime(u.CreatedAt),
		UpdatedAt: jsTime(u.UpdatedAt)}
}

// teammateJSON is a user as the members of its projects see it (the id_user of a membership): the
// original's fields of the teammates list and the public profile, but not the phone or the attributes,
// which are the user's own. Anyone who can invite an address sees this much of its account.
type teammateJSON struct {
	Status        int    `json:"status"`
	ID            string `json:"_id"`
	Email         string `json:"email"`
	Firstname     string `json:"firstname"`
	Lastname      string `json:"lastname"`
	EmailVerified bool   `json:"emailverified"`
	Description   string `json:"description,omitempty"`
	PublicEmail   string `json:"public_email,omitempty"`
	PublicWebsite string `json:"public_website,omitempty"`
	CreatedAt     jsTime `json:"createdAt"`
	UpdatedAt     jsTime `json:"updatedAt"`
	V             int    `json:"__v"`
}

func toTeammate(u *tiledesk.User) *teammateJSON {
	return &teammateJSON{Status: u.Status, ID: u.ID, Email: u.Email, Firstname: u.Firstname, Lastname: u.Lastname,
		EmailVerified: u.EmailVerified, Description: u.Description, PublicEmail: u.PublicEmail,
		PublicWebsite: u.PublicWebsite, CreatedAt: jsTime(u.CreatedAt), UpdatedAt: jsTime(u.UpdatedAt)}
}

// userBrief is the user as sign-in and GET /users select it.
type userBrief struct {
	ID            string `json:"_id"`
	Email         string `json:"email"`
	Firstname     string `json:"firstname"`
	Lastname      string `json:"lastname"`
	EmailVerified bool   `json:"emailverified"`
}

func toUserBrief(u *tiledesk.User) userBrief {
	return userBrief{ID: u.ID, Email: u.Email, Firstname: u.Firstname, Lastname: u.Lastname, EmailVerified: u.EmailVerified}
}

type projectJSON struct {
	Status               int                     `json:"status"`
	IPFilterEnabled      bool                    `json:"ipFilterEnabled"`
	IPFilter             []string                `json:"ipFilter"`
	IPFilterDenyEnabled  bool                    `json:"ipFilterDenyEnabled"`
	IPFilterDeny         []string                `json:"ipFilterDeny"`
	ID                   string                  `json:"_id"`
	Name                 string                  `json:"name"`
	ActiveOperatingHours bool                    `json:"activeOperatingHours"`
	OperatingHours       string                  `json:"operatingHours,omitempty"`
	TimeSlots            map[string]any          `json:"timeSlots,omitempty"`
	Settings             map[string]any          `json:"settings,omitempty"`
	Widget               map[string]any          `json:"widget,omitempty"`
	Attributes           map[string]any          `json:"attributes,omitempty"`
	CreatedBy            string                  `json:"createdBy"`
	Profile              tiledesk.ProjectProfile `json:"profile"`
	Versions             int                     `json:"versions"`
	Channels             []tiledesk.Channel      `json:"channels"`
	BannedUsers          []tiledesk.BannedUser   `json:"bannedUsers"`
	CreatedAt            jsTime                  `json:"createdAt"`
	UpdatedAt            jsTime                  `json:"updatedAt"`
	V                    int                     `json:"__v"`
	TrialExpired         bool                    `json:"trialExpired"`
	TrialDaysLeft        int                     `json:"trialDaysLeft"`
	IsActiveSubscription bool                    `json:"isActiveSubscription"`
	IDVirtual            string                  `json:"id"`
}

func toProject(p *tiledesk.Project, now time.Time) *projectJSON {
	// The original computes the days since creation minus the trial length (so -14 on day one).
	daysLeft := int(now.Sub(p.CreatedAt)/(24*time.Hour)) - p.Profile.TrialDays
	return &projectJSON{Status: p.Status, IPFilterEnabled: p.IPFilterEnabled, IPFilter: nonNil(p.IPFilter),
		IPFilterDenyEnabled: p.IPFilterDenyEnabled, IPFilterDeny: nonNil(p.IPFilterDeny), ID: p.ID, Name: p.Name,
		ActiveOperatingHours: p.ActiveOperatingHours, OperatingHours: p.OperatingHours, TimeSlots: p.TimeSlots,
		Settings: p.Settings, Widget: p.Widget, Attributes: p.Attributes, CreatedBy: p.CreatedBy, Profile: p.Profile,
		Versions: p.Versions, Channels: p.Channels, BannedUsers: p.BannedUsers, CreatedAt: jsTime(p.CreatedAt),
		UpdatedAt: jsTime(p.UpdatedAt), TrialDaysLeft: daysLeft, IDVirtual: p.ID}
}

type projectUserJSON struct {
	UserAvailable          bool           `json:"user_available"`
	NumberAssignedRequests int            `json:"number_assigned_requests"`
	LastLoginAt            *jsTime        `json:"last_login_at,omitempty"`
	Permissions            []string       `json:"permissions"`
	Status                 string         `json:"status"`
	Trashed                bool           `json:"trashed"`
	ID                     string         `json:"_id"`
	IDProject              any            `json:"id_project"`
	IDUser                 any            `json:"id_user,omitempty"`
	UUIDUser               string         `json:"uuid_user,omitempty"`
	Role                   string         `json:"role"`
	RoleType               int            `json:"roleType"`
	ProfileStatus          string         `json:"profileStatus,omitempty"`
	MaxAssignedChat        *int           `json:"max_assigned_chat,omitempty"`
	Attributes             map[string]any `json:"attributes,omitempty"`
	Settings               map[string]any `json:"settings,omitempty"`
	CreatedBy              string         `json:"createdBy"`
	Tags                   []string       `json:"tags"`
	CreatedAt              jsTime         `json:"createdAt"`
	UpdatedAt              jsTime         `json:"updatedAt"`
	V                      int            `json:"__v"`
	IsAuthenticated        bool           `json:"isAuthenticated"`
	IDVirtual              string         `json:"id"`
	IsBusy                 *bool          `json:"isBusy,omitempty"`
	Presence               *presenceJSON  `json:"presence,omitempty"`
}

// presenceJSON is the original's project_user.presence.
type presenceJSON struct {
	Status    string `json:"status"`
	ChangedAt jsTime `json:"changedAt"`
}

// toProjectUser renders a membership with id_user populated (as teammates see a user) when the user
// is loaded. project, when given, decides isBusy (routes under a project report it; GET /projects
// does not).
func toProjectUser(pu *tiledesk.ProjectUser, project *tiledesk.Project) *projectUserJSON {
	out := &projectUserJSON{UserAvailable: pu.UserAvailable, NumberAssignedRequests: pu.NumberAssignedRequests,
		Permissions: nonNil(pu.Permissions), Status: pu.Status, Trashed: pu.Trashed, ID: pu.ID, IDProject: pu.ProjectID,
		UUIDUser: pu.UUIDUser, Role: pu.Role, RoleType: pu.RoleType, ProfileStatus: pu.ProfileStatus,
		MaxAssignedChat: pu.MaxAssignedChat, Attributes: pu.Attributes, Settings: pu.Settings, CreatedBy: pu.CreatedBy,
		Tags: nonNil(pu.Tags), CreatedAt: jsTime(pu.CreatedAt), UpdatedAt: jsTime(pu.UpdatedAt),
		IsAuthenticated: pu.Role != tiledesk.RoleGuest, IDVirtual: pu.ID}
	if !pu.LastLoginAt.IsZero() {
		t := jsTime(pu.LastLoginAt)
		out.LastLoginAt = &t
	}
	if p := pu.Presence; p != nil {
		out.Presence = &presenceJSON{Status: p.Status, ChangedAt: jsTime(p.ChangedAt)}
	}
	switch {
	case pu.User != nil:
		out.IDUser = toTeammate(pu.User)
	case pu.UserID != "":
		out.IDUser = pu.UserID
	}
	if project != nil {
		busy := tiledesk.IsBusy(project, pu)
		out.IsBusy = &busy
	}
	return out
}

type departmentJSON struct {
	Routing     string                     `json:"routing"`
	Default     bool                       `json:"default"`
	Status      int                        `json:"status"`
	ID          string                     `json:"_id"`
	Name        string                     `json:"name"`
	Description string                     `json:"description,omitempty"`
	IDBot       string                     `json:"id_bot,omitempty"`
	IDGroup     string                     `json:"id_group,omitempty"`
	BotOnly     bool                       `json:"bot_only,omitempty"`
	OnlineMsg   string                     `json:"online_msg,omitempty"`
	OfflineMsg  string                     `json:"offline_msg,omitempty"`
	IDProject   string                     `json:"id_project"`
	CreatedBy   string                     `json:"createdBy"`
	Groups      []tiledesk.DepartmentGroup `json:"groups"`
	Tags        []string                   `json:"tags"`
	CreatedAt   jsTime                     `json:"createdAt"`
	UpdatedAt   jsTime                     `json:"updatedAt"`
	V           int                        `json:"__v"`
	HasBot      bool                       `json:"hasBot"`
	IDVirtual   string                     `json:"id"`
}

func toDepartment(d *tiledesk.Department) *departmentJSON {
	groups := d.Groups
	if groups == nil {
		groups = []tiledesk.DepartmentGroup{}
	}
	return &departmentJSON{Routing: d.Routing, Default: d.Default, Status: d.Status, ID: d.ID, Name: d.Name,
		Description: d.Description, IDBot: d.IDBot, IDGroup: d.IDGroup, BotOnly: d.BotOnly, OnlineMsg: d.OnlineMsg,
		OfflineMsg: d.OfflineMsg, IDProject: d.ProjectID, CreatedBy: d.CreatedBy, Groups: groups, Tags: nonNil(d.Tags),
		CreatedAt: jsTime(d.CreatedAt), UpdatedAt: jsTime(d.UpdatedAt), HasBot: d.HasBot(), IDVirtual: d.ID}
}

func toDepartments(ds []*tiledesk.Department) []*departmentJSON {
	out := make([]*departmentJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, toDepartment(d))
	}
	return out
}

type invitationJSON struct {
	ID        string `json:"_id"`
	IDProject string `json:"id_project"`
	Email     string `json:"email"`
	Role      string `json:"role"`
	CreatedBy string `json:"createdBy"`
	CreatedAt jsTime `json:"createdAt"`
	UpdatedAt jsTime `json:"updatedAt"`
	V         int    `json:"__v"`
}

func toInvitation(inv *tiledesk.PendingInvitation) invitationJSON {
	return invitationJSON{ID: inv.ID, IDProject: inv.ProjectID, Email: inv.Email, Role: inv.Role,
		CreatedBy: inv.CreatedBy, CreatedAt: jsTime(inv.CreatedAt), UpdatedAt: jsTime(inv.UpdatedAt)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type leadJSON struct {
	Tags          []string       `json:"tags"`
	Status        int            `json:"status"`
	ID            string         `json:"_id"`
	LeadID        string         `json:"lead_id"`
	Fullname      string         `json:"fullname,omitempty"`
	Email         string         `json:"email,omitempty"`
	Phone         *string        `json:"phone"` // null when unset, as the original stores it
	Company       string         `json:"company,omitempty"`
	Note          string         `json:"note,omitempty"`
	StreetAddress string         `json:"streetAddress,omitempty"`
	City          string         `json:"city,omitempty"`
	Region        string         `json:"region,omitempty"`
	Zipcode       string         `json:"zipcode,omitempty"`
	Country       string         `json:"country,omitempty"`
	Attributes    map[string]any `json:"attributes,omitempty"`
	Properties    map[string]any `json:"properties,omitempty"`
	IDProject     string         `json:"id_project"`
	CreatedBy     string         `json:"createdBy"`
	CreatedAt     jsTime         `json:"createdAt"`
	UpdatedAt     jsTime         `json:"updatedAt"`
	V             int            `json:"__v"`
}

func toLead(l *tiledesk.Lead) *leadJSON {
	out := &leadJSON{Tags: nonNil(l.Tags), Status: l.Status, ID: l.ID, LeadID: l.LeadID, Fullname: l.Fullname,
		Email: l.Email, Company: l.Company, Note: l.Note, StreetAddress: l.StreetAddress, City: l.City, Region: l.Region,
		Zipcode: l.Zipcode, Country: l.Country, Attributes: l.Attributes, Properties: l.Properties,
		IDProject: l.ProjectID, CreatedBy: l.CreatedBy, CreatedAt: jsTime(l.CreatedAt), UpdatedAt: jsTime(l.UpdatedAt)}
	if l.Phone != "" {
		out.Phone = &l.Phone
	}
	return out
}
