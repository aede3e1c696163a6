package api

import (
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/auth"
)

// Chatbots (/:pid/faq_kb, alias /:pid/bots): the original's routes and shapes. Admins manage them;
// agents list those offered to them.

// botLanguage is a language code such as en, it or pt-BR.
var botLanguage = regexp.MustCompile(`^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$`)

// bot reads the bot of the path's id, with the original's 404.
func (s *Server) bot(r *http.Request, c *call) (*tiledesk.Bot, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	b, err := s.store.FindBot(r.Context(), c.project.ID, id)
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
		return nil, errMsg(http.StatusNotFound, "Chatbot not found with id "+id+" for project "+c.project.ID)
	}
	return b, err
}

// botFields reads the fields a bot's creation or update may set and returns what sets them.
func (s *Server) botFields(b *body) func(*tiledesk.Bot) {
	var sets []func(*tiledesk.Bot)
	str := func(field string, to func(*tiledesk.Bot, string)) {
		if v := b.str(field); v != nil {
			sets = append(sets, func(bot *tiledesk.Bot) { to(bot, *v) })
		}
	}
	flag := func(field string, to func(*tiledesk.Bot, bool)) {
		if v := b.boolean(field); v != nil {
			sets = append(sets, func(bot *tiledesk.Bot) { to(bot, *v) })
		}
	}
	if b.has("name") {
		name := b.requiredStr("name")
		sets = append(sets, func(bot *tiledesk.Bot) { bot.Name = name })
	}
	str("description", func(bot *tiledesk.Bot, v string) { bot.Description = v })
	for _, field := range []string{"url", "webhook_url"} {
		if v := b.str(field); v != nil && *v != "" {
			if why := s.webhookGuard.CheckTarget(*v); why != "" {
				b.fail(field, why, *v)
			}
		}
	}
	str("url", func(bot *tiledesk.Bot, v string) { bot.URL = v })
	str("webhook_url", func(bot *tiledesk.Bot, v string) { bot.WebhookURL = v })
	if v := b.oneOf("type", tiledesk.BotTypes...); v != nil {
		sets = append(sets, func(bot *tiledesk.Bot) { bot.Type = *v })
	} else if ext := b.boolean("external"); ext != nil && *ext && !b.has("type") {
		// The official SDK says external: true rather than the type.
		sets = append(sets, func(bot *tiledesk.Bot) { bot.Type = tiledesk.BotExternal })
	}
	str("subtype", func(bot *tiledesk.Bot, v string) { bot.Subtype = v })
	if v := b.str("language"); v != nil && !botLanguage.MatchString(*v) {
		b.fail("language", "must be a language code such as en or pt-BR", *v)
	}
	str("language", func(bot *tiledesk.Bot, v string) { bot.Language = v })
	if v := b.str("slug"); v != nil && tiledesk.Slugify(*v) != *v {
		b.fail("slug", "must be lower-case letters and digits joined by dashes, such as my-bot", *v)
	}
	str("slug", func(bot *tiledesk.Bot, v string) { bot.Slug = v })
	str("mainCategory", func(bot *tiledesk.Bot, v string) { bot.MainCategory = v })
	str("intentsEngine", func(bot *tiledesk.Bot, v string) { bot.IntentsEngine = v })
	str("short_description", func(bot *tiledesk.Bot, v string) { bot.ShortDescription = v })
	str("title", func(bot *tiledesk.Bot, v string) { bot.Title = v })
	flag("webhook_enabled", func(bot *tiledesk.Bot, v bool) { bot.WebhookEnabled = v })
	flag("public", func(bot *tiledesk.Bot, v bool) { bot.Public = v })
	flag("certified", func(bot *tiledesk.Bot, v bool) { bot.Certified = v })
	flag("trained", func(bot *tiledesk.Bot, v bool) { bot.Trained = v })
	flag("agents_available", func(bot *tiledesk.Bot, v bool) { bot.AgentsAvailable = v })
	now := s.now()
	flag("trashed", func(bot *tiledesk.Bot, v bool) {
		if v && !bot.Trashed {
			bot.TrashedAt = now
		} else if !v {
			bot.TrashedAt = time.Time{}
		}
		bot.Trashed = v
	})
	if b.has("tags") {
		tags := b.tags("tags")
		sets = append(sets, func(bot *tiledesk.Bot) { bot.Tags = tags })
	}
	if b.has("certifiedTags") {
		arr := b.array("certifiedTags")
		if arr != nil && !b.within("certifiedTags", arr, tiledesk.MaxJSONBytes) {
			arr = nil
		}
		sets = append(sets, func(bot *tiledesk.Bot) { bot.CertifiedTags = arr })
	}
	if attrs := b.boundedObject("attributes"); attrs != nil {
		sets = append(sets, func(bot *tiledesk.Bot) { bot.Attributes = attrs })
	}
	return func(bot *tiledesk.Bot) {
		for _, set := range sets {
			set(bot)
		}
	}
}

