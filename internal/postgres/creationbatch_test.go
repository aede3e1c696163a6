package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/storetest"
)

// TestFirstMessagesWrittenTogether: first messages posted at once are written in shared
// transactions, with every guarantee the conformance test checks (storetest.FirstMessagesAtOnce).
func TestFirstMessagesWrittenTogether(t *testing.T) {
	s := open(t, freshSchema(t)+"&pool_max_conns=8")
	storetest.FirstMessagesAtOnce(t, s)
	batches, conversations, _ := s.CreationBatches()
	if batches == 0 || conversations <= batches {
		t.Fatalf("%d batches wrote %d conversations together", batches, conversations)
	}
	t.Logf("%d batches wrote %d conversations together", batches, conversations)
}

// TestRefusedCreationBatchWritesEachAlone makes the database refuse some first messages (a
// trigger refuses their text): the batch's transaction wrote none of its conversations, and each
// is then written alone, so that only the refused ones fail, leaving no conversation behind, and
// every other is stored once.
func TestRefusedCreationBatchWritesEachAlone(t *testing.T) {
	ctx := context.Background()
	s := open(t, freshSchema(t)+"&pool_max_conns=8")
	p, first := storetest.NewVisitorChat(t, s, 8)
	refuseText(t, s)
	_, _, refused0 := s.CreationBatches()
	deadline := time.Now().Add(20 * time.Second)
	for round := 0; ; round++ {
		posts := make([]*tiledesk.MessagePost, 16)
		errs := make([]error, len(posts))
		for i := range posts {
			text := fmt.Sprintf("hello %d.%d", round, i)
			if (i+round)%3 == 0 {
				text = "refuse"
			}
			posts[i] = first(i%8, text)
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, post := range posts {
			wg.Go(func() {
				<-start
				_, _, _, _, errs[i] = s.PostMessage(ctx, post)
			})
		}
		close(start)
		wg.Wait()
		for i, post := range posts {
			rid := post.Message.Recipient
			_, findErr := s.FindRequest(ctx, p.ID, rid, nil)
			switch refused := refused(post); {
			case refused && errs[i] == nil:
				t.Fatalf("the refused first message to %s was acknowledged", rid)
			case refused && tiledesk.ErrorCode(findErr) != tiledesk.ENOTFOUND:
				t.Fatalf("the refused first message left its conversation %s (%v)", rid, findErr)
			case !refused && errs[i] != nil:
				t.Fatalf("a first message written beside a refused one failed: %v", errs[i])
			case !refused && findErr != nil:
				t.Fatalf("an acknowledged conversation %s is not there: %v", rid, findErr)
			}
			if !refused(post) {
				msgs, _, err := s.FindMessages(ctx, p.ID, rid, tiledesk.MessageFilter{})
				if err != nil || len(msgs) != 1 || msgs[0].ID != post.Message.ID {
					t.Fatalf("conversation %s holds %d messages (%v)", rid, len(msgs), err)
				}
			}
		}
		if _, _, n := s.CreationBatches(); n > refused0 || time.Now().After(deadline) {
			break
		}
	}
	if _, _, n := s.CreationBatches(); n == refused0 {
		t.Fatal("no batch of several first messages was refused: the rounds did not test the refusal")
	}
}

func refused(post *tiledesk.MessagePost) bool { return post.Message.Text == "refuse" }
