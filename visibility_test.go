package tiledesk

import (
	"encoding/json"
	"testing"
)

func TestVisibilityOf(t *testing.T) {
	for role, want := range map[string]string{RoleOwner: "all", RoleAdmin: "all", RoleSupervisor: "all", RoleAgent: "agent",
		RoleTeammate: "visitor", RoleUser: "visitor", RoleGuest: "visitor"} {
		v := VisibilityOf(&ProjectUser{ID: "pu", Role: role}, "u")
		got := "agent"
		switch {
		case v == nil:
			got = "all"
		case v.IsVisitor():
			got = "visitor"
		}
		if got != want || v != nil && (v.UserID != "u" || v.ProjectUserID != "pu") {
			t.Errorf("VisibilityOf(%s) = %+v, want %s", role, v, want)
		}
	}
}

func TestVisibilitySees(t *testing.T) {
	r := &Request{RequesterID: "visitor-pu", ParticipantsAgents: []string{"a1"}, Followers: []string{"f-pu"}}
	agent := func(user, pu string) *Visibility { return &Visibility{UserID: user, ProjectUserID: pu} }
	cases := []struct {
		name       string
		v          *Visibility
		restricted bool
		want       bool
	}{
		{"everyone", nil, true, true},
		{"agent, open department", agent("a9", "x"), false, true},
		{"agent, restricted department", agent("a9", "x"), true, false},
		{"participant, restricted", agent("a1", "x"), true, true},
		{"follower, restricted", agent("a9", "f-pu"), true, true},
		{"the requester", &Visibility{UserID: "v", ProjectUserID: "visitor-pu", Visitor: true}, false, true},
		{"another visitor", &Visibility{UserID: "w", ProjectUserID: "other-pu", Visitor: true}, false, false},
		// A visitor who is somehow a participant still sees only what it asked for.
		{"visitor as participant", &Visibility{UserID: "a1", ProjectUserID: "other-pu", Visitor: true}, false, false},
	}
	for _, c := range cases {
		if got := c.v.Sees(r, c.restricted); got != c.want {
			t.Errorf("%s: Sees = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestWithoutInternal(t *testing.T) {
	var attrs map[string]any
	in := `{"plain":"ok","crm":{"internal":true,"id":"x"},"nested":{"keep":1,"deep":{"internal":true}},
		"list":["a",{"internal":true},null,{"b":2}],"last_message":{"text":"note","attributes":{"internal":true}},
		"flag":{"internal":false,"v":1}}`
	if err := json.Unmarshal([]byte(in), &attrs); err != nil {
		t.Fatal(err)
	}
	before, _ := json.Marshal(attrs)
	out, _ := json.Marshal(WithoutInternal(attrs))
	if want := `{"flag":{"internal":false,"v":1},"list":["a",null,{"b":2}],"nested":{"keep":1},"plain":"ok"}`; string(out) != want {
		t.Fatalf("WithoutInternal = %s, want %s", out, want)
	}
	if after, _ := json.Marshal(attrs); string(after) != string(before) {
		t.Fatalf("WithoutInternal changed its argument: %s", after)
	}
	if WithoutInternal(map[string]any{"internal": true, "a": 1}) != nil || WithoutInternal(nil) != nil {
		t.Fatal("attributes marked internal themselves are withheld whole")
	}
	if !IsInternal(map[string]any{"internal": true}) || IsInternal(map[string]any{"internal": "true"}) || IsInternal(nil) {
		t.Fatal("IsInternal takes the boolean true only")
	}
}
