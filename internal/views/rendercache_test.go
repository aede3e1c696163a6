package views

import (
	"fmt"
	"strings"
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
