package postgres

import "testing"

func TestWithLiterals(t *testing.T) {
	got, ok := Dialect{}.WithLiterals(`UPDATE t SET n = n -$3, at = $4, b = $5, c = $6 WHERE p = $1 AND u = $2 AND q = $10`,
		[]any{"p1", "o'brien", -1, int64(1733300000000), true, nil, 7, 8, 9, "ten"})
	want := `UPDATE t SET n = n -(-1), at = 1733300000000, b = true, c = NULL WHERE p = 'p1' AND u = 'o''brien' AND q = 'ten'`
	if !ok || got != want {
		t.Fatalf("script = %q, %v\nwant %q", got, ok, want)
	}
	for _, args := range [][]any{{"nul\x00"}, {"\xff"}, {1.5}, {[]byte("raw")}, {}} {
		if _, ok := (Dialect{}).WithLiterals(`SELECT $1`, args); ok {
			t.Errorf("args %q written as literals", args)
		}
	}
}
