package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

var botTests = []struct {
	name string
	fn   func(*testing.T, tiledesk.Store)
}{
	{"BotsTenantIsolation", testBotsTenantIsolation},
	{"BotSlugsUniqueUnderRace", testBotSlugsUniqueUnderRace},
	{"IntentsOfOneBot", testIntentsOfOneBot},
}

// NewBot is a bot of p as the API creates one.
func NewBot(p *tiledesk.Project, name string) *tiledesk.Bot {
	now := tiledesk.Millis(tiledesk.Now())
	return &tiledesk.Bot{ID: tiledesk.NewIDAt(now), ProjectID: p.ID, Name: name, Slug: tiledesk.Slugify(name),
		Type: tiledesk.BotInternal, Language: "en", Trained: true, Secret: "secret-" + tiledesk.NewID(),
		Attributes: map[string]any{"ünïcode": "värde", "n": 1.5}, Tags: []string{"a"}, CreatedBy: p.CreatedBy,
		CreatedAt: now, UpdatedAt: now}
}

// NewIntent is an intent named name, as the API creates one.
func NewIntent(name, question, answer string) *tiledesk.Intent {
	now := tiledesk.Millis(tiledesk.Now())
	return &tiledesk.Intent{ID: tiledesk.NewIDAt(now), IntentID: tiledesk.NewID(), DisplayName: name, Question: question,
		Answer: answer, Topic: "default", Status: "live", Enabled: true, Actions: []any{map[string]any{"_tdActionType": "reply"}},
		CreatedAt: now, UpdatedAt: now}
}

func testBotsTenantIsolation(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	owner := mustCreateUser(t, s, "bots")
	a, _, _ := mustCreateProject(t, s, owner, "A")
	b, _, _ := mustCreateProject(t, s, owner, "B")
	bot := NewBot(a, "Helper")
	if err := s.CreateBot(ctx, bot, []*tiledesk.Intent{NewIntent("hi", "Hello?", "Hi!")}); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindBot(ctx, a.ID, bot.ID)
	if err != nil || got.Secret != bot.Secret || got.Attributes["ünïcode"] != "värde" || got.Slug != "helper" {
		t.Fatalf("FindBot = %+v, %v", got, err)
	}
	if _, err := s.FindBot(ctx, b.ID, bot.ID); tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		t.Fatalf("another project's bot: %v", err)
	}
	if _, err := s.ChangeBot(ctx, b.ID, bot.ID, func(*tiledesk.Bot) error { return nil }); tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		t.Fatalf("ChangeBot through another project: %v", err)
	}
	if _, err := s.DeleteBot(ctx, b.ID, bot.ID); tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		t.Fatalf("DeleteBot through another project: %v", err)
	}
	if err := s.CreateIntents(ctx, b.ID, bot.ID, []*tiledesk.Intent{NewIntent("x", "", "")}, tiledesk.IntentsAdd); tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		t.Fatalf("an intent for another project's bot: %v", err)
	}
	if ins, err := s.FindIntents(ctx, b.ID, tiledesk.IntentFilter{BotID: bot.ID}); err != nil || len(ins) != 0 {
		t.Fatalf("another project lists %d intents of the bot (%v)", len(ins), err)
	}
	if bots, err := s.FindBots(ctx, b.ID, tiledesk.BotFilter{}); err != nil || len(bots) != 0 {
		t.Fatalf("another project lists %d bots (%v)", len(bots), err)
	}
	// The same slug in two projects is no conflict.
	other := NewBot(b, "Helper")
	if err := s.CreateBot(ctx, other, nil); err != nil || other.Slug != "helper" {
		t.Fatalf("the same name in another project: slug %q, %v", other.Slug, err)
	}
}

