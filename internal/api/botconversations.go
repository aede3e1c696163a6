package api

import (
	"net/http"
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

// Bots in conversations: handing a conversation to a bot, and what bots set in it.

// handleRequestReplaceBot hands the conversation to the bot the body names by id, slug or name:
// the bots among its participants leave and that one joins. The answer is the conversation, with
// replaced_bot_root_id naming the bot that joined, as the original's.
func (s *Server) handleRequestReplaceBot(w http.ResponseWriter, r *http.Request, c *call) error {
	rid, err := requestIDOf(r)
	if err != nil {
		return err
	}
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	id, slug, name := b.str("id"), b.str("slug"), b.str("name")
	if err := b.err(); err != nil {
		return err
	}
	if empty(id) && empty(slug) && empty(name) {
		return &apiError{status: http.StatusBadRequest, body: map[string]any{"success": false,
			"error": "Missing field 'id' or 'name' in body"}}
	}
	bot, err := s.findBotBy(r, c, id, slug, name)
	if err != nil {
		return err
	}
	req, err := s.store.ChangeRequest(r.Context(), c.project.ID, rid, visibilityOf(c), tiledesk.ReplaceRequestBot(bot.ID), nil)
	if err != nil {
		return err
	}
	out, err := s.views.Requests.One(r.Context(), viewOf(c), req, nil)
	if err != nil {
		return err
	}
	spliced := make([]byte, 0, len(out)+64)
	spliced = append(spliced, out[:len(out)-1]...)
	spliced = append(spliced, `,"replaced_bot_root_id":`...)
	spliced = appendString(spliced, bot.ID)
	writeRaw(w, http.StatusOK, append(spliced, '}'))
	return nil
}

func empty(s *string) bool { return s == nil || strings.TrimSpace(*s) == "" }

// findBotBy finds a bot of the project, not trashed, by id, else by slug, else by name.
func (s *Server) findBotBy(r *http.Request, c *call, id, slug, name *string) (*tiledesk.Bot, error) {
	notFound := &apiError{status: http.StatusNotFound, body: map[string]any{"success": false, "error": "Chatbot not found"}}
	if !empty(id) {
		if !tiledesk.IsID(*id) {
			return nil, notFound
		}
		b, err := s.store.FindBot(r.Context(), c.project.ID, strings.ToLower(*id))
		if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND || err == nil && b.Trashed {
			return nil, notFound
		}
		return b, err
	}
	bots, err := s.store.FindBots(r.Context(), c.project.ID, tiledesk.BotFilter{WithIdentity: true})
	if err != nil {
		return nil, err
	}
	for _, b := range bots {
		if !empty(slug) && b.Slug == *slug || empty(slug) && b.Name == *name {
			return b, nil
		}
	}
	return nil, notFound
}

// handleChatbotParameters answers what the bots of the conversation set in it, to those who see
// the conversation (its visitor included).
func (s *Server) handleChatbotParameters(w http.ResponseWriter, r *http.Request, c *call) error {
	req, err := s.visibleRequest(r, c)
	if err != nil {
		return err
	}
	params, err := s.store.FindChatbotParameters(r.Context(), c.project.ID, req.RequestID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, params)
	return nil
}

// handleChatbotParametersMerge sets the body's keys over the conversation's parameters (bots,
// agents): what a bot learnt in the conversation, for the agents who take over.
func (s *Server) handleChatbotParametersMerge(w http.ResponseWriter, r *http.Request, c *call) error {
	req, err := s.visibleRequest(r, c)
	if err != nil {
		return err
	}
	m, err := mergeBody(r, "parameters")
	if err != nil {
		return err
	}
	params, err := s.store.MergeChatbotParameters(r.Context(), c.project.ID, req.RequestID, m, func(all map[string]any) error {
		return tiledesk.CheckJSON("parameters", all, tiledesk.MaxJSONBytes)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, params)
	return nil
}
