package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestMessageListBoundedInBytes fills a conversation with more than a page's bytes of messages: the
// list without limit stops within maxPageBytes and says where to go on, and going on with the cursor
// shows every message once, in order.
func TestMessageListBoundedInBytes(t *testing.T) {
	e := newChatEnv(t)
	rid := e.rid("big")
	const n = 40
	filler := strings.Repeat("x", 60<<10)
	for i := 0; i < n; i++ {
		body, _ := json.Marshal(map[string]string{"text": fmt.Sprintf("%03d %s", i, filler)})
		e.post(rid, string(body), e.owner.jwt()).want(t, 200)
	}
	base := "/" + e.pid + "/requests/" + rid + "/messages"
	first := e.do("GET", base, nil, e.owner.jwt()).want(t, 200)
	if len(first.body) > maxPageBytes+2+n {
		t.Fatalf("the list without limit took %d bytes, over the page's %d", len(first.body), maxPageBytes)
	}
	next := first.header.Get("X-Next-Cursor")
	shown := first.list(t)
	if next == "" || len(shown) == 0 || len(shown) >= n {
		t.Fatalf("first answer: %d messages, cursor %q", len(shown), next)
	}
	for next != "" {
		page := e.do("GET", base+"?limit=1000&cursor="+next, nil, e.owner.jwt()).want(t, 200)
		shown = append(shown, page.list(t)...)
		next = page.header.Get("X-Next-Cursor")
	}
	if len(shown) != n {
		t.Fatalf("the pages showed %d messages, want %d", len(shown), n)
	}
	for i, m := range shown {
		if text := m.(map[string]any)["text"].(string); !strings.HasPrefix(text, fmt.Sprintf("%03d ", i)) {
			t.Fatalf("message %d is %.8q", i, text)
		}
	}
}
