package auth

import (
	"sync"
	"time"
)

// maxVerifiedBytes bounds the memory of verified tokens, whatever their claims hold (a visitor's
// token carries the attributes it signed in with).
const maxVerifiedBytes = 32 << 20

// verifiedCache remembers the claims of tokens that passed verification, by their full text
// (signature included, so that no entry can be made for a token the server did not sign), until
// they expire: parsing a token's JSON costs more than the rest of authenticating a request. It
// holds a bounded number of bytes, not entries: each entry is charged its token's length three
// times over (the text, and the claims decoded from it) and a fixed overhead. Entries live in two
// generations: new ones go to the current one, and once that holds half the bytes it becomes the
// previous one and the older previous one is let go. A token found in the previous generation
// moves to the current one, so that tokens in use survive a flood of new ones.
type verifiedCache struct {
	limit int // bytes of both generations together

	mu                  sync.RWMutex
	cur, prev           map[string]*Claims
	curBytes, prevBytes int
}

// verifiedEntryBytes is what an entry is charged: its token, the claims decoded from it (about
// twice the token's payload), and the map's and the structure's own memory.
func verifiedEntryBytes(token string) int { return 3*len(token) + 512 }

func newVerifiedCache(limit int) *verifiedCache {
	return &verifiedCache{limit: limit, cur: map[string]*Claims{}, prev: map[string]*Claims{}}
}

// get returns the claims of a token verified before, unless they expired before now (with the
// leeway Verify grants).
func (v *verifiedCache) get(token string, now time.Time) (*Claims, bool) {
	v.mu.RLock()
	c, ok := v.cur[token]
	v.mu.RUnlock()
	if !ok {
		v.mu.Lock()
		if c, ok = v.prev[token]; ok {
			delete(v.prev, token)
			v.prevBytes -= verifiedEntryBytes(token)
			v.addLocked(token, c)
		}
		v.mu.Unlock()
		if !ok {
			return nil, false
		}
	}
	if now.Unix() < c.ExpiresAt+30 {
		return c, true
	}
	v.mu.Lock()
	if v.cur[token] == c {
		delete(v.cur, token)
		v.curBytes -= verifiedEntryBytes(token)
	} else if v.prev[token] == c {
		delete(v.prev, token)
		v.prevBytes -= verifiedEntryBytes(token)
	}
	v.mu.Unlock()
	return nil, false
}

// put remembers a verified token; one larger than a generation's share is not kept.
func (v *verifiedCache) put(token string, c *Claims) {
	if verifiedEntryBytes(token) > v.limit/2 {
		return
	}
	v.mu.Lock()
	v.addLocked(token, c)
	v.mu.Unlock()
}

func (v *verifiedCache) addLocked(token string, c *Claims) {
	if _, ok := v.cur[token]; ok {
		return
	}
	n := verifiedEntryBytes(token)
	if v.curBytes+n > v.limit/2 {
		v.prev, v.prevBytes = v.cur, v.curBytes
		v.cur, v.curBytes = map[string]*Claims{}, 0
	}
	v.cur[token] = c
	v.curBytes += n
}

// bytes is what the entries are charged in all.
func (v *verifiedCache) bytes() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.curBytes + v.prevBytes
}
