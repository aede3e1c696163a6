package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/webhook"
)

// Webhook subscriptions (/:pid/subscriptions, admins): the original's routes and shapes, plus
// each subscription's deliveries and a redeliver call. internal/webhook delivers.

// subscriptionCreatedJSON is the answer to a creation: the only one that shows the secret.
type subscriptionCreatedJSON struct {
	webhook.HookJSON
	Secret string `json:"secret"`
}

// subscriptionJSON is a subscription as GET shows it: the original's shape, and where its delivery
// stands (new here).
type subscriptionJSON struct {
	webhook.HookJSON
	Delivery deliveryStateJSON `json:"delivery"`
}

type deliveryStateJSON struct {
	Seq          int64   `json:"seq"` // the last event delivered or given up
	Failures     int     `json:"failures"`
	FailingSince *jsTime `json:"failing_since,omitempty"`
	NextAttempt  *jsTime `json:"next_attempt,omitempty"`
}

func toSubscription(sub *tiledesk.Subscription) subscriptionJSON {
	st := sub.State
	out := subscriptionJSON{HookJSON: webhook.Hook(sub), Delivery: deliveryStateJSON{Seq: st.Cursor, Failures: st.Failures}}
	if !st.FailingSince.IsZero() {
		t := jsTime(st.FailingSince)
		out.Delivery.FailingSince = &t
	}
	if !st.NextAttempt.IsZero() {
		t := jsTime(st.NextAttempt)
		out.Delivery.NextAttempt = &t
	}
	return out
}

func (s *Server) handleSubscriptionList(w http.ResponseWriter, r *http.Request, c *call) error {
	subs, err := s.store.FindSubscriptions(r.Context(), c.project.ID)
	if err != nil {
		return err
	}
	out := make([]subscriptionJSON, 0, len(subs))
	for _, sub := range subs {
		out = append(out, toSubscription(sub))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) handleSubscriptionGet(w http.ResponseWriter, r *http.Request, c *call) error {
	sub, err := s.subscription(r, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSubscription(sub))
	return nil
}

// subscription reads the subscription of the path's id.
func (s *Server) subscription(r *http.Request, c *call) (*tiledesk.Subscription, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.store.FindSubscriptionByID(r.Context(), c.project.ID, id)
}

// subscriptionFields reads and checks event and target.
func (s *Server) subscriptionFields(b *body) tiledesk.SubscriptionUpdate {
	upd := tiledesk.SubscriptionUpdate{Event: b.str("event"), Target: b.str("target")}
	if upd.Event != nil {
		if why := tiledesk.ValidSubscriptionEvent(*upd.Event); why != "" {
			b.fail("event", why, *upd.Event)
		}
	}
	if upd.Target != nil {
		if why := s.webhookGuard.CheckTarget(*upd.Target); why != "" {
			b.fail("target", why, *upd.Target)
		} else if len(*upd.Target) > 2048 {
			b.fail("target", "must be at most 2048 bytes", nil)
		}
	}
	return upd
}

// handleSubscriptionCreate subscribes a target to an event; the secret is shown once, in the body
// and in x-hook-secret. A subscription to the same event and target is answered as it is, without
// its secret.
func (s *Server) handleSubscriptionCreate(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	b.requiredStr("event")
	b.requiredStr("target")
	f := s.subscriptionFields(b)
	if err := b.err(); err != nil {
		return err
	}
	now := tiledesk.Millis(s.now())
	sub := &tiledesk.Subscription{ID: tiledesk.NewIDAt(now), ProjectID: c.project.ID, Event: *f.Event,
		Target: *f.Target, Secret: uuid.NewString(), CreatedBy: c.caller.id, CreatedAt: now, UpdatedAt: now}
	stored, created, err := s.store.CreateSubscription(r.Context(), sub)
	if err != nil {
		return err
	}
	if !created {
		writeJSON(w, http.StatusOK, webhook.Hook(stored))
		return nil
	}
	w.Header().Set("X-Hook-Secret", stored.Secret)
	writeJSON(w, http.StatusOK, subscriptionCreatedJSON{HookJSON: webhook.Hook(stored), Secret: stored.Secret})
	return nil
}

func (s *Server) handleSubscriptionUpdate(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	f := s.subscriptionFields(b)
	if err := b.err(); err != nil {
		return err
	}
	sub, err := s.store.UpdateSubscription(r.Context(), c.project.ID, id, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, webhook.Hook(sub))
	return nil
}

func (s *Server) handleSubscriptionDelete(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	sub, err := s.store.DeleteSubscription(r.Context(), c.project.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, webhook.Hook(sub))
	return nil
}

// deliveryJSON is one attempt at a delivery.
type deliveryJSON struct {
	ID             string `json:"_id"`
	DeliveryID     string `json:"delivery_id"`
	IDSubscription string `json:"id_subscription"`
	IDProject      string `json:"id_project"`
	Event          string `json:"event"`
	Seq            int64  `json:"seq"`
	Attempt        int    `json:"attempt"`
	Status         string `json:"status"`
	Code           int    `json:"code,omitempty"`
	LatencyMS      int64  `json:"latency_ms"`
	Error          string `json:"error,omitempty"`
	Redelivery     bool   `json:"redelivery"`
	CreatedAt      jsTime `json:"createdAt"`
}

// handleDeliveryList lists a subscription's attempts, newest first: limit (1-200, default 40) and
// before (the _id of the last attempt of the previous page).
func (s *Server) handleDeliveryList(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := tiledesk.DeliveryFilter{Limit: 40}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > tiledesk.MaxDeliveryPage {
			return invalidQuery("limit", "must be a whole number from 1 to "+strconv.Itoa(tiledesk.MaxDeliveryPage), v)
		}
		f.Limit = n
	}
	if v := q.Get("before"); v != "" {
		if !tiledesk.IsID(v) {
			return invalidQuery("before", "must be the _id of an attempt", v)
		}
		f.BeforeID = strings.ToLower(v)
	}
	list, err := s.store.FindDeliveries(r.Context(), c.project.ID, id, f)
	if err != nil {
		return err
	}
	out := make([]deliveryJSON, 0, len(list))
	for _, d := range list {
		out = append(out, deliveryJSON{ID: d.ID, DeliveryID: d.DeliveryID, IDSubscription: d.SubscriptionID,
			IDProject: d.ProjectID, Event: d.Event, Seq: d.Seq, Attempt: d.Attempt, Status: d.Status, Code: d.Code,
			LatencyMS: d.Latency.Milliseconds(), Error: d.Error, Redelivery: d.Redelivery, CreatedAt: jsTime(d.CreatedAt)})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// handleRedeliver queues the event of an earlier delivery to be sent again (202).
func (s *Server) handleRedeliver(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	deliveryID := r.PathValue("deliveryId")
	if _, ok := tiledesk.ParseDeliveryID(id, deliveryID); !ok {
		return errNotFound
	}
	if err := s.store.Redeliver(r.Context(), c.project.ID, id, deliveryID); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"success": true, "delivery_id": deliveryID})
	return nil
}

