package api

import (
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

// BenchmarkDecodeCursor decodes a deep page's cursor, as every request for one does.
func BenchmarkDecodeCursor(b *testing.B) {
	s := *encodeCursor(&tiledesk.Cursor{Sort: tiledesk.LeadSortCreatedAt, Desc: true, Value: int64(1790000000123),
		ID: "6650a1b2c3d4e5f601234567"})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeCursor(s); err != nil {
			b.Fatal(err)
		}
	}
}
