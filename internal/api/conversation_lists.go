package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

// The routes that change the lists a conversation keeps: participants, notes, tags and followers.
// Each parses its body, builds the change with the domain's rule (request_members.go and
// request_notes.go in the root package) and passes it to the store (change).

// participantLookup finds the project's memberships by user id, as participants name them.
func (s *Server) participantLookup(r *http.Request, c *call) tiledesk.MemberLookup {
	return func(id string) (*tiledesk.ProjectUser, error) {
		return s.store.FindProjectUserByUserID(r.Context(), c.project.ID, id)
	}
}

// followerLookup finds the project's memberships by id, as followers name them.
func (s *Server) followerLookup(r *http.Request, c *call) tiledesk.MemberLookup {
	return func(id string) (*tiledesk.ProjectUser, error) {
		return s.store.FindProjectUserByID(r.Context(), c.project.ID, id)
	}
}

// checkMembers refuses the participants and followers of a new conversation that the domain refuses
// (tiledesk.CheckParticipants, tiledesk.CheckFollowers).
func (s *Server) checkMembers(r *http.Request, c *call, in *tiledesk.NewRequest) error {
	if err := tiledesk.CheckParticipants("participants", in.Participants, s.participantLookup(r, c)); err != nil {
		return err
	}
	return tiledesk.CheckFollowers("followers", in.Request.Followers, s.followerLookup(r, c))
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

// changeOrRefuse passes a change to the store unless building it was refused.
func (s *Server) changeOrRefuse(w http.ResponseWriter, r *http.Request, c *call, populate bool, change tiledesk.RequestChange, err error) error {
	if err != nil {
		return err
	}
	return s.change(w, r, c, populate, change)
}

func (s *Server) handleParticipantAdd(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.addMember(w, r, c, true, tiledesk.AddRequestParticipant, s.participantLookup(r, c))
}

func (s *Server) handleParticipantsSet(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.setMembers(w, r, c, "participants", true, tiledesk.SetRequestParticipants, s.participantLookup(r, c))
}

// addMember adds the member a body names ({"member": id}) to one of a conversation's lists of members.
func (s *Server) addMember(w http.ResponseWriter, r *http.Request, c *call, populate bool,
	add func(string, tiledesk.MemberLookup) (tiledesk.RequestChange, error), look tiledesk.MemberLookup) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	m := b.requiredStr("member")
	if err := b.err(); err != nil {
		return err
	}
	change, err := add(m, look)
	return s.changeOrRefuse(w, r, c, populate, change, err)
}

// setMembers replaces one of a conversation's lists of members with the body's array.
func (s *Server) setMembers(w http.ResponseWriter, r *http.Request, c *call, field string, populate bool,
	set func([]string, tiledesk.MemberLookup) (tiledesk.RequestChange, error), look tiledesk.MemberLookup) error {
	ids, err := stringArrayBody(r, field)
	if err != nil {
		return err
	}
	change, err := set(ids, look)
	return s.changeOrRefuse(w, r, c, populate, change, err)
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
	return s.change(w, r, c, true, tiledesk.RemoveRequestParticipant(r.PathValue("participant")))
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
	var t string
	set(&t, text)
	change, err := tiledesk.AddRequestNote(actorOf(c), t, attrs)
	return s.changeOrRefuse(w, r, c, true, change, err)
}

func (s *Server) handleNoteDelete(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.change(w, r, c, true, tiledesk.DeleteRequestNote(actorOf(c), r.PathValue("note")))
}

func (s *Server) handleRequestTagAdd(w http.ResponseWriter, r *http.Request, c *call) error {
	arr, err := tagArrayBody(r)
	if err != nil {
		return err
	}
	b := &body{}
	tags := parseRequestTags(b, "tags", arr)
	if err := b.err(); err != nil {
		return err
	}
	return s.change(w, r, c, false, tiledesk.AddRequestTags(tags))
}

// handleRequestTagRemove removes a tag by its _id (as the original) or by its name.
func (s *Server) handleRequestTagRemove(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.change(w, r, c, false, tiledesk.RemoveRequestTag(r.PathValue("tag")))
}

func (s *Server) handleFollowerAdd(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.addMember(w, r, c, false, tiledesk.AddRequestFollower, s.followerLookup(r, c))
}

func (s *Server) handleFollowersSet(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.setMembers(w, r, c, "followers", false, tiledesk.SetRequestFollowers, s.followerLookup(r, c))
}

func (s *Server) handleFollowerRemove(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.change(w, r, c, false, tiledesk.RemoveRequestFollower(r.PathValue("follower")))
}
