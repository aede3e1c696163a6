package views

import (
	"fmt"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// TestSelectionEncoding: a selection comes back as it was packed; one holding an id that is not
// 24 characters long is not packed.
func TestSelectionEncoding(t *testing.T) {
	at := time.UnixMilli(1_790_000_000_123).UTC()
	p := &tiledesk.VersionPage{Count: 70000, Versions: []tiledesk.Version{
		{ID: "6650a1b2c3d4e5f601234567", UpdatedAt: at}, {ID: "6650a1b2c3d4e5f601234568", UpdatedAt: at.Add(time.Hour)}}}
	if got := decodeSelection(encodeSelection(p)); fmt.Sprint(got) != fmt.Sprint(p) {
		t.Fatalf("decoded %v, want %v", got, p)
	}
	if got := decodeSelection(encodeSelection(&tiledesk.VersionPage{Versions: []tiledesk.Version{}})); got == nil || got.Count != 0 || len(got.Versions) != 0 {
		t.Fatalf("an empty selection decoded as %v", got)
	}
	if b := encodeSelection(&tiledesk.VersionPage{Versions: []tiledesk.Version{{ID: "imported-7", UpdatedAt: at}}}); b != nil {
		t.Fatalf("a selection of another id was packed: %q", b)
	}
	if decodeSelection([]byte{1, 2, 3}) != nil {
		t.Fatal("a torn selection decoded")
	}
}

// TestHeadKey: filters that show different heads never share a key; the same filter always does.
func TestHeadKey(t *testing.T) {
	active, deleted := tiledesk.LeadActive, tiledesk.LeadDeleted
	filters := []tiledesk.LeadFilter{{Limit: 40}, {Limit: 41}, {Limit: 40, Sort: tiledesk.LeadSortFullname},
		{Limit: 40, Desc: true}, {Limit: 40, NoCount: true}, {Limit: 40, WithEmail: true}, {Limit: 40, WithFullname: true},
		{Limit: 40, AllStatuses: true}, {Limit: 40, Status: &active}, {Limit: 40, Status: &deleted},
		{Limit: 40, Tags: []string{"a b"}}, {Limit: 40, Tags: []string{"a", "b"}}, {Limit: 40, Tags: []string{`a" "b`}},
		{Limit: 40, Tags: []string{"b", "a"}}}
	seen := map[string]int{}
	for i, f := range filters {
		k := headKey(f)
		if j, dup := seen[k]; dup {
			t.Fatalf("filters %d and %d share the key %q", j, i, k)
		}
		seen[k] = i
		if headKey(f) != k {
			t.Fatalf("filter %d has two keys", i)
		}
	}
}
