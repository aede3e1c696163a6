package tiledesk

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Members of the test project, by user id and by membership id alike.
const (
	activeAgent   = "aaaaaaaaaaaaaaaaaaaaaaa1"
	otherAgent    = "aaaaaaaaaaaaaaaaaaaaaaa2"
	disabledAgent = "dddddddddddddddddddddddd"
	trashedAgent  = "eeeeeeeeeeeeeeeeeeeeeeee"
	aVisitor      = "ffffffffffffffffffffffff"
	brokenLookup  = "cccccccccccccccccccccccc"
)

func members(id string) (*ProjectUser, error) {
	switch id {
	case activeAgent, otherAgent:
		return &ProjectUser{ID: id, Role: RoleAgent, RoleType: RoleTypeAgent, Status: MemberActive}, nil
	case disabledAgent:
		return &ProjectUser{ID: id, Role: RoleAgent, RoleType: RoleTypeAgent, Status: MemberDisabled}, nil
	case trashedAgent:
		return &ProjectUser{ID: id, Role: RoleAgent, RoleType: RoleTypeAgent, Status: MemberActive, Trashed: true}, nil
	case aVisitor:
		return &ProjectUser{ID: id, Role: RoleGuest, RoleType: RoleTypeUser, Status: MemberActive}, nil
	case brokenLookup:
		return nil, errors.New("store down")
	}
	return nil, NotFound("project user")
}

// many returns n distinct bot participants.
func many(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("bot_%d", i)
	}
	return out
}

func TestCheckParticipants(t *testing.T) {
	for _, tc := range []struct {
		name string
		ids  []string
		want string // "" accepted, else the error's message
	}{
		{"agents and bots", []string{activeAgent, "bot_b1"}, ""},
		{"none", nil, ""},
		{"too many", many(MaxParticipants + 1), fmt.Sprintf("a conversation holds at most %d participants", MaxParticipants)},
		{"as many as a conversation holds", many(MaxParticipants), ""},
		{"too long", []string{"bot_" + strings.Repeat("x", MaxParticipantBytes)}, fmt.Sprintf("a participant is at most %d bytes", MaxParticipantBytes)},
		{"a bare bot prefix", []string{"bot_"}, "participants are agents' user ids or bot_<id>"},
		{"not an id", []string{"nobody"}, "participants are agents' user ids or bot_<id>"},
		{"unknown", []string{"bbbbbbbbbbbbbbbbbbbbbbbb"}, "bbbbbbbbbbbbbbbbbbbbbbbb is not an active agent of the project"},
		{"disabled", []string{disabledAgent}, disabledAgent + " is not an active agent of the project"},
		{"trashed", []string{trashedAgent}, trashedAgent + " is not an active agent of the project"},
		{"a visitor", []string{activeAgent, aVisitor}, aVisitor + " is not an active agent of the project"},
	} {
		err := CheckParticipants("field", tc.ids, members)
		if tc.want == "" && err != nil || tc.want != "" && (ErrorField(err) != "field" || ErrorMessage(err) != tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if err := CheckParticipants("field", []string{brokenLookup}, members); err == nil || ErrorCode(err) != EINTERNAL {
		t.Errorf("a lookup that fails: %v", err)
	}
}

func TestParticipantChanges(t *testing.T) {
	participants := "[" + EventRequestParticipants + "]"
	if _, err := SetRequestParticipants([]string{"nobody"}, members); ErrorField(err) != "participants" {
		t.Errorf("setting a stranger: %v", err)
	}
	if _, err := AddRequestParticipant("nobody", members); ErrorField(err) != "member" {
		t.Errorf("adding a stranger: %v", err)
	}
	r := openRequest()
	set, err := SetRequestParticipants([]string{otherAgent, "bot_b", otherAgent}, members)
	if err != nil {
		t.Fatal(err)
	}
	if events, err := set(r, newFakeEnv()); err != nil || fmt.Sprint(events) != participants ||
		fmt.Sprint(r.Participants) != "["+otherAgent+" bot_b]" || !r.HasBot || r.Status != RequestAssigned {
		t.Fatalf("set: %v %v %+v", events, err, r)
	}
	add, _ := AddRequestParticipant(activeAgent, members)
	if events, err := add(r, newFakeEnv()); err != nil || fmt.Sprint(events) != participants || !slices.Contains(r.ParticipantsAgents, activeAgent) {
		t.Fatalf("add: %v %v %+v", events, err, r)
	}
	for _, id := range []string{otherAgent, "bot_b", activeAgent} {
		if events, err := RemoveRequestParticipant(id)(r, newFakeEnv()); err != nil || fmt.Sprint(events) != participants {
			t.Fatalf("remove %s: %v %v", id, events, err)
		}
	}
	if r.Status != RequestUnassigned || len(r.Participants) != 0 {
		t.Fatalf("without participants: %+v", r)
	}
	_, err = RemoveRequestParticipant(activeAgent)(r, newFakeEnv())
	if !refusedBy(err, ECONFLICT, RuleParticipantPresent) ||
		ErrorMessage(err) != "Unable to remove the participant "+activeAgent+" from the request rid" {
		t.Fatalf("removing a participant that is not there: %v", err)
	}
}

func TestCheckFollowers(t *testing.T) {
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = activeAgent
		}
		return out
	}
	for _, tc := range []struct {
		name, field, want string
		ids               []string
	}{
		{"agents", "", "", []string{activeAgent, otherAgent}},
		{"in upper case", "", "", []string{strings.ToUpper(activeAgent)}},
		{"too many", "followers", fmt.Sprintf("a conversation holds at most %d followers", MaxFollowers), ids(MaxFollowers + 1)},
		{"as many as a conversation holds", "", "", ids(MaxFollowers)},
		{"not an id", "member", "followers are project user ids", []string{"nobody"}},
		{"unknown", "member", "bbbbbbbbbbbbbbbbbbbbbbbb is not an active teammate of the project", []string{"bbbbbbbbbbbbbbbbbbbbbbbb"}},
		{"disabled", "member", disabledAgent + " is not an active teammate of the project", []string{disabledAgent}},
		{"a visitor", "member", aVisitor + " is not an active teammate of the project", []string{aVisitor}},
	} {
		err := CheckFollowers("member", tc.ids, members)
		if tc.want == "" && err != nil || tc.want != "" && (ErrorField(err) != tc.field || ErrorMessage(err) != tc.want) {
			t.Errorf("%s: %v, want %s %q", tc.name, err, tc.field, tc.want)
		}
	}
	if err := CheckFollowers("member", []string{brokenLookup}, members); err == nil || ErrorCode(err) != EINTERNAL {
		t.Errorf("a lookup that fails: %v", err)
	}
}

