package views

import (
	"context"

	"github.com/tiledesk-go/tiledesk"
)

// renderLeads returns the JSON of the leads at the given versions, in their order (see
// renderCached), as many as fit in budget bytes (at least one), and how many of the versions they
// stand for. A lead deleted since the versions were read is left out; one changed since is
// rendered as it is now. The leads the render cache holds at their version are taken in place,
// without the map and lists renderCached builds: on a page of 40 those were a sixth of what the
// page allocated. When the versions are a page of a current lead order (order is not nil, span
// places them), the renderings the order keeps are taken first, and the ones found in the cache
// are kept there for the next page. The others are read a chunk at a time (SizeHints.Chunk), so that a
// page of large leads reads about as many as it shows.
func (l *Leads) renderLeads(ctx context.Context, projectID string, versions []tiledesk.Version,
	order *leadOrder, span orderSpan, budget int) (out [][]byte, used int, err error) {
	out = make([][]byte, len(versions)) // out[:shown] the renderings shown; out[used:] those found kept
	// The usual page: every rendering kept, all within the budget.
	size := 0
	for i, v := range versions {
		b := l.keptLead(projectID, v, order, span.at(i))
		if b == nil {
			break
		}
		out[i], size = b, size+len(b)
		if i == len(versions)-1 && size <= budget {
			return out, len(versions), nil
		}
	}
	shown, read := 0, false
	size = 0
	list := SizeKey{"leads", projectID}
	defer func() {
		if read {
			l.sizes.Note(list, size, shown)
		}
	}()
	for used < len(versions) {
		// The next stretch: kept renderings, and up to a chunk of leads to read.
		var missing []wanted
		end, stretch, seen, want := used, size, shown, 0
		for ; end < len(versions) && (want == 0 || len(missing) < want) && (stretch <= budget || end == used); end++ {
			b := out[end]
			if b == nil {
				b = l.keptLead(projectID, versions[end], order, span.at(end))
			}
			if b != nil {
				out[end], stretch, seen = b, stretch+len(b), seen+1
				continue
			}
			if want == 0 {
				want = l.sizes.Chunk(list, stretch, seen, budget)
			}
			missing = append(missing, wanted{id: versions[end].ID}) // not kept at its version: read, not looked up again
		}
		var byID map[string][]byte
		if len(missing) > 0 {
			if byID, err = l.renderLeadsByID(ctx, projectID, missing); err != nil {
				return nil, 0, err
			}
			read = true
		}
		for ; used < end; used++ {
			b := out[used]
			if b == nil {
				b = byID[versions[used].ID]
			}
			if b == nil {
				continue // deleted since
			}
			if shown > 0 && size+len(b) > budget {
				return out[:shown], used, nil
			}
			out[shown], shown, size = b, shown+1, size+len(b)
		}
	}
	return out[:shown], used, nil
}

// keptLead is the rendering of a lead at version v, from the lead order (at position i) or from the
// render cache, which it then keeps in the order; nil when neither has it.
func (l *Leads) keptLead(projectID string, v tiledesk.Version, order *leadOrder, i int) []byte {
	if order != nil {
		if b := order.body(i); b != nil {
			return b
		}
	}
	b, ok := l.renders.get(renderKeyOf(kindLead, projectID, v.ID), versionOf(v.UpdatedAt))
	if !ok {
		return nil
	}
	if order != nil {
		order.keep(i, b)
	}
	return b
}

// cutPage ends page after its first n leads: the others are the next page's, which the store's
// cursor after the n-th lead continues from. The count is still the whole selection's.
func (l *Leads) cutPage(ctx context.Context, projectID string, f tiledesk.LeadFilter, page *tiledesk.VersionPage, n int) (*tiledesk.VersionPage, error) {
	f.Limit, f.NoCount = n, true
	head, err := l.fresh.FindLeadVersions(ctx, projectID, f)
	if err != nil {
		return nil, err
	}
	return &tiledesk.VersionPage{Versions: page.Versions[:n], Count: page.Count, Next: head.Next}, nil
}
