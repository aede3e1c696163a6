package tiledesk

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Events of the subscriptions themselves, written with each change of one.
const (
	EventSubscriptionCreate = "subscription.create"
	EventSubscriptionUpdate = "subscription.update"
	EventSubscriptionDelete = "subscription.delete"
)

// SubscribableEvents are the event names the original lets a webhook subscribe to. A subscription
// may name any other exact event name of the log too (see ValidSubscriptionEvent).
var SubscribableEvents = []string{
	EventRequestCreate, EventRequestUpdate, EventRequestClose, EventMessageCreate, EventLeadCreate,
	EventProjectUserUpdate, "project_user.update.agent", EventProjectUserInvite, EventProjectUserDelete,
	EventUserSignup, "faqbot.create", "faqbot.update", "faqbot.delete", "faq.create", "faq.update", "faq.delete",
	EventDepartmentCreate, EventDepartmentUpdate, EventDepartmentDelete, "group.create", "group.update",
	"group.delete", "event.emit", EventProjectCreate, EventProjectUpdate, "project.downgrade", EventProjectDelete,
}

// eventName is an exact event name: dotted lower-case words, the last parts (channel or custom
// event names) in any case, with the characters custom event names may have.
var eventName = regexp.MustCompile(`^[a-z_]+(\.[A-Za-z0-9_\-:/]+)+$`)

// ValidSubscriptionEvent reports why name cannot be subscribed to ("" when it can): a subscription
// follows one exact event name; patterns are not matched.
func ValidSubscriptionEvent(name string) string {
	switch {
	case name == "":
		return "must not be empty"
	case len(name) > 128:
		return "must be at most 128 characters"
	case strings.Contains(name, "*"):
		return "must be an exact event name, such as request.create; patterns are not supported"
	case !eventName.MatchString(name):
		return "must be an event name, such as request.create"
	}
	return ""
}

// InternalBotsTarget is the target of the subscription a project gets with its first bot: the
// server itself, which hands each message of a conversation to the conversation's bots. It is not
// one of the project's webhooks: the API neither shows nor changes it.
const InternalBotsTarget = "internal:bots"

// IsInternalTarget reports whether a subscription's target is the server itself.
func IsInternalTarget(target string) bool { return strings.HasPrefix(target, "internal:") }

// Subscription sends a project's events of one name to a URL (a webhook). Secret signs what it
// sends and is shown only to the admin who created it.
type Subscription struct {
	ID        string
	ProjectID string
	Event     string
	Target    string
	Secret    string `json:"-"`
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
	// State is where delivery stands; it is the dispatcher's, never part of an event.
	State SubscriptionState `json:"-"`
}

// SubscriptionState is where a subscription's delivery stands, kept with it so that every process
// continues where another stopped.
type SubscriptionState struct {
	// Cursor is the Seq of the last event delivered or given up: the next one is the first
	// matching event above it.
	Cursor int64
	// Attempts counts the failed attempts at the event being delivered (0 once it is done).
	Attempts int
	// Failures counts consecutive failed attempts, whichever event; FailingSince is when the
	// first of them happened (zero when the last attempt succeeded). They make the circuit breaker.
	Failures     int
	FailingSince time.Time
	// NextAttempt is when delivery may try again (zero: now).
	NextAttempt time.Time
	// LeaseOwner is the dispatcher delivering now, until LeaseUntil; another one may take over
	// once the lease has expired.
	LeaseOwner string
	LeaseUntil time.Time
}

// SubscriptionUpdate lists changeable fields; nil means unchanged.
type SubscriptionUpdate struct {
	Event  *string
	Target *string
}

// Delivery statuses.
const (
	DeliverySucceeded = "success" // the target answered 2xx
	DeliveryFailed    = "failed"  // the attempt failed; the event will be tried again
	DeliveryGaveUp    = "gave_up" // the attempt failed and was the last: the event is skipped
)

// Delivery is one attempt at sending one event to a subscription's target.
type Delivery struct {
	ID             string // this attempt's id
	ProjectID      string
	SubscriptionID string
	// DeliveryID names the event's delivery to this subscription, the same for every attempt at it
	// and for redeliveries: receivers deduplicate by it.
	DeliveryID string
	Seq        int64
	Event      string
	Attempt    int // 1 for the first attempt at the event
	Status     string
	Code       int // HTTP status, 0 when none came
	Latency    time.Duration
	Error      string
	Redelivery bool
	CreatedAt  time.Time
}

// DeliveryID is the stable id of the delivery of the event numbered seq to a subscription.
func DeliveryID(subscriptionID string, seq int64) string {
	return fmt.Sprintf("%s-%d", subscriptionID, seq)
}

