package tiledesk

import "testing"

func TestEmailKeyFoldsASCIIOnly(t *testing.T) {
	for in, want := range map[string]string{
		"Ann@Example.COM":  "ann@example.com",
		"ann@example.com":  "ann@example.com",
		"\u212Aate@x.com":  "\u212Aate@x.com", // the Kelvin sign stays itself: it is not 'k'
		"STRASSE@x.de":     "strasse@x.de",
		"Stra\u00dfe@x.de": "stra\u00dfe@x.de",
		"\u00c9lodie@X.fr": "\u00c9lodie@x.fr", // É is not ASCII: kept
		"\u0130nci@x.com":  "\u0130nci@x.com",  // dotted capital I: not folded to 'i'
		"\uff45x@x.com":    "\uff45x@x.com",    // fullwidth e
		"":                 "",
	} {
		if got := EmailKey(in); got != want {
			t.Errorf("EmailKey(%q) = %q, want %q", in, got, want)
		}
	}
}
