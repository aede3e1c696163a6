package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// Memory is a RateLimiter whose budgets live in this process. Memory is bounded: a key whose budget
// is full again holds no information and is swept away, and when MaxKeys live keys are reached the
// key closest to a full budget is dropped (which can only ever let one client through early).
type Memory struct {
	now     func() time.Time
	perShrd int
	seed    maphash.Seed
	shards  [shards]memShard
	marks   [shards]memShard // a mark's expiry in place of a TAT; bounded and swept alike
}

const shards = 64 // lock striping: concurrent clients rarely wait on each other

type memShard struct {
	mu       sync.Mutex
	tat      map[string]int64
	inserted int // new keys since the last sweep
}

// MemoryOptions configures NewMemory.
type MemoryOptions struct {
	MaxKeys int              // live budgets kept at most, and as many marks (default 262144, about 30 MB each)
	Now     func() time.Time // the clock (tests)
}

var _ tiledesk.RateLimiter = (*Memory)(nil)

// NewMemory returns an empty in-memory limiter.
func NewMemory(o MemoryOptions) *Memory {
	if o.MaxKeys <= 0 {
		o.MaxKeys = 1 << 18
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Memory{now: o.Now, perShrd: max(1, o.MaxKeys/shards), seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].tat = make(map[string]int64)
		m.marks[i].tat = make(map[string]int64)
	}
	return m
}

func (m *Memory) Allow(_ context.Context, key string, l tiledesk.RateLimit) (tiledesk.RateDecision, error) {
	return m.take(key, l, 1), nil
}

func (m *Memory) Peek(_ context.Context, key string, l tiledesk.RateLimit) (tiledesk.RateDecision, error) {
	return m.take(key, l, 0), nil
}

func (m *Memory) take(key string, l tiledesk.RateLimit, cost int64) tiledesk.RateDecision {
	if !l.Enabled() {
		return allowAll(l)
	}
	k := l.Name + "\x00" + key
	sh := &m.shards[maphash.String(m.seed, k)%shards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := m.now().UnixNano()
	tat, d := gcra(now, sh.tat[k], l, cost)
	if cost > 0 && d.Allowed {
		sh.store(k, tat, now, m.perShrd)
	}
	return d
}

// Remember stores the mark's expiry. When a shard is full, the mark closest to expiring goes.
func (m *Memory) Remember(_ context.Context, key string, ttl time.Duration) error {
	if ttl <= 0 {
		return nil
	}
	sh := &m.marks[maphash.String(m.seed, key)%shards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := m.now().UnixNano()
	sh.store(key, now+int64(ttl), now, m.perShrd)
	return nil
}

func (m *Memory) Remembers(_ context.Context, key string) (bool, error) {
	sh := &m.marks[maphash.String(m.seed, key)%shards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.tat[key] > m.now().UnixNano(), nil
}

// store keeps a key's TAT. New keys occasionally trigger a sweep of keys whose budget is full again;
// sweeping after as many inserts as there are keys keeps the cost constant per insert.
func (sh *memShard) store(k string, tat, now int64, limit int) {
	if _, ok := sh.tat[k]; !ok {
		sh.inserted++
		if len(sh.tat) >= limit || sh.inserted > len(sh.tat)+64 {
			sh.sweep(now)
		}
		if len(sh.tat) >= limit {
			sh.evictFullest()
		}
	}
	sh.tat[k] = tat
}

func (sh *memShard) sweep(now int64) {
	for k, tat := range sh.tat {
		if tat <= now {
			delete(sh.tat, k)
		}
	}
	sh.inserted = 0
}

func (sh *memShard) evictFullest() {
	var victim string
	var least int64
	first := true
	for k, tat := range sh.tat {
		if first || tat < least {
			victim, least, first = k, tat, false
		}
	}
	delete(sh.tat, victim)
}

// Len is the number of keys held, budgets and marks, for tests and metrics.
func (m *Memory) Len() int {
	n := 0
	for _, group := range []*[shards]memShard{&m.shards, &m.marks} {
		for i := range group {
			sh := &group[i]
			sh.mu.Lock()
			n += len(sh.tat)
			sh.mu.Unlock()
		}
	}
	return n
}
