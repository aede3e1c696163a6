package tiledesk

import (
	"slices"
	"strings"
	"unicode"
)

// MaxIntentHits bounds the intents a question is answered with.
const MaxIntentHits = 20

// MatchIntents answers a question from a bot's intents as the original's simple engine does: an
// enabled intent one of whose questions (one a line) is the question, ignoring case, accents,
// punctuation and spacing, is the only hit; otherwise the intents whose questions share words with
// it, the most shared words first (then the fewest words, then the oldest).
func MatchIntents(question string, intents []*Intent) []*Intent {
	q := words(question)
	if len(q) == 0 {
		return nil
	}
	exact := strings.Join(q, " ")
	for _, in := range intents {
		if !in.Enabled {
			continue
		}
		for _, line := range strings.Split(in.Question, "\n") {
			if strings.Join(words(line), " ") == exact {
				return []*Intent{in}
			}
		}
	}
	type hit struct {
		in           *Intent
		shared, size int
	}
	var hits []hit
	for _, in := range intents {
		if !in.Enabled {
			continue
		}
		have := words(in.Question)
		shared := 0
		for _, w := range dedupe(q) {
			if len(w) > 1 && slices.Contains(have, w) {
				shared++
			}
		}
		if shared > 0 {
			hits = append(hits, hit{in: in, shared: shared, size: len(have)})
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int {
		if a.shared != b.shared {
			return b.shared - a.shared
		}
		return a.size - b.size
	})
	out := make([]*Intent, 0, min(len(hits), MaxIntentHits))
	for _, h := range hits[:min(len(hits), MaxIntentHits)] {
		out = append(out, h.in)
	}
	return out
}

// words splits text into its words, folded (lower case, no accents); a leading backslash is kept,
// as the widget's hidden commands (\start) are words of their own.
func words(text string) []string {
	return strings.FieldsFunc(Fold(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\\'
	})
}

func dedupe(ws []string) []string {
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}
