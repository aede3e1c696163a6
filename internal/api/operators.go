package api

import (
	"net/http"

	"github.com/tiledesk-go/tiledesk"
)

// handleDepartmentOperators runs routing for the department without creating a conversation:
// which agents it considers, which are available now, and whom a new conversation would go to.
// It changes nothing, not even the rotation. ?nobot= (any value but "") leaves the department's
// bot out, as the original reads it.
func (s *Server) handleDepartmentOperators(w http.ResponseWriter, r *http.Request, c *call) error {
	d, err := s.pathDepartment(r, c)
	if err != nil {
		return err
	}
	members, err := s.store.FindProjectUsers(r.Context(), c.project.ID, tiledesk.ProjectUserFilter{})
	if err != nil {
		return err
	}
	open, err := c.project.IsOpenAt(s.now())
	if err != nil {
		open = false // hours that cannot be evaluated route to nobody, as closed ones do
	}
	agents, available := []*projectUserJSON{}, []*projectUserJSON{}
	var candidates []tiledesk.Agent
	for _, pu := range members {
		if pu.UserID == "" {
			continue
		}
		agents = append(agents, toProjectUser(pu, c.project))
		free := open && pu.Available() && !tiledesk.IsBusy(c.project, pu)
		if free {
			available = append(available, toProjectUser(pu, c.project))
		}
		candidates = append(candidates, tiledesk.Agent{UserID: pu.UserID, Available: free})
	}
	last, err := s.store.LastAssigned(r.Context(), c.project.ID)
	if err != nil {
		return err
	}
	routed := tiledesk.Route(d, candidates, last, r.URL.Query().Get("nobot") != "")
	operators := make([]map[string]string, 0, len(routed.Participants))
	for _, p := range routed.Participants {
		operators = append(operators, map[string]string{"id_user": p})
	}
	out := map[string]any{"department": toDepartment(d), "available_agents": available, "agents": agents,
		"operators": operators, "id_project": c.project.ID, "project": toProject(c.project, s.now())}
	if len(routed.Participants) == 1 && d.IDBot != "" && routed.Participants[0] == tiledesk.BotPrefix+d.IDBot {
		out["id_bot"] = d.IDBot
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
