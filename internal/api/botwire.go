package api

import (
	"github.com/tiledesk-go/tiledesk"
)

// botJSON is a chatbot in the original's shape (faq_kb: no "id" virtual), its secret never.
type botJSON struct {
	Name             string         `json:"name"`
	Description      string         `json:"description,omitempty"`
	URL              string         `json:"url,omitempty"`
	WebhookURL       string         `json:"webhook_url,omitempty"`
	WebhookEnabled   bool           `json:"webhook_enabled"`
	IDProject        string         `json:"id_project"`
	Type             string         `json:"type"`
	Subtype          string         `json:"subtype,omitempty"`
	Trashed          bool           `json:"trashed,omitempty"`
	TrashedAt        *jsTime        `json:"trashedAt,omitempty"`
	Language         string         `json:"language"`
	Attributes       map[string]any `json:"attributes,omitempty"`
	CreatedBy        string         `json:"createdBy"`
	Public           bool           `json:"public"`
	Certified        bool           `json:"certified"`
	MainCategory     string         `json:"mainCategory,omitempty"`
	IntentsEngine    string         `json:"intentsEngine"`
	Tags             []string       `json:"tags"`
	Score            float64        `json:"score"`
	Trained          bool           `json:"trained"`
	ShortDescription string         `json:"short_description,omitempty"`
	Title            string         `json:"title,omitempty"`
	CertifiedTags    []any          `json:"certifiedTags"`
	AgentsAvailable  bool           `json:"agents_available"`
	Slug             string         `json:"slug"`
	Modified         bool           `json:"modified,omitempty"`
	RootID           string         `json:"root_id,omitempty"`
	ID               string         `json:"_id"`
	CreatedAt        jsTime         `json:"createdAt"`
	UpdatedAt        jsTime         `json:"updatedAt"`
	V                int            `json:"__v"`
}

func toBot(b *tiledesk.Bot) *botJSON {
	out := &botJSON{Name: b.Name, Description: b.Description, URL: b.URL, WebhookURL: b.WebhookURL,
		WebhookEnabled: b.WebhookEnabled, IDProject: b.ProjectID, Type: b.Type, Subtype: b.Subtype, Trashed: b.Trashed,
		Language: b.Language, Attributes: b.Attributes, CreatedBy: b.CreatedBy, Public: b.Public, Certified: b.Certified,
		MainCategory: b.MainCategory, IntentsEngine: b.IntentsEngine, Tags: nonNil(b.Tags), Score: b.Score,
		Trained: b.Trained, ShortDescription: b.ShortDescription, Title: b.Title, CertifiedTags: b.CertifiedTags,
		AgentsAvailable: b.AgentsAvailable, Slug: b.Slug, Modified: b.Modified, RootID: b.RootID, ID: b.ID,
		CreatedAt: jsTime(b.CreatedAt), UpdatedAt: jsTime(b.UpdatedAt)}
	if out.CertifiedTags == nil {
		out.CertifiedTags = []any{}
	}
	if !b.TrashedAt.IsZero() {
		t := jsTime(b.TrashedAt)
		out.TrashedAt = &t
	}
	return out
}

// toAgentBot is a bot as agents below admin list it: without where it is reached (url,
// webhook_url, which may carry credentials) and its attributes.
func toAgentBot(b *tiledesk.Bot) *botJSON {
	out := toBot(b)
	out.URL, out.WebhookURL, out.Attributes = "", "", nil
	return out
}

// intentJSON is an intent in the original's shape (faq: with the "id" virtual).
type intentJSON struct {
	IDFaqKB        string         `json:"id_faq_kb"`
	IntentID       string         `json:"intent_id"`
	DisplayName    string         `json:"intent_display_name"`
	Question       string         `json:"question"`
	WebhookEnabled bool           `json:"webhook_enabled"`
	Answer         string         `json:"answer"`
	Reply          map[string]any `json:"reply,omitempty"`
	Enabled        bool           `json:"enabled"`
	IDProject      string         `json:"id_project"`
	Topic          string         `json:"topic"`
	Status         string         `json:"status"`
	Language       string         `json:"language,omitempty"`
	CreatedBy      string         `json:"createdBy"`
	Form           map[string]any `json:"form,omitempty"`
	Actions        []any          `json:"actions"`
	Attributes     map[string]any `json:"attributes,omitempty"`
	ID             string         `json:"_id"`
	CreatedAt      jsTime         `json:"createdAt"`
	UpdatedAt      jsTime         `json:"updatedAt"`
	V              int            `json:"__v"`
	IDVirtual      string         `json:"id"`
}

func toIntent(in *tiledesk.Intent) *intentJSON {
	out := &intentJSON{IDFaqKB: in.BotID, IntentID: in.IntentID, DisplayName: in.DisplayName, Question: in.Question,
		WebhookEnabled: in.WebhookEnabled, Answer: in.Answer, Reply: in.Reply, Enabled: in.Enabled, IDProject: in.ProjectID,
		Topic: in.Topic, Status: in.Status, Language: in.Language, CreatedBy: in.CreatedBy, Form: in.Form,
		Actions: in.Actions, Attributes: in.Attributes, ID: in.ID, CreatedAt: jsTime(in.CreatedAt),
		UpdatedAt: jsTime(in.UpdatedAt), IDVirtual: in.ID}
	if out.Actions == nil {
		out.Actions = []any{}
	}
	return out
}

func toIntents(ins []*tiledesk.Intent) []*intentJSON {
	out := make([]*intentJSON, 0, len(ins))
	for _, in := range ins {
		out = append(out, toIntent(in))
	}
	return out
}
