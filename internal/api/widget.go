package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// The routes the chat widget calls before a visitor has a token: whether the project is open, who
// is available, and the bootstrap that gathers them. They are public, as in the original, so they
// answer only what a visitor of the project's site may see: no settings, IP filters or banned
// visitors, and of each agent only what the widget shows.

// handleProjectIsOpen answers whether the project takes conversations now by its operating hours,
// or by one of its time slots (?timeSlot=).
func (s *Server) handleProjectIsOpen(w http.ResponseWriter, r *http.Request, c *call) error {
	slot := r.URL.Query().Get("timeSlot")
	var open bool
	var err error
	if slot != "" {
		open, err = c.project.SlotIsOpenAt(slot, s.now())
	} else {
		open, err = c.project.IsOpenAt(s.now())
	}
	if err != nil {
		return openError(err, slot != "")
	}
	writeJSON(w, http.StatusOK, map[string]bool{"isopen": open})
	return nil
}

// openError answers hours that cannot be evaluated with the original's body: {error:{errorCode,
// msg}} for a time slot, {msg:{errorCode, msg}} for the project's hours. The original answers
// 500 to both; an unknown slot is the caller's mistake (404), and hours stored unreadable are the
// project's state, not a fault of the server (409).
func openError(err error, slot bool) error {
	var oe *tiledesk.OpenError
	if !errors.As(err, &oe) {
		return err
	}
	status := http.StatusConflict
	if oe.Code == tiledesk.OpenErrSlotNotFound {
		status = http.StatusNotFound
	}
	detail := map[string]any{"errorCode": oe.Code, "msg": oe.Msg}
	if slot {
		return &apiError{status: status, body: map[string]any{"success": false, "error": detail}}
	}
	return &apiError{status: status, body: map[string]any{"success": false, "msg": detail}}
}

// agentRoles are the roles whose members take conversations.
var agentRoles = []string{tiledesk.RoleOwner, tiledesk.RoleAdmin, tiledesk.RoleSupervisor, tiledesk.RoleAgent}

// availableMembers lists the project's active members of the agent roles who are available and
// registered, in membership order.
func (s *Server) availableMembers(r *http.Request, p *tiledesk.Project) ([]*tiledesk.ProjectUser, error) {
	pus, err := s.store.FindProjectUsers(r.Context(), p.ID, tiledesk.ProjectUserFilter{Roles: agentRoles})
	if err != nil {
		return nil, err
	}
	out := pus[:0]
	for _, pu := range pus {
		if pu.Available() && pu.User != nil {
			out = append(out, pu)
		}
	}
	return out, nil
}

type availableAgentJSON struct {
	ID              string `json:"id"`
	ProjectUserID   string `json:"pu_id"`
	Fullname        string `json:"fullname"`
	Email           string `json:"email,omitempty"`
	AssignedRequest *int   `json:"assigned_request,omitempty"`
}

// seesTeam reports whether r carries the credentials of one of the project's agents (or a
// stronger role): they see the available agents' addresses and loads, which the original shows to
// anyone.
func (s *Server) seesTeam(r *http.Request, p *tiledesk.Project) bool {
	if r.Header.Get("Authorization") == "" && r.URL.Query().Get("secret_token") == "" {
		return false
	}
	cl, err := s.authenticate(r)
	if err != nil {
		return false
	}
	_, err = s.checkRole(r, cl, p.ID, tiledesk.RoleAgent, false)
	return err == nil
}