func testBotSlugsUniqueUnderRace(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	owner := mustCreateUser(t, s, "slugs")
	p, _, _ := mustCreateProject(t, s, owner, "Slugs")
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.CreateBot(ctx, NewBot(p, "Same Name"), nil)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	bots, err := s.FindBots(ctx, p.ID, tiledesk.BotFilter{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, b := range bots {
		if seen[b.Slug] {
			t.Fatalf("two bots have the slug %q", b.Slug)
		}
		seen[b.Slug] = true
	}
	if len(seen) != n || !seen["same-name"] || !seen[fmt.Sprintf("same-name-%d", n)] {
		t.Fatalf("slugs %v", seen)
	}
}

func testIntentsOfOneBot(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	owner := mustCreateUser(t, s, "intents")
	p, _, _ := mustCreateProject(t, s, owner, "Intents")
	bot, second := NewBot(p, "One"), NewBot(p, "Two")
	for _, b := range []*tiledesk.Bot{bot, second} {
		if err := s.CreateBot(ctx, b, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateIntents(ctx, p.ID, bot.ID, []*tiledesk.Intent{NewIntent("hours", "When do you OPEN?", "At 9"),
		NewIntent("price", "How much?", "Ten euros, open bar")}, tiledesk.IntentsAdd); err != nil {
		t.Fatal(err)
	}
	// Display names are unique within a bot, not across bots; a failed batch writes nothing.
	err := s.CreateIntents(ctx, p.ID, bot.ID, []*tiledesk.Intent{NewIntent("new", "", ""), NewIntent("hours", "", "")}, tiledesk.IntentsAdd)
	if tiledesk.ErrorCode(err) != tiledesk.ECONFLICT {
		t.Fatalf("a taken display name: %v", err)
	}
	if err := s.CreateIntents(ctx, p.ID, second.ID, []*tiledesk.Intent{NewIntent("hours", "", "")}, tiledesk.IntentsAdd); err != nil {
		t.Fatalf("the same display name in another bot: %v", err)
	}
	ins, err := s.FindIntents(ctx, p.ID, tiledesk.IntentFilter{BotID: bot.ID})
	if err != nil || len(ins) != 2 {
		t.Fatalf("the bot has %d intents after a failed batch (%v)", len(ins), err)
	}
	if got, _ := s.FindIntents(ctx, p.ID, tiledesk.IntentFilter{BotID: bot.ID, Text: "open"}); len(got) != 2 {
		t.Fatalf("text open finds %d intents, want 2 (question and answer)", len(got))
	}
	if got, _ := s.FindIntents(ctx, p.ID, tiledesk.IntentFilter{Text: "100%"}); len(got) != 0 {
		t.Fatalf("a LIKE wildcard in the text matches %d intents", len(got))
	}
	// With overwrite, a taken display name replaces that intent, keeping its id; new names are added.
	if err := s.CreateIntents(ctx, p.ID, bot.ID, []*tiledesk.Intent{NewIntent("hours", "Open when?", "At 10"),
		NewIntent("more", "", "")}, tiledesk.IntentsOverwrite); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.FindIntents(ctx, p.ID, tiledesk.IntentFilter{BotID: bot.ID, DisplayName: "hours"}); len(got) != 1 ||
		got[0].ID != ins[0].ID || got[0].Answer != "At 10" {
		t.Fatalf("overwritten intent %+v", got)
	}
	if got, _ := s.FindIntents(ctx, p.ID, tiledesk.IntentFilter{BotID: bot.ID}); len(got) != 3 {
		t.Fatalf("after an overwriting import the bot has %d intents, want 3", len(got))
	}
	if _, err := s.ChangeIntent(ctx, p.ID, ins[1].ID, func(in *tiledesk.Intent) error { in.DisplayName = "hours"; return nil }); tiledesk.ErrorCode(err) != tiledesk.ECONFLICT {
		t.Fatalf("renaming onto a taken display name: %v", err)
	}
	if _, err := s.DeleteBot(ctx, p.ID, bot.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.FindIntents(ctx, p.ID, tiledesk.IntentFilter{BotID: bot.ID}); len(got) != 0 {
		t.Fatalf("a deleted bot leaves %d intents", len(got))
	}
	if got, _ := s.FindIntents(ctx, p.ID, tiledesk.IntentFilter{}); len(got) != 1 {
		t.Fatalf("the other bot keeps %d intents, want 1", len(got))
	}
}
