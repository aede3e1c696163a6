package views

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// BenchmarkRenderCachePage looks up the 40 leads of a page at random among 100,000 kept ones, as
// a page at a random depth does: one op is a page. They are put in random order, as a server
// renders leads in the order clients ask for them, so that neighbours on a page are not
// neighbours in memory.
func BenchmarkRenderCachePage(b *testing.B) {
	const n = 100_000
	c := newRenderCache(512 << 20)
	pid := tiledesk.NewID()
	at := time.UnixMilli(1_700_000_000_000)
	ids := make([]string, n)
	body := make([]byte, 450)
	for i := range ids {
		ids[i] = tiledesk.NewIDAt(at.Add(time.Duration(i) * time.Millisecond))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, i := range rng.Perm(n) {
		c.put(renderKeyOf(kindLead, pid, ids[i]), versionOf(at), append([]byte(nil), body...))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := rng.IntN(n - 40)
		for _, id := range ids[start : start+40] {
			if _, ok := c.get(renderKeyOf(kindLead, pid, id), versionOf(at)); !ok {
				b.Fatal("miss")
			}
		}
	}
}
