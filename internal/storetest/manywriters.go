package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

// ManyWriters holds an engine that many processes write at once to its concurrency guarantees:
// stores, each with its own pool, open one database, and writers on every one of them create
// leads, open conversations and reply into one project at the same time. Then every acknowledged
// write is there, tickets are unique, no move of a counter was lost, the project's clocks moved
// with every write as another pool reads them, and an agent's count of assigned conversations is
// the number of open conversations it has.
func ManyWriters(t *testing.T, stores []tiledesk.Store) {
	ctx := context.Background()
	c := newChat(t, stores[0])
	agent, _ := c.agent(t, true)
	const writersPerStore, rounds = 8, 12
	type written struct{ leads, requests, replies []string }
	results := make([]written, len(stores)*writersPerStore)
	var wg sync.WaitGroup
	errs := make(chan error, len(results))
	for k, s := range stores {
		other := viewStore(t, stores[(k+1)%len(stores)])
		for w := 0; w < writersPerStore; w++ {
			i := k*writersPerStore + w
			g := c.guest(t)
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := writeRounds(ctx, c, s, other, g, rounds, &results[i].leads, &results[i].requests, &results[i].replies); err != nil {
					errs <- fmt.Errorf("writer %d: %w", i, err)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var leads, requests, replies []string
	for _, r := range results {
		leads, requests, replies = append(leads, r.leads...), append(requests, r.requests...), append(replies, r.replies...)
	}
	check := stores[len(stores)-1]
	checkLeads(t, check, c.p.ID, leads)
	checkRequests(t, check, c.p.ID, requests, len(replies)/len(requests))
	if n := assigned(t, check, c.p.ID, agent.ID) + assigned(t, check, c.p.ID, c.owner.ID); n != len(requests) {
		t.Errorf("the agents count %d assigned conversations; %d are open", n, len(requests))
	}
	repliesIntoOneConversation(t, c, stores)
}

// repliesIntoOneConversation has writers on every store reply into one conversation at once: a
// reply written on the condition that the conversation did not change must, when it did, be
// written again, never lost nor doubled.
func repliesIntoOneConversation(t *testing.T, c *chat, stores []tiledesk.Store) {
	ctx := context.Background()
	g := c.guest(t)
	r := c.create(t, c.newRequest(g, g.UUIDUser, "one conversation"))
	const writersPerStore, replies = 6, 5
	var wg sync.WaitGroup
	errs := make(chan error, len(stores)*writersPerStore)
	var mu sync.Mutex
	acked := map[string]bool{}
	for _, s := range stores {
		for w := 0; w < writersPerStore; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < replies; i++ {
					_, m, _, _, err := s.PostMessage(ctx, &tiledesk.MessagePost{Message: c.message(r.RequestID, c.owner.ID, "reply"),
						LastMessage: []byte(`{"text":"reply"}`)})
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					acked[m.ID] = true
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	msgs, _, err := stores[0].FindMessages(ctx, c.p.ID, r.RequestID, tiledesk.MessageFilter{})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for _, m := range msgs {
		stored[m.ID]++
	}
	for id := range acked {
		if stored[id] != 1 {
			t.Fatalf("reply %s was acknowledged and is stored %d times", id, stored[id])
		}
	}
	if len(msgs) != len(acked) || len(acked) != len(stores)*writersPerStore*replies {
		t.Fatalf("the conversation holds %d messages; %d replies were acknowledged", len(msgs), len(acked))
	}
}

// writeRounds creates a lead, opens a conversation and replies to it, rounds times, through s,
// and checks after each write that the clocks other reads moved.
func writeRounds(ctx context.Context, c *chat, s tiledesk.Store, other tiledesk.ViewStore, g *tiledesk.ProjectUser, rounds int,
	leads, requests, replies *[]string) error {
	clocks := func() (tiledesk.PopulationClock, error) {
		at, err := other.Clocks(ctx, c.p.ID)
		return at.Population, err
	}
	for i := 0; i < rounds; i++ {
		before, err := clocks()
		if err != nil {
			return err
		}
		l, _, err := s.CreateLead(ctx, newLead(c.p, fmt.Sprintf("%s-%d", g.UUIDUser, i), ""), nil)
		if err != nil {
			return fmt.Errorf("create lead: %w", err)
		}
		*leads = append(*leads, l.ID)
		afterLead, err := clocks()
		if err != nil {
			return err
		}
		if afterLead.Leads <= before.Leads {
			return fmt.Errorf("the lead clock read %d before a lead was created and %d after", before.Leads, afterLead.Leads)
		}
		// A lead clock the store gives cheaply (kept, or read in rounds shared with other callers)
		// is as current as one read alone.
		if k, err := other.KeptLeadClock(ctx, c.p.ID); err != nil || k != 0 && k <= before.Leads {
			return fmt.Errorf("KeptLeadClock read %d (%v) after a lead was created; the lead clock read %d before", k, err, before.Leads)
		}
		in := c.newRequest(g, g.UUIDUser, "hello")
		rid := in.Request.RequestID
		if _, _, _, _, err := s.PostMessage(ctx, &tiledesk.MessagePost{Message: c.message(rid, g.UUIDUser, "first"), Create: in}); err != nil {
			return fmt.Errorf("first message: %w", err)
		}
		*requests = append(*requests, rid)
		_, m, _, _, err := s.PostMessage(ctx, &tiledesk.MessagePost{Message: c.message(rid, g.UUIDUser, "again")})
		if err != nil {
			return fmt.Errorf("reply: %w", err)
		}
		*replies = append(*replies, m.ID)
		after, err := clocks()
		if err != nil {
			return err
		}
		if after.Requests <= afterLead.Requests {
			return fmt.Errorf("the request clock read %d before a conversation and a reply and %d after", afterLead.Requests, after.Requests)
		}
	}
	return nil
}

// checkLeads checks that every acknowledged lead is there and that the count of active leads (a
// counter) agrees with the leads listed.
func checkLeads(t *testing.T, s tiledesk.Store, pid string, want []string) {
	t.Helper()
	page := findLeads(t, s, pid, tiledesk.LeadFilter{Limit: 100000})
	have := map[string]bool{}
	for _, l := range page.Leads {
		have[l.ID] = true
	}
	for _, id := range want {
		if !have[id] {
			t.Fatalf("lead %s was acknowledged and is not there", id)
		}
	}
	if page.Count != len(page.Leads) {
		t.Errorf("the count of leads says %d; %d are listed", page.Count, len(page.Leads))
	}
}

// checkRequests checks that every acknowledged conversation is there with its messages (1 +
// repliesEach; not counted when repliesEach is negative), that no two share a ticket, and that the
// count of open conversations (a counter) agrees with the list.
func checkRequests(t *testing.T, s tiledesk.Store, pid string, want []string, repliesEach int) {
	t.Helper()
	ctx := context.Background()
	page := find(t, s, pid, tiledesk.RequestFilter{Limit: 100000})
	tickets := map[int]string{}
	byID := map[string]bool{}
	for _, r := range page.Requests {
		if other, dup := tickets[r.TicketID]; dup {
			t.Fatalf("ticket %d is both %s's and %s's", r.TicketID, other, r.RequestID)
		}
		tickets[r.TicketID] = r.RequestID
		byID[r.RequestID] = true
	}
	for _, rid := range want {
		if !byID[rid] {
			t.Fatalf("conversation %s was acknowledged and is not there", rid)
		}
		if repliesEach < 0 {
			continue
		}
		msgs, _, err := s.FindMessages(ctx, pid, rid, tiledesk.MessageFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 1+repliesEach {
			t.Fatalf("conversation %s holds %d messages; %d were acknowledged", rid, len(msgs), 1+repliesEach)
		}
	}
	if page.Count != len(page.Requests) || page.Count != len(want) {
		t.Errorf("the count of open conversations says %d; %d are listed, %d were created", page.Count, len(page.Requests), len(want))
	}
}
