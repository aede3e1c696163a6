package storetest

import (
	"bytes"
	"context"
	"fmt"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// testWritesUnderLoad runs more concurrent first messages, replies and reads than a store has
// connections, as a busy widget does, and fails (with every goroutine's stack) when no write finishes
// for stallAfter: a transaction that waits inside the process for something another transaction
// holds stalls every writer of the project behind the project's lock, and no database sees it. The
// watch is on progress, not on the whole run's length, which grows with the machine's load (40-50 s
// under the race detector on a two-core machine alone, more beside other packages' tests).
func testWritesUnderLoad(t *testing.T, s tiledesk.Store) {
	if testing.Short() {
		t.Skip("-short: the load test takes seconds")
	}
	c := newChat(t, s)
	guests := make([]*tiledesk.ProjectUser, 8)
	for i := range guests {
		guests[i] = c.guest(t)
	}
	const writers, readers, rounds = 48, 8, 25
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var writing, reading sync.WaitGroup
	var written atomic.Int64
	errs := make(chan error, writers+readers)
	for w := 0; w < writers; w++ {
		writing.Add(1)
		go func(w int) {
			defer writing.Done()
			g := guests[w%len(guests)]
			for i := 0; i < rounds; i++ {
				in := c.newRequest(g, g.UUIDUser, fmt.Sprintf("hello %d/%d", w, i))
				rid := in.Request.RequestID
				if _, _, _, _, err := s.PostMessage(ctx, &tiledesk.MessagePost{Message: c.message(rid, g.UUIDUser, "first"), Create: in}); err != nil {
					errs <- fmt.Errorf("first message: %w", err)
					return
				}
				reply := &tiledesk.MessagePost{Message: c.message(rid, c.owner.ID, "reply"), Ref: &tiledesk.RequestRef{}}
				if _, _, _, _, err := s.PostMessage(ctx, reply); err != nil {
					errs <- fmt.Errorf("reply: %w", err)
					return
				}
				written.Add(1)
			}
		}(w)
	}
	stop := make(chan struct{})
	for r := 0; r < readers; r++ {
		reading.Add(1)
		go func() {
			defer reading.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := viewStore(t, s).FindRequestRefs(ctx, c.p.ID, tiledesk.RequestFilter{Limit: 40}); err != nil {
					errs <- fmt.Errorf("list: %w", err)
					return
				}
			}
		}()
	}
	finished := make(chan struct{})
	go func() {
		writing.Wait()
		close(stop)
		reading.Wait()
		close(finished)
	}()
	const stallAfter = 20 * time.Second
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last, lastAt := int64(0), time.Now()
watch:
	for {
		select {
		case <-finished:
			break watch
		case now := <-tick.C:
			if n := written.Load(); n != last {
				last, lastAt = n, now
			} else if now.Sub(lastAt) >= stallAfter {
				var stacks bytes.Buffer
				_ = pprof.Lookup("goroutine").WriteTo(&stacks, 2)
				t.Fatalf("%d writers and %d readers: no conversation written for %v (%d of %d done): a stall\n%s",
					writers, readers, stallAfter, n, writers*rounds, stacks.String())
			}
		}
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	page := find(t, s, c.p.ID, tiledesk.RequestFilter{AllStatuses: true, Limit: 1})
	if page.Count != writers*rounds {
		t.Fatalf("conversations = %d, want %d", page.Count, writers*rounds)
	}
}
