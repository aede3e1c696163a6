package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

// The routes that change a conversation's status, rating and fields. Each parses its body, builds
// the change with the domain's rule (request_rules.go in the root package) and passes it to the
// store (change); the rule's refusals are answered through the one status table (respond.go).

func (s *Server) handleRequestClose(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	force := b.boolean("force")
	if err := b.err(); err != nil {
		return err
	}
	return s.change(w, r, c, true, tiledesk.CloseRequest(actorOf(c), force != nil && *force))
}

// handleRequestCloseByGuest lets a visitor close its own conversation; an agent closes as with
// PUT .../close.
func (s *Server) handleRequestCloseByGuest(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.change(w, r, c, true, tiledesk.CloseRequest(actorOf(c), false))
}

func (s *Server) handleRequestReopen(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.change(w, r, c, true, tiledesk.ReopenRequest())
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
	return s.change(w, r, c, true, tiledesk.RateRequest(rating, msg))
}

// handleRequestPatch sets the fields the original lets PATCH change.
func (s *Server) handleRequestPatch(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := requestPatchBody(r)
	if err != nil {
		return err
	}
	change, err := tiledesk.PatchRequest(actorOf(c), p, func(id string) (*tiledesk.Lead, error) {
		return s.store.FindLeadByID(r.Context(), c.project.ID, id)
	})
	if err != nil {
		return err
	}
	return s.change(w, r, c, true, change)
}

// requestPatchBody reads the body of PATCH /requests/{rid}, naming every offending field.
func requestPatchBody(r *http.Request) (tiledesk.RequestPatch, error) {
	b, err := decodeObject(r)
	if err != nil {
		return tiledesk.RequestPatch{}, err
	}
	var p tiledesk.RequestPatch
	p.LeadID, p.Status = b.str("lead"), b.integer("status", 0, 1000)
	tags := b.array("tags")
	p.Rating, p.RatingMessage = b.integer("rating", -1_000_000, 1_000_000), b.str("rating_message")
	p.SourcePage = b.strOf("sourcePage", tiledesk.MaxSourcePageBytes)
	p.Language, p.Subject = b.strOf("language", tiledesk.MaxLanguageBytes), b.strOf("subject", tiledesk.MaxSubjectBytes)
	p.FirstText, p.Priority = b.str("first_text"), b.oneOf("priority", "low", "medium", "high", "urgent")
	p.Location = b.boundedObject("location")
	p.SmartAssignment = b.boolean("smartAssignment")
	p.WorkingStatus, p.ChannelName = b.str("workingStatus"), b.strOf("channelName", tiledesk.MaxChannelNameBytes)
	if p.Status != nil && !tiledesk.IsRequestStatus(*p.Status) {
		b.fail("status", "must be 50, 100, 150, 200, 300 or 1000", strconv.Itoa(*p.Status))
	}
	if p.LeadID != nil && !tiledesk.IsID(*p.LeadID) {
		b.fail("lead", "must be a lead id", *p.LeadID)
	}
	if p.FirstText != nil && strings.TrimSpace(*p.FirstText) == "" {
		b.fail("first_text", "must not be empty", *p.FirstText)
	}
	reqTags := parseRequestTags(b, "tags", tags)
	if tags != nil { // an empty array clears the tags
		p.Tags = append([]tiledesk.RequestTag{}, reqTags...)
	}
	return p, b.err()
}
