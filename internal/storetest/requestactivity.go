package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// testRequestActivityOrder: the lists sorted and filtered by updatedAt follow every change of a
// conversation (replies, other changes, deletion) in order, count, cursors and the versions they
// show, as a conversation read by id has them.
func testRequestActivityOrder(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	c := newChat(t, s)
	g := c.guest(t)
	var rs []*tiledesk.Request
	for i := 0; i < 4; i++ {
		rs = append(rs, c.create(t, c.newRequest(g, g.UUIDUser, fmt.Sprint("r", i))))
	}
	created := rs[3].UpdatedAt
	// Stamps are milliseconds, ties broken by id: each change waits for a stamp of its own.
	tick := func() { time.Sleep(3 * time.Millisecond) }
	tick()
	for _, i := range []int{1, 0} {
		if _, _, _, _, err := s.PostMessage(ctx, &tiledesk.MessagePost{Message: c.message(rs[i].RequestID, c.owner.ID, "reply")}); err != nil {
			t.Fatal(err)
		}
		tick()
	}
	checkActivityOrder(t, s, c.p.ID, nil, rs[0], rs[1], rs[3], rs[2])
	checkActivityOrder(t, s, c.p.ID, &created, rs[0], rs[1])
	if _, err := s.ChangeRequest(ctx, c.p.ID, rs[2].RequestID, nil, func(r *tiledesk.Request, _ tiledesk.RequestEnv) ([]string, error) {
		r.Subject = "changed"
		return nil, nil
	}, nil); err != nil {
		t.Fatal(err)
	}
	checkActivityOrder(t, s, c.p.ID, &created, rs[2], rs[0], rs[1])
	if _, err := s.DeleteRequest(ctx, c.p.ID, rs[0].RequestID, nil); err != nil {
		t.Fatal(err)
	}
	checkActivityOrder(t, s, c.p.ID, nil, rs[2], rs[1], rs[3])
}

// checkActivityOrder checks the project's open conversations updated after since (all when nil),
// newest change first, against want: whole, as refs, in pages of one and in reverse, each with
// the version FindRequest reads.
func checkActivityOrder(t *testing.T, s tiledesk.Store, projectID string, since *time.Time, want ...*tiledesk.Request) {
	t.Helper()
	ctx := context.Background()
	var ids []string
	for _, r := range want {
		ids = append(ids, r.ID)
	}
	for _, desc := range []bool{true, false} {
		f := tiledesk.RequestFilter{Sort: tiledesk.RequestSortUpdatedAt, Desc: desc, UpdatedSince: since, Limit: 100}
		whole := find(t, s, projectID, f)
		refs, err := viewStore(t, s).FindRequestRefs(ctx, projectID, f)
		if err != nil {
			t.Fatal(err)
		}
		var got, gotRefs, paged []string
		for _, r := range whole.Requests {
			got = append(got, r.ID)
			byID, err := s.FindRequest(ctx, projectID, r.RequestID, nil)
			if err != nil || !byID.UpdatedAt.Equal(r.UpdatedAt) {
				t.Fatalf("request %s listed at version %s; read by id %v (%v)", r.ID, r.UpdatedAt, byID, err)
			}
		}
		for k, ref := range refs.Refs {
			gotRefs = append(gotRefs, ref.ID)
			if k < len(whole.Requests) && !ref.UpdatedAt.Equal(whole.Requests[k].UpdatedAt) {
				t.Fatalf("ref %s at version %s, listed at %s", ref.ID, ref.UpdatedAt, whole.Requests[k].UpdatedAt)
			}
		}
		for f.Limit = 1; ; {
			page := find(t, s, projectID, f)
			for _, r := range page.Requests {
				paged = append(paged, r.ID)
			}
			if page.Next == nil || len(paged) > len(want) {
				break
			}
			f.After = page.Next
		}
		if !desc {
			for i, j := 0, len(ids)-1; i < j; i, j = i+1, j-1 {
				ids[i], ids[j] = ids[j], ids[i]
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(ids) || fmt.Sprint(gotRefs) != fmt.Sprint(ids) || fmt.Sprint(paged) != fmt.Sprint(ids) ||
			whole.Count != len(ids) || refs.Count != len(ids) {
			t.Fatalf("updated since %v, desc %v: listed %v (count %d), refs %v (count %d), paged %v; want %v",
				since, desc, got, whole.Count, gotRefs, refs.Count, paged, ids)
		}
	}
}
