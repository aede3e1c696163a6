package live

import (
	"encoding/json"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// A socket lives for hours on the token it connected with, so it must end when the token would be
// refused by a REST call: at the token's expiry, and when its user's password is changed or reset
// or the account deleted (the token generation moves, in the same transaction as a user.update or
// user.delete event of the log of no project, which the hub follows for that reason).

// statusRevoked closes a socket whose credential no longer holds.
const statusRevoked = statusPolicy

// expireAt closes the client when its token expires; the timer ends with the client.
func (c *Client) expireAt(at time.Time) {
	if at.IsZero() {
		return
	}
	t := time.AfterFunc(time.Until(at), func() { c.close(statusRevoked, "token expired") })
	go func() {
		<-c.ctx.Done()
		t.Stop()
	}()
}

// followUsers reads the user events of the log of no project after the last one seen and
// closes the sockets of users whose tokens they revoke.
func (h *Hub) followUsers() {
	for {
		evs, err := h.opt.Events.EventsAfter(h.ctx, "", h.usersLast, tiledesk.MaxEventPage)
		if err != nil {
			if h.ctx.Err() == nil {
				h.opt.Log.Warn("websocket: reading the users' events failed; retrying", "err", err)
				time.AfterFunc(time.Second, func() { h.poke("") })
			}
			return
		}
		for _, ev := range evs {
			h.usersLast = ev.Seq
			if ev.Name == tiledesk.EventUserUpdate || ev.Name == tiledesk.EventUserDelete {
				h.revoke(ev)
			}
		}
		if len(evs) < tiledesk.MaxEventPage {
			return
		}
	}
}

// revoke closes the registered user's sockets whose tokens the event makes invalid.
func (h *Hub) revoke(ev *tiledesk.Event) {
	var u tiledesk.User
	if err := json.Unmarshal(ev.Payload, &u); err != nil {
		h.opt.Log.Warn("websocket: unreadable user event", "event", ev.ID, "err", err)
		return
	}
	deleted := ev.Name == tiledesk.EventUserDelete || u.Status != tiledesk.UserActive
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		if c.id.Guest || c.id.UserID != u.ID {
			continue
		}
		if deleted || c.id.Generation != u.TokenGeneration {
			c.close(statusRevoked, "credential revoked")
		}
	}
}
