package api

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

func (s *Server) handleProjectCreate(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	name := b.requiredStr("name")
	if err := b.err(); err != nil {
		return err
	}
	now := tiledesk.Millis(s.now())
	uid := c.caller.user.ID
	p := tiledesk.NewProject(strings.TrimSpace(name), uid, now)
	owner := tiledesk.NewProjectUser(p.ID, tiledesk.RoleOwner, uid, now)
	owner.UserID = uid
	dept := tiledesk.NewDefaultDepartment(p.ID, uid, now)
	if err := s.store.CreateProject(r.Context(), p, owner, dept); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toProject(p, s.now()))
	return nil
}

func (s *Server) handleProjectList(w http.ResponseWriter, r *http.Request, c *call) error {
	ms, err := s.store.FindMemberships(r.Context(), c.caller.user.ID)
	if err != nil {
		return err
	}
	now := s.now()
	out := make([]*projectUserJSON, 0, len(ms))
	for _, m := range ms {
		pu := toProjectUser(m.ProjectUser, nil)
		pu.IDProject = toProject(m.Project, now)
		out = append(out, pu)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) handleProjectGet(w http.ResponseWriter, r *http.Request, c *call) error {
	writeJSON(w, http.StatusOK, toProject(c.project, s.now()))
	return nil
}

func (s *Server) handleProjectUpdate(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	upd := tiledesk.ProjectUpdate{Name: b.str("name"), ActiveOperatingHours: b.boolean("activeOperatingHours"),
		TimeSlots: b.boundedObjectOf("timeSlots", tiledesk.MaxProjectJSONBytes),
		Settings:  b.boundedObjectOf("settings", tiledesk.MaxProjectJSONBytes), SettingsPaths: b.settingsPaths(),
		Widget:          b.boundedObjectOf("widget", tiledesk.MaxProjectJSONBytes),
		IPFilterEnabled: b.boolean("ipFilterEnabled"), IPFilter: b.boundedStrs("ipFilter"),
		IPFilterDenyEnabled: b.boolean("ipFilterDenyEnabled"), IPFilterDeny: b.boundedStrs("ipFilterDeny")}
	if upd.Name != nil && strings.TrimSpace(*upd.Name) == "" {
		b.fail("name", "must not be empty", *upd.Name)
	}
	// operatingHours is a JSON document the dashboard sends as a string; accept an object too.
	if v, ok := b.m["operatingHours"]; ok && v != nil {
		switch x := v.(type) {
		case string:
			upd.OperatingHours = &x
		case map[string]any:
			if !b.within("operatingHours", x, tiledesk.MaxJSONBytes) {
				break
			}
			enc, err := jsonString(x)
			if err != nil {
				b.fail("operatingHours", "must be a JSON document", nil)
			}
			upd.OperatingHours = &enc
		default:
			b.fail("operatingHours", "must be a JSON string or object", v)
		}
	}
	if upd.OperatingHours != nil {
		if err := tiledesk.ValidateOperatingHours(*upd.OperatingHours, false); err != nil {
			b.fail("operatingHours", err.Error(), nil)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(upd.TimeSlots)) {
		slot, _ := upd.TimeSlots[id].(map[string]any)
		if hours, ok := slot["hours"].(string); ok {
			if err := tiledesk.ValidateOperatingHours(hours, true); err != nil {
				b.fail("timeSlots."+id+".hours", err.Error(), nil)
			}
		}
	}
	if arr := b.boundedArray("channels"); arr != nil {
		for _, e := range arr {
			m, ok := e.(map[string]any)
			name, _ := m["name"].(string)
			if !ok || name == "" || len(name) > tiledesk.MaxChannelNameBytes {
				b.fail("channels", fmt.Sprintf(`must be an array of {"name": string of at most %d bytes}`, tiledesk.MaxChannelNameBytes), nil)
				break
			}
			upd.Channels = append(upd.Channels, tiledesk.Channel{Name: name})
		}
	}
	if err := b.err(); err != nil {
		return err
	}
	p, err := s.store.UpdateProject(r.Context(), c.project.ID, upd)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toProject(p, s.now()))
	return nil
}

func (s *Server) handleProjectDelete(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.store.DeleteProject(r.Context(), c.project.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toProject(p, s.now()))
	return nil
}
