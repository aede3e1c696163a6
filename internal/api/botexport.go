package api

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tiledesk-go/tiledesk"
)

// A bot as a JSON file: exported, imported into a project (a new bot, or over one), and forked
// into another project. The file is the original's: the bot's fields and its intents.

// botFileJSON is an exported bot.
type botFileJSON struct {
	WebhookEnabled bool             `json:"webhook_enabled"`
	WebhookURL     string           `json:"webhook_url,omitempty"`
	Language       string           `json:"language"`
	Name           string           `json:"name"`
	Slug           string           `json:"slug"`
	Type           string           `json:"type"`
	Subtype        string           `json:"subtype,omitempty"`
	Description    string           `json:"description,omitempty"`
	Attributes     map[string]any   `json:"attributes,omitempty"`
	Intents        []intentFileJSON `json:"intents"`
}

// intentFileJSON is an exported intent: its content, without what names it in its project.
type intentFileJSON struct {
	DisplayName    string         `json:"intent_display_name"`
	IntentID       string         `json:"intent_id"`
	Question       string         `json:"question"`
	Answer         string         `json:"answer"`
	Reply          map[string]any `json:"reply,omitempty"`
	Form           map[string]any `json:"form,omitempty"`
	Enabled        bool           `json:"enabled"`
	WebhookEnabled bool           `json:"webhook_enabled"`
	Language       string         `json:"language,omitempty"`
	Actions        []any          `json:"actions"`
	Attributes     map[string]any `json:"attributes,omitempty"`
}

// botFile exports a bot and its intents; without globals, attributes.globals (a bot's settings,
// often credentials) is left out.
func (s *Server) botFile(r *http.Request, b *tiledesk.Bot, globals bool) (*botFileJSON, error) {
	ins, err := s.store.FindIntents(r.Context(), b.ProjectID, tiledesk.IntentFilter{BotID: b.ID})
	if err != nil {
		return nil, err
	}
	out := &botFileJSON{WebhookEnabled: b.WebhookEnabled, WebhookURL: b.WebhookURL, Language: b.Language, Name: b.Name,
		Slug: b.Slug, Type: b.Type, Subtype: b.Subtype, Description: b.Description, Attributes: b.Attributes,
		Intents: make([]intentFileJSON, 0, len(ins))}
	if _, ok := out.Attributes["globals"]; ok && !globals {
		out.Attributes = make(map[string]any, len(b.Attributes))
		for k, v := range b.Attributes {
			if k != "globals" {
				out.Attributes[k] = v
			}
		}
	}
	for _, in := range ins {
		actions := in.Actions
		if actions == nil {
			actions = []any{}
		}
		out.Intents = append(out.Intents, intentFileJSON{DisplayName: in.DisplayName, IntentID: in.IntentID, Question: in.Question,
			Answer: in.Answer, Reply: in.Reply, Form: in.Form, Enabled: in.Enabled, WebhookEnabled: in.WebhookEnabled,
			Language: in.Language, Actions: actions, Attributes: in.Attributes})
	}
	return out, nil
}

// handleBotExport answers the bot's file (?intentsOnly=true: its intents alone) as an attachment.
func (s *Server) handleBotExport(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := s.bot(r, c)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	globals, err := queryBool(q, "globals")
	if err != nil {
		return err
	}
	intentsOnly, err := queryBool(q, "intentsOnly")
	if err != nil {
		return err
	}
	file, err := s.botFile(r, b, globals)
	if err != nil {
		return err
	}
	if intentsOnly {
		w.Header().Set("Content-Disposition", `attachment; filename="intents.json"`)
		writeJSON(w, http.StatusOK, map[string]any{"intents": file.Intents})
		return nil
	}
	w.Header().Set("Content-Disposition", `attachment; filename="bot.json"`)
	writeJSON(w, http.StatusOK, file)
	return nil
}

// readBotFile reads an uploaded bot file: the multipart part uploadFile, or a JSON body.
func (s *Server) readBotFile(r *http.Request) (*body, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return decodeObject(r)
	}
	up, err := s.readUpload(r, "uploadFile")
	if err != nil {
		return nil, err
	}
	v, err := decodeJSON(up.data)
	if err != nil {
		return nil, invalidField("uploadFile", "body", "is not a JSON bot file")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, invalidField("uploadFile", "body", "is not a JSON bot file")
	}
	return &body{m: m}, nil
}

// fileIntents reads a bot file's intents, each checked as POST /:pid/faq checks one.
func fileIntents(b *body, projectID, botID, by string, now time.Time) ([]*tiledesk.Intent, error) {
	list := b.array("intents")
	if err := b.err(); err != nil {
		return nil, err
	}
	if len(list) > tiledesk.MaxIntentsPerBot {
		return nil, invalidField("intents", "body", "a bot has at most 3000 intents")
	}
	out := make([]*tiledesk.Intent, 0, len(list))
	for i, v := range list {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, invalidField("intents", "body", "each intent must be a JSON object")
		}
		ib := &body{m: obj}
		in := newIntent(projectID, botID, by, now)
		intentFields(ib)(in)
		if id := ib.str("intent_id"); id != nil && *id != "" && len(*id) <= 64 {
			in.IntentID = *id
		}
		if err := ib.err(); err != nil {
			return nil, withinField(err, "intents["+strconv.Itoa(i)+"].")
		}
		out = append(out, in)
	}
	return out, nil
}

