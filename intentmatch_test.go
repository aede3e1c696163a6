package tiledesk

import "testing"

func TestMatchIntents(t *testing.T) {
	mk := func(name, question string, enabled bool) *Intent {
		return &Intent{ID: name, DisplayName: name, Question: question, Enabled: enabled}
	}
	hours := mk("hours", "When are you open?\nOpening hours", true)
	delivery := mk("delivery", "Do you deliver at home?", true)
	deliveryTimes := mk("delivery-times", "How long does delivery take at home on weekends?", true)
	start := mk("start", `\start`, true)
	off := mk("off", "opening hours", false)
	all := []*Intent{off, hours, delivery, deliveryTimes, start}
	names := func(in []*Intent) (out []string) {
		for _, i := range in {
			out = append(out, i.DisplayName)
		}
		return out
	}
	for _, tc := range []struct {
		question string
		want     []string
	}{
		{"  OPENING   hours!! ", []string{"hours"}},                  // exact on the second line, ignoring case and punctuation
		{"when are you open", []string{"hours"}},                     // exact on the first line
		{`\start`, []string{"start"}},                                // the widget's hidden command
		{"delivery at home", []string{"delivery-times", "delivery"}}, // the most words shared first
		{"at home", []string{"delivery", "delivery-times"}},          // as many: the shorter question first
		{"does delivery take long on weekends", []string{"delivery-times"}},
		{"Öpening", []string{"hours"}}, // accents folded; the disabled intent never answers
		{"quantum physics", nil},
		{"?!", nil},
		{"a", nil}, // one-letter words share nothing
	} {
		if got := names(MatchIntents(tc.question, all)); !equalStrings(got, tc.want) {
			t.Errorf("MatchIntents(%q) = %v, want %v", tc.question, got, tc.want)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
