package tiledesk

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// ruleNow is the time of every fake transaction.
var ruleNow = time.Date(2024, 5, 24, 14, 0, 0, 0, time.UTC)

// fakeEnv is a RequestEnv without storage: departments by id ("" is the default one), a routing
// that gives a conversation to route, and a transcript.
type fakeEnv struct {
	departments   map[string]*Department
	route         []string
	transcript    string
	transcriptErr error
	// What the change asked for.
	transcriptRead bool
	routedTo       string
	noBot          bool
}

func newFakeEnv() *fakeEnv {
	return &fakeEnv{departments: map[string]*Department{"": {ID: "dflt"}, "dflt": {ID: "dflt"}, "sales": {ID: "sales"}},
		route: []string{"routed"}, transcript: "the transcript"}
}

func (e *fakeEnv) Department(id string) (*Department, error) {
	if d, ok := e.departments[id]; ok {
		return d, nil
	}
	return nil, NoDepartment(id)
}

func (e *fakeEnv) Route(d *Department, noBot bool) (Routing, error) {
	e.routedTo, e.noBot = d.ID, noBot
	return Routing{Participants: e.route}, nil
}

func (e *fakeEnv) Transcript() (string, error) {
	e.transcriptRead = true
	return e.transcript, e.transcriptErr
}

func (e *fakeEnv) Member(string) (*ProjectUser, error) { return nil, NotFound("project user") }
func (e *fakeEnv) Now() time.Time                      { return ruleNow }

// actorAs is a member of role acting as user id "u-<role>".
func actorAs(role string, permissions ...string) Actor {
	return Actor{Member: &ProjectUser{ID: "pu-" + role, Role: role, RoleType: RoleTypeOf(role), Status: MemberActive,
		Permissions: permissions}, UserID: "u-" + role}
}

// openRequest is an assigned conversation whose agent is the agent actor, asked for by the guest.
func openRequest() *Request {
	r := &Request{RequestID: "rid", DepartmentID: "dflt", RequesterID: "pu-" + RoleGuest, CreatedAt: ruleNow.Add(-time.Minute)}
	r.SetParticipants([]string{"u-" + RoleAgent}, ruleNow)
	return r
}

// closedRequest is openRequest closed an hour before ruleNow.
func closedRequest() *Request {
	r := openRequest()
	r.Close("someone", ruleNow.Add(-time.Hour), "old")
	return r
}

// refusedBy reports whether err is the refusal of code (and rule, when given).
func refusedBy(err error, code, rule string) bool {
	return ErrorCode(err) == code && ErrorRule(err) == rule
}

func TestCloseRequestByRole(t *testing.T) {
	for _, tc := range []struct {
		actor   Actor
		request func() *Request
		force   bool
		closes  bool // the conversation is closed now, by the actor
		refused bool // RuleCloseByParticipant
	}{
		{actorAs(RoleOwner), openRequest, false, true, false},
		{actorAs(RoleAdmin), openRequest, false, true, false},
		{actorAs(RoleSupervisor), openRequest, false, false, true}, // sees it, takes no part in it
		{actorAs(RoleAgent), openRequest, false, true, false},      // its participant
		{Actor{Member: &ProjectUser{Role: RoleAgent}, UserID: "another"}, openRequest, false, false, true},
		{actorAs(RoleGuest), openRequest, false, true, false}, // its own: all a visitor sees
		{actorAs(RoleUser), openRequest, false, true, false},
		{actorAs(RoleTeammate), openRequest, false, true, false},
		{actorAs(RoleOwner), closedRequest, false, false, false}, // already closed: left as it is
		{actorAs(RoleOwner), closedRequest, true, true, false},   // unless forced
		{Actor{Member: &ProjectUser{Role: RoleAgent}, UserID: "another"}, closedRequest, true, false, true},
	} {
		name := fmt.Sprintf("%s as %s, force %v", tc.actor.Member.Role, tc.actor.UserID, tc.force)
		r, env := tc.request(), newFakeEnv()
		before := *r
		events, err := CloseRequest(tc.actor, tc.force)(r, env)
		switch {
		case tc.refused:
			if !refusedBy(err, EFORBIDDEN, RuleCloseByParticipant) || r.Status != before.Status || env.transcriptRead {
				t.Errorf("%s: %v, status %d, want the participants' refusal and no change", name, err, r.Status)
			}
		case err != nil:
			t.Errorf("%s: %v", name, err)
		case tc.closes:
			if fmt.Sprint(events) != "["+EventRequestClose+"]" || r.Status != RequestClosed || r.ClosedBy != tc.actor.UserID ||
				!r.ClosedAt.Equal(ruleNow) || r.Transcript != "the transcript" || *r.Duration != 60000 {
				t.Errorf("%s: events %v, closed %+v", name, events, r)
			}
		default:
			if events != nil || r.ClosedBy != before.ClosedBy || r.Transcript != "old" || env.transcriptRead {
				t.Errorf("%s: events %v, %+v: want no change", name, events, r)
			}
		}
	}
	env := newFakeEnv()
	env.transcriptErr = errors.New("disk")
	if _, err := CloseRequest(actorAs(RoleOwner), false)(openRequest(), env); err == nil || err.Error() != "disk" {
		t.Errorf("a transcript that cannot be read: %v", err)
	}
}

