package views

import (
	"context"
	"log/slog"

	"github.com/tiledesk-go/tiledesk"
)

// Config wires the views.
type Config struct {
	// Store is what the views read objects from: whole pages, and objects by id.
	Store tiledesk.Store
	// ViewStore is what the views check what they keep against: versions, clocks and orders.
	ViewStore tiledesk.ViewStore
	// Wire writes the JSON the views assemble.
	Wire Wire
	// CacheBytes bounds the renderings kept (and as much again for lead orders, and for the
	// renderings they keep); 0 or less keeps nothing.
	CacheBytes int
	// Sizes remembers the size of the rows each list read last; nil makes one of the views' own.
	Sizes *SizeHints
	Log   *slog.Logger
}

// Wire is how the API writes what the views assemble. The JSON shapes are the API's: the views
// only keep, look up and join what these functions wrote.
type Wire struct {
	// Lead appends a lead as lead lists and reads by id show it.
	Lead func(buf []byte, l *tiledesk.Lead) ([]byte, error)
	// List appends a page's envelope to buf: its items (each one JSON value) under name ("leads",
	// "requests"), with the page's limit, count and next cursor (nil on the last page).
	List func(buf []byte, name string, limit, count int, items [][]byte, next *tiledesk.Cursor) []byte
	// Populated appends a conversation as the original populates it, from its parts.
	Populated func(buf []byte, p *Populated) []byte
	// Agents and Visitors render the parts of the conversations each audience reads.
	Agents, Visitors ConversationWire
	// Tag is the ETag of a body.
	Tag func(body []byte) string
}

// ConversationWire renders, for one audience, a conversation and the objects it is populated with.
type ConversationWire struct {
	// Core renders a conversation without the members population adds (lead, department,
	// requester, participatingAgents, participatingBots).
	Core func(*tiledesk.Request) ([]byte, error)
	// Unpopulated renders a conversation with its lead, department and requester as ids.
	Unpopulated func(*tiledesk.Request) ([]byte, error)
	// Lead renders a conversation's lead; nil shows it as lead lists do (Wire.Lead), sharing their
	// renderings.
	Lead       func(*tiledesk.Lead) ([]byte, error)
	Requester  func(*tiledesk.ProjectUser) ([]byte, error)
	Department func(*tiledesk.Department) ([]byte, error)
	Agent      func(*tiledesk.User) ([]byte, error)
}

// Populated is a conversation's parts, each rendered for the conversation's audience.
type Populated struct {
	Core []byte // the conversation's own JSON object
	// The lead, department and requester (nil when gone, or when the conversation names none),
	// and the ids the conversation names them by.
	Lead, Department, Requester       []byte
	LeadID, DepartmentID, RequesterID string
	Agents                            [][]byte // the participating agents still there, in order
	Bots                              []string // the participating bots' ids
}

// Audience is who reads a conversation: its renderings are kept apart from other audiences', so
// that neither is ever served to the other.
type Audience uint8

const (
	Agents   Audience = iota // the members who work the project: the original's documents
	Visitors                 // a visitor: its own view (see internal/api/visitor_view.go)
	audiences
)

// Answer is a view's JSON answer.
type Answer struct {
	Body []byte
	// Tag is Body's ETag when it was kept with it, or "".
	Tag string
	// Kept says that Body is held by the views: it must never change, nor be reused.
	Kept bool
}

// Views answers the reads of leads and conversations.
type Views struct {
	Leads    *Leads
	Requests *Requests
}

// views is what the views of both aggregates share.
type views struct {
	store   tiledesk.Store
	fresh   tiledesk.ViewStore // Config.ViewStore
	wire    Wire
	renders *renderCache
	sizes   *SizeHints
	log     *slog.Logger
}

// New returns the views of cfg.
func New(cfg Config) *Views {
	v := &views{store: cfg.Store, fresh: cfg.ViewStore, wire: cfg.Wire, renders: newRenderCache(cfg.CacheBytes),
		sizes: cfg.Sizes, log: cfg.Log}
	if v.sizes == nil {
		v.sizes = &SizeHints{}
	}
	if v.log == nil {
		v.log = slog.Default()
	}
	out := &Views{Leads: &Leads{views: v}, Requests: newRequests(v)}
	if v.renders.enabled() {
		// Orders of lead lists take as much again as the renderings: 48 bytes a lead against some
		// 500 for a rendering, so that the default 64 MiB keep the order of 1,400,000 leads; the
		// renderings they keep beside their leads, at most as much again.
		out.Leads.orders = newLeadOrders(cfg.CacheBytes, func(ctx context.Context, projectID string, max int) (*leadOrder, error) {
			return readLeadOrder(ctx, v.fresh, projectID, max)
		}, v.log)
	}
	return out
}

// Close stops the work the views run in the background (readings of lead orders), and waits for
// it to end. Call it before the store closes.
func (v *Views) Close() { v.Leads.orders.close() }
