package tiledesk

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Bounds of full-text search. A search is one lookup in the project's part of the index per word,
// and a word of one letter reads the project's longest lists: the number of both is bounded, so
// that a search costs at most a few passes over what its project holds.
const (
	MaxSearchQueryChars = 500 // characters of a query
	MaxSearchWords      = 16  // distinct words of a query
	MaxSearchInitials   = 4   // distinct words of one letter or digit in a query
	// MaxSearchTextBytes bounds the text indexed for one lead or conversation: its first words up
	// to that size are found, the rest not.
	MaxSearchTextBytes = 64 << 10
)

// SearchText is what full-text search indexes: the words of the given texts, lower-cased, without
// accents, separated by single spaces ("Mário Rossi", "m.rossi@x.it" -> "mario rossi m rossi x it"),
// at most MaxSearchTextBytes of them.
func SearchText(parts ...string) string {
	var b strings.Builder
	for _, w := range SearchTerms(strings.Join(parts, " ")) {
		if b.Len()+1+len(w) > MaxSearchTextBytes {
			break
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	return b.String()
}

// SearchTerms splits a query into the words SearchText would index.
func SearchTerms(q string) []string {
	var b strings.Builder
	for _, r := range norm.NFD.String(q) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteByte(' ')
		}
	}
	return strings.Fields(b.String())
}

// SearchProblem says why a search query is out of bounds (MaxSearchQueryChars, MaxSearchWords,
// MaxSearchInitials), or "" when it is within them.
func SearchProblem(q string) string {
	if utf8.RuneCountInString(q) > MaxSearchQueryChars {
		return fmt.Sprintf("must be at most %d characters", MaxSearchQueryChars)
	}
	words := map[string]bool{}
	initials := 0
	for _, w := range SearchTerms(q) {
		if words[w] {
			continue
		}
		words[w] = true
		if utf8.RuneCountInString(w) == 1 {
			initials++
		}
	}
	switch {
	case len(words) > MaxSearchWords:
		return fmt.Sprintf("must have at most %d different words (it has %d)", MaxSearchWords, len(words))
	case initials > MaxSearchInitials:
		return fmt.Sprintf("must have at most %d words of a single letter or digit (it has %d)", MaxSearchInitials, initials)
	}
	return ""
}
