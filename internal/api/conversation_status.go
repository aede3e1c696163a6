package api

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

var errNotParticipant = &apiError{status: http.StatusForbidden, body: map[string]any{"success": false,
	"error": "You must be among the participants to close a conversation."}}

// mayClose is who may close a conversation, however it asks (PUT .../close, PUT .../closeg, PATCH
// status): admins and owners any they see, other agents those they take part in, a visitor its own
// (which is all it sees).
func mayClose(c *call, req *tiledesk.Request) error {
	switch {
	case visibilityOf(c).IsVisitor(), tiledesk.HasRole(c.member.Role, tiledesk.RoleAdmin),
		slices.Contains(req.ParticipantsAgents, c.caller.id):
		return nil
	}
	return errNotParticipant
}

// closeChange closes a conversation, writing its transcript, if the caller may; already closed
// ones are left as they are unless force.
func closeChange(c *call, force bool) tiledesk.RequestChange {
	return func(req *tiledesk.Request, env tiledesk.RequestEnv) ([]string, error) {
		if err := mayClose(c, req); err != nil {
			return nil, err
		}
		if req.Status == tiledesk.RequestClosed && !force {
			return nil, nil
		}
		transcript, err := env.Transcript()
		if err != nil {
			return nil, err
		}
		req.Close(c.caller.id, env.Now(), transcript)
		return []string{tiledesk.EventRequestClose}, nil
	}
}

func (s *Server) handleRequestClose(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	force := b.boolean("force")
	if err := b.err(); err != nil {
		return err
	}
	return s.change(w, r, c, true, closeChange(c, force != nil && *force))
}

// handleRequestCloseByGuest lets a visitor close its own conversation; an agent closes as with
// PUT .../close.
func (s *Server) handleRequestCloseByGuest(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.change(w, r, c, true, closeChange(c, false))
}

// reopen reopens a closed conversation: assigned with participants, unassigned without.
func reopen(req *tiledesk.Request, env tiledesk.RequestEnv) ([]string, error) {
	if req.Status != tiledesk.RequestClosed {
		return nil, nil
	}
	req.Reopen(env.Now())
	return []string{tiledesk.EventRequestReopen}, nil
}

func (s *Server) handleRequestReopen(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.change(w, r, c, true, reopen)
}

// handleRequestRating lets the requester (or an agent who sees it) rate a conversation.
func (s *Server) handleRequestRating(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	rating := b.integer("rating", 0, 10)
	msg := b.str("rating_message")
	if err := b.err(); err != nil {
		return err
	}
	return s.change(w, r, c, true, func(req *tiledesk.Request, _ tiledesk.RequestEnv) ([]string, error) {
		if rating != nil {
			req.Rating = rating
		}
		set(&req.RatingMessage, msg)
		return []string{tiledesk.EventRequestSatisfaction}, nil
	})
}

// statusChange moves a conversation to status as the routes made for it do: closing is PUT
// .../close (same rule, transcript and event), leaving the closed status reopens as PUT .../reopen
// does before the status asked for is set.
func statusChange(c *call, status int) tiledesk.RequestChange {
	closer := closeChange(c, false)
	return func(req *tiledesk.Request, env tiledesk.RequestEnv) ([]string, error) {
		switch {
		case status == req.Status:
			return nil, nil
		case status == tiledesk.RequestClosed:
			return closer(req, env)
		case req.Status == tiledesk.RequestClosed:
			events, err := reopen(req, env)
			req.Status = status
			return events, err
		}
		req.Status = status
		return nil, nil
	}
}

// handleRequestPatch sets the fields the original lets PATCH change.
func (s *Server) handleRequestPatch(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	lead := b.str("lead")
	status := b.integer("status", 0, 1000)
	tags := b.array("tags")
	rating := b.integer("rating", -1_000_000, 1_000_000)
	ratingMsg, sourcePage := b.str("rating_message"), b.strOf("sourcePage", tiledesk.MaxSourcePageBytes)
	language, subject := b.strOf("language", tiledesk.MaxLanguageBytes), b.strOf("subject", tiledesk.MaxSubjectBytes)
	firstText, priority := b.str("first_text"), b.oneOf("priority", "low", "medium", "high", "urgent")
	location := b.boundedObject("location")
	smart := b.boolean("smartAssignment")
	working, channelName := b.str("workingStatus"), b.strOf("channelName", tiledesk.MaxChannelNameBytes)
	if status != nil && !tiledesk.IsRequestStatus(*status) {
		b.fail("status", "must be 50, 100, 150, 200, 300 or 1000", strconv.Itoa(*status))
	}
	if lead != nil && !tiledesk.IsID(*lead) {
		b.fail("lead", "must be a lead id", *lead)
	}
	if firstText != nil && strings.TrimSpace(*firstText) == "" {
		b.fail("first_text", "must not be empty", *firstText)
	}
	reqTags := parseRequestTags(b, "tags", tags)
	if err := b.err(); err != nil {
		return err
	}
	if lead != nil {
		if _, err := s.store.FindLeadByID(r.Context(), c.project.ID, strings.ToLower(*lead)); tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
			return invalidField("lead", "body", "no lead "+*lead+" in this project")
		} else if err != nil {
			return err
		}
	}
	return s.change(w, r, c, true, func(req *tiledesk.Request, env tiledesk.RequestEnv) ([]string, error) {
		var events []string
		if status != nil {
			var err error
			if events, err = statusChange(c, *status)(req, env); err != nil {
				return nil, err
			}
		}
		if lead != nil {
			req.LeadID = strings.ToLower(*lead)
		}
		if tags != nil {
			req.Tags = reqTags
		}
		if rating != nil {
			req.Rating = rating
		}
		set(&req.RatingMessage, ratingMsg)
		set(&req.SourcePage, sourcePage)
		set(&req.Language, language)
		set(&req.FirstText, firstText)
		set(&req.Subject, subject)
		set(&req.Priority, priority)
		set(&req.SmartAssignment, smart)
		set(&req.WorkingStatus, working)
		if channelName != nil {
			req.Channel.Name = *channelName
		}
		if location != nil {
			req.Location = location
		}
		return events, nil
	})
}
