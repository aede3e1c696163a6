package views

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRenderCacheVersionAndBudget(t *testing.T) {
	c := newRenderCache(renderShards * 1000)
	at := time.UnixMilli(1_700_000_000_000)
	c.put(testKey("a"), versionOf(at), []byte(`{"v":1}`))
	if b, ok := c.get(testKey("a"), versionOf(at)); !ok || string(b) != `{"v":1}` {
		t.Fatalf("get at the version put = %q, %v", b, ok)
	}
	if _, ok := c.get(testKey("a"), versionOf(at.Add(time.Millisecond))); ok {
		t.Fatal("an entry served at another version")
	}
	if _, ok := c.get(testKey("a"), version{at.UnixMilli(), 1}); ok {
		t.Fatal("an entry served at another version of what it embeds")
	}
	c.put(testKey("a"), versionOf(at.Add(time.Millisecond)), []byte(`{"v":2}`))
	if b, _ := c.get(testKey("a"), versionOf(at.Add(time.Millisecond))); string(b) != `{"v":2}` {
		t.Fatalf("replaced entry = %q", b)
	}
	for i := range 5000 {
		c.put(testKey(fmt.Sprint("key-", i)), versionOf(at), []byte(strings.Repeat("x", 100)))
	}
	for i := range c.shards {
		s := &c.shards[i]
		total := 0
		for k, r := range s.m {
			total += k.keyBytes() + len(r.body)
		}
		if s.bytes != total || s.bytes > c.limit {
			t.Fatalf("shard %d accounts %d bytes, holds %d, budget %d", i, s.bytes, total, c.limit)
		}
	}
	off := newRenderCache(-1)
	off.put(testKey("a"), versionOf(at), []byte("{}"))
	if _, ok := off.get(testKey("a"), versionOf(at)); ok {
		t.Fatal("a disabled cache kept an entry")
	}
}

func testKey(id string) renderKey { return renderKeyOf(kindLead, "project", id) }

func TestRenderKeys(t *testing.T) {
	const pid, id = "6650a1b2c3d4e5f601234567", "6650a1b2c3d4e5f60123abcd"
	k := renderKeyOf(kindLead, pid, id)
	if k.text != "" || k != renderKeyOf(kindLead, pid, id) {
		t.Fatalf("an ObjectId key is %+v", k)
	}
	for _, other := range []renderKey{
		renderKeyOf(kindRequest, pid, id),
		renderKeyOf(kindLead, id, pid),
		renderKeyOf(kindLead, pid, "6650A1B2C3D4E5F60123ABCD"), // not the stored form: its own key
		renderKeyOf(kindLead, pid, "not-an-id"),
	} {
		if other == k {
			t.Fatalf("%+v and %+v collide", other, k)
		}
	}
}

// TestRenderCachedSharesReads: callers that miss the same object at the same version at once share
// one read; a caller wanting another version, or one whose version is not known, reads for itself;
// and when the shared read fails, each caller that joined it reads again.
func TestRenderCachedSharesReads(t *testing.T) {
	c := newRenderCache(1 << 20)
	var reads atomic.Int32
	release := make(chan struct{})
	fail := atomic.Bool{}
	read := func(ids []string) (map[string]*string, error) {
		reads.Add(1)
		<-release
		if fail.Load() {
			return nil, errors.New("gave up")
		}
		s := "dept"
		return map[string]*string{ids[0]: &s}, nil
	}
	render := func(s *string) ([]byte, version, error) { return []byte(`"` + *s + `"`), version{7}, nil }
	run := func(callers int, want func(i int) wanted) []error {
		errs := make([]error, callers)
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				out, err := renderCached(c, kindDepartment, "p", []wanted{want(i)}, read, render)
				if err == nil && string(out[want(i).id]) != `"dept"` {
					err = fmt.Errorf("rendered %q", out[want(i).id])
				}
				errs[i] = err
			})
		}
		for reads.Load() < 1 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond) // the others join the read under way
		close(release)
		wg.Wait()
		return errs
	}
	for _, err := range run(8, func(int) wanted { return wanted{id: "d1", v: version{1}, known: true} }) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := reads.Load(); n != 1 {
		t.Fatalf("8 callers wanting one department at one version read it %d times", n)
	}
	reads.Store(0)
	release = make(chan struct{})
	run(4, func(i int) wanted { return wanted{id: "d2", v: version{int64(i)}, known: i > 0} })
	if n := reads.Load(); n != 4 {
		t.Fatalf("4 callers wanting different versions (one unknown) read %d times", n)
	}
	reads.Store(0)
	release = make(chan struct{})
	fail.Store(true)
	for _, err := range run(3, func(int) wanted { return wanted{id: "d3", v: version{1}, known: true} }) {
		if err == nil {
			t.Fatal("a failed read was answered")
		}
	}
	if n := reads.Load(); n != 4 {
		t.Fatalf("a shared read failed under 3 callers; they read %d times in all, want 1 + 3", n)
	}
}
