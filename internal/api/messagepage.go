package api

import (
	"context"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/views"
)

// maxPageBytes bounds a page of messages as it bounds pages of leads and conversations.
const maxPageBytes = views.MaxPageBytes

// messageChunk is how many messages a message list reads from the store at once.
const messageChunk = 200

// messagePage reads the messages of a conversation after f.After, in order, a chunk at a time, and
// renders in view as many as f.Limit asks (every one when 0) and maxPageBytes holds (at least one).
// It returns them with the cursor after the last one shown, or nil when none is left. The original
// answers every message of a conversation at once; a conversation a visitor filled with tens of
// thousands of messages would then be read, rendered and held whole for each reader.
func (s *Server) messagePage(ctx context.Context, view views.Audience, projectID, requestID string,
	f tiledesk.MessageFilter) (items [][]byte, next *tiledesk.Cursor, err error) {
	size, after := 0, f.After
	for {
		chunk := messageChunk
		if f.Limit > 0 {
			chunk = min(chunk, f.Limit-len(items))
		}
		msgs, more, err := s.store.FindMessages(ctx, projectID, requestID, tiledesk.MessageFilter{Limit: chunk, After: after})
		if err != nil {
			return nil, nil, err
		}
		for i, m := range msgs {
			o := messageView(view, m)
			if o == nil {
				continue // hidden from this view; the cursor moves past it with the next one shown
			}
			b, err := encodeJSON(o)
			if err != nil {
				return nil, nil, err
			}
			if len(items) > 0 && size+len(b) > maxPageBytes {
				return items, messageCursor(msgs[i-1], after, i), nil
			}
			items, size = append(items, b), size+len(b)
		}
		if more == nil || (f.Limit > 0 && len(items) >= f.Limit) {
			return items, more, nil
		}
		after = more
	}
}

// messageCursor is the cursor after prev, the message before the i-th of a chunk read after
// after; for i == 0 it is after itself.
func messageCursor(prev *tiledesk.Message, after *tiledesk.Cursor, i int) *tiledesk.Cursor {
	if i == 0 {
		return after
	}
	return &tiledesk.Cursor{Sort: tiledesk.RequestSortCreatedAt, Value: prev.CreatedAt.UnixMilli(), ID: prev.ID}
}
