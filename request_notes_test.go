package tiledesk

import (
	"fmt"
	"testing"
)

func TestNoteRulesByRole(t *testing.T) {
	stranger := Actor{Member: &ProjectUser{Role: RoleAgent}, UserID: "another"}
	for _, tc := range []struct {
		actor Actor
		may   bool
	}{
		{actorAs(RoleOwner), true},
		{actorAs(RoleAdmin), true},
		{actorAs(RoleSupervisor), false}, // sees it, takes no part in it
		{actorAs(RoleAgent), true},       // its participant
		{stranger, false},
		{actorAs(RoleGuest), false},
	} {
		name := tc.actor.Member.Role + " as " + tc.actor.UserID
		r := openRequest()
		r.Notes = []Note{{ID: "n1", Text: "first"}}
		add, err := AddRequestNote(tc.actor, "called the customer", map[string]any{"k": "v"})
		if err != nil {
			t.Fatal(err)
		}
		events, err := add(r, newFakeEnv())
		switch {
		case !tc.may:
			if ErrorCode(err) != EFORBIDDEN || ErrorMessage(err) != "You must be among the participants of the conversation." || len(r.Notes) != 1 {
				t.Errorf("%s adds a note: %v, %d notes", name, err, len(r.Notes))
			}
		case err != nil || events != nil || len(r.Notes) != 2:
			t.Errorf("%s adds a note: %v %v %v", name, events, err, r.Notes)
		default:
			n := r.Notes[1]
			if n.Text != "called the customer" || n.CreatedBy != tc.actor.UserID || !IsID(n.ID) || !n.CreatedAt.Equal(ruleNow) ||
				!n.UpdatedAt.Equal(ruleNow) || n.Attributes["k"] != "v" {
				t.Errorf("%s's note: %+v", name, n)
			}
		}
		r = openRequest()
		r.Notes = []Note{{ID: "n1"}, {ID: "n2"}}
		_, err = DeleteRequestNote(tc.actor, "n1")(r, newFakeEnv())
		if tc.may && (err != nil || len(r.Notes) != 1 || r.Notes[0].ID != "n2") || !tc.may && (ErrorCode(err) != EFORBIDDEN || len(r.Notes) != 2) {
			t.Errorf("%s deletes a note: %v, %v", name, err, r.Notes)
		}
		if _, err := DeleteRequestNote(tc.actor, "gone")(r, newFakeEnv()); tc.may && ErrorCode(err) != ENOTFOUND {
			t.Errorf("%s deletes a note that is not there: %v", name, err)
		}
	}
	for _, text := range []string{"", "  \n"} {
		if _, err := AddRequestNote(actorAs(RoleOwner), text, nil); !refusedBy(err, EINVALID, RuleNoteText) ||
			ErrorField(err) != "text" || ErrorMessage(err) != "Field 'text' is required." {
			t.Errorf("a note of %q: %v", text, err)
		}
	}
}

func TestTagRules(t *testing.T) {
	tags := "[" + EventRequestTags + "]"
	r := openRequest()
	r.Tags = []RequestTag{{ID: "t1", Tag: "vip"}}
	events, err := AddRequestTags([]RequestTag{{ID: "t2", Tag: "vip", Color: "red"}, {ID: "t3", Tag: "urgent"}})(r, newFakeEnv())
	if err != nil || fmt.Sprint(events) != tags || fmt.Sprint(r.Tags) != "[{t1 vip  map[]} {t3 urgent  map[]}]" {
		t.Fatalf("added: %v %v %v", events, err, r.Tags)
	}
	for _, key := range []string{"t1", "urgent", "nothing"} {
		if events, err := RemoveRequestTag(key)(r, newFakeEnv()); err != nil || fmt.Sprint(events) != tags {
			t.Fatalf("remove %s: %v %v", key, events, err)
		}
	}
	if len(r.Tags) != 0 {
		t.Fatalf("tags left: %v", r.Tags)
	}
}
