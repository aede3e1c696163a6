package views

import (
	"context"

	"github.com/tiledesk-go/tiledesk"
)

// Requests answers the reads of conversations: one, populated, and pages of lists.
type Requests struct {
	*views
	audiences [audiences]*audienceView
}

func newRequests(v *views) *Requests {
	return &Requests{views: v, audiences: newAudienceViews(v.wire)}
}

// One renders req populated for audience a. known, when it describes req (the same conversation
// at the same version), gives the versions of what req is populated with, whose renderings are
// then reused; otherwise they are read.
func (r *Requests) One(ctx context.Context, a Audience, req *tiledesk.Request, known *tiledesk.RequestRef) ([]byte, error) {
	ref := tiledesk.RequestRef{Version: tiledesk.Version{ID: req.ID, UpdatedAt: req.UpdatedAt}, LeadID: req.LeadID,
		DepartmentID: req.DepartmentID, RequesterID: req.RequesterID, ParticipantsAgents: req.ParticipantsAgents,
		ParticipantsBots: req.ParticipantsBots}
	if known != nil && known.ID == req.ID && known.UpdatedAt.Equal(req.UpdatedAt) {
		ref = *known
	}
	out, err := r.populate(ctx, r.audiences[a], req.ProjectID, []tiledesk.RequestRef{ref}, map[string]*tiledesk.Request{req.ID: req})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// Page answers a page of a list of conversations, populated for audience a: f as the request
// asked for it, limit the page's perPage.
func (r *Requests) Page(ctx context.Context, a Audience, projectID string, f tiledesk.RequestFilter, limit int) (Answer, error) {
	return r.page(ctx, a, projectID, f, limit, false, "")
}

// SharedPage is Page of a list that is the same for every caller who asks for it with the same
// query (GET /requests by an owner or admin): the page is kept whole under query and the project's
// population clock, and served again for as long as nothing it shows has changed. A list narrowed
// to its caller (visibility, /requests/me) is never shared.
func (r *Requests) SharedPage(ctx context.Context, a Audience, projectID string, f tiledesk.RequestFilter, limit int, query string) (Answer, error) {
	return r.page(ctx, a, projectID, f, limit, true, query)
}

// page is Page, or SharedPage when shared. The clock is read before the page, so a page is never
// kept under a clock newer than what it shows.
func (r *Requests) page(ctx context.Context, a Audience, projectID string, f tiledesk.RequestFilter, limit int, shared bool, query string) (Answer, error) {
	var pageKey renderKey
	var at version
	if shared && r.renders.enabled() {
		clocks, err := r.fresh.Clocks(ctx, projectID)
		if err != nil {
			return Answer{}, err
		}
		if clocks.Population != (tiledesk.PopulationClock{}) {
			at, pageKey = populationVersion(clocks.Population), renderKeyOf(kindRequestsPage, projectID, query)
			if body, tag, hit := r.renders.getPage(pageKey, at); hit {
				return Answer{Body: body, Tag: tag, Kept: true}, nil
			}
		}
	}
	page, err := r.fresh.FindRequestRefs(ctx, projectID, f)
	if err != nil {
		return Answer{}, err
	}
	items, shown, err := r.populateWithin(ctx, r.audiences[a], projectID, page.Refs, MaxPageBytes)
	if err == nil && shown < len(page.Refs) {
		page, err = r.cutPage(ctx, projectID, f, page, shown)
	}
	if err != nil {
		return Answer{}, err
	}
	body := r.wire.List(nil, "requests", limit, page.Count, items, page.Next)
	if pageKey.kind != 0 {
		return r.keepPage(pageKey, at, body), nil
	}
	return Answer{Body: body}, nil
}

// Unpopulated answers a page of a list of conversations as audience a reads them unpopulated
// (no_populate): their lead, department and requester as ids.
func (r *Requests) Unpopulated(ctx context.Context, a Audience, projectID string, f tiledesk.RequestFilter, limit int) (Answer, error) {
	items, count, next, err := r.unpopulatedPage(ctx, r.audiences[a], projectID, f, MaxPageBytes)
	if err != nil {
		return Answer{}, err
	}
	return Answer{Body: r.wire.List(nil, "requests", limit, count, items, next)}, nil
}
