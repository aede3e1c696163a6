package views

import (
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/tiledesk-go/tiledesk"
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
	// reads are the reads of missing objects under way, shared by the callers that want the same
	// objects at the same versions (see renderCached).
	reads singleflight.Group
}

const renderShards = 16

type renderShard struct {
	mu    sync.Mutex
	m     map[renderKey]rendered
	bytes int
}

// renderKind is what a rendering is of.
type renderKind uint8

const (
	kindLead renderKind = iota + 1
	kindRequest
	kindRequester
	kindRequestsPage
	kindLeadsPage
	kindDepartment // under the population clock's members and users clocks (populationParts)
	kindAgentUser
	kindLeadSelection // the ids and versions of a lead list's first page (keptSelection)
	// The visitor's view of a conversation (visitor_view.go), kept apart from the agents'.
	kindVisitorRequest
	kindVisitorLead
	kindVisitorRequester
	kindVisitorDepartment
	kindVisitorAgent
	kindAgentLead // an agents' lead, when agents do not read leads as lead lists show them
)

// renderKey names a rendering. ObjectIds are held as their 12 bytes, so that building a key
// allocates nothing and the map compares keys without following a pointer: a page of 40 looks up
// 40 to 120 keys among hundreds of thousands, and the lookups were an eighth of a page's CPU.
type renderKey struct {
	kind        renderKind
	project, id [12]byte
	text        string // the project and id as text when either is not a lowercase ObjectId
}

// renderKeyOf is the key of the rendering of kind of the object id (or a page's query) in projectID.
func renderKeyOf(kind renderKind, projectID, id string) renderKey {
	k := renderKey{kind: kind}
	if objectIDBytes(&k.project, projectID) && objectIDBytes(&k.id, id) {
		return k
	}
	return renderKey{kind: kind, text: projectID + "\x00" + id}
}

// objectIDBytes decodes a lowercase 24-digit hex ObjectId into dst.
func objectIDBytes(dst *[12]byte, s string) bool {
	if len(s) != 24 {
		return false
	}
	for i := 0; i < 12; i++ {
		hi, lo := hexDigit(s[2*i]), hexDigit(s[2*i+1])
		if hi < 0 || lo < 0 {
			return false
		}
		dst[i] = byte(hi<<4 | lo)
	}
	return true
}

func hexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}

// keyBytes is what a key counts for in the budget.
func (k renderKey) keyBytes() int { return 32 + len(k.text) }

type rendered struct {
	version version
	body    []byte
	// clock is the project's lead clock as the store keeps it (tiledesk.Clocks.KeptLeads), read
	// before the database last showed version to be current (0: never): while the clock reads the
	// same, no lead of the project has changed since, and the rendering is current without a query.
	clock int64
	// tag is the body's ETag, kept with a whole page (putPage): a page of conversations is 100 KB
	// and more, and hashing it for every answer was a tenth of serving it again.
	tag string
}

// version identifies what a rendering was made from: the milliseconds of the updated_at of the
// object, and of the one object it embeds, if any (a requester embeds its user); for a whole page
// of conversations, the population clock it was read at (populationVersion); for a department or
// an agent, its members' and users' parts; for a whole page of leads, the project's lead clock.
type version [4]int64

func versionOf(t time.Time) version { return version{t.UnixMilli()} }

// populationVersion is what a whole page of conversations is kept at: every part of the clock.
func populationVersion(c tiledesk.PopulationClock) version {
	return version{c.Requests, c.Leads, c.Members, c.Users}
}

// newRenderCache holds up to about limit bytes of rendered JSON; 0 or less caches nothing.
func newRenderCache(limit int) *renderCache {
	c := &renderCache{seed: maphash.MakeSeed(), limit: limit / renderShards}
	for i := range c.shards {
		c.shards[i].m = map[renderKey]rendered{}
	}
	return c
}

func (c *renderCache) shard(key renderKey) *renderShard {
	if key.text == "" {
		return &c.shards[key.id[11]%renderShards] // an ObjectId's last byte counts up
	}
	return &c.shards[maphash.String(c.seed, key.text)%renderShards]
}

// enabled reports whether the cache keeps anything, so that callers can skip the work of
// preparing an entry (reading a clock) when it does not.
func (c *renderCache) enabled() bool { return c != nil && c.limit > 0 }

// lookup returns the rendering of key that is kept, at whatever version it was made.
func (c *renderCache) lookup(key renderKey) (rendered, bool) {
	if !c.enabled() {
		return rendered{}, false
	}
	s := c.shard(key)
	s.mu.Lock()
	r, ok := s.m[key]
	s.mu.Unlock()
	return r, ok
}

// get returns the JSON of key rendered at version, if kept.
func (c *renderCache) get(key renderKey, v version) ([]byte, bool) {
	body, _, ok := c.getPage(key, v)
	return body, ok
}