// claimRules makes a bot's rules (attributes.rules) start conversations with that bot, as the
// original does to a bot imported or forked: each rule's first message goes to bot_<id>.
func claimRules(b *tiledesk.Bot) {
	rules, _ := b.Attributes["rules"].([]any)
	for _, rule := range rules {
		r, _ := rule.(map[string]any)
		do, _ := r["do"].([]any)
		if len(do) == 0 {
			continue
		}
		first, _ := do[0].(map[string]any)
		msg, _ := first["message"].(map[string]any)
		if parts, _ := msg["participants"].([]any); len(parts) > 0 {
			parts[0] = b.ParticipantID()
		}
	}
}

// handleBotImport reads a bot file: with ?create=true into a new bot of the project; otherwise over
// the path's bot, whose name, description, language, webhook and attributes it takes, and to which
// it adds its intents (?replace=true: instead of all the bot's; ?overwrite=true: an intent of a
// name the bot has replaces it; otherwise that one is left out). All of it, or nothing.
func (s *Server) handleBotImport(w http.ResponseWriter, r *http.Request, c *call) error {
	q := r.URL.Query()
	create, replace, overwrite := q.Get("create") == "true", q.Get("replace") == "true", q.Get("overwrite") == "true"
	b, err := s.readBotFile(r)
	if err != nil {
		return err
	}
	if create {
		bot, err := s.createFromFile(r, c.project.ID, c.caller.id, b)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, toBot(bot))
		return nil
	}
	cur, err := s.bot(r, c)
	if err != nil {
		return err
	}
	for _, kept := range []string{"type", "subtype", "slug"} {
		delete(b.m, kept) // the bot imported over keeps what it is
	}
	apply := s.botFields(b)
	intents, err := fileIntents(b, c.project.ID, cur.ID, c.caller.id, tiledesk.Millis(s.now()))
	if err != nil {
		return err
	}
	mode := tiledesk.IntentsSkipTaken
	switch {
	case replace:
		mode = tiledesk.IntentsReplaceAll
	case overwrite:
		mode = tiledesk.IntentsOverwrite
	}
	bot, err := s.store.ImportIntoBot(r.Context(), c.project.ID, cur.ID, func(bot *tiledesk.Bot) error {
		apply(bot)
		claimRules(bot)
		return nil
	}, intents, mode)
	if err != nil {
		return intentError(err, cur.ID, c)
	}
	writeJSON(w, http.StatusOK, toBot(bot))
	return nil
}

// createFromFile creates a bot of the project from a bot file.
func (s *Server) createFromFile(r *http.Request, projectID, by string, b *body) (*tiledesk.Bot, error) {
	b.requiredStr("name")
	apply := s.botFields(b)
	if err := b.err(); err != nil {
		return nil, err
	}
	now := tiledesk.Millis(s.now())
	bot := &tiledesk.Bot{ID: tiledesk.NewIDAt(now), ProjectID: projectID, Type: tiledesk.BotInternal, Language: "en",
		IntentsEngine: "none", Trained: true, Tags: []string{}, Secret: uuid.NewString(), CreatedBy: by, CreatedAt: now, UpdatedAt: now}
	apply(bot)
	if bot.Slug == "" {
		bot.Slug = tiledesk.Slugify(bot.Name)
	}
	claimRules(bot)
	intents, err := fileIntents(b, projectID, bot.ID, by, now)
	if err != nil {
		return nil, err
	}
	if err := s.store.CreateBot(r.Context(), bot, intents); err != nil {
		return nil, err
	}
	return bot, nil
}

// handleBotFork copies the bot, with its intents, into the project ?projectid= names, which the
// caller must be an admin of (the bot's own by default); ?globals=true copies attributes.globals.
func (s *Server) handleBotFork(w http.ResponseWriter, r *http.Request, c *call) error {
	src, err := s.bot(r, c)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	globals, err := queryBool(q, "globals")
	if err != nil {
		return err
	}
	target := c.project.ID
	if p := q.Get("projectid"); p != "" && p != target {
		if !tiledesk.IsID(p) {
			return invalidQuery("projectid", "must be a project id", p)
		}
		if c.caller.bot != nil {
			return errNotMember
		}
		if _, err := s.checkRole(r, c.caller, strings.ToLower(p), tiledesk.RoleAdmin, false); err != nil {
			return err
		}
		target = strings.ToLower(p)
	}
	file, err := s.botFile(r, src, globals)
	if err != nil {
		return err
	}
	m := map[string]any{}
	if err := remarshal(file, &m); err != nil {
		return err
	}
	bot, err := s.createFromFile(r, target, c.caller.id, &body{m: m})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "Chatbot forked successfully", "bot_id": bot.ID})
	return nil
}
