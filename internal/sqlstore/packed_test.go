package sqlstore

import (
	"fmt"
	"testing"
)

// TestUnpackVersions reads the joined text of a page back, and refuses any text that is not
// exactly the rows counted in the page's order, so that the caller reads the rows instead.
func TestUnpackVersions(t *testing.T) {
	byCreated := page{sortKey: "createdAt", col: "created_at", desc: true, limit: 2, ints: true}
	byID := page{sortKey: "_id", col: "id", limit: 2}
	for _, tc := range []struct {
		name   string
		all    string
		n      int
		p      page
		ok     bool
		want   string // the versions read, as "id@updated_ms"
		last   string // the sort value a cursor after row limit-1 carries
		detail string
	}{
		{name: "newest first", all: "30 9 c,20 8 b,10 8 a", n: 3, p: byCreated, ok: true, want: "c@30 b@20 a@10", last: "8 b"},
		{name: "empty page", all: "", n: 0, p: byCreated, ok: true, want: "", last: "0 "},
		{name: "an id with spaces is the rest of its row", all: "30 9 c c,20 8 b", n: 2, p: byCreated, ok: true, want: "c c@30 b@20", last: "8 b"},
		{name: "by id ascending", all: "5 a1,7 b2,6 c3", n: 3, p: byID, ok: true, want: "a1@5 b2@7 c3@6", last: "0 b2"},
		{name: "an id holding a comma reads as one row more", all: "30 9 c,20 8 b,x,10 8 a", n: 3, p: byCreated},
		{name: "fewer rows than counted", all: "30 9 c", n: 2, p: byCreated},
		{name: "out of order", all: "20 8 b,30 9 c", n: 2, p: byCreated},
		{name: "ties broken by id", all: "20 8 a,30 8 b", n: 2, p: byCreated},
		{name: "a row twice", all: "20 8 b,20 8 b", n: 2, p: byCreated},
		{name: "by id out of order", all: "5 b2,7 a1", n: 2, p: byID},
		{name: "not a number", all: "x 9 c", n: 1, p: byCreated},
		{name: "sort value not a number", all: "30 x c", n: 1, p: byCreated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs, ok := unpackVersions(tc.all, tc.n, tc.p)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			got := ""
			for i, v := range vs.versions {
				if i > 0 {
					got += " "
				}
				got += fmt.Sprintf("%s@%d", v.ID, v.UpdatedAt.UnixMilli())
			}
			if got != tc.want {
				t.Fatalf("versions %q, want %q", got, tc.want)
			}
			if last := fmt.Sprintf("%d %s", vs.lastInt, vs.lastText); tc.n >= tc.p.limit && last != tc.last {
				t.Fatalf("cursor value %q, want %q", last, tc.last)
			}
		})
	}
}
