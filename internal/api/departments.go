package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

func (s *Server) handleDepartmentList(w http.ResponseWriter, r *http.Request, c *call) error {
	ds, err := s.store.FindDepartments(r.Context(), c.project.ID,
		tiledesk.DepartmentFilter{SortByName: r.URL.Query().Get("sort") != ""})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toDepartments(ds))
	return nil
}

func (s *Server) handleDepartmentListAll(w http.ResponseWriter, r *http.Request, c *call) error {
	zero := 0
	ds, err := s.store.FindDepartments(r.Context(), c.project.ID,
		tiledesk.DepartmentFilter{MinStatus: &zero, SortByName: r.URL.Query().Get("sort") != ""})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toDepartments(ds))
	return nil
}

func (s *Server) handleDepartmentGet(w http.ResponseWriter, r *http.Request, c *call) error {
	d, err := s.pathDepartment(r, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toDepartment(d))
	return nil
}

// pathDepartment is the department the path's {id} names: an id, or "default".
func (s *Server) pathDepartment(r *http.Request, c *call) (*tiledesk.Department, error) {
	if r.PathValue("id") == "default" {
		return s.store.FindDefaultDepartment(r.Context(), c.project.ID)
	}
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.store.FindDepartmentByID(r.Context(), c.project.ID, id)
}

// departmentFields reads the writable department fields of a body.
func departmentFields(b *body) tiledesk.DepartmentUpdate {
	upd := tiledesk.DepartmentUpdate{Name: b.str("name"), Description: b.str("description"),
		Routing: b.oneOf("routing", tiledesk.RoutingPooled, tiledesk.RoutingAssigned), IDBot: b.str("id_bot"),
		IDGroup: b.str("id_group"), BotOnly: b.boolean("bot_only"), Default: b.boolean("default"),
		Status: b.integer("status", -1, 1), OnlineMsg: b.str("online_msg"), OfflineMsg: b.str("offline_msg")}
	if upd.Name != nil && strings.TrimSpace(*upd.Name) == "" {
		b.fail("name", "must not be empty", *upd.Name)
	}
	if arr := b.boundedArray("groups"); arr != nil {
		upd.Groups = []tiledesk.DepartmentGroup{}
		for _, e := range arr {
			m, ok := e.(map[string]any)
			gid, _ := m["group_id"].(string)
			pct, isNum := m["percentage"].(json.Number)
			f, err := pct.Float64()
			if !ok || gid == "" || !isNum || err != nil || f < 0 || f > 100 {
				b.fail("groups", `must be an array of {"group_id": string, "percentage": 0..100}`, nil)
				return upd
			}
			upd.Groups = append(upd.Groups, tiledesk.DepartmentGroup{ID: tiledesk.NewID(), GroupID: gid, Percentage: f})
		}
	}
	return upd
}

func (s *Server) handleDepartmentCreate(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	b.requiredStr("name")
	f := departmentFields(b)
	if err := b.err(); err != nil {
		return err
	}
	now := tiledesk.Millis(s.now())
	d := &tiledesk.Department{ID: tiledesk.NewIDAt(now), ProjectID: c.project.ID, Name: strings.TrimSpace(*f.Name),
		Routing: tiledesk.RoutingPooled, Status: tiledesk.DepartmentVisible, Groups: f.Groups, Tags: []string{},
		CreatedBy: c.caller.id, CreatedAt: now, UpdatedAt: now}
	set(&d.Description, f.Description)
	set(&d.Routing, f.Routing)
	set(&d.IDBot, f.IDBot)
	set(&d.IDGroup, f.IDGroup)
	set(&d.OnlineMsg, f.OnlineMsg)
	set(&d.OfflineMsg, f.OfflineMsg)
	set(&d.BotOnly, f.BotOnly)
	set(&d.Default, f.Default)
	set(&d.Status, f.Status)
	if err := s.store.CreateDepartment(r.Context(), d); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toDepartment(d))
	return nil
}

// handleDepartmentPut updates a department; like the original, id_bot and id_group are always
// written, so leaving them out removes the bot and the group.
func (s *Server) handleDepartmentPut(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.updateDepartment(w, r, c, true)
}

// handleDepartmentPatch changes only the fields given.
func (s *Server) handleDepartmentPatch(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.updateDepartment(w, r, c, false)
}

func (s *Server) updateDepartment(w http.ResponseWriter, r *http.Request, c *call, put bool) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	upd := departmentFields(b)
	if err := b.err(); err != nil {
		return err
	}
	if put {
		empty := ""
		if upd.IDBot == nil {
			upd.IDBot = &empty
		}
		if upd.IDGroup == nil {
			upd.IDGroup = &empty
		}
	}
	d, err := s.store.UpdateDepartment(r.Context(), c.project.ID, id, upd)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toDepartment(d))
	return nil
}

func (s *Server) handleDepartmentDelete(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.store.DeleteDepartment(r.Context(), c.project.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toDepartment(d))
	return nil
}
