package api

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

var trickyStrings = []string{"", "plain", `quote " and \ backslash`, "tab\tnew\nline\rcr\bbs\fff", "\x00\x01\x1f\x7f",
	"<b>&amp;</b>", "accents àéîõü ß 漢字 🙂", "\u2028 and \u2029", "bad utf-8 \xff\xfe end", "\xc3", "\xed\xa0\x80",
	"+39 06 1234", strings.Repeat("long ", 200)}

func checkString(t *testing.T, s string) {
	t.Helper()
	want, err := encodeJSON(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
		t.Fatalf("appendJSONString(%q) = %s, encoding/json writes %s", s, got, want)
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range trickyStrings {
		checkString(t, s)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune{'a', 'Z', '"', '\\', '\n', 0, 0x1f, 0x7f, 'é', '漢', 0x2028, 0x2029, 0xfffd, '🙂', '<', '&'}
	for range 5000 {
		var b strings.Builder
		for range rng.IntN(12) {
			if rng.IntN(10) == 0 {
				b.WriteByte(byte(0x80 + rng.IntN(0x80))) // a stray byte: invalid UTF-8
				continue
			}
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		checkString(t, b.String())
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range trickyStrings {
		f.Add(s)
	}
	f.Fuzz(checkString)
}

func TestAppendLeadJSON(t *testing.T) {
	at := time.Date(2026, 11, 25, 18, 30, 1, 123456789, time.UTC)
	leads := []*tiledesk.Lead{
		{ID: tiledesk.NewID(), ProjectID: tiledesk.NewID(), LeadID: "minimal", CreatedBy: "system", CreatedAt: at, UpdatedAt: at},
		{ID: tiledesk.NewID(), ProjectID: tiledesk.NewID(), LeadID: "empty-maps", Tags: []string{}, Attributes: map[string]any{},
			Properties: map[string]any{}, CreatedAt: at, UpdatedAt: at.Add(time.Hour)},
		{ID: tiledesk.NewID(), ProjectID: tiledesk.NewID(), LeadID: "ext-1", Fullname: "Mário <Rossi>", Email: "m&r@x.io",
			Phone: "+39 06 1234", Company: "ACME \"S.r.l.\"", Note: "line\nbreak", StreetAddress: "Via Roma 1", City: "Roma",
			Region: "Lazio", Zipcode: "00100", Country: "IT", Tags: []string{"vip", "a\"b", "\u2028"}, Status: tiledesk.LeadDeleted,
			Attributes: map[string]any{"plan": "gold", "n": 42.5, "html": "<i>&</i>", "nested": map[string]any{"z": []any{1.0, "x", nil, true}}},
			Properties: map[string]any{"p": "\xff"}, CreatedBy: tiledesk.NewID(), CreatedAt: at.In(time.FixedZone("X", 3600)), UpdatedAt: at},
	}
	for _, s := range trickyStrings {
		leads = append(leads, &tiledesk.Lead{ID: s, ProjectID: s, LeadID: s, Fullname: s, Email: s, Phone: s, Company: s, Note: s,
			StreetAddress: s, City: s, Region: s, Zipcode: s, Country: s, Tags: []string{s}, Attributes: map[string]any{s: s},
			Properties: map[string]any{"k": s}, CreatedBy: s, CreatedAt: at, UpdatedAt: at})
	}
	for _, l := range leads {
		want, err := encodeJSON(toLead(l))
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendLeadJSON(nil, l)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("lead %q:\nappendLeadJSON %s\nencoding/json  %s", l.LeadID, got, want)
		}
	}
}