// getPage is get with the ETag kept with a whole page (putPage); "" for other renderings.
func (c *renderCache) getPage(key renderKey, v version) (body []byte, tag string, ok bool) {
	r, ok := c.lookup(key)
	if !ok || r.version != v {
		return nil, "", false
	}
	return r.body, r.tag, true
}

// putPage is put of a whole page, keeping its ETag with it.
func (c *renderCache) putPage(key renderKey, v version, body []byte, tag string) {
	c.store(key, rendered{version: v, body: body, tag: tag})
}

// confirm records that key's rendering at v was current when the project's lead clock read clock
// (or later).
func (c *renderCache) confirm(key renderKey, v version, clock int64) {
	if !c.enabled() {
		return
	}
	s := c.shard(key)
	s.mu.Lock()
	if r, ok := s.m[key]; ok && r.version == v && r.clock < clock {
		r.clock = clock
		s.m[key] = r
	}
	s.mu.Unlock()
}

// put keeps body as the JSON of key at version. Past the shard's budget it drops entries in the
// map's (random) order: which ones go matters little, as any of them is rendered again on demand.
// An object's rendering larger than a sixteenth of a shard (256 KB of the default 64 MiB) is not
// kept: it would push out hundreds of others, and rendering it again costs little next to sending
// it. body must not be changed afterwards.
func (c *renderCache) put(key renderKey, v version, body []byte) {
	if len(body) > c.limit/16 {
		return
	}
	c.store(key, rendered{version: v, body: body})
}

func (c *renderCache) store(key renderKey, r rendered) {
	body := r.body
	if !c.enabled() || len(body) > c.limit {
		return
	}
	s := c.shard(key)
	size := key.keyBytes() + len(body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[key]; ok {
		s.bytes -= key.keyBytes() + len(old.body)
	}
	for k, old := range s.m {
		if s.bytes+size <= c.limit {
			break
		}
		delete(s.m, k)
		s.bytes -= k.keyBytes() + len(old.body)
	}
	s.m[key] = r
	s.bytes += size
}

// wanted is an object an answer needs rendered, at version v when known.
type wanted struct {
	id    string
	v     version
	known bool
}

// renderCached returns the JSON of the wanted objects of a kind, keyed by id: from the render cache
// when it holds them at the wanted version, otherwise read (one read for all of them) and rendered,
// and kept at the version they were read at. An object that is no longer there is left out.
func renderCached[T any](c *renderCache, kind renderKind, projectID string, wants []wanted, read func(ids []string) (map[string]*T, error),
	render func(*T) ([]byte, version, error)) (map[string][]byte, error) {
	out := make(map[string][]byte, len(wants))
	var missing []string
	shared := true // every missing object is wanted at a version known: its read may be shared
	for _, w := range wants {
		if w.id == "" || out[w.id] != nil {
			continue
		}
		if w.known {
			if b, ok := c.get(renderKeyOf(kind, projectID, w.id), w.v); ok {
				out[w.id] = b
				continue
			}
		}
		missing = append(missing, w.id)
		shared = shared && w.known
	}
	if len(missing) == 0 {
		return out, nil
	}
	objects, err := readShared(c, kind, projectID, wants, missing, shared, read)
	if err != nil {
		return nil, err
	}
	for id, o := range objects {
		if out[id] != nil {
			continue
		}
		b, v, err := render(o)
		if err != nil {
			return nil, err
		}
		c.put(renderKeyOf(kind, projectID, id), v, b)
		out[id] = b
	}
	return out, nil
}

// readShared reads the missing objects, in one read with the callers that want the same ones at
// the same versions at the same time (shared): the conversations a batch of first messages creates
// are answered at once, each populated with the same department at the same new version. A caller
// that joins a read gets objects read after another caller saw the versions it wants, which are
// as current as its own read would be (a version moves with every change). When the shared read
// fails (its first caller gave up, say), each caller that joined it reads for itself.
func readShared[T any](c *renderCache, kind renderKind, projectID string, wants []wanted, missing []string, shared bool,
	read func(ids []string) (map[string]*T, error)) (map[string]*T, error) {
	if !shared {
		return read(missing)
	}
	var key strings.Builder
	fmt.Fprintf(&key, "%d\x00%s", kind, projectID)
	for _, w := range wants {
		if slices.Contains(missing, w.id) {
			fmt.Fprintf(&key, "\x00%s\x00%v", w.id, w.v)
		}
	}
	v, err, joined := c.reads.Do(key.String(), func() (any, error) { return read(missing) })
	if err != nil && joined {
		return read(missing)
	}
	if err != nil {
		return nil, err
	}
	return v.(map[string]*T), nil
}