func (s *Server) handleBotCreate(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	b.requiredStr("name")
	apply := s.botFields(b)
	template := b.oneOf("template", "empty", "blank", "example")
	if err := b.err(); err != nil {
		return err
	}
	now := tiledesk.Millis(s.now())
	bot := &tiledesk.Bot{ID: tiledesk.NewIDAt(now), ProjectID: c.project.ID, Type: tiledesk.BotInternal, Language: "en",
		IntentsEngine: "none", Trained: true, Tags: []string{}, Secret: uuid.NewString(), CreatedBy: c.caller.id,
		CreatedAt: now, UpdatedAt: now}
	apply(bot)
	if bot.Slug == "" {
		bot.Slug = tiledesk.Slugify(bot.Name)
	}
	var intents []*tiledesk.Intent
	if (bot.Type == tiledesk.BotInternal || bot.Type == tiledesk.BotTilebot) && (template == nil || *template != "empty") {
		intents = starterIntents(bot, c.caller.id, now)
	}
	if err := s.store.CreateBot(r.Context(), bot, intents); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toBot(bot))
	return nil
}

// starterIntents are what a new internal bot answers before anyone teaches it: a greeting when a
// conversation starts and a fallback.
func starterIntents(bot *tiledesk.Bot, by string, now time.Time) []*tiledesk.Intent {
	mk := func(name, question, answer string) *tiledesk.Intent {
		return &tiledesk.Intent{ID: tiledesk.NewIDAt(now), IntentID: uuid.NewString(), DisplayName: name, Question: question,
			Answer: answer, Topic: "default", Status: "live", Language: bot.Language, Enabled: true, Actions: []any{},
			CreatedBy: by, CreatedAt: now, UpdatedAt: now}
	}
	return []*tiledesk.Intent{
		mk("start", `\start`, "Hello! I'm "+bot.Name+". How can I help you?"),
		mk("defaultFallback", "", "I did not understand. Can you say it in other words?"),
	}
}

func (s *Server) handleBotList(w http.ResponseWriter, r *http.Request, c *call) error {
	q := r.URL.Query()
	f := tiledesk.BotFilter{Name: q.Get("name"), Text: q.Get("text"), Language: q.Get("language")}
	var err error
	if f.WithIdentity, err = queryBool(q, "all"); err != nil {
		return err
	}
	for name, to := range map[string]**bool{"public": &f.Public, "certified": &f.Certified} {
		if q.Get(name) != "" {
			v, err := queryBool(q, name)
			if err != nil {
				return err
			}
			*to = &v
		}
	}
	full := c.member == nil || tiledesk.HasRole(c.member.Role, tiledesk.RoleAdmin)
	f.ForAgents = !full
	bots, err := s.store.FindBots(r.Context(), c.project.ID, f)
	if err != nil {
		return err
	}
	out := make([]*botJSON, 0, len(bots))
	for _, b := range bots {
		if full {
			out = append(out, toBot(b))
		} else {
			out = append(out, toAgentBot(b))
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) handleBotGet(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := s.bot(r, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toBot(b))
	return nil
}

// handleBotUpdate changes the fields the original lets a PUT change, and marks the bot modified.
func (s *Server) handleBotUpdate(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	apply := s.botFields(b)
	if err := b.err(); err != nil {
		return err
	}
	return s.changeBot(w, r, c, func(bot *tiledesk.Bot) error {
		apply(bot)
		bot.Modified = true
		return nil
	})
}

// changeBot applies change to the path's bot and answers the bot.
func (s *Server) changeBot(w http.ResponseWriter, r *http.Request, c *call, change func(*tiledesk.Bot) error) error {
	cur, err := s.bot(r, c)
	if err != nil {
		return err
	}
	bot, err := s.store.ChangeBot(r.Context(), c.project.ID, cur.ID, change)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toBot(bot))
	return nil
}

func (s *Server) handleBotAttributes(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := pathID(r, "id"); err != nil {
		return err
	}
	m, err := mergeBody(r, "attributes")
	if err != nil {
		return err
	}
	return s.changeBot(w, r, c, func(bot *tiledesk.Bot) error {
		bot.Attributes, err = mergedAttributes(bot.Attributes, m)
		return err
	})
}

func (s *Server) handleBotDelete(w http.ResponseWriter, r *http.Request, c *call) error {
	cur, err := s.bot(r, c)
	if err != nil {
		return err
	}
	if _, err := s.store.DeleteBot(r.Context(), c.project.ID, cur.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "Chatbot with id " + cur.ID + " deleted successfully"})
	return nil
}

