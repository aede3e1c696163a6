package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
)

// visitorsPerSeed is how many guest memberships the seeded conversations share: a visitor comes
// back many times, and a membership per conversation would only slow the seeding down.
const visitorsPerSeed = 1000

// seedConversations opens n conversations in the fixture's project, each started by one of a
// thousand visitors with the owner as its participant (explicit participants skip routing), and
// adds messages so that there are m in all, through the store's own CreateRequest and AddMessages
// (one transaction each), from concurrent writers so that the engine's group commit applies.
func seedConversations(ctx context.Context, store *sqlstore.Store, f *fixture, ownerID string, n, m int) error {
	if n == 0 {
		return nil
	}
	now := tiledesk.Now()
	visitors := make([]*tiledesk.ProjectUser, min(visitorsPerSeed, n))
	for i := range visitors {
		id := fmt.Sprintf("visitor-%d", i)
		pu := tiledesk.NewProjectUser(f.pid, tiledesk.RoleGuest, id, now)
		pu.UUIDUser = id
		if err := store.CreateProjectUser(ctx, pu); err != nil {
			return fmt.Errorf("seed visitor: %w", err)
		}
		visitors[i] = pu
	}
	perRequest := max(m/n, 1)
	f.requestIDs = make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := seedConversation(ctx, store, f, ownerID, visitors[i%len(visitors)], i, perRequest); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func seedConversation(ctx context.Context, store *sqlstore.Store, f *fixture, ownerID string, visitor *tiledesk.ProjectUser, i, messages int) error {
	rid := fmt.Sprintf("support-group-%s-seed%d", f.pid, i)
	leadID := visitor.UUIDUser
	r := &tiledesk.Request{ID: tiledesk.NewID(), ProjectID: f.pid, RequestID: rid, FirstText: fmt.Sprintf("Hello, question %d", i),
		Priority: "medium", Channel: tiledesk.Channel{Name: "chat21"}, ChannelOutbound: tiledesk.Channel{Name: "chat21"},
		SmartAssignment: true, RequesterID: visitor.ID, CreatedBy: leadID}
	in := &tiledesk.NewRequest{Request: r, Participants: []string{ownerID},
		Lead: tiledesk.LeadRef{LeadID: leadID, Fullname: "Visitor " + leadID, Email: leadID + "@visitors.example"}}
	if _, err := store.CreateRequest(ctx, in); err != nil {
		return fmt.Errorf("seed request %d: %w", i, err)
	}
	msgs := make([]*tiledesk.Message, messages)
	for k := range msgs {
		sender, name := leadID, "Visitor"
		if k%2 == 1 {
			sender, name = ownerID, "Bench Owner"
		}
		at := tiledesk.Now().Add(time.Duration(k) * time.Millisecond)
		msgs[k] = &tiledesk.Message{ID: tiledesk.NewIDAt(at), ProjectID: f.pid, Sender: sender, SenderFullname: name,
			Recipient: rid, Type: "text", ChannelType: "group", Text: fmt.Sprintf("message %d of conversation %d", k, i),
			Channel: tiledesk.Channel{Name: "chat21"}, CreatedBy: sender, CreatedAt: at, UpdatedAt: at}
	}
	last, _ := json.Marshal(map[string]any{"text": msgs[len(msgs)-1].Text, "sender": msgs[len(msgs)-1].Sender})
	if _, err := store.AddMessages(ctx, f.pid, rid, nil, msgs, last); err != nil {
		return fmt.Errorf("seed messages of request %d: %w", i, err)
	}
	f.requestIDs[i] = rid
	return nil
}
