package sqlstore

import (
	"slices"
	"strings"
)

// impliedWordsDropped returns the words of a search that are not a prefix of another of its words.
// Every word must match as a prefix of some indexed word, so a word that begins another one ("mar"
// beside "mari", "l" beside "luc") is implied by it and only makes the index merge one more, often
// long, list: "mar mari" matched the same 4,957 leads in a third of the time as "mari".
func impliedWordsDropped(words []string) []string {
	out := make([]string, 0, len(words))
	for i, w := range words {
		implied := slices.ContainsFunc(words, func(other string) bool {
			return len(other) > len(w) && strings.HasPrefix(other, w)
		}) || slices.Contains(words[:i], w) // a repeated word counts once
		if !implied {
			out = append(out, w)
		}
	}
	return out
}