// handleBotAction answers GET .../faq_kb/:id/jwt; any other word names nothing.
func (s *Server) handleBotAction(w http.ResponseWriter, r *http.Request, c *call) error {
	if !strings.EqualFold(r.PathValue("action"), "jwt") {
		return errNotFound
	}
	return s.handleBotToken(w, r, c)
}

// handleBotToken mints a token for the bot, signed with its own secret: the bot's fields but its
// secret, description and attributes, with sub "bot" and the bot's audience.
func (s *Server) handleBotToken(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := s.bot(r, c)
	if err != nil {
		return err
	}
	// The secret itself is shown once, by the rotation: every admin and bot of the project may
	// mint tokens here, and none should read what signs them and the external bot's deliveries.
	return s.writeBotToken(w, b)
}

func (s *Server) writeBotToken(w http.ResponseWriter, b *tiledesk.Bot) error {
	tok, err := s.botToken(b)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"jwt": tok})
	return nil
}

// botToken is a token of the bot, signed with its secret: its fields but its secret, description
// and attributes, with sub "bot" and the bot's audience.
func (s *Server) botToken(b *tiledesk.Bot) (string, error) {
	payload := map[string]any{}
	if err := remarshal(toBot(b), &payload); err != nil {
		return "", err
	}
	delete(payload, "description")
	delete(payload, "attributes")
	return s.tokens.IssueWith([]byte(b.Secret), payload, auth.SubjectBot, auth.BotAudience(b.ID))
}

// handleBotTokenRotate gives the bot a new secret, which ends every token issued before, and
// answers a token signed with the new one, and the secret itself: shown this once, it is what an
// external bot checks the signature of its deliveries with.
func (s *Server) handleBotTokenRotate(w http.ResponseWriter, r *http.Request, c *call) error {
	cur, err := s.bot(r, c)
	if err != nil {
		return err
	}
	b, err := s.store.ChangeBot(r.Context(), c.project.ID, cur.ID, func(b *tiledesk.Bot) error {
		b.Secret = uuid.NewString()
		return nil
	})
	if err != nil {
		return err
	}
	tok, err := s.botToken(b)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"jwt": tok, "secret": b.Secret})
	return nil
}

// handleBotLanguage sets the language of the bot and of all its intents.
func (s *Server) handleBotLanguage(w http.ResponseWriter, r *http.Request, c *call) error {
	lang := r.PathValue("language")
	if !botLanguage.MatchString(lang) {
		return invalidField("language", "path", "must be a language code such as en or pt-BR")
	}
	cur, err := s.bot(r, c)
	if err != nil {
		return err
	}
	ins, err := s.store.FindIntents(r.Context(), c.project.ID, tiledesk.IntentFilter{BotID: cur.ID})
	if err != nil {
		return err
	}
	for _, in := range ins {
		in.Language = lang
	}
	bot, err := s.store.ImportIntoBot(r.Context(), c.project.ID, cur.ID, func(b *tiledesk.Bot) error {
		b.Language = lang
		return nil
	}, ins, tiledesk.IntentsOverwrite)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toBot(bot))
	return nil
}
