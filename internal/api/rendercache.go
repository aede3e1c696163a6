package api

import (
	"hash/maphash"
	"sync"
	"time"
)

// renderCache keeps the JSON of objects as rendered at a version (their updated_at), so that a list
// copies the bytes of the objects that have not changed instead of decoding their rows and encoding
// them again. An entry is used only when the version the database holds now is the one it was
// rendered at, so it is never stale, whichever process made the change; the cache only bounds its
// memory.
type renderCache struct {
	seed   maphash.Seed
	shards [renderShards]renderShard
	limit  int // bytes per shard
}

const renderShards = 16

type renderShard struct {
	mu    sync.Mutex
	m     map[string]rendered
	bytes int
}

type rendered struct {
	version version
	body    []byte
}

// version identifies what a rendering was made from: the milliseconds of the updated_at of the
// object, and of the one object it embeds, if any (a requester embeds its user); for a whole page
// of conversations, the clocks it was read at (tiledesk.ListClock).
type version [4]int64

func versionOf(t time.Time) version { return version{t.UnixMilli()} }

// newRenderCache holds up to about limit bytes of rendered JSON; 0 or less caches nothing.
func newRenderCache(limit int) *renderCache {
	c := &renderCache{seed: maphash.MakeSeed(), limit: limit / renderShards}
	for i := range c.shards {
		c.shards[i].m = map[string]rendered{}
	}
	return c
}

func (c *renderCache) shard(key string) *renderShard {
	return &c.shards[maphash.String(c.seed, key)%renderShards]
}

// get returns the JSON of key rendered at version, if kept.
func (c *renderCache) get(key string, v version) ([]byte, bool) {
	if c == nil || c.limit <= 0 {
		return nil, false
	}
	s := c.shard(key)
	s.mu.Lock()
	r, ok := s.m[key]
	s.mu.Unlock()
	if !ok || r.version != v {
		return nil, false
	}
	return r.body, true
}

// put keeps body as the JSON of key at version. Past the shard's budget it drops entries in the
// map's (random) order: which ones go matters little, as any of them is rendered again on demand.
// body must not be changed afterwards.
func (c *renderCache) put(key string, v version, body []byte) {
	if c == nil || c.limit <= 0 || len(body) > c.limit {
		return
	}
	s := c.shard(key)
	size := len(key) + len(body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[key]; ok {
		s.bytes -= len(key) + len(old.body)
	}
	for k, old := range s.m {
		if s.bytes+size <= c.limit {
			break
		}
		delete(s.m, k)
		s.bytes -= len(k) + len(old.body)
	}
	s.m[key] = rendered{version: v, body: body}
	s.bytes += size
}