// maxClosedMessages bounds the messages a request.close delivery carries.
const maxClosedMessages = 300

// RenderEvent renders an event as its webhook deliveries carry it: the object in the original's
// shape; a message with its conversation (request), a project with id_project, a closed
// conversation with its first messages.
func (s *Server) RenderEvent(ctx context.Context, ev *tiledesk.Event) (json.RawMessage, error) {
	subject, err := decodeEvent(ev)
	if err != nil {
		return nil, err
	}
	v := subject.wire(s.now())
	switch {
	case ev.Name == tiledesk.EventRequestClose && subject.Request != nil:
		m := map[string]any{}
		if err := remarshal(v, &m); err != nil {
			return nil, err
		}
		msgs, _, err := s.store.FindMessages(ctx, ev.ProjectID, subject.Request.RequestID, tiledesk.MessageFilter{Limit: maxClosedMessages})
		if err != nil && tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
			return nil, err
		}
		out := make([]any, 0, len(msgs))
		for _, msg := range msgs {
			out = append(out, toMessage(msg))
		}
		m["messages"] = out
		v = m
	case subject.Message != nil:
		m := map[string]any{}
		if err := remarshal(v, &m); err != nil {
			return nil, err
		}
		if req, err := s.store.FindRequest(ctx, ev.ProjectID, subject.Message.Recipient, nil); err == nil {
			m["request"] = toRequest(req)
		}
		v = m
	case subject.Project != nil:
		m := map[string]any{}
		if err := remarshal(v, &m); err != nil {
			return nil, err
		}
		m["id_project"] = subject.Project.ID
		v = m
	}
	return json.Marshal(v)
}

func remarshal(v any, into *map[string]any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, into)
}
