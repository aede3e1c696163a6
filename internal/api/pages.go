package api

import (
	"context"
	"sync"

	"github.com/tiledesk-go/tiledesk"
)

// maxPageBytes bounds the JSON of one page of leads or conversations. A page whose rows would take
// more ends early, after the rows that fit (at least one), and its next_cursor continues from
// there: a page of 1,000 leads of 600 KB each would otherwise be read, rendered and held whole, and
// a few clients asking for such pages at once would take gigabytes. Rows of the usual sizes fill
// the largest pages (1,000 leads, 100 conversations) well within it.
const maxPageBytes = 2 << 20

// maxReadChunk is the most objects a page reads from the store at once when their renderings are
// not kept: a default page, so that a default page of rows of the usual size still reads in one
// query.
const maxReadChunk = 40

// chunkFor is how many more rows a page (or an export's batch) of budget bytes reads, having
// seen seen rows of size bytes: as many as their average says still fit, and one to find the end,
// at most maxReadChunk. Before any row, the average is the one sizes remembers for the list.
func chunkFor(sizes *sizeHints, list sizeHintKey, size, seen, budget int) int {
	avg := 0
	if seen > 0 {
		avg = size / seen
	} else {
		avg = sizes.get(list)
	}
	if avg <= 0 {
		return maxReadChunk
	}
	return max(1, min(maxReadChunk, (budget-size)/avg+1))
}

// sizeHints remember, per project and kind of list, the average size of the rows that list last
// read, so that its next page reads about as many rows as it can show from the first query on.
// Without it a page of leads of 600 KB read 40 of them to show 3. At most maxSizeHints lists are
// remembered; past that all are forgotten (a hint only saves reads).
type sizeHints struct {
	mu sync.Mutex
	m  map[sizeHintKey]int
}

type sizeHintKey struct {
	list      string // "leads", "requests", "requests-whole", "csv:leads.csv", ...
	projectID string
}

const maxSizeHints = 4096

func (h *sizeHints) get(k sizeHintKey) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.m[k]
}

// note remembers the average of rows rows of size bytes.
func (h *sizeHints) note(k sizeHintKey, size, rows int) {
	if rows == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil || len(h.m) >= maxSizeHints {
		h.m = map[sizeHintKey]int{}
	}
	h.m[k] = max(1, size/rows)
}