func TestReopenRequest(t *testing.T) {
	unassigned := closedRequest()
	unassigned.SetParticipants(nil, ruleNow)
	for _, tc := range []struct {
		name   string
		r      *Request
		status int
		events string
	}{
		{"closed with participants", closedRequest(), RequestAssigned, "[" + EventRequestReopen + "]"},
		{"closed without", unassigned, RequestUnassigned, "[" + EventRequestReopen + "]"},
		{"open", openRequest(), RequestAssigned, "[]"},
	} {
		events, err := ReopenRequest()(tc.r, newFakeEnv())
		if err != nil || tc.r.Status != tc.status || fmt.Sprint(events) != tc.events {
			t.Errorf("%s: status %d, events %v, %v", tc.name, tc.r.Status, events, err)
		}
	}
}

func TestSetRequestStatus(t *testing.T) {
	stranger := Actor{Member: &ProjectUser{Role: RoleAgent}, UserID: "another"}
	for _, tc := range []struct {
		name    string
		actor   Actor
		r       *Request
		status  int
		want    int
		events  string
		refused bool
	}{
		{"the same status", stranger, openRequest(), RequestAssigned, RequestAssigned, "[]", false},
		{"closing, by the owner", actorAs(RoleOwner), openRequest(), RequestClosed, RequestClosed, "[" + EventRequestClose + "]", false},
		{"closing, by its agent", actorAs(RoleAgent), openRequest(), RequestClosed, RequestClosed, "[" + EventRequestClose + "]", false},
		{"closing, by another agent", stranger, openRequest(), RequestClosed, RequestAssigned, "[]", true},
		{"closing, by its visitor", actorAs(RoleGuest), openRequest(), RequestClosed, RequestClosed, "[" + EventRequestClose + "]", false},
		{"leaving closed reopens", stranger, closedRequest(), RequestAbandoned, RequestAbandoned, "[" + EventRequestReopen + "]", false},
		{"another open status", stranger, openRequest(), RequestAbandoned, RequestAbandoned, "[]", false},
	} {
		events, err := SetRequestStatus(tc.actor, tc.status)(tc.r, newFakeEnv())
		if tc.refused != refusedBy(err, EFORBIDDEN, RuleCloseByParticipant) || !tc.refused && err != nil ||
			tc.r.Status != tc.want || fmt.Sprint(events) != tc.events {
			t.Errorf("%s: status %d, events %v, %v", tc.name, tc.r.Status, events, err)
		}
	}
}

func TestRateRequest(t *testing.T) {
	r := openRequest()
	five, msg := 5, "thanks"
	events, err := RateRequest(&five, &msg)(r, newFakeEnv())
	if err != nil || *r.Rating != 5 || r.RatingMessage != "thanks" || fmt.Sprint(events) != "["+EventRequestSatisfaction+"]" {
		t.Fatalf("rated: %v %v %+v", events, err, r)
	}
	if _, err := RateRequest(nil, nil)(r, newFakeEnv()); err != nil || *r.Rating != 5 || r.RatingMessage != "thanks" {
		t.Fatalf("nothing given changed the rating: %+v", r)
	}
}