// handleAvailableUsers lists the agents who would take a conversation now: none while the project
// is closed (unless ?raw= asks for them regardless of the hours), and not those at their chat
// limit. ?department= checks that the department exists in the project. Their addresses and loads
// are shown to the project's agents only.
func (s *Server) handleAvailableUsers(w http.ResponseWriter, r *http.Request, c *call) error {
	q := r.URL.Query()
	if id := q.Get("department"); id != "" {
		if _, err := s.store.FindDepartmentByID(r.Context(), c.project.ID, id); tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
			return &apiError{status: http.StatusNotFound, body: map[string]any{"success": false, "error": "Department " + id + " not found"}}
		} else if err != nil {
			return err
		}
	}
	out := []availableAgentJSON{}
	if q.Get("raw") == "" {
		open, err := c.project.IsOpenAt(s.now())
		if err != nil {
			return openError(err, false)
		}
		if !open {
			writeJSON(w, http.StatusOK, out)
			return nil
		}
	}
	pus, err := s.availableMembers(r, c.project)
	if err != nil {
		return err
	}
	team := s.seesTeam(r, c.project)
	for _, pu := range pus {
		if tiledesk.IsBusy(c.project, pu) {
			continue
		}
		a := availableAgentJSON{ID: pu.User.ID, ProjectUserID: pu.ID,
			Fullname: strings.TrimSpace(pu.User.Firstname + " " + pu.User.Lastname)}
		if team {
			a.Email, a.AssignedRequest = pu.User.Email, &pu.NumberAssignedRequests
		}
		out = append(out, a)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// widgetProjectJSON is the project as a visitor's widget reads it: the original's project less its
// settings and IP filter, and less what it leaves in but a visitor must not see (the denied
// addresses and the banned visitors). A list of its own rather than a part of projectJSON, which
// keeps the original's order of keys.
type widgetProjectJSON struct {
	Status               int                     `json:"status"`
	ID                   string                  `json:"_id"`
	Name                 string                  `json:"name"`
	ActiveOperatingHours bool                    `json:"activeOperatingHours"`
	OperatingHours       string                  `json:"operatingHours,omitempty"`
	TimeSlots            map[string]any          `json:"timeSlots,omitempty"`
	Widget               map[string]any          `json:"widget,omitempty"`
	Attributes           map[string]any          `json:"attributes,omitempty"`
	CreatedBy            string                  `json:"createdBy"`
	Profile              tiledesk.ProjectProfile `json:"profile"`
	Versions             int                     `json:"versions"`
	Channels             []tiledesk.Channel      `json:"channels"`
	CreatedAt            jsTime                  `json:"createdAt"`
	UpdatedAt            jsTime                  `json:"updatedAt"`
	V                    int                     `json:"__v"`
	TrialExpired         bool                    `json:"trialExpired"`
	TrialDaysLeft        int                     `json:"trialDaysLeft"`
	IsActiveSubscription bool                    `json:"isActiveSubscription"`
	IDVirtual            string                  `json:"id"`
}

func toWidgetProject(p *tiledesk.Project, now time.Time) widgetProjectJSON {
	full := toProject(p, now)
	return widgetProjectJSON{Status: full.Status, ID: full.ID, Name: full.Name, ActiveOperatingHours: full.ActiveOperatingHours,
		OperatingHours: full.OperatingHours, TimeSlots: full.TimeSlots, Widget: full.Widget, Attributes: full.Attributes,
		CreatedBy: full.CreatedBy, Profile: full.Profile, Versions: full.Versions, Channels: full.Channels,
		CreatedAt: full.CreatedAt, UpdatedAt: full.UpdatedAt, TrialExpired: full.TrialExpired,
		TrialDaysLeft: full.TrialDaysLeft, IsActiveSubscription: full.IsActiveSubscription, IDVirtual: full.IDVirtual}
}

type widgetAgentJSON struct {
	ID        string `json:"id"`
	Firstname string `json:"firstname"`
}

type widgetJSON struct {
	Project       widgetProjectJSON `json:"project"`
	UserAvailable []widgetAgentJSON `json:"user_available"`
	Departments   []*departmentJSON `json:"departments"`
	IP            string            `json:"ip"`
	BotsRules     json.RawMessage   `json:"botsRules"`
}

// handleWidget is the widget's bootstrap: the project, the agents available now (none while it is
// closed by its hours, or when they cannot be evaluated), its visible departments and the
// visitor's address as this server sees it (X-Forwarded-For only from a trusted proxy).
func (s *Server) handleWidget(w http.ResponseWriter, r *http.Request, c *call) error {
	now := s.now()
	out := widgetJSON{Project: toWidgetProject(c.project, now), UserAvailable: []widgetAgentJSON{}}
	if open, err := c.project.IsOpenAt(now); err == nil && open {
		pus, err := s.availableMembers(r, c.project)
		if err != nil {
			return err
		}
		for _, pu := range pus {
			out.UserAvailable = append(out.UserAvailable, widgetAgentJSON{ID: pu.User.ID, Firstname: pu.User.Firstname})
		}
	}
	ds, err := s.store.FindDepartments(r.Context(), c.project.ID, tiledesk.DepartmentFilter{})
	if err != nil {
		return err
	}
	out.Departments = toDepartments(ds)
	if out.BotsRules, err = s.widgetBotsRules(r, c.project.ID); err != nil {
		return err
	}
	if ip := info(r).ip; ip.IsValid() {
		out.IP = ip.String()
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// botsRulesTTL is how long a project's botsRules are kept: the bootstrap is read on every page
// view of the sites that embed the widget.
const botsRulesTTL = 30 * time.Second

// maxBotsRulesBytes bounds the botsRules of one project's bootstrap.
const maxBotsRulesBytes = 256 << 10

// widgetBotsRules gathers the rules (attributes.rules) of the project's bots that are not
// trashed, in the bots' order, as the widget decides with them which bot starts a conversation.
func (s *Server) widgetBotsRules(r *http.Request, projectID string) (json.RawMessage, error) {
	return s.botsRules.answer(projectID, s.now(), func(time.Time) ([]byte, error) {
		bots, err := s.store.FindBots(context.WithoutCancel(r.Context()), projectID, tiledesk.BotFilter{WithIdentity: true})
		if err != nil {
			return nil, err
		}
		rules, size := []any{}, 0
		for _, b := range bots {
			list, _ := b.Attributes["rules"].([]any)
			for _, rule := range list {
				raw, err := json.Marshal(rule)
				if err != nil || size+len(raw) > maxBotsRulesBytes {
					s.log.Warn("widget: bots' rules past the bound left out", "project", projectID, "bot", b.ID)
					break
				}
				size += len(raw)
				rules = append(rules, rule)
			}
		}
		return json.Marshal(rules)
	})
}