// renderLeads returns the JSON of the leads at the given versions, in their order (see
// renderCached), as many as fit in budget bytes (at least one), and how many of the versions they
// stand for. A lead deleted since the versions were read is left out; one changed since is
// rendered as it is now. The leads the render cache holds at their version are taken in place,
// without the map and lists renderCached builds: on a page of 40 those were a sixth of what the
// page allocated. When the versions are a page of a current lead order (order is not nil, span
// places them), the renderings the order keeps are taken first, and the ones found in the cache
// are kept there for the next page. The others are read a chunk at a time (chunkFor), so that a
// page of large leads reads about as many as it shows.
func (s *Server) renderLeads(ctx context.Context, projectID string, versions []tiledesk.Version,
	order *leadOrder, span orderSpan, budget int) (out [][]byte, used int, err error) {
	out = make([][]byte, len(versions)) // out[:shown] the renderings shown; out[used:] those found kept
	// The usual page: every rendering kept, all within the budget.
	size := 0
	for i, v := range versions {
		b := s.keptLead(projectID, v, order, span.at(i))
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
	list := sizeHintKey{"leads", projectID}
	defer func() {
		if read {
			s.sizes.note(list, size, shown)
		}
	}()
	for used < len(versions) {
		// The next stretch: kept renderings, and up to a chunk of leads to read.
		var missing []wanted
		end, stretch, seen, want := used, size, shown, 0
		for ; end < len(versions) && (want == 0 || len(missing) < want) && (stretch <= budget || end == used); end++ {
			b := out[end]
			if b == nil {
				b = s.keptLead(projectID, versions[end], order, span.at(end))
			}
			if b != nil {
				out[end], stretch, seen = b, stretch+len(b), seen+1
				continue
			}
			if want == 0 {
				want = chunkFor(s.sizes, list, stretch, seen, budget)
			}
			missing = append(missing, wanted{id: versions[end].ID}) // not kept at its version: read, not looked up again
		}
		var byID map[string][]byte
		if len(missing) > 0 {
			if byID, err = s.renderLeadsByID(ctx, projectID, missing); err != nil {
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
func (s *Server) keptLead(projectID string, v tiledesk.Version, order *leadOrder, i int) []byte {
	if order != nil {
		if b := order.body(i); b != nil {
			return b
		}
	}
	b, ok := s.renders.get(renderKeyOf(kindLead, projectID, v.ID), versionOf(v.UpdatedAt))
	if !ok {
		return nil
	}
	if order != nil {
		order.keep(i, b)
	}
	return b
}

// cutLeadPage ends page after its first n leads: the others are the next page's, which the store's
// cursor after the n-th lead continues from. The count is still the whole selection's.
func (s *Server) cutLeadPage(ctx context.Context, projectID string, f tiledesk.LeadFilter, page *tiledesk.VersionPage, n int) (*tiledesk.VersionPage, error) {
	f.Limit, f.NoCount = n, true
	head, err := s.store.FindLeadVersions(ctx, projectID, f)
	if err != nil {
		return nil, err
	}
	return &tiledesk.VersionPage{Versions: page.Versions[:n], Count: page.Count, Next: head.Next}, nil
}

// renderPopulatedWithin renders conversations in view as renderPopulated does, as many as fit in budget
// bytes (at least one), a chunk at a time (chunkFor), and says how many of refs they stand for.
func (s *Server) renderPopulatedWithin(ctx context.Context, view *conversationView, projectID string, refs []tiledesk.RequestRef,
	budget int) (out [][]byte, used int, err error) {
	out = make([][]byte, 0, len(refs))
	size, list := 0, sizeHintKey{"requests", projectID}
	defer func() { s.sizes.note(list, size, len(out)) }()
	for used < len(refs) {
		chunk := refs[used:min(len(refs), used+chunkFor(s.sizes, list, size, len(out), budget))]
		items, err := s.renderPopulatedEach(ctx, view, projectID, chunk, nil)
		if err != nil {
			return nil, 0, err
		}
		for _, b := range items {
			if b != nil {
				if len(out) > 0 && size+len(b) > budget {
					return out, used, nil
				}
				out, size = append(out, b), size+len(b)
			}
			used++
		}
	}
	return out, used, nil
}

// cutRequestPage ends page after its first n conversations, as cutLeadPage does for leads.
func (s *Server) cutRequestPage(ctx context.Context, projectID string, f tiledesk.RequestFilter, page *tiledesk.RequestRefPage, n int) (*tiledesk.RequestRefPage, error) {
	f.Limit, f.NoCount = n, true
	head, err := s.store.FindRequestRefs(ctx, projectID, f)
	if err != nil {
		return nil, err
	}
	return &tiledesk.RequestRefPage{Refs: page.Refs[:n], Count: page.Count, Next: head.Next}, nil
}

// unpopulatedPage reads a page of conversations whole (no_populate), a chunk at a time through the
// store's cursor (chunkFor), and renders in view as many as fit in budget bytes (at least one); it
// returns them with the selection's count and the cursor after the last one shown.
func (s *Server) unpopulatedPage(ctx context.Context, view *conversationView, projectID string, f tiledesk.RequestFilter,
	budget int) (items [][]byte, count int, next *tiledesk.Cursor, err error) {
	size, g, list := 0, f, sizeHintKey{"requests-whole", projectID}
	defer func() { s.sizes.note(list, size, len(items)) }()
	for first := true; ; first = false {
		g.Limit = min(f.Limit-len(items), chunkFor(s.sizes, list, size, len(items), budget))
		page, err := s.store.FindRequests(ctx, projectID, g)
		if err != nil {
			return nil, 0, nil, err
		}
		if first {
			count = page.Count
		}
		for i, req := range page.Requests {
			b, err := encodeJSON(unpopulated(view, req))
			if err != nil {
				return nil, 0, nil, err
			}
			if len(items) > 0 && size+len(b) > budget {
				if i == 0 {
					return items, count, g.After, nil // the cursor this chunk began after
				}
				g.Limit, g.NoCount = i, true
				head, err := s.store.FindRequests(ctx, projectID, g)
				if err != nil {
					return nil, 0, nil, err
				}
				return items, count, head.Next, nil
			}
			items, size = append(items, b), size+len(b)
		}
		if page.Next == nil || len(items) >= f.Limit {
			return items, count, page.Next, nil
		}
		g.After, g.Offset, g.NoCount = page.Next, 0, true
	}
}
