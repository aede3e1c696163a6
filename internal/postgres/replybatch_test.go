package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/postgres"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
	"github.com/tiledesk-go/tiledesk/internal/storetest"
)

// replyBench is a project with conversations to reply into at once.
type replyBench struct {
	s     *sqlstore.Store
	p     *tiledesk.Project
	owner *tiledesk.User
	convs []*tiledesk.Request
}

func newReplyBench(t *testing.T, s *sqlstore.Store, n int) *replyBench {
	t.Helper()
	ctx := context.Background()
	p, owner := storetest.NewProject(t, s)
	pu, err := s.FindProjectUserByUserID(ctx, p.ID, owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	b := &replyBench{s: s, p: p, owner: owner}
	for i := 0; i < n; i++ {
		r := &tiledesk.Request{ID: tiledesk.NewID(), ProjectID: p.ID, RequestID: fmt.Sprintf("support-group-%s-%d", p.ID, i),
			FirstText: "hi", Priority: "medium", Channel: tiledesk.Channel{Name: "chat21"},
			ChannelOutbound: tiledesk.Channel{Name: "chat21"}, RequesterID: pu.ID, CreatedBy: owner.ID}
		r, err := s.CreateRequest(ctx, &tiledesk.NewRequest{Request: r, Lead: tiledesk.LeadRef{LeadID: fmt.Sprintf("visitor-%d", i)}})
		if err != nil {
			t.Fatal(err)
		}
		b.convs = append(b.convs, r)
	}
	return b
}

// replyResult is one reply of a round: its message and what PostMessage answered.
type replyResult struct {
	text string
	m    *tiledesk.Message
	r    *tiledesk.Request
	err  error
}

// round posts one reply into every conversation at once, text(i) into the i-th.
func (b *replyBench) round(text func(i int) string) []replyResult {
	out := make([]replyResult, len(b.convs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range b.convs {
		wg.Go(func() {
			now := tiledesk.Now()
			m := &tiledesk.Message{ID: tiledesk.NewID(), ProjectID: b.p.ID, Sender: b.owner.ID, SenderFullname: "Owner",
				Recipient: c.RequestID, Type: "text", ChannelType: "group", Text: text(i),
				Channel: tiledesk.Channel{Name: "chat21"}, CreatedBy: b.owner.ID, CreatedAt: now, UpdatedAt: now}
			last, _ := json.Marshal(map[string]string{"text": m.Text})
			<-start
			r, _, _, _, err := b.s.PostMessage(context.Background(), &tiledesk.MessagePost{Message: m, LastMessage: last})
			out[i] = replyResult{text: m.Text, m: m, r: r, err: err}
		})
	}
	close(start)
	wg.Wait()
	return out
}

// stored maps the ids of the messages stored in the i-th conversation to how many times each is.
func (b *replyBench) stored(t *testing.T, i int) map[string]int {
	t.Helper()
	msgs, _, err := b.s.FindMessages(context.Background(), b.p.ID, b.convs[i].RequestID, tiledesk.MessageFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, m := range msgs {
		out[m.ID]++
	}
	return out
}

// TestRepliesWrittenTogether replies into many conversations at once until replies have shared
// statements: each caller gets its own conversation as written, every reply is stored once with
// its event, and the project's conversation clock moved once for each.
func TestRepliesWrittenTogether(t *testing.T) {
	ctx := context.Background()
	s := open(t, freshSchema(t)+"&pool_max_conns=8")
	b := newReplyBench(t, s, 24)
	before, err := s.Clocks(ctx, b.p.ID)
	if err != nil {
		t.Fatal(err)
	}
	statements0, replies0 := s.ReplyBatches()
	acked := map[string]bool{}
	rounds := 0
	for ; rounds < 30; rounds++ {
		for i, res := range b.round(func(i int) string { return fmt.Sprintf("reply %d to %d", rounds, i) }) {
			if res.err != nil {
				t.Fatalf("reply into conversation %d: %v", i, res.err)
			}
			if res.r.RequestID != b.convs[i].RequestID {
				t.Fatalf("a reply into %s was answered with conversation %s", b.convs[i].RequestID, res.r.RequestID)
			}
			if last, _ := res.r.Attributes["last_message"].(map[string]any); last["text"] != res.text {
				t.Fatalf("conversation %d answered with last_message %v after the reply %q", i, last, res.text)
			}
			if !res.r.UpdatedAt.After(b.convs[i].UpdatedAt) {
				t.Fatalf("conversation %d answered with updatedAt %v, not after %v", i, res.r.UpdatedAt, b.convs[i].UpdatedAt)
			}
			b.convs[i] = res.r
			acked[res.m.ID] = true
		}
		if statements, replies := s.ReplyBatches(); statements-statements0 >= 3 && replies-replies0 > statements-statements0 {
			rounds++
			break
		}
	}
	statements, replies := s.ReplyBatches()
	if statements-statements0 < 3 {
		t.Fatalf("%d rounds of %d concurrent replies shared %d statements", rounds, len(b.convs), statements-statements0)
	}
	t.Logf("%d rounds: %d statements wrote %d replies together", rounds, statements-statements0, replies-replies0)
	// Every round after the first replies into conversations this store wrote last.
	if kept := s.RepliesOnKeptConversations(); kept < int64((rounds-1)*len(b.convs)) {
		t.Errorf("%d of %d replies into conversations the store wrote last read them again", int64((rounds-1)*len(b.convs))-kept, (rounds-1)*len(b.convs))
	}
	for i := range b.convs {
		for id, n := range b.stored(t, i) {
			if n != 1 {
				t.Fatalf("message %s is stored %d times", id, n)
			}
			delete(acked, id)
		}
	}
	if len(acked) != 0 {
		t.Fatalf("%d acknowledged replies are not stored", len(acked))
	}
	after, err := s.Clocks(ctx, b.p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if moved, want := after.Population.Requests-before.Population.Requests, int64(rounds*len(b.convs)); moved != want {
		t.Errorf("the conversation clock moved by %d for %d replies", moved, want)
	}
	events, err := s.FindEvents(ctx, b.p.ID, tiledesk.EventFilter{Name: tiledesk.EventMessageCreate, Limit: tiledesk.MaxEventPage})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != rounds*len(b.convs) {
		t.Errorf("%d message.create events for %d replies", len(events), rounds*len(b.convs))
	}
}

// TestRefusedReplyBatchWritesEachAlone makes the database refuse some replies (a trigger refuses
// their text): a statement carrying one of them wrote none of its replies, and each is then written
// alone, so that only the refused ones fail and every other is stored once.
func TestRefusedReplyBatchWritesEachAlone(t *testing.T) {
	s := open(t, freshSchema(t)+"&pool_max_conns=8")
	b := newReplyBench(t, s, 24)
	refuseText(t, s)
	statements0, _ := s.ReplyBatches()
	deadline := time.Now().Add(20 * time.Second)
	for rounds := 0; ; rounds++ {
		results := b.round(func(i int) string {
			if (i+rounds)%2 == 0 {
				return "refuse"
			}
			return fmt.Sprintf("reply %d to %d", rounds, i)
		})
		for i, res := range results {
			stored := b.stored(t, i)
			switch {
			case res.text == "refuse" && res.err == nil:
				t.Fatalf("the refused reply into conversation %d was acknowledged", i)
			case res.text == "refuse" && stored[res.m.ID] != 0:
				t.Fatalf("the refused reply into conversation %d is stored", i)
			case res.text != "refuse" && res.err != nil:
				t.Fatalf("a reply written beside a refused one failed: %v", res.err)
			case res.text != "refuse" && stored[res.m.ID] != 1:
				t.Fatalf("an acknowledged reply is stored %d times", stored[res.m.ID])
			}
		}
		if statements, _ := s.ReplyBatches(); statements-statements0 >= 3 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d rounds of %d concurrent replies never shared a statement", rounds+1, len(b.convs))
		}
	}
}

// TestRepliesAcrossClose closes the store while replies are being written together: a reply is
// either answered as written and stored once, or refused; none is acknowledged and lost.
func TestRepliesAcrossClose(t *testing.T) {
	ctx := context.Background()
	dsn := freshSchema(t) + "&pool_max_conns=8"
	s, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	b := newReplyBench(t, s, 16)
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	for _, c := range b.convs {
		wg.Go(func() {
			for n := 0; ; n++ {
				now := tiledesk.Now()
				m := &tiledesk.Message{ID: tiledesk.NewID(), ProjectID: b.p.ID, Sender: b.owner.ID, SenderFullname: "Owner",
					Recipient: c.RequestID, Type: "text", ChannelType: "group", Text: fmt.Sprintf("reply %d", n),
					Channel: tiledesk.Channel{Name: "chat21"}, CreatedBy: b.owner.ID, CreatedAt: now, UpdatedAt: now}
				if _, _, _, _, err := s.PostMessage(ctx, &tiledesk.MessagePost{Message: m}); err != nil {
					return // refused once the store closes
				}
				mu.Lock()
				acked[m.ID] = true
				mu.Unlock()
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	if statements, _ := s.ReplyBatches(); statements == 0 {
		t.Error("no replies were written together before the close")
	}
	if err := s.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no reply was acknowledged before the close")
	}
	check := open(t, dsn)
	b.s = check
	stored := map[string]int{}
	for i := range b.convs {
		for id, n := range b.stored(t, i) {
			stored[id] += n
		}
	}
	for id := range acked {
		if stored[id] != 1 {
			t.Fatalf("reply %s was acknowledged and is stored %d times", id, stored[id])
		}
	}
	t.Logf("%d replies acknowledged before the close, all stored once", len(acked))
}

// refuseText makes the database refuse every message whose text is "refuse" (a trigger).
func refuseText(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	for _, q := range []string{
		`CREATE FUNCTION refuse_text() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF NEW.text = 'refuse' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$`,
		`CREATE TRIGGER refuse BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse_text()`,
	} {
		if _, err := s.WriteDB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}
