package api

import (
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// publicAnswers keeps, per project, an answer of a public route that costs a read anyone could
// ask for as often as they like: it is computed once for the callers that miss it together and
// kept for ttl. Entries of projects no longer asked are dropped when the cache is swept, once it
// is large.
type publicAnswers struct {
	ttl     time.Duration
	mu      sync.Mutex
	answers map[string]publicAnswer
	flight  singleflight.Group
}

type publicAnswer struct {
	body    []byte
	expires time.Time
}

const maxPublicAnswers = 10_000

// answer returns the project's kept answer, or computes, keeps and returns it.
func (c *publicAnswers) answer(project string, now time.Time, compute func(now time.Time) ([]byte, error)) ([]byte, error) {
	if body, ok := c.get(project, now); ok {
		return body, nil
	}
	v, err, _ := c.flight.Do(project, func() (any, error) {
		body, err := compute(now)
		if err != nil {
			return nil, err
		}
		c.put(project, body, now)
		return body, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

func (c *publicAnswers) get(project string, now time.Time) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.answers[project]
	return a.body, ok && now.Before(a.expires)
}

func (c *publicAnswers) put(project string, body []byte, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.answers == nil {
		c.answers = map[string]publicAnswer{}
	}
	if len(c.answers) >= maxPublicAnswers {
		for p, a := range c.answers {
			if !now.Before(a.expires) {
				delete(c.answers, p)
			}
		}
		if len(c.answers) >= maxPublicAnswers {
			clear(c.answers)
		}
	}
	c.answers[project] = publicAnswer{body: body, expires: now.Add(c.ttl)}
}
