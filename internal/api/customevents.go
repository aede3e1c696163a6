package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"

	"github.com/tiledesk-go/tiledesk"
)

// Custom events: what a website or an app records of its own ("pricing.viewed"), sent by any member
// of the project, visitors included, as the widget sends them. Each is an event.emit entry of the
// project's log, so the feed, webhooks and the websocket receive it like any other event.

const (
	customEventsPerPage    = 40
	customEventsMaxPerPage = 100
)

// customEventName is what a custom event may be called: the name ends up in event names
// (event.emit.<name>) and in webhook subscriptions, so it keeps to their characters.
var customEventName = regexp.MustCompile(`^[A-Za-z0-9_.:/-]{1,128}$`)

// customEventJSON is a custom event as the original answers it.
type customEventJSON struct {
	ID          string         `json:"_id"`
	Name        string         `json:"name"`
	Attributes  map[string]any `json:"attributes,omitempty"`
	IDProject   string         `json:"id_project"`
	ProjectUser string         `json:"project_user"`
	CreatedBy   string         `json:"createdBy"`
	Status      string         `json:"status"`
	CreatedAt   jsTime         `json:"createdAt"`
	UpdatedAt   jsTime         `json:"updatedAt"`
	V           int            `json:"__v"`
}

func (s *Server) handleCustomEventCreate(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	name := b.requiredStr("name")
	if name != "" && !customEventName.MatchString(name) {
		b.fail("name", "must be 1 to 128 letters, digits or _ . : / -", name)
	}
	attrs := b.boundedObject("attributes")
	if err := b.err(); err != nil {
		return err
	}
	now := s.now()
	ev := customEventJSON{ID: tiledesk.NewIDAt(now), Name: name, Attributes: attrs, IDProject: c.project.ID,
		ProjectUser: c.member.ID, CreatedBy: c.caller.id, Status: "stardard", CreatedAt: jsTime(now), UpdatedAt: jsTime(now)}
	payload, err := encodeJSON(ev)
	if err != nil {
		return err
	}
	if err := s.store.AddCustomEvent(r.Context(), c.project.ID, ev.ID, payload); err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, payload)
	return nil
}

func (s *Server) handleCustomEventList(w http.ResponseWriter, r *http.Request, c *call) error {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return invalidQuery("query", "is not a valid query string (a ';' or a bad % escape)", "")
	}
	f := tiledesk.CustomEventFilter{Name: q.Get("name"), ProjectUser: q.Get("project_user"), Limit: customEventsPerPage}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > customEventsMaxPerPage {
			return invalidQuery("limit", "must be a whole number from 1 to "+strconv.Itoa(customEventsMaxPerPage), v)
		}
	}
	if v := q.Get("page"); v != "" {
		page, err := strconv.Atoi(v)
		if err != nil || page < 0 || page > 1_000_000 {
			return invalidQuery("page", "must be a whole number from 0 (the first page)", v)
		}
		f.Offset = page * f.Limit
	}
	evs, n, err := s.store.FindCustomEvents(r.Context(), c.project.ID, f)
	if err != nil {
		return err
	}
	out := make([]json.RawMessage, len(evs))
	for i, ev := range evs {
		out[i] = ev.Payload
	}
	writeJSON(w, http.StatusOK, map[string]any{"perPage": f.Limit, "count": n, "events": out})
	return nil
}

func (s *Server) handleCustomEventGet(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ev, err := s.store.FindCustomEvent(r.Context(), c.project.ID, id)
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, ev.Payload)
	return nil
}
