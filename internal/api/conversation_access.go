package api

import (
	"net/http"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/views"
)

// Every route of one conversation reaches it through the store's by-id methods with the caller's
// visibility (tiledesk.Visibility, the rule lists apply too): a conversation the caller may not
// see answers 404, as an id of another project does.

// actorOf is the caller of a member route, as the domain's rules know who acts.
func actorOf(c *call) tiledesk.Actor { return tiledesk.Actor{Member: c.member, UserID: c.caller.id} }

// visibilityOf is what the caller of a member route may see of the project's conversations.
func visibilityOf(c *call) *tiledesk.Visibility { return actorOf(c).Visibility() }

// unpopulated renders a conversation with its requester, lead and department as ids, in view.
func unpopulated(view views.Audience, req *tiledesk.Request) any {
	if view == visitorView {
		return toVisitorRequest(req, true)
	}
	return toRequest(req)
}

// writeRequest answers a conversation in the caller's view, populated unless populate is false or
// the query says no_populate=true.
func (s *Server) writeRequest(w http.ResponseWriter, r *http.Request, c *call, req *tiledesk.Request, populate bool) error {
	view := viewOf(c)
	if !populate || r.URL.Query().Get("no_populate") == "true" {
		writeJSON(w, http.StatusOK, unpopulated(view, req))
		return nil
	}
	out, err := s.views.Requests.One(r.Context(), view, req, nil)
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, out)
	return nil
}

// visibleRequest loads the conversation of the path, if the caller may see it.
func (s *Server) visibleRequest(r *http.Request, c *call) (*tiledesk.Request, error) {
	rid, err := requestIDOf(r)
	if err != nil {
		return nil, err
	}
	return s.store.FindRequest(r.Context(), c.project.ID, rid, visibilityOf(c))
}

func (s *Server) handleRequestGet(w http.ResponseWriter, r *http.Request, c *call) error {
	req, err := s.visibleRequest(r, c)
	if err != nil {
		return err
	}
	return s.writeRequest(w, r, c, req, true)
}

// change applies a change to the conversation of the path, if the caller may see it (honouring
// If-Match against the representation the caller reads), and answers it, populated unless populate
// is false.
func (s *Server) change(w http.ResponseWriter, r *http.Request, c *call, populate bool, fn tiledesk.RequestChange) error {
	rid, err := requestIDOf(r)
	if err != nil {
		return err
	}
	view := viewOf(c)
	req, err := s.store.ChangeRequest(r.Context(), c.project.ID, rid, visibilityOf(c), fn,
		ifMatch(r, func(req *tiledesk.Request) any { return unpopulated(view, req) }))
	if err != nil {
		return err
	}
	return s.writeRequest(w, r, c, req, populate)
}

// handleRequestDelete removes a conversation and its messages, if the caller may
// (tiledesk.MayDeleteRequest) and sees it.
func (s *Server) handleRequestDelete(w http.ResponseWriter, r *http.Request, c *call) error {
	rid, err := requestIDOf(r)
	if err != nil {
		return err
	}
	if err := tiledesk.MayDeleteRequest(actorOf(c)); err != nil {
		return err
	}
	req, err := s.store.DeleteRequest(r.Context(), c.project.ID, rid, visibilityOf(c))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toRequest(req))
	return nil
}

// handleRequestDeleteByID deletes a conversation named by its _id rather than its request_id,
// with its messages, as DELETE /:pid/requests/:rid does; it answers as the original's database
// did ({"n":1,"ok":1,"deletedCount":1}), and 404 for an id the project has no conversation of.
func (s *Server) handleRequestDeleteByID(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := tiledesk.MayDeleteRequest(actorOf(c)); err != nil {
		return err
	}
	found, err := s.store.FindRequestsByIDs(r.Context(), c.project.ID, []string{id})
	if err != nil {
		return err
	}
	req, ok := found[id]
	if !ok {
		return errNotFound
	}
	if _, err := s.store.DeleteRequest(r.Context(), c.project.ID, req.RequestID, visibilityOf(c)); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"n": 1, "ok": 1, "deletedCount": 1})
	return nil
}
