package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClocks reads, for every project, the number of reads started so far, including its own: a
// caller's answer is newer than its call exactly when the read started after the call.
type fakeClocks struct {
	started  atomic.Int64
	running  atomic.Int64
	maxSeen  atomic.Int64
	projects atomic.Int64
	delay    time.Duration
	fail     error
}

func (f *fakeClocks) read(ctx context.Context, projectIDs []string) (map[string]clockRow, error) {
	n := f.started.Add(1)
	if r := f.running.Add(1); r > f.maxSeen.Load() {
		f.maxSeen.Store(r)
	}
	defer f.running.Add(-1)
	f.projects.Add(int64(len(projectIDs)))
	time.Sleep(f.delay)
	if f.fail != nil {
		return nil, f.fail
	}
	out := map[string]clockRow{}
	for _, id := range projectIDs {
		out[id] = clockRow{leads: n}
	}
	return out, nil
}

func TestClockRoundsAnswerWithReadsStartedAfterTheCall(t *testing.T) {
	f := &fakeClocks{delay: 2 * time.Millisecond}
	c := newClockRounds(f.read)
	const callers, calls = 32, 20
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for g := 0; g < callers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < calls; i++ {
				pid := fmt.Sprintf("p%d", (g+i)%5)
				before := f.started.Load()
				row, err := c.get(context.Background(), pid)
				if err != nil {
					errs <- err
					return
				}
				if row.leads <= before {
					errs <- fmt.Errorf("%s: answered by read %d, which started before the call (%d had)", pid, row.leads, before)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if reads := f.started.Load(); reads >= callers*calls/2 {
		t.Fatalf("%d calls took %d reads: rounds are not shared", callers*calls, reads)
	}
	if m := f.maxSeen.Load(); m > maxRunningRounds {
		t.Fatalf("%d rounds read at once, more than %d", m, maxRunningRounds)
	}
}

func TestClockRoundsSplitManyProjects(t *testing.T) {
	f := &fakeClocks{delay: 5 * time.Millisecond}
	c := newClockRounds(f.read)
	const projects = 3*maxRoundProjects + 7
	var wg sync.WaitGroup
	var wrong atomic.Int64
	for i := 0; i < projects; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if row, err := c.get(context.Background(), fmt.Sprintf("p%d", i)); err != nil || row.leads == 0 {
				wrong.Add(1)
			}
		}()
	}
	wg.Wait()
	if wrong.Load() != 0 {
		t.Fatalf("%d of %d projects had no answer", wrong.Load(), projects)
	}
	if f.projects.Load() < projects {
		t.Fatalf("the rounds read %d projects for %d callers", f.projects.Load(), projects)
	}
	if min := int64(projects / maxRoundProjects); f.started.Load() < min {
		t.Fatalf("%d projects were read in %d rounds; a round holds at most %d", projects, f.started.Load(), maxRoundProjects)
	}
}

func TestClockRoundsGiveTheReadsErrorAndHonourTheCallersContext(t *testing.T) {
	boom := errors.New("boom")
	f := &fakeClocks{fail: boom}
	c := newClockRounds(f.read)
	if _, err := c.get(context.Background(), "p"); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the read's", err)
	}

	slow := &fakeClocks{delay: 200 * time.Millisecond}
	c = newClockRounds(slow.read)
	go c.get(context.Background(), "p") // holds one running round
	go c.get(context.Background(), "p") // and the other
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	began := time.Now()
	if _, err := c.get(ctx, "p"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the caller's deadline", err)
	}
	if waited := time.Since(began); waited > 150*time.Millisecond {
		t.Fatalf("a caller whose context ended waited %v for the round", waited)
	}
	// The abandoned round still runs, and answers whoever joins it.
	if row, err := c.get(context.Background(), "p"); err != nil || row.leads == 0 {
		t.Fatalf("after an abandoned call: %+v, %v", row, err)
	}
}
