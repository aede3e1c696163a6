// Package redistest gives tests the Redis named by TILEDESK_TEST_REDIS and a key prefix of their
// own, deleted at their end.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

// URL returns TILEDESK_TEST_REDIS once Redis answers there; without the variable it tries the local
// default and skips, saying so, when nothing answers. CI sets the variable, and then a Redis that
// does not answer fails the test.
func URL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("TILEDESK_TEST_REDIS")
	required := url != ""
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err != nil {
		if required {
			t.Fatalf("TILEDESK_TEST_REDIS=%s does not answer: %v", url, err)
		}
		t.Skipf("no Redis at %s (%v); set TILEDESK_TEST_REDIS to require one", url, err)
	}
	return url
}

// Prefix returns a key prefix for one test; the keys under it are deleted when the test ends.
func Prefix(t testing.TB, url string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	p := "tiledesk-test:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		opts, err := redis.ParseURL(url)
		if err != nil {
			return
		}
		c := redis.NewClient(opts)
		defer c.Close()
		if keys, _ := c.Keys(context.Background(), p+"*").Result(); len(keys) > 0 {
			c.Del(context.Background(), keys...)
		}
	})
	return p
}
