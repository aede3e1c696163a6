package tiledesk

import "context"

// Store is everything the server keeps. Each engine (SQLite, PostgreSQL) provides one through
// internal/sqlstore, and internal/storetest holds both to the same contract.
type Store interface {
	UserStore
	ProjectStore
	ProjectUserStore
	DepartmentStore
	LeadStore
	RequestStore
	EventStore
	SubscriptionStore
	LabelStore
	BotStore
	GroupStore
	TagLibraryStore
	CannedStore
	AnalyticsStore
	ChatStateStore
	ChatGroupStore
	ChatPresenceStore

	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Engine names the engine and where the data is, for logs: "sqlite", "./tiledesk.db".
	Engine() (name, location string)
	// Meta reads and writes small server settings kept with the data (e.g. the generated JWT secret).
	GetMeta(ctx context.Context, key string) (string, error)
	// SetMetaIfAbsent stores value under key unless a value exists, and returns the stored value.
	SetMetaIfAbsent(ctx context.Context, key, value string) (string, error)
	// IsEmpty reports whether no user exists yet.
	IsEmpty(ctx context.Context) (bool, error)
	Close() error
}
