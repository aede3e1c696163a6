package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tiledesk-go/tiledesk"
)

// Intents (/:pid/faq, alias /:pid/intents): a bot's questions and answers.

// intent reads the intent of the path's id.
func (s *Server) intent(r *http.Request, c *call) (*tiledesk.Intent, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.store.FindIntent(r.Context(), c.project.ID, id)
}

// maxDisplayNameBytes bounds an intent's display name, which names it in flows and exports.
const maxDisplayNameBytes = 256

// intentFields reads the fields an intent's creation or update may set and returns what sets them.
func intentFields(b *body) func(*tiledesk.Intent) {
	var sets []func(*tiledesk.Intent)
	str := func(field string, to func(*tiledesk.Intent, string)) {
		if v := b.str(field); v != nil {
			sets = append(sets, func(in *tiledesk.Intent) { to(in, *v) })
		}
	}
	obj := func(field string, to func(*tiledesk.Intent, map[string]any)) {
		if b.has(field) {
			if v := b.boundedObject(field); v != nil {
				sets = append(sets, func(in *tiledesk.Intent) { to(in, v) })
			}
		}
	}
	if v := b.str("intent_display_name"); v != nil {
		name := strings.TrimSpace(*v)
		switch {
		case name == "":
			b.fail("intent_display_name", "must not be empty", *v)
		case len(name) > maxDisplayNameBytes:
			b.fail("intent_display_name", "must be at most "+strconv.Itoa(maxDisplayNameBytes)+" bytes", nil)
		default:
			sets = append(sets, func(in *tiledesk.Intent) { in.DisplayName = name })
		}
	}
	str("question", func(in *tiledesk.Intent, v string) { in.Question = v })
	str("answer", func(in *tiledesk.Intent, v string) { in.Answer = v })
	str("topic", func(in *tiledesk.Intent, v string) { in.Topic = v })
	str("language", func(in *tiledesk.Intent, v string) { in.Language = v })
	if v := b.oneOf("status", "live", "draft"); v != nil {
		sets = append(sets, func(in *tiledesk.Intent) { in.Status = *v })
	}
	if v := b.boolean("enabled"); v != nil {
		sets = append(sets, func(in *tiledesk.Intent) { in.Enabled = *v })
	}
	if v := b.boolean("webhook_enabled"); v != nil {
		sets = append(sets, func(in *tiledesk.Intent) { in.WebhookEnabled = *v })
	}
	obj("reply", func(in *tiledesk.Intent, v map[string]any) { in.Reply = v })
	obj("form", func(in *tiledesk.Intent, v map[string]any) { in.Form = v })
	obj("attributes", func(in *tiledesk.Intent, v map[string]any) { in.Attributes = v })
	if b.has("actions") {
		arr := b.array("actions")
		if arr != nil && b.within("actions", arr, tiledesk.MaxJSONBytes) {
			sets = append(sets, func(in *tiledesk.Intent) { in.Actions = arr })
		}
	}
	return func(in *tiledesk.Intent) {
		for _, set := range sets {
			set(in)
		}
	}
}

// newIntent is an intent of the bot with the original's defaults, its display name a short
// random one unless the body names it.
func newIntent(projectID, botID, by string, now time.Time) *tiledesk.Intent {
	return &tiledesk.Intent{ID: tiledesk.NewIDAt(now), ProjectID: projectID, BotID: botID, IntentID: uuid.NewString(),
		DisplayName: "intent-" + uuid.NewString()[:6], Topic: "default", Status: "live", Enabled: true, Actions: []any{},
		CreatedBy: by, CreatedAt: now, UpdatedAt: now}
}

func (s *Server) handleIntentCreate(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	botID := b.requiredStr("id_faq_kb")
	if botID != "" && !tiledesk.IsID(botID) {
		b.fail("id_faq_kb", "must be a bot id", botID)
	}
	apply := intentFields(b)
	if err := b.err(); err != nil {
		return err
	}
	botID = strings.ToLower(botID)
	in := newIntent(c.project.ID, botID, c.caller.id, tiledesk.Millis(s.now()))
	apply(in)
	if err := s.store.CreateIntents(r.Context(), c.project.ID, botID, []*tiledesk.Intent{in}, tiledesk.IntentsAdd); err != nil {
		return intentError(err, botID, c)
	}
	writeJSON(w, http.StatusOK, toIntent(in))
	return nil
}

// intentError gives the original's answers to a missing bot and a taken display name.
func intentError(err error, botID string, c *call) error {
	switch tiledesk.ErrorCode(err) {
	case tiledesk.ENOTFOUND:
		return errMsg(http.StatusNotFound, "Chatbot not found with id "+botID+" for project "+c.project.ID)
	case tiledesk.ECONFLICT:
		if strings.Contains(err.Error(), "intent_display_name") {
			return &apiError{status: http.StatusConflict, body: map[string]any{"success": false,
				"msg": "Duplicate  intent_display_name.", "error": tiledesk.ErrorMessage(err)}}
		}
	}
	return err
}

func (s *Server) handleIntentList(w http.ResponseWriter, r *http.Request, c *call) error {
	q := r.URL.Query()
	f := tiledesk.IntentFilter{BotID: strings.ToLower(q.Get("id_faq_kb")), DisplayName: q.Get("intent_display_name"), Text: q.Get("text")}
	var err error
	if f.Page, err = queryIntIn(q, "page", 0, 100000, 0); err != nil {
		return err
	}
	if f.Limit, err = queryIntIn(q, "limit", 1, tiledesk.MaxIntentsPerBot, tiledesk.MaxIntentsPerBot); err != nil {
		return err
	}
	ins, err := s.store.FindIntents(r.Context(), c.project.ID, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toIntents(ins))
	return nil
}

// queryIntIn reads a whole-number query parameter within [lo, hi], def when absent.
func queryIntIn(q url.Values, name string, lo, hi, def int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, invalidQuery(name, "must be a whole number from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi), v)
	}
	return n, nil
}

func (s *Server) handleIntentGet(w http.ResponseWriter, r *http.Request, c *call) error {
	in, err := s.intent(r, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toIntent(in))
	return nil
}

func (s *Server) handleIntentUpdate(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	apply := intentFields(b)
	if err := b.err(); err != nil {
		return err
	}
	return s.changeIntent(w, r, c, id, func(in *tiledesk.Intent) error { apply(in); return nil })
}

func (s *Server) changeIntent(w http.ResponseWriter, r *http.Request, c *call, id string, change func(*tiledesk.Intent) error) error {
	in, err := s.store.ChangeIntent(r.Context(), c.project.ID, id, change)
	if err != nil {
		return intentError(err, "", c)
	}
	writeJSON(w, http.StatusOK, toIntent(in))
	return nil
}

func (s *Server) handleIntentAttributes(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	m, err := mergeBody(r, "attributes")
	if err != nil {
		return err
	}
	return s.changeIntent(w, r, c, id, func(in *tiledesk.Intent) error {
		in.Attributes, err = mergedAttributes(in.Attributes, m)
		return err
	})
}

func (s *Server) handleIntentDelete(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	in, err := s.store.DeleteIntent(r.Context(), c.project.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toIntent(in))
	return nil
}
