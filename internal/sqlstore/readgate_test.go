package sqlstore

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestReadGateBoundsReadsAtOnce(t *testing.T) {
	g := newReadGate(3)
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			if err := g.enter(context.Background()); err != nil {
				t.Error(err)
				return
			}
			leave := g.leaver()
			n := inside.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			inside.Add(-1)
			leave()
			leave() // a second call gives nothing back
		})
	}
	wg.Wait()
	if m := most.Load(); m != 3 {
		t.Errorf("at most %d reads were inside at once; want 3", m)
	}
	if n := len(g.places); n != 0 {
		t.Errorf("%d places still taken after every read left", n)
	}
}

func TestReadGateServesInArrivalOrder(t *testing.T) {
	g := newReadGate(1)
	if err := g.enter(context.Background()); err != nil {
		t.Fatal(err)
	}
	first := g.leaver()
	var (
		mu    sync.Mutex
		order []int
		wg    sync.WaitGroup
	)
	for i := range 5 {
		wg.Go(func() {
			if err := g.enter(context.Background()); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			g.leaver()()
		})
		time.Sleep(20 * time.Millisecond) // each waits before the next arrives
	}
	first()
	wg.Wait()
	for i, got := range order {
		if got != i {
			t.Fatalf("reads went in the order %v; want the order they arrived in", order)
		}
	}
}

func TestReadGateWaitEndsWithContext(t *testing.T) {
	g := newReadGate(1)
	if err := g.enter(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := g.enter(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting past the deadline: %v; want context.DeadlineExceeded", err)
	}
	g.leaver()()
	if err := g.enter(context.Background()); err != nil {
		t.Fatalf("the place given back was not free: %v", err)
	}
	if n := len(g.places); n != 1 {
		t.Errorf("%d places taken; want 1 (the gave-up wait took none)", n)
	}
}

func TestNilReadGateLetsEveryReadThrough(t *testing.T) {
	var g *readGate = newReadGate(0)
	for range 100 {
		if err := g.enter(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	g.leaver()()
}
