package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

// The lists a conversation keeps that writes lengthen: participants, notes, tags and followers.
// Each item is checked here as it arrives; how many a conversation holds is checked where the
// stored list is known, in the store's transaction (tiledesk.CheckRequestGrowth).

// checkParticipants refuses participants that are neither bots nor active agents of the project,
// and more of them than a conversation holds before looking any up.
func (s *Server) checkParticipants(r *http.Request, c *call, ids []string) error {
	if len(ids) > tiledesk.MaxParticipants {
		return invalidField("participants", "body", fmt.Sprintf("a conversation holds at most %d participants", tiledesk.MaxParticipants))
	}
	for _, id := range ids {
		if len(id) > tiledesk.MaxParticipantBytes {
			return invalidField("participants", "body", fmt.Sprintf("a participant is at most %d bytes", tiledesk.MaxParticipantBytes))
		}
		if strings.HasPrefix(id, tiledesk.BotPrefix) && len(id) > len(tiledesk.BotPrefix) {
			continue
		}
		if !tiledesk.IsID(id) {
			return invalidField("participants", "body", "participants are agents' user ids or bot_<id>")
		}
		pu, err := s.store.FindProjectUserByUserID(r.Context(), c.project.ID, id)
		if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND || err == nil && (!pu.IsActive() || pu.RoleType != tiledesk.RoleTypeAgent) {
			return invalidField("participants", "body", id+" is not an active agent of the project")
		} else if err != nil {
			return err
		}
	}
	return nil
}

// parseRequestTags reads tags given as strings or {tag, color} objects, without duplicate names.
func parseRequestTags(b *body, field string, arr []any) []tiledesk.RequestTag {
	var out []tiledesk.RequestTag
	for _, e := range arr {
		var tag, color string
		switch x := e.(type) {
		case string:
			tag = x
		case map[string]any:
			tag, _ = x["tag"].(string)
			color, _ = x["color"].(string)
		}
		if len(color) > tiledesk.MaxTagColorBytes {
			b.fail(field, fmt.Sprintf("a tag's color is at most %d bytes", tiledesk.MaxTagColorBytes), nil)
			return nil
		}
		tag = strings.TrimSpace(tag)
		if tag == "" || len(tag) > maxTagBytes {
			b.fail(field, fmt.Sprintf(`tags are strings or {"tag","color"} objects with a tag of 1 to %d bytes`, maxTagBytes), nil)
			return nil
		}
		if !slices.ContainsFunc(out, func(t tiledesk.RequestTag) bool { return t.Tag == tag }) {
			out = append(out, tiledesk.RequestTag{ID: tiledesk.NewID(), Tag: tag, Color: color})
		}
	}
	if len(out) > maxTags {
		b.fail(field, fmt.Sprintf("must hold at most %d tags", maxTags), nil)
		return nil
	}
	return out
}

func (s *Server) handleParticipantAdd(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	m := b.requiredStr("member")
	if err := b.err(); err != nil {
		return err
	}
	if err := s.checkParticipants(r, c, []string{m}); err != nil {
		return asField(err, "member")
	}
	return s.change(w, r, c, true, func(req *tiledesk.Request, env tiledesk.RequestEnv) ([]string, error) {
		req.AddParticipant(m, env.Now())
		return []string{tiledesk.EventRequestParticipants}, nil
	})
}

func (s *Server) handleParticipantsSet(w http.ResponseWriter, r *http.Request, c *call) error {
	ids, err := stringArrayBody(r, "participants")
	if err != nil {
		return err
	}
	if err := s.checkParticipants(r, c, ids); err != nil {
		return err
	}
	return s.change(w, r, c, true, func(req *tiledesk.Request, env tiledesk.RequestEnv) ([]string, error) {
		req.SetParticipants(ids, env.Now())
		return []string{tiledesk.EventRequestParticipants}, nil
	})
}

// stringArrayBody reads a body that is a JSON array of strings.
func stringArrayBody(r *http.Request, field string) ([]string, error) {
	v, err := decodeValue(r)
	if err != nil {
		return nil, err
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, invalidField(field, "body", "the body must be a JSON array of strings")
	}
	b := &body{m: map[string]any{field: arr}}
	out := b.strs(field)
	return out, b.err()
}

func (s *Server) handleParticipantRemove(w http.ResponseWriter, r *http.Request, c *call) error {
	id := r.PathValue("participant")
	return s.change(w, r, c, true, func(req *tiledesk.Request, env tiledesk.RequestEnv) ([]string, error) {
		if !req.RemoveParticipant(id, env.Now()) {
			return nil, &apiError{status: http.StatusBadRequest, body: map[string]any{"success": false,
				"error": "Unable to remove the participant " + id + " from the request " + req.RequestID}}
		}
		return []string{tiledesk.EventRequestParticipants}, nil
	})
}

func (s *Server) handleNoteAdd(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	text := b.str("text")
	attrs := b.boundedObject("attributes")
	if err := b.err(); err != nil {
		return err
	}
	if text == nil || strings.TrimSpace(*text) == "" {
		return &apiError{status: http.StatusBadRequest, body: map[string]any{"success": false, "error": "Field 'text' is required."}}
	}
	return s.change(w, r, c, true, func(req *tiledesk.Request, env tiledesk.RequestEnv) ([]string, error) {
		if err := mustParticipate(c, req); err != nil {
			return nil, err
		}
		now := env.Now()
		req.Notes = append(slices.Clone(req.Notes), tiledesk.Note{ID: tiledesk.NewIDAt(now), Text: *text, Attributes: attrs,
			CreatedBy: c.caller.id, CreatedAt: now, UpdatedAt: now})
		return nil, nil
	})
}

