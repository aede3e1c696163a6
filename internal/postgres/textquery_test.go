package postgres_test

import (
	"crypto/md5"
	"encoding/hex"
	"testing"

	"github.com/tiledesk-go/tiledesk/internal/postgres"
)

// TestTextQuery: a lead query word of up to four characters (not bytes) is one exact key, a longer
// one a prefix, both behind the project's key as search_prefixes writes it; conversations' words
// are prefixes behind the project's id.
func TestTextQuery(t *testing.T) {
	sum := md5.Sum([]byte("p1"))
	key := hex.EncodeToString(sum[:])[:8]
	for _, c := range []struct {
		table string
		words []string
		want  string
	}{
		{"leads", []string{"mar", "ross"}, "'" + key + "mar' & '" + key + "ross'"},
		{"leads", []string{"søre", "rossi"}, "'" + key + "søre' & '" + key + "rossi':*"},
		{"requests", []string{"mar", "rossi"}, "'p1mar':* & 'p1rossi':*"},
	} {
		if got := (postgres.Dialect{}).TextQuery(c.table, "p1", c.words); got != c.want {
			t.Errorf("TextQuery(%s, %q) = %s, want %s", c.table, c.words, got, c.want)
		}
	}
}
