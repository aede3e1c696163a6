package sqlstore

import (
	"database/sql"
	"encoding/json"
	"strings"
	"testing"
)

// TestScanJSONReadsWhatOlderVersionsStored: a column encoding/json refuses is still read: numbers
// beyond float64 as written, a free-form object that cannot be read at all as absent; a typed
// column that cannot be read is still an error (a bug, not old data).
func TestScanJSONReadsWhatOlderVersionsStored(t *testing.T) {
	col := func(s string) sql.NullString { return sql.NullString{String: s, Valid: true} }
	var m map[string]any
	if err := scanJSON(col(`{"a":1e400,"b":2,"c":{"d":-1e999}}`), &m); err != nil {
		t.Fatal(err)
	}
	if m["a"] != json.Number("1e400") || m["b"] != json.Number("2") || m["c"].(map[string]any)["d"] != json.Number("-1e999") {
		t.Fatalf("read %v", m)
	}
	deep := strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001) // past encoding/json's nesting limit
	for _, s := range []string{`[1,2]`, `"text"`, `{"a":`, deep} {
		m = map[string]any{"stale": true}
		if err := scanJSON(col(s), &m); err != nil || m != nil {
			t.Errorf("%.20s: %v, %v; want absent", s, m, err)
		}
	}
	var notes []struct{ Text string }
	if err := scanJSON(col(`[{"Text":1e400}]`), &notes); err == nil {
		t.Error("a typed column that cannot be read was not an error")
	}
}