// mustParticipate lets agents below admin touch notes only of the conversations they take part in.
func mustParticipate(c *call, req *tiledesk.Request) error {
	if tiledesk.HasRole(c.member.Role, tiledesk.RoleAdmin) || slices.Contains(req.ParticipantsAgents, c.caller.id) {
		return nil
	}
	return errMsg(http.StatusForbidden, "You must be among the participants of the conversation.")
}

func (s *Server) handleNoteDelete(w http.ResponseWriter, r *http.Request, c *call) error {
	noteID := r.PathValue("note")
	return s.change(w, r, c, true, func(req *tiledesk.Request, env tiledesk.RequestEnv) ([]string, error) {
		if err := mustParticipate(c, req); err != nil {
			return nil, err
		}
		i := slices.IndexFunc(req.Notes, func(n tiledesk.Note) bool { return n.ID == noteID })
		if i < 0 {
			return nil, errNotFound
		}
		req.Notes = slices.Delete(slices.Clone(req.Notes), i, i+1)
		return nil, nil
	})
}

func (s *Server) handleRequestTagAdd(w http.ResponseWriter, r *http.Request, c *call) error {
	v, err := decodeValue(r)
	if err != nil {
		return err
	}
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return errNoTag
	}
	b := &body{}
	tags := parseRequestTags(b, "tags", arr)
	if err := b.err(); err != nil {
		return err
	}
	return s.change(w, r, c, false, func(req *tiledesk.Request, _ tiledesk.RequestEnv) ([]string, error) {
		out := slices.Clone(req.Tags)
		for _, t := range tags {
			if !slices.ContainsFunc(out, func(x tiledesk.RequestTag) bool { return x.Tag == t.Tag }) {
				out = append(out, t)
			}
		}
		req.Tags = out // the store refuses more than a conversation holds
		return []string{tiledesk.EventRequestTags}, nil
	})
}

// handleRequestTagRemove removes a tag by its _id (as the original) or by its name.
func (s *Server) handleRequestTagRemove(w http.ResponseWriter, r *http.Request, c *call) error {
	key := r.PathValue("tag")
	return s.change(w, r, c, false, func(req *tiledesk.Request, _ tiledesk.RequestEnv) ([]string, error) {
		req.Tags = slices.DeleteFunc(slices.Clone(req.Tags), func(t tiledesk.RequestTag) bool { return t.ID == key || t.Tag == key })
		return []string{tiledesk.EventRequestTags}, nil
	})
}

// checkFollowers refuses followers that are not active agent-side memberships (project user ids),
// and more of them than a conversation holds before looking any up.
func (s *Server) checkFollowers(r *http.Request, c *call, ids []string) error {
	if len(ids) > tiledesk.MaxFollowers {
		return invalidField("followers", "body", fmt.Sprintf("a conversation holds at most %d followers", tiledesk.MaxFollowers))
	}
	for _, id := range ids {
		if !tiledesk.IsID(id) {
			return invalidField("member", "body", "followers are project user ids")
		}
		pu, err := s.store.FindProjectUserByID(r.Context(), c.project.ID, strings.ToLower(id))
		if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND || err == nil && (!pu.IsActive() || pu.RoleType != tiledesk.RoleTypeAgent) {
			return invalidField("member", "body", id+" is not an active teammate of the project")
		} else if err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) handleFollowerAdd(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	m := strings.ToLower(b.requiredStr("member"))
	if err := b.err(); err != nil {
		return err
	}
	if err := s.checkFollowers(r, c, []string{m}); err != nil {
		return err
	}
	return s.change(w, r, c, false, func(req *tiledesk.Request, _ tiledesk.RequestEnv) ([]string, error) {
		if !slices.Contains(req.Followers, m) {
			req.Followers = append(slices.Clone(req.Followers), m)
		}
		return []string{tiledesk.EventRequestFollowers}, nil
	})
}

func (s *Server) handleFollowersSet(w http.ResponseWriter, r *http.Request, c *call) error {
	ids, err := stringArrayBody(r, "followers")
	if err != nil {
		return err
	}
	for i := range ids {
		ids[i] = strings.ToLower(ids[i])
	}
	if err := s.checkFollowers(r, c, ids); err != nil {
		return err
	}
	return s.change(w, r, c, false, func(req *tiledesk.Request, _ tiledesk.RequestEnv) ([]string, error) {
		req.Followers = dedupeStrings(ids)
		return []string{tiledesk.EventRequestFollowers}, nil
	})
}

func dedupeStrings(in []string) []string {
	out := []string{}
	for _, s := range in {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func (s *Server) handleFollowerRemove(w http.ResponseWriter, r *http.Request, c *call) error {
	id := strings.ToLower(r.PathValue("follower"))
	return s.change(w, r, c, false, func(req *tiledesk.Request, _ tiledesk.RequestEnv) ([]string, error) {
		req.Followers = slices.DeleteFunc(slices.Clone(req.Followers), func(f string) bool { return f == id })
		return []string{tiledesk.EventRequestFollowers}, nil
	})
}