func TestPatchRequest(t *testing.T) {
	leads := func(id string) (*Lead, error) {
		switch id {
		case "aaaaaaaaaaaaaaaaaaaaaaaa":
			return &Lead{ID: id}, nil
		case "cccccccccccccccccccccccc":
			return nil, errors.New("store down")
		}
		return nil, NotFound("lead")
	}
	str := func(s string) *string { return &s }
	if _, err := PatchRequest(actorAs(RoleOwner), RequestPatch{LeadID: str("BBBBBBBBBBBBBBBBBBBBBBBB")}, leads); ErrorField(err) != "lead" ||
		ErrorMessage(err) != "no lead BBBBBBBBBBBBBBBBBBBBBBBB in this project" {
		t.Errorf("a lead of no project: %v", err)
	}
	if _, err := PatchRequest(actorAs(RoleOwner), RequestPatch{LeadID: str("cccccccccccccccccccccccc")}, leads); err == nil || ErrorCode(err) != EINTERNAL {
		t.Errorf("a lead that cannot be read: %v", err)
	}
	closing := RequestClosed
	p := RequestPatch{LeadID: str("AAAAAAAAAAAAAAAAAAAAAAAA"), Status: &closing, Tags: []RequestTag{}, Subject: str("Order 42"),
		Priority: str("high"), ChannelName: str("email"), Location: map[string]any{"city": "Rome"}}
	for role, refused := range map[string]bool{RoleOwner: false, RoleAdmin: false, RoleAgent: false, RoleGuest: false, RoleSupervisor: true} {
		r := openRequest()
		r.Tags = []RequestTag{{Tag: "old"}}
		change, err := PatchRequest(actorAs(role), p, leads)
		if err != nil {
			t.Fatal(err)
		}
		events, err := change(r, newFakeEnv())
		switch {
		case refused:
			if !refusedBy(err, EFORBIDDEN, RuleCloseByParticipant) || r.Subject != "" {
				t.Errorf("%s closing by patch, taking no part: %v, %+v", role, err, r)
			}
		case err != nil || fmt.Sprint(events) != "["+EventRequestClose+"]" || r.Status != RequestClosed ||
			r.LeadID != "aaaaaaaaaaaaaaaaaaaaaaaa" || len(r.Tags) != 0 || r.Subject != "Order 42" || r.Priority != "high" ||
			r.Channel.Name != "email" || r.Location["city"] != "Rome":
			t.Errorf("%s: %v %v %+v", role, events, err, r)
		}
	}
	r := openRequest()
	r.Tags, r.Subject = []RequestTag{{Tag: "kept"}}, "kept"
	change, _ := PatchRequest(actorAs(RoleAgent), RequestPatch{}, leads)
	if events, err := change(r, newFakeEnv()); err != nil || events != nil || len(r.Tags) != 1 || r.Subject != "kept" {
		t.Errorf("an empty patch changed %+v (%v, %v)", r, events, err)
	}
}

func TestMergeRequestAttributes(t *testing.T) {
	r := openRequest()
	r.Attributes = map[string]any{"last_message": map[string]any{"text": strings.Repeat("x", MaxJSONBytes)}, "a": 1.0}
	events, err := MergeRequestAttributes(map[string]any{"b": 2.0})(r, newFakeEnv())
	if err != nil || r.Attributes["a"] != 1.0 || r.Attributes["b"] != 2.0 || fmt.Sprint(events) != "["+EventRequestAttributes+"]" {
		t.Fatalf("merged: %v %v (a long last message must not count)", events, err)
	}
	_, err = MergeRequestAttributes(map[string]any{"c": strings.Repeat("y", MaxJSONBytes)})(r, newFakeEnv())
	if ErrorCode(err) != EINVALID || ErrorField(err) != "attributes" {
		t.Fatalf("attributes past their bound: %v", err)
	}
}

