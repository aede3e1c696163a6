package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

// Contents reads back, through s's API, everything Populate wrote, as canonical JSON: two stores
// holding the same data give the same text whatever their engines (JSON values are re-encoded, so
// that key order and the spelling of numbers, which JSONB does not keep, do not count).
// Engine-specific clocks (Store.Clocks' population clocks, kept by triggers on SQLite only) are
// left out.
func Contents(t *testing.T, s tiledesk.Store, pop *Population) string {
	t.Helper()
	ctx := context.Background()
	out := map[string]any{}
	get := func(name string, v any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = v
	}
	secret, err := s.GetMeta(ctx, "jwt_secret")
	get("jwt_secret", secret, err)
	for _, id := range pop.Users {
		u, err := s.FindUserByID(ctx, id)
		get("user "+id, u, err)
	}
	for _, pp := range pop.Projects {
		projectContents(t, s, pp, get)
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	var canonical any // re-encoded: maps come out with sorted keys, numbers as float64
	if err := json.Unmarshal(b, &canonical); err != nil {
		t.Fatal(err)
	}
	b, err = json.MarshalIndent(canonical, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func projectContents(t *testing.T, s tiledesk.Store, pp *PopulatedProject, get func(string, any, error)) {
	ctx := context.Background()
	pid := pp.ID
	at := func(what string) string { return fmt.Sprintf("project %s %s", pid, what) }
	p, err := s.FindProjectByID(ctx, pid)
	get(at(""), p, err)
	pus, err := s.FindProjectUsers(ctx, pid, tiledesk.ProjectUserFilter{Trashed: true})
	get(at("project users"), pus, err)
	invs, err := s.FindPendingInvitations(ctx, pid)
	get(at("invitations"), invs, err)
	zero := 0
	depts, err := s.FindDepartments(ctx, pid, tiledesk.DepartmentFilter{MinStatus: &zero})
	get(at("departments"), depts, err)
	leads, err := s.FindLeads(ctx, pid, tiledesk.LeadFilter{AllStatuses: true})
	get(at("leads"), leads, err)
	vip, err := s.FindLeads(ctx, pid, tiledesk.LeadFilter{Tags: []string{"vip"}, Text: "lead unic"})
	get(at("leads found by tag and text"), vip, err)
	reqs, err := s.FindRequests(ctx, pid, tiledesk.RequestFilter{AllStatuses: true})
	get(at("requests"), reqs, err)
	changed, err := s.FindRequests(ctx, pid, tiledesk.RequestFilter{AllStatuses: true, Sort: tiledesk.RequestSortUpdatedAt, Desc: true})
	get(at("requests by their last change"), changed, err)
	open, err := s.FindRequests(ctx, pid, tiledesk.RequestFilter{Text: "hello"})
	get(at("open requests found by text"), open, err)
	counts, err := s.CountRequests(ctx, pid, nil)
	get(at("request counts"), counts, err)
	for _, rid := range pp.Requests {
		msgs, _, err := s.FindMessages(ctx, pid, rid, tiledesk.MessageFilter{})
		get(at("messages of "+rid), msgs, err)
	}
	evs, err := s.EventsAfter(ctx, pid, 0, 100_000)
	get(at("events"), evs, err)
	last, err := s.LastEventSeq(ctx, pid)
	get(at("last event"), last, err)
	custom, n, err := s.FindCustomEvents(ctx, pid, tiledesk.CustomEventFilter{})
	get(at("custom events"), map[string]any{"list": custom, "count": n}, err)
	subs, err := s.FindSubscriptions(ctx, pid)
	get(at("subscriptions"), subs, err)
	for _, sid := range pp.Subscriptions {
		ds, err := s.FindDeliveries(ctx, pid, sid, tiledesk.DeliveryFilter{})
		get(at("deliveries of "+sid), ds, err)
		queued, err := deliveryStore(t, s).QueuedRedeliveries(ctx, pid, sid, 100)
		get(at("redeliveries of "+sid), queued, err)
	}
	clock, err := viewStore(t, s).LeadListClock(ctx, pid)
	get(at("lead list clock"), clock, err)
}
