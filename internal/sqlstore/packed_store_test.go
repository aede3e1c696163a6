package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/storetest"
)

// TestLeadPagesReadAsOneRow checks that on SQLite a page of lead versions sorted by a number or by
// id is read as one joined row, not row by row, and that a page the joined text cannot carry (an
// id holding a comma) is read row by row with the same result.
func TestLeadPagesReadAsOneRow(t *testing.T) {
	ctx := context.Background()
	s := openSQLite(t)
	p, owner := storetest.NewProject(t, s)
	create := func(id, name string) {
		t.Helper()
		l := &tiledesk.Lead{ID: id, ProjectID: p.ID, LeadID: "lead-" + name, Fullname: name, Tags: []string{},
			Status: tiledesk.LeadActive, CreatedBy: owner.ID}
		if _, _, err := s.CreateLead(ctx, l, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		create(tiledesk.NewID(), fmt.Sprint("lead ", i))
	}
	// Each page is held to FindLeads, which reads whole leads row by row.
	same := func(f tiledesk.LeadFilter) {
		t.Helper()
		for i := 0; ; i++ {
			got, err := s.FindLeadVersions(ctx, p.ID, f)
			if err != nil {
				t.Fatal(err)
			}
			want, err := s.FindLeads(ctx, p.ID, f)
			if err != nil {
				t.Fatal(err)
			}
			var g, w []string
			for _, v := range got.Versions {
				g = append(g, v.ID)
			}
			for _, l := range want.Leads {
				w = append(w, l.ID)
			}
			if fmt.Sprint(g) != fmt.Sprint(w) || got.Count != want.Count || fmt.Sprint(got.Next) != fmt.Sprint(want.Next) {
				t.Fatalf("filter %+v: versions %v count %d next %v; leads %v count %d next %v", f, g, got.Count, got.Next, w, want.Count, want.Next)
			}
			if got.Next == nil {
				return
			}
			f.After = got.Next
			if i > 10 {
				t.Fatal("cursor never ends")
			}
		}
	}
	ran := func(what string) (joined, rows bool) {
		for _, q := range s.PreparedReadsForTest() {
			if !strings.Contains(q, "AS sort_value") || !strings.Contains(q, what) {
				continue
			}
			if strings.Contains(q, "group_concat") {
				joined = true
			} else {
				rows = true
			}
		}
		return joined, rows
	}
	for _, f := range []tiledesk.LeadFilter{{Limit: 2}, {Limit: 2, Sort: tiledesk.LeadSortUpdatedAt},
		{Limit: 2, Sort: tiledesk.LeadSortID, Desc: true}, {Limit: 2, NoCount: true}} {
		same(f)
	}
	for _, col := range []string{"created_at AS", "updated_at AS", "id AS"} {
		if joined, rows := ran(col); !joined || rows {
			t.Fatalf("pages sorted by %s: read as one row %v, row by row %v; want one row only", col, joined, rows)
		}
	}
	create("odd,id", "odd") // the newest: on the first page
	same(tiledesk.LeadFilter{Limit: 2})
	if _, rows := ran("created_at AS"); !rows {
		t.Fatal("a page holding an id with a comma was not read row by row")
	}
}