func TestRoutingRules(t *testing.T) {
	routed := "[" + EventRequestParticipants + "]"
	moved := "[" + EventRequestParticipants + " " + EventRequestDepartment + "]"
	waiting := func() *Request { r := openRequest(); r.SetParticipants(nil, ruleNow); return r }
	move, _ := MoveRequest("sales", false)
	for _, tc := range []struct {
		name   string
		change RequestChange
		r      *Request
		events string
		dept   string // where it was routed, "" for not routed
		noBot  bool
	}{
		{"reroute in its department", RerouteRequest("", false), openRequest(), routed, "dflt", false},
		{"reroute elsewhere", RerouteRequest("sales", true), openRequest(), moved, "sales", true},
		{"move", move, openRequest(), moved, "sales", false},
		{"assign a waiting one", AssignRequest("", false), waiting(), routed, "dflt", false},
		{"assign an assigned one", AssignRequest("sales", false), openRequest(), "[]", "", false},
		{"assign a closed one", AssignRequest("", false), closedRequest(), "[]", "", false},
		{"hand to an agent", HandRequestToAgent(), openRequest(), routed, "dflt", true},
	} {
		env := newFakeEnv()
		events, err := tc.change(tc.r, env)
		if err != nil || fmt.Sprint(events) != tc.events || env.routedTo != tc.dept || env.noBot != tc.noBot {
			t.Errorf("%s: events %v, routed to %q (no bot %v), %v", tc.name, events, env.routedTo, env.noBot, err)
		}
		if tc.dept != "" && (tc.r.DepartmentID != tc.dept || fmt.Sprint(tc.r.Participants) != "[routed]" || tc.r.Status != RequestAssigned) {
			t.Errorf("%s: %+v", tc.name, tc.r)
		}
	}
	if _, err := MoveRequest("", false); ErrorField(err) != "departmentid" || ErrorRule(err) != "" {
		t.Errorf("a move naming no department: %v", err)
	}
	if _, err := RerouteRequest("gone", false)(openRequest(), newFakeEnv()); !refusedBy(err, EINVALID, RuleDepartmentExists) ||
		ErrorField(err) != "departmentid" {
		t.Errorf("a department of no project: %v", err)
	}
}

func TestNoDepartment(t *testing.T) {
	if e := NoDepartment("x"); e.Message != "no department x in this project" || e.Field != "departmentid" || e.Rule != RuleDepartmentExists {
		t.Errorf("NoDepartment(x) = %+v", e)
	}
	if e := NoDepartment(""); e.Message != "the project has no default department" || e.Rule != RuleDepartmentExists {
		t.Errorf("NoDepartment() = %+v", e)
	}
}

func TestMayDeleteRequest(t *testing.T) {
	for _, tc := range []struct {
		actor Actor
		may   bool
	}{
		{actorAs(RoleOwner), true},
		{actorAs(RoleAdmin), false},
		{actorAs(RoleAdmin, "request_delete"), true},
		{actorAs(RoleAgent), false},
		{actorAs(RoleAgent, "request_delete"), true},
		{actorAs(RoleGuest), false},
	} {
		err := MayDeleteRequest(tc.actor)
		if tc.may != (err == nil) || err != nil && (ErrorCode(err) != EFORBIDDEN || ErrorMessage(err) != "Unauthorized.") {
			t.Errorf("%s %v: %v", tc.actor.Member.Role, tc.actor.Member.Permissions, err)
		}
	}
}

func TestActorVisibility(t *testing.T) {
	for role, visitor := range map[string]bool{RoleOwner: false, RoleAdmin: false, RoleAgent: false, RoleTeammate: true, RoleGuest: true} {
		a := actorAs(role)
		if got, want := a.Visibility(), VisibilityOf(a.Member, a.UserID); fmt.Sprint(got) != fmt.Sprint(want) || got.IsVisitor() != visitor {
			t.Errorf("%s sees %+v, want %+v", role, got, want)
		}
	}
}
