package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

var analyticsTests = []struct {
	name string
	fn   func(*testing.T, tiledesk.Store)
}{
	{"MessagesBetweenAgreesWithTheMessages", testMessagesBetween},
}

// testMessagesBetween holds the messages' count over many windows, whose ends fall inside, at
// the edges of and across the spans the engines count messages in, to the messages the test
// wrote, through both ways messages are written and after a conversation's deletion; another
// project's messages never count.
func testMessagesBetween(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	c, other := newChat(t, s), newChat(t, s)
	// A span begins every 4,096 seconds of the ids' clock: these fall on both sides of several.
	base := time.Unix(0x6a000000, 0).UTC()
	offsets := []int{-5000, -4097, -10, 0, 0, 1, 4095, 4096, 4097, 9000, 20000, 20001, 20001, 3 * 86400}
	var stamps []time.Time
	var rids []string
	for i, off := range offsets {
		at := base.Add(time.Duration(off) * time.Second)
		g := c.guest(t)
		r := c.create(t, c.newRequest(g, g.UUIDUser, fmt.Sprint("question ", i)))
		rids = append(rids, r.RequestID)
		for k := 0; k <= i%3; k++ {
			m := c.message(r.RequestID, g.UUIDUser, fmt.Sprint("message ", k))
			m.ID, m.CreatedAt, m.UpdatedAt = tiledesk.NewIDAt(at), at, at
			if k == 0 {
				if _, _, _, _, err := s.PostMessage(ctx, &tiledesk.MessagePost{Message: m}); err != nil {
					t.Fatal(err)
				}
			} else if _, err := s.AddMessages(ctx, c.p.ID, r.RequestID, nil, []*tiledesk.Message{m}, nil); err != nil {
				t.Fatal(err)
			}
			stamps = append(stamps, at)
		}
		g2 := other.guest(t)
		r2 := other.create(t, other.newRequest(g2, g2.UUIDUser, "elsewhere"))
		m := other.message(r2.RequestID, g2.UUIDUser, "elsewhere")
		m.ID, m.CreatedAt, m.UpdatedAt = tiledesk.NewIDAt(at), at, at
		if _, _, _, _, err := s.PostMessage(ctx, &tiledesk.MessagePost{Message: m}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(stage string) {
		t.Helper()
		ends := []int{-9000, -5000, -4999, -4096, 0, 1, 2, 4095, 4096, 4097, 8192, 20001, 20002, 3*86400 + 1, 4 * 86400}
		for _, a := range ends {
			for _, b := range ends {
				since, until := base.Add(time.Duration(a)*time.Second), base.Add(time.Duration(b)*time.Second)
				want := 0
				for _, at := range stamps {
					if !at.Before(since) && at.Before(until) {
						want++
					}
				}
				got, err := s.MessagesBetween(ctx, c.p.ID, since, until)
				if err != nil || got != want {
					t.Fatalf("%s: MessagesBetween(%+d s, %+d s) = %d, %v; want %d", stage, a, b, got, err, want)
				}
			}
		}
	}
	check("as written")
	// The conversation's messages (the first of each of the three written) leave the count.
	gone := offsets[7]
	if _, err := s.DeleteRequest(ctx, c.p.ID, rids[7], nil); err != nil {
		t.Fatal(err)
	}
	kept := stamps[:0]
	removed := 0
	for _, at := range stamps {
		if at.Equal(base.Add(time.Duration(gone)*time.Second)) && removed < 7%3+1 {
			removed++
			continue
		}
		kept = append(kept, at)
	}
	stamps = kept
	check("after a deletion")
}
