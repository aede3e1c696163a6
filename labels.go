package tiledesk

import (
	"context"
	"time"
)

// Labels are a project's texts for the chat widget, one entry per language, one of them the
// default that languages without an entry fall back to.
type Labels struct {
	ID        string
	ProjectID string
	Entries   []LabelEntry
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// LabelEntry is one language's texts: keys such as WELCOME_TITLE, values mostly strings.
type LabelEntry struct {
	ID      string         `json:"_id"`
	Lang    string         `json:"lang"`
	Data    map[string]any `json:"data"`
	Default bool           `json:"default"`
}

// Entry returns the entry of lang (exact), or nil.
func (l *Labels) Entry(lang string) *LabelEntry {
	for i := range l.Entries {
		if l.Entries[i].Lang == lang {
			return &l.Entries[i]
		}
	}
	return nil
}

// DefaultEntry returns the default entry, or nil.
func (l *Labels) DefaultEntry() *LabelEntry {
	for i := range l.Entries {
		if l.Entries[i].Default {
			return &l.Entries[i]
		}
	}
	return nil
}

// Event names of the labels.
const (
	EventLabelsUpdate = "labels.update"
	EventLabelsDelete = "labels.delete"
)

// Bounds of a project's labels.
const (
	MaxLabelLanguages  = 40
	MaxLabelEntryBytes = 64 << 10
)

// LabelStore keeps the projects' labels.
type LabelStore interface {
	// FindLabels returns the project's labels, or ENOTFOUND when it has none.
	FindLabels(ctx context.Context, projectID string) (*Labels, error)
	// ChangeLabels applies change to the project's labels (a new, empty set when it has none) in one
	// transaction, and records labels.update; a set left without entries is deleted
	// (labels.delete). createdBy names who creates the set, if it is new.
	ChangeLabels(ctx context.Context, projectID, createdBy string, change func(*Labels) error) (*Labels, error)
}
