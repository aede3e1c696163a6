package views

import (
	"context"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// Leads answers the reads of leads: one by id, and pages of lead lists.
type Leads struct {
	*views
	orders *leadOrders // nil: none kept
}

// One answers the lead id of the project.
//
// A lead rendered before needs only its version read (one column instead of twenty, each read and
// converted by the driver), and not even that while the project's lead clock is kept and reads what
// it read when that version was last found current; a lead whose rendering is stale or missing is
// read whole, and its rendering at the version read is still used if another request just made it.
// The clock is read before the lead, so that a rendering is never confirmed under a clock newer
// than the row it was checked against.
func (l *Leads) One(ctx context.Context, projectID, id string) ([]byte, error) {
	key := renderKeyOf(kindLead, projectID, id)
	clock, err := l.fresh.KeptLeadClock(ctx, projectID) // 0: not kept, and confirms nothing
	if err != nil {
		return nil, err
	}
	if kept, ok := l.renders.lookup(key); ok {
		if clock != 0 && kept.clock == clock {
			return kept.body, nil
		}
		updated, err := l.fresh.LeadVersion(ctx, projectID, id)
		if err != nil {
			return nil, err
		}
		if kept.version == versionOf(updated) {
			l.renders.confirm(key, kept.version, clock)
			return kept.body, nil
		}
	}
	var kept []byte
	lead, updated, err := l.fresh.FindLeadUnlessKept(ctx, projectID, id, func(updated time.Time) bool {
		var ok bool
		kept, ok = l.renders.get(key, versionOf(updated))
		return ok
	})
	if err != nil {
		return nil, err
	}
	defer l.renders.confirm(key, versionOf(updated), clock)
	if lead == nil {
		return kept, nil
	}
	byID, err := renderCached(l.renders, kindLead, projectID, []wanted{{id: id, v: versionOf(updated), known: true}},
		func([]string) (map[string]*tiledesk.Lead, error) { return map[string]*tiledesk.Lead{id: lead}, nil }, l.renderLead)
	if err != nil {
		return nil, err
	}
	return byID[id], nil
}

// Page answers a page of a lead list: f as the request asked for it, limit the page's perPage. An
// answer that is not kept is assembled in buf.
//
// The head of a list is kept whole under the project's lead clock, read before the page so that a
// page is never kept under a clock newer than what it shows (keptWhole). The first page of a lookup
// by email or of a sync feed is kept as its leads' ids and versions under the same clock, read
// before the page for the same reason (keptSelection). A page deeper than the head of the default
// list comes from the project's lead order when it is current (leadOrders).
func (l *Leads) Page(ctx context.Context, projectID string, f tiledesk.LeadFilter, limit int, buf []byte) (Answer, error) {
	var pageKey, selectionKey renderKey
	var clock int64
	var err error
	if keptWhole(f) && l.renders.enabled() {
		if clock, err = l.fresh.LeadListClock(ctx, projectID); err != nil {
			return Answer{}, err
		}
		pageKey = renderKeyOf(kindLeadsPage, projectID, headKey(f))
		if body, tag, hit := l.renders.getPage(pageKey, version{clock}); hit {
			return Answer{Body: body, Tag: tag, Kept: true}, nil
		}
	}
	var page *tiledesk.VersionPage
	if keptSelection(f) && l.renders.enabled() {
		if clock, err = l.fresh.LeadListClock(ctx, projectID); err != nil {
			return Answer{}, err
		}
		selectionKey = renderKeyOf(kindLeadSelection, projectID, selectionKeyText(f))
		if b, hit := l.renders.get(selectionKey, version{clock}); hit {
			page = decodeSelection(b)
		}
	}
	var order *leadOrder
	var span orderSpan
	if desc, ordered := orderedList(f); ordered && l.orders != nil && pageKey.kind == 0 {
		if clock, err = l.fresh.LeadListClock(ctx, projectID); err != nil {
			return Answer{}, err
		}
		if order = l.orders.get(projectID, clock); order != nil {
			page, span = order.page(f, desc)
		}
	}
	if page == nil {
		if page, err = l.fresh.FindLeadVersions(ctx, projectID, f); err != nil {
			return Answer{}, err
		}
		if selectionKey.kind != 0 && page.Next == nil {
			if b := encodeSelection(page); b != nil {
				l.renders.put(selectionKey, version{clock}, b)
			}
		}
	}
	leads, shown, err := l.renderLeads(ctx, projectID, page.Versions, order, span, MaxPageBytes)
	if err == nil && shown < len(page.Versions) {
		page, err = l.cutPage(ctx, projectID, f, page, shown)
	}
	if err != nil {
		return Answer{}, err
	}
	if pageKey.kind != 0 {
		body := l.wire.List(nil, "leads", limit, page.Count, leads, page.Next)
		return l.keepPage(pageKey, version{clock}, body), nil
	}
	return Answer{Body: l.wire.List(buf, "leads", limit, page.Count, leads, page.Next)}, nil
}

// renderLead is a lead's rendering and the version it is kept at.
func (v *views) renderLead(l *tiledesk.Lead) ([]byte, version, error) {
	b, err := v.wire.Lead(make([]byte, 0, 512), l)
	return b, versionOf(l.UpdatedAt), err
}

// renderLeadsByID renders the wanted leads (renderCached).
func (v *views) renderLeadsByID(ctx context.Context, projectID string, wants []wanted) (map[string][]byte, error) {
	return renderCached(v.renders, kindLead, projectID, wants,
		func(ids []string) (map[string]*tiledesk.Lead, error) {
			return v.store.FindLeadsByIDs(ctx, projectID, ids)
		},
		v.renderLead)
}
