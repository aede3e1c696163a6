package storetest

import (
	"strings"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

// testLeadSearchWordLengths: a query word matches as a prefix whatever its length and the indexed
// word's, around the length up to which an index may hold prefixes as keys of their own (short
// query words, exact keys; longer ones, prefixes of the words), in characters rather than bytes,
// up to the longest word a search accepts; and a lead of many different words is found by them.
func testLeadSearchWordLengths(t *testing.T, s tiledesk.Store) {
	p, _ := project(t, s)
	long := strings.Repeat("qu", 400) // 800 characters, longer than any query word
	for _, l := range []*tiledesk.Lead{
		newLead(p, "Luca Rossini", "lu@example.com"),
		newLead(p, "Lucas Ross", "ro@example.com"),
		newLead(p, "Søren Østergård", "s@example.com"),
		newLead(p, "Ana 2024", "a@example.com"),
		newLead(p, "Olly "+long, ""),
	} {
		mustCreateLead(t, s, l)
	}
	for q, want := range map[string][]string{
		"luca":           {"Luca Rossini", "Lucas Ross"}, // a whole short word, and a prefix of a longer one
		"lucas":          {"Lucas Ross"},                 // longer than the word "luca"
		"ross":           {"Luca Rossini", "Lucas Ross"}, // four characters
		"rossi":          {"Luca Rossini"},               // five: no longer matches "ross"
		"rossini":        {"Luca Rossini"},
		"rossinis":       nil,
		"søre":           {"Søren Østergård"}, // four characters, five bytes
		"søren øs":       {"Søren Østergård"},
		"østerg":         {"Søren Østergård"},
		"sørenn":         nil,
		"202":            {"Ana 2024"}, // digits
		"2024 an":        {"Ana 2024"},
		"20245":          nil,
		"q":              {"Olly " + long},
		long[:500]:       {"Olly " + long}, // the longest word a query may have
		long[:499] + "x": nil,
	} {
		page := findLeads(t, s, p.ID, tiledesk.LeadFilter{Text: q})
		got := leadNames(page.Leads)
		if !sameNames(got, want) || page.Count != len(want) {
			t.Errorf("search %.40q: %.80q (count %d), want %.80q", q, got, page.Count, want)
		}
	}

	// Many different words, of five letters each (a key for each of their prefixes, where an index
	// holds prefixes), in a name as long as the store's name index takes.
	var words []string
	for i := range 400 {
		w := []byte("aaaaa")
		for k, n := 4, i; k >= 0; k, n = k-1, n/26 {
			w[k] = byte('a' + n%26)
		}
		words = append(words, string(w))
	}
	mustCreateLead(t, s, newLead(p, strings.Join(words, " "), ""))
	for q, want := range map[string]int{"aaaaa": 1, "aaahk": 1, "aaapj": 1, "aaap": 1, "aaaq": 0, "aaapk": 0} {
		if page := findLeads(t, s, p.ID, tiledesk.LeadFilter{Text: q}); page.Count != want {
			t.Errorf("search %q in the lead of %d words counts %d, want %d", q, len(words), page.Count, want)
		}
	}
}

// sameNames reports whether a and b hold the same names in any order.
func sameNames(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	left := map[string]int{}
	for _, n := range a {
		left[n]++
	}
	for _, n := range b {
		left[n]--
	}
	for _, c := range left {
		if c != 0 {
			return false
		}
	}
	return true
}