// ParseDeliveryID reads a DeliveryID of the subscription; ok is false for any other text.
func ParseDeliveryID(subscriptionID, id string) (seq int64, ok bool) {
	rest, found := strings.CutPrefix(id, subscriptionID+"-")
	if !found {
		return 0, false
	}
	if _, err := fmt.Sscanf(rest, "%d", &seq); err != nil || seq <= 0 || DeliveryID(subscriptionID, seq) != id {
		return 0, false
	}
	return seq, true
}

// DeliveryFilter pages FindDeliveries, newest first.
type DeliveryFilter struct {
	BeforeID string // only attempts older than this attempt id
	Limit    int    // 1 to MaxDeliveryPage
}

// MaxDeliveryPage bounds one page of deliveries.
const MaxDeliveryPage = 200

// SubscriptionStore keeps a project's webhook subscriptions and their deliveries.
type SubscriptionStore interface {
	// CreateSubscription saves sub, whose delivery starts after the project's last event, unless
	// the project has a subscription with the same event and target: then it returns that one and
	// created false (the original's answer to a duplicate).
	CreateSubscription(ctx context.Context, sub *Subscription) (stored *Subscription, created bool, err error)
	// FindSubscriptionByID returns a subscription of the project, or ENOTFOUND.
	FindSubscriptionByID(ctx context.Context, projectID, id string) (*Subscription, error)
	// FindSubscriptions lists the project's subscriptions, oldest first.
	FindSubscriptions(ctx context.Context, projectID string) ([]*Subscription, error)
	// UpdateSubscription changes a subscription (ENOTFOUND; ECONFLICT when its event and target
	// would be another subscription's).
	UpdateSubscription(ctx context.Context, projectID, id string, upd SubscriptionUpdate) (*Subscription, error)
	// DeleteSubscription deletes a subscription and its deliveries, and returns it (ENOTFOUND).
	DeleteSubscription(ctx context.Context, projectID, id string) (*Subscription, error)
	// FindDeliveries lists a subscription's delivery attempts, newest first (ENOTFOUND for no
	// such subscription).
	FindDeliveries(ctx context.Context, projectID, subscriptionID string, f DeliveryFilter) ([]*Delivery, error)
	// Redeliver queues the event of an earlier delivery of the subscription to be sent again, ahead
	// of the events still to come (ENOTFOUND when the subscription never attempted that delivery,
	// or the event is no longer kept).
	Redeliver(ctx context.Context, projectID, subscriptionID, deliveryID string) error
}

// DeliveryStore is what the webhook dispatcher needs of the store. Every change of a
// subscription's state is made only while the caller holds its lease, so that two dispatchers
// (processes) never deliver one subscription's events at once.
type DeliveryStore interface {
	// DueSubscriptions lists at most limit subscriptions (of one project, or of every project for
	// "") that have events above their cursor or queued redeliveries, whose next attempt is due at
	// now and whose lease is free or owner's.
	DueSubscriptions(ctx context.Context, projectID, owner string, now time.Time, limit int) ([]*Subscription, error)
	// LeaseSubscription takes a subscription's lease for owner until until, when it is free
	// (expired at now) or already owner's; ok is false otherwise or when the subscription is gone.
	LeaseSubscription(ctx context.Context, projectID, id, owner string, now, until time.Time) (sub *Subscription, ok bool, err error)
	// ReleaseLeases frees every subscription's lease: only for a database one process holds
	// (SQLite), whose leases at start are those of a process that stopped without releasing them.
	ReleaseLeases(ctx context.Context) error
	// ReleaseSubscription gives the lease back, if owner holds it.
	ReleaseSubscription(ctx context.Context, projectID, id, owner string) error
	// SubscriptionEvents lists the project's events named name with after < Seq <= upTo, in Seq
	// order, at most limit; for event.emit.<name>, the custom events (event.emit) of that name.
	SubscriptionEvents(ctx context.Context, projectID, name string, after, upTo int64, limit int) ([]*Event, error)
	// QueuedRedeliveries lists the Seqs of the subscription's queued redeliveries, lowest first,
	// with when each was asked for.
	QueuedRedeliveries(ctx context.Context, projectID, id string, limit int) ([]Redelivery, error)
	// SaveSubscriptionState writes sub.State (its lease fields excepted: the lease is extended to
	// leaseUntil) and records the attempts ds, dropping the queued redelivery of each redelivery
	// attempt that did not fail; all only while owner holds the lease (ok false otherwise).
	SaveSubscriptionState(ctx context.Context, sub *Subscription, owner string, leaseUntil time.Time, ds []*Delivery) (ok bool, err error)
	// PruneDeliveries deletes at most batch delivery attempts recorded before cutoff.
	PruneDeliveries(ctx context.Context, cutoff time.Time, batch int) (int, error)
}

// Redelivery is an event queued to be sent again.
type Redelivery struct {
	Seq         int64
	RequestedAt time.Time
}