func TestFollowerChanges(t *testing.T) {
	followers := "[" + EventRequestFollowers + "]"
	if _, err := SetRequestFollowers([]string{aVisitor}, members); ErrorField(err) != "member" {
		t.Errorf("setting a visitor: %v", err)
	}
	if _, err := AddRequestFollower("nobody", members); ErrorField(err) != "member" {
		t.Errorf("adding a stranger: %v", err)
	}
	r := openRequest()
	set, err := SetRequestFollowers([]string{strings.ToUpper(activeAgent), activeAgent, otherAgent}, members)
	if err != nil {
		t.Fatal(err)
	}
	if events, err := set(r, newFakeEnv()); err != nil || fmt.Sprint(events) != followers ||
		fmt.Sprint(r.Followers) != "["+activeAgent+" "+otherAgent+"]" {
		t.Fatalf("set: %v %v %v", events, err, r.Followers)
	}
	add, _ := AddRequestFollower(strings.ToUpper(otherAgent), members)
	if events, err := add(r, newFakeEnv()); err != nil || fmt.Sprint(events) != followers || len(r.Followers) != 2 {
		t.Fatalf("adding a follower twice: %v %v %v", events, err, r.Followers)
	}
	for _, id := range []string{strings.ToUpper(activeAgent), otherAgent, otherAgent} {
		if events, err := RemoveRequestFollower(id)(r, newFakeEnv()); err != nil || fmt.Sprint(events) != followers {
			t.Fatalf("remove %s: %v %v", id, events, err)
		}
	}
	if len(r.Followers) != 0 {
		t.Fatalf("followers left: %v", r.Followers)
	}
}
