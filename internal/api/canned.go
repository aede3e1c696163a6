package api

import (
	"net/http"
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

// Canned responses (/:pid/canned): each member sees the shared ones and its own, changes its own,
// and admins the shared ones too.

type cannedJSON struct {
	Title      string         `json:"title,omitempty"`
	Text       string         `json:"text"`
	Shared     bool           `json:"shared"`
	Attributes map[string]any `json:"attributes,omitempty"`
	IDProject  string         `json:"id_project"`
	CreatedBy  string         `json:"createdBy"`
	Status     int            `json:"status"`
	ID         string         `json:"_id"`
	CreatedAt  jsTime         `json:"createdAt"`
	UpdatedAt  jsTime         `json:"updatedAt"`
	V          int            `json:"__v"`
}

func toCanned(c *tiledesk.Canned) *cannedJSON {
	return &cannedJSON{Title: c.Title, Text: c.Text, Shared: c.Shared, Attributes: c.Attributes, IDProject: c.ProjectID,
		CreatedBy: c.CreatedBy, Status: c.Status, ID: c.ID, CreatedAt: jsTime(c.CreatedAt), UpdatedAt: jsTime(c.UpdatedAt)}
}

// cannedFields reads a canned response's fields and returns what sets them.
func cannedFields(b *body) func(*tiledesk.Canned) {
	var sets []func(*tiledesk.Canned)
	if b.has("text") {
		text := b.requiredStr("text")
		sets = append(sets, func(c *tiledesk.Canned) { c.Text = text })
	}
	if v := b.str("title"); v != nil {
		sets = append(sets, func(c *tiledesk.Canned) { c.Title = strings.TrimSpace(*v) })
	}
	if v := b.boolean("shared"); v != nil {
		sets = append(sets, func(c *tiledesk.Canned) { c.Shared = *v })
	}
	if attrs := b.boundedObject("attributes"); attrs != nil {
		sets = append(sets, func(c *tiledesk.Canned) { c.Attributes = attrs })
	}
	return func(c *tiledesk.Canned) {
		for _, set := range sets {
			set(c)
		}
	}
}

func (s *Server) handleCannedCreate(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	b.requiredStr("text")
	apply := cannedFields(b)
	if err := b.err(); err != nil {
		return err
	}
	now := tiledesk.Millis(s.now())
	cn := &tiledesk.Canned{ID: tiledesk.NewIDAt(now), ProjectID: c.project.ID, Status: tiledesk.CannedActive,
		CreatedBy: c.caller.id, CreatedAt: now, UpdatedAt: now}
	apply(cn)
	if err := s.store.CreateCanned(r.Context(), cn); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toCanned(cn))
	return nil
}

func (s *Server) handleCannedList(w http.ResponseWriter, r *http.Request, c *call) error {
	q := r.URL.Query()
	f := tiledesk.CannedFilter{UserID: c.caller.id, Text: q.Get("full_text"), Limit: 1000}
	var err error
	if f.Page, err = queryIntIn(q, "page", 0, 100000, 0); err != nil {
		return err
	}
	switch v := q.Get("sort"); v {
	case "", "createdAt":
	case "title":
		f.ByName = true
	default:
		return invalidQuery("sort", "must be createdAt or title", v)
	}
	switch v := q.Get("direction"); v {
	case "", "1":
	case "-1":
		f.Desc = true
	default:
		return invalidQuery("direction", "must be 1 or -1", v)
	}
	list, err := s.store.FindCanneds(r.Context(), c.project.ID, f)
	if err != nil {
		return err
	}
	out := make([]*cannedJSON, 0, len(list))
	for _, cn := range list {
		out = append(out, toCanned(cn))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// visibleCanned reads the path's canned response if the caller sees it (404 otherwise, as for an
// id of another project).
func (s *Server) visibleCanned(r *http.Request, c *call) (*tiledesk.Canned, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	cn, err := s.store.FindCanned(r.Context(), c.project.ID, id)
	if err != nil {
		return nil, err
	}
	if !cn.VisibleTo(c.caller.id) {
		return nil, tiledesk.NotFound("canned")
	}
	return cn, nil
}

// handleCannedGet answers a canned response; with ?request_id= its text has the placeholders
// filled from that conversation ($recipient_name, $recipient_email) and the caller ($agent_name).
func (s *Server) handleCannedGet(w http.ResponseWriter, r *http.Request, c *call) error {
	cn, err := s.visibleCanned(r, c)
	if err != nil {
		return err
	}
	out := toCanned(cn)
	if rid := r.URL.Query().Get("request_id"); rid != "" {
		req, err := s.store.FindRequest(r.Context(), c.project.ID, rid, visibilityOf(c))
		if err != nil {
			return err
		}
		values := map[string]string{"$project_name": c.project.Name, "$agent_name": "", "$recipient_name": "", "$recipient_email": ""}
		if u := c.caller.user; u != nil {
			values["$agent_name"] = strings.TrimSpace(u.FullName())
		}
		if l := req.Snapshot.Lead; l != nil {
			values["$recipient_name"], values["$recipient_email"] = strings.TrimSpace(l.Fullname), l.Email
		}
		out.Text = tiledesk.FillCanned(cn.Text, values)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// changeCanned applies change to the path's canned response, if the caller may change it.
func (s *Server) changeCanned(w http.ResponseWriter, r *http.Request, c *call, change func(*tiledesk.Canned)) error {
	cn, err := s.visibleCanned(r, c)
	if err != nil {
		return err
	}
	if !cn.MayChange(c.caller.id, c.member.Role) {
		return errMsg(http.StatusForbidden, "Only its author changes a canned response, or an admin a shared one.")
	}
	out, err := s.store.ChangeCanned(r.Context(), c.project.ID, cn.ID, func(cn *tiledesk.Canned) error { change(cn); return nil })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toCanned(out))
	return nil
}

func (s *Server) handleCannedUpdate(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	apply := cannedFields(b)
	if err := b.err(); err != nil {
		return err
	}
	return s.changeCanned(w, r, c, apply)
}

// handleCannedDelete marks a canned response deleted, as the original.
func (s *Server) handleCannedDelete(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.changeCanned(w, r, c, func(cn *tiledesk.Canned) { cn.Status = tiledesk.CannedDeleted })
}

func (s *Server) handleCannedDeletePhysical(w http.ResponseWriter, r *http.Request, c *call) error {
	cn, err := s.visibleCanned(r, c)
	if err != nil {
		return err
	}
	if !cn.MayChange(c.caller.id, c.member.Role) {
		return errMsg(http.StatusForbidden, "Only its author deletes a canned response, or an admin a shared one.")
	}
	out, err := s.store.DeleteCanned(r.Context(), c.project.ID, cn.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toCanned(out))
	return nil
}
