package api

import (
	"net/http"
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

// Groups of agents (/:pid/groups): agents read them; admins (and bots) change them, since a
// group opens the conversations of the departments restricted to it.

type groupJSON struct {
	Name       string         `json:"name"`
	Members    []string       `json:"members"`
	IDProject  string         `json:"id_project"`
	Enabled    bool           `json:"enabled"`
	Trashed    bool           `json:"trashed"`
	Attributes map[string]any `json:"attributes,omitempty"`
	CreatedBy  string         `json:"createdBy"`
	ID         string         `json:"_id"`
	CreatedAt  jsTime         `json:"createdAt"`
	UpdatedAt  jsTime         `json:"updatedAt"`
	V          int            `json:"__v"`
}

func toGroup(g *tiledesk.Group) *groupJSON {
	return &groupJSON{Name: g.Name, Members: nonNil(g.Members), IDProject: g.ProjectID, Enabled: g.Enabled, Trashed: g.Trashed,
		Attributes: g.Attributes, CreatedBy: g.CreatedBy, ID: g.ID, CreatedAt: jsTime(g.CreatedAt), UpdatedAt: jsTime(g.UpdatedAt)}
}

// groupFields reads a group's fields, its members checked to be the project's active agents.
func (s *Server) groupFields(r *http.Request, c *call, b *body) (func(*tiledesk.Group), error) {
	var sets []func(*tiledesk.Group)
	if b.has("name") {
		name := strings.TrimSpace(b.requiredStr("name"))
		sets = append(sets, func(g *tiledesk.Group) { g.Name = name })
	}
	if v := b.boolean("enabled"); v != nil {
		sets = append(sets, func(g *tiledesk.Group) { g.Enabled = *v })
	}
	if attrs := b.boundedObject("attributes"); attrs != nil {
		sets = append(sets, func(g *tiledesk.Group) { g.Attributes = attrs })
	}
	if b.has("members") {
		members := b.strs("members")
		if len(members) > tiledesk.MaxGroupMembers {
			b.fail("members", "a group holds at most 1000 members", nil)
		}
		if err := b.err(); err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		clean := make([]string, 0, len(members))
		for _, m := range members {
			id := strings.ToLower(m)
			if seen[id] {
				continue
			}
			seen[id] = true
			if !tiledesk.IsID(id) {
				return nil, invalidField("members", "body", m+" is not a user id")
			}
			pu, err := s.store.FindProjectUserByUserID(r.Context(), c.project.ID, id)
			if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND || err == nil && (!pu.IsActive() || pu.RoleType != tiledesk.RoleTypeAgent) {
				return nil, invalidField("members", "body", m+" is not an active agent of the project")
			} else if err != nil {
				return nil, err
			}
			clean = append(clean, id)
		}
		sets = append(sets, func(g *tiledesk.Group) { g.Members = clean })
	}
	return func(g *tiledesk.Group) {
		for _, set := range sets {
			set(g)
		}
	}, b.err()
}

func (s *Server) handleGroupCreate(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	b.requiredStr("name")
	if err := b.err(); err != nil {
		return err
	}
	apply, err := s.groupFields(r, c, b)
	if err != nil {
		return err
	}
	now := tiledesk.Millis(s.now())
	g := &tiledesk.Group{ID: tiledesk.NewIDAt(now), ProjectID: c.project.ID, Members: []string{}, Enabled: true,
		CreatedBy: c.caller.id, CreatedAt: now, UpdatedAt: now}
	apply(g)
	if err := s.store.CreateGroup(r.Context(), g); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toGroup(g))
	return nil
}

func (s *Server) handleGroupList(w http.ResponseWriter, r *http.Request, c *call) error {
	q := r.URL.Query()
	groups, err := s.store.FindGroups(r.Context(), c.project.ID, tiledesk.GroupFilter{Member: strings.ToLower(q.Get("member"))})
	if err != nil {
		return err
	}
	out := make([]*groupJSON, 0, len(groups))
	for _, g := range groups {
		out = append(out, toGroup(g))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) handleGroupGet(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	g, err := s.store.FindGroup(r.Context(), c.project.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toGroup(g))
	return nil
}

func (s *Server) handleGroupUpdate(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	apply, err := s.groupFields(r, c, b)
	if err != nil {
		return err
	}
	return s.changeGroup(w, r, c, func(g *tiledesk.Group) { apply(g) })
}

func (s *Server) handleGroupEnable(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.changeGroup(w, r, c, func(g *tiledesk.Group) { g.Enabled = true })
}

func (s *Server) handleGroupDisable(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.changeGroup(w, r, c, func(g *tiledesk.Group) { g.Enabled = false })
}

func (s *Server) changeGroup(w http.ResponseWriter, r *http.Request, c *call, change func(*tiledesk.Group)) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	g, err := s.store.ChangeGroup(r.Context(), c.project.ID, id, func(g *tiledesk.Group) error { change(g); return nil })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toGroup(g))
	return nil
}

// handleGroupDelete trashes a group (?force=true deletes it), unless a department routes to it.
func (s *Server) handleGroupDelete(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	force, err := queryBool(r.URL.Query(), "force")
	if err != nil {
		return err
	}
	if _, err := s.store.DeleteGroup(r.Context(), c.project.ID, id, force); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "Group successfully deleted"})
	return nil
}
