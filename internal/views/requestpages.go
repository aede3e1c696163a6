package views

import (
	"context"

	"github.com/tiledesk-go/tiledesk"
)

// populateWithin renders conversations for a as populate does, as many as fit in budget
// bytes (at least one), a chunk at a time (SizeHints.Chunk), and says how many of refs they stand for.
func (v *views) populateWithin(ctx context.Context, a *audienceView, projectID string, refs []tiledesk.RequestRef,
	budget int) (out [][]byte, used int, err error) {
	out = make([][]byte, 0, len(refs))
	size, list := 0, SizeKey{"requests", projectID}
	defer func() { v.sizes.Note(list, size, len(out)) }()
	for used < len(refs) {
		chunk := refs[used:min(len(refs), used+v.sizes.Chunk(list, size, len(out), budget))]
		items, err := v.populateEach(ctx, a, projectID, chunk, nil)
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

// cutPage ends page after its first n conversations, as Leads.cutPage does for leads.
func (r *Requests) cutPage(ctx context.Context, projectID string, f tiledesk.RequestFilter, page *tiledesk.RequestRefPage, n int) (*tiledesk.RequestRefPage, error) {
	f.Limit, f.NoCount = n, true
	head, err := r.fresh.FindRequestRefs(ctx, projectID, f)
	if err != nil {
		return nil, err
	}
	return &tiledesk.RequestRefPage{Refs: page.Refs[:n], Count: page.Count, Next: head.Next}, nil
}

// unpopulatedPage reads a page of conversations whole (no_populate), a chunk at a time through the
// store's cursor (SizeHints.Chunk), and renders for a as many as fit in budget bytes (at least one); it
// returns them with the selection's count and the cursor after the last one shown.
func (v *views) unpopulatedPage(ctx context.Context, a *audienceView, projectID string, f tiledesk.RequestFilter,
	budget int) (items [][]byte, count int, next *tiledesk.Cursor, err error) {
	size, g, list := 0, f, SizeKey{"requests-whole", projectID}
	defer func() { v.sizes.Note(list, size, len(items)) }()
	for first := true; ; first = false {
		g.Limit = min(f.Limit-len(items), v.sizes.Chunk(list, size, len(items), budget))
		page, err := v.store.FindRequests(ctx, projectID, g)
		if err != nil {
			return nil, 0, nil, err
		}
		if first {
			count = page.Count
		}
		for i, req := range page.Requests {
			b, err := a.wire.Unpopulated(req)
			if err != nil {
				return nil, 0, nil, err
			}
			if len(items) > 0 && size+len(b) > budget {
				if i == 0 {
					return items, count, g.After, nil // the cursor this chunk began after
				}
				g.Limit, g.NoCount = i, true
				head, err := v.store.FindRequests(ctx, projectID, g)
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
