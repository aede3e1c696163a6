package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"
)

// BasicCache remembers recently verified email/password pairs so that Basic authentication does not
// cost one bcrypt comparison per request. Entries are keyed by an HMAC of the credentials under a
// per-process random key (the cache never holds a password or a fast hash of one), and each entry
// remembers the password hash it was verified against: once the password changes, the stored hash
// differs and the entry no longer matches.
type BasicCache struct {
	key     []byte
	ttl     time.Duration
	max     int
	now     func() time.Time
	mu      sync.Mutex
	entries map[[32]byte]basicEntry
}

type basicEntry struct {
	userID       string
	passwordHash string
	expires      time.Time
}

// NewBasicCache returns a cache whose entries live ttl and which holds at most max entries.
func NewBasicCache(ttl time.Duration, max int) *BasicCache {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic("auth: no randomness: " + err.Error())
	}
	return &BasicCache{key: key, ttl: ttl, max: max, now: time.Now, entries: make(map[[32]byte]basicEntry)}
}

func (c *BasicCache) sum(email, password string) [32]byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(email))
	m.Write([]byte{0})
	m.Write([]byte(password))
	var out [32]byte
	copy(out[:], m.Sum(nil))
	return out
}

// Verified reports whether email/password was verified recently for this user and password hash.
func (c *BasicCache) Verified(email, password, userID, passwordHash string) bool {
	k := c.sum(email, password)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return false
	}
	if c.now().After(e.expires) || e.userID != userID || e.passwordHash != passwordHash {
		delete(c.entries, k)
		return false
	}
	return true
}

// Remember records a successful verification.
func (c *BasicCache) Remember(email, password, userID, passwordHash string) {
	k := c.sum(email, password)
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for key, e := range c.entries {
			if now.After(e.expires) {
				delete(c.entries, key)
			}
		}
		for key := range c.entries { // still full: drop arbitrary entries, they are only a cache
			if len(c.entries) < c.max {
				break
			}
			delete(c.entries, key)
		}
	}
	c.entries[k] = basicEntry{userID: userID, passwordHash: passwordHash, expires: now.Add(c.ttl)}
}

// Forget drops every entry of a user, e.g. when the password changes.
func (c *BasicCache) Forget(userID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if e.userID == userID {
			delete(c.entries, k)
		}
	}
}

// Len is the number of entries, for tests and metrics.
func (c *BasicCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
