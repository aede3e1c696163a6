package tiledesk

import (
	"context"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Bot types. An internal bot answers from its own intents; an external one receives each message
// at its url and answers through the API with its token.
const (
	BotInternal = "internal"
	BotExternal = "external"
	BotTilebot  = "tilebot"
	BotIdentity = "identity"
)

// BotTypes are the types a bot may have.
var BotTypes = []string{BotInternal, BotExternal, BotTilebot, BotIdentity, "dialogflow", "rasa", "tiledesk-ai"}

// Bot events, with the original's names.
const (
	EventBotCreate    = "faqbot.create"
	EventBotUpdate    = "faqbot.update"
	EventBotDelete    = "faqbot.delete"
	EventIntentCreate = "faq.create"
	EventIntentUpdate = "faq.update"
	EventIntentDelete = "faq.delete"
)

// Bounds of a project's bots and intents: what one list or export returns whole.
const (
	MaxBotsPerProject = 500
	MaxIntentsPerBot  = 3000
)

// Bot is a project's chatbot (the original's faq_kb). Secret signs the bot's tokens; it is never
// rendered, and changing it revokes every token issued before.
type Bot struct {
	ID               string
	ProjectID        string
	Name             string
	Description      string
	Type             string
	Subtype          string
	URL              string
	WebhookURL       string
	WebhookEnabled   bool
	Language         string
	Slug             string
	Attributes       map[string]any
	Public           bool
	Certified        bool
	MainCategory     string
	IntentsEngine    string
	Tags             []string
	Score            float64
	Trained          bool
	ShortDescription string
	Title            string
	CertifiedTags    []any
	AgentsAvailable  bool
	Modified         bool
	RootID           string
	Trashed          bool
	TrashedAt        time.Time
	Secret           string `json:"-"`
	CreatedBy        string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// ParticipantID is the bot as a conversation's participant: "bot_<id>".
func (b *Bot) ParticipantID() string { return BotPrefix + b.ID }

// External reports whether the bot answers from outside the server (at its url).
func (b *Bot) External() bool {
	return b.Type == BotExternal || b.URL != "" || b.WebhookURL != "" && b.WebhookEnabled
}

// Fold is s lower-cased with its accents dropped, for matching that ignores both.
func Fold(s string) string {
	var sb strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		if !unicode.Is(unicode.Mn, r) {
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// Slugify makes a bot's slug of its name: lower-case letters and digits joined by dashes, accents
// dropped; "bot" when nothing is left.
func Slugify(name string) string {
	var sb strings.Builder
	dash := false
	for _, r := range Fold(name) {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && sb.Len() > 0 {
				sb.WriteByte('-')
			}
			sb.WriteRune(r)
			dash = false
		default:
			dash = true
		}
		if sb.Len() >= 64 {
			break
		}
	}
	if sb.Len() == 0 {
		return "bot"
	}
	return sb.String()
}

// BotFilter narrows FindBots.
type BotFilter struct {
	WithIdentity  bool   // include bots of type identity (the original's all=true)
	WithTrashed   bool   // include trashed bots
	ForAgents     bool   // only bots offered to agents (agents_available)
	Name          string // exactly this name
	Text          string // case-insensitive part of the name or description
	Language      string
	Public        *bool
	Certified     *bool
	CreatedBefore time.Time // zero: no bound
}

// Intent is one question and answer of a bot (the original's faq).
type Intent struct {
	ID             string
	ProjectID      string
	BotID          string
	IntentID       string // a uuid, stable across copies of the bot
	DisplayName    string // unique within the bot
	Question       string
	Answer         string
	Reply          map[string]any
	Form           map[string]any
	Actions        []any
	Attributes     map[string]any
	Topic          string
	Status         string
	Language       string
	Enabled        bool
	WebhookEnabled bool
	CreatedBy      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// IntentFilter narrows FindIntents; pages are 0-based.
type IntentFilter struct {
	BotID       string
	DisplayName string
	Text        string // every word must appear in the question or the answer, any case
	Page        int
	Limit       int // 1 to MaxIntentsPerBot
}

// IntentImport says what adding intents does with a display name the bot has.
type IntentImport int

const (
	IntentsAdd        IntentImport = iota // ECONFLICT, and nothing is added
	IntentsOverwrite                      // the new intent replaces that one, keeping its id (faq.update)
	IntentsSkipTaken                      // the new intent is left out
	IntentsReplaceAll                     // the bot's intents are all deleted first
)

// BotStore keeps the projects' bots and their intents.
type BotStore interface {
	// CreateBot saves b with a slug of its own: b.Slug, or one made of its name, with -2, -3, ...
	// added while another bot of the project has it (ECONFLICT past MaxBotsPerProject bots). It
	// records faqbot.create, and creates intents with it, in the same transaction.
	CreateBot(ctx context.Context, b *Bot, intents []*Intent) error
	// FindBot returns a bot of the project, with its secret (ENOTFOUND).
	FindBot(ctx context.Context, projectID, id string) (*Bot, error)
	// FindBots lists the project's bots, oldest first.
	FindBots(ctx context.Context, projectID string, f BotFilter) ([]*Bot, error)
	// ChangeBot applies change to a bot in one transaction and records faqbot.update (ENOTFOUND;
	// ECONFLICT when the slug is another bot's).
	ChangeBot(ctx context.Context, projectID, id string, change func(*Bot) error) (*Bot, error)
	// DeleteBot deletes a bot and its intents and records faqbot.delete (ENOTFOUND; ECONFLICT while
	// a department routes to it).
	DeleteBot(ctx context.Context, projectID, id string) (*Bot, error)

	// ImportIntoBot changes a bot and adds intents to it in one transaction, as ChangeBot and
	// CreateIntents do.
	ImportIntoBot(ctx context.Context, projectID, id string, change func(*Bot) error, intents []*Intent, mode IntentImport) (*Bot, error)

	// CreateIntents saves intents of one bot and records faq.create for each (ENOTFOUND for no
	// such bot; ECONFLICT when a display name is taken or the bot would pass MaxIntentsPerBot).
	// mode says what becomes of a display name the bot has (IntentImport).
	CreateIntents(ctx context.Context, projectID, botID string, intents []*Intent, mode IntentImport) error
	// FindIntent returns an intent of the project (ENOTFOUND).
	FindIntent(ctx context.Context, projectID, id string) (*Intent, error)
	// FindIntents lists the project's intents, oldest first.
	FindIntents(ctx context.Context, projectID string, f IntentFilter) ([]*Intent, error)
	// ChangeIntent applies change to an intent and records faq.update (ENOTFOUND; ECONFLICT when
	// the display name is another intent's of the bot).
	ChangeIntent(ctx context.Context, projectID, id string, change func(*Intent) error) (*Intent, error)
	// DeleteIntent deletes an intent and records faq.delete (ENOTFOUND).
	DeleteIntent(ctx context.Context, projectID, id string) (*Intent, error)

	// FindChatbotParameters returns what the bots of a conversation (request_id) set in it, an
	// empty map when nothing; they go with the conversation.
	FindChatbotParameters(ctx context.Context, projectID, requestID string) (map[string]any, error)
	// MergeChatbotParameters sets m's keys over a conversation's parameters, unless check refuses
	// the result (ENOTFOUND for no such conversation).
	MergeChatbotParameters(ctx context.Context, projectID, requestID string, m map[string]any,
		check func(map[string]any) error) (map[string]any, error)
}
