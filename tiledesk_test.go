package tiledesk

import (
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"
)

func TestIDs(t *testing.T) {
	seen := map[string]bool{}
	var ids []string
	for i := 0; i < 10000; i++ {
		id := NewID()
		if !IsID(id) || seen[id] {
			t.Fatalf("id %q invalid or repeated", id)
		}
		seen[id] = true
		ids = append(ids, id)
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatal("ids made in sequence by one process do not sort in creation order")
	}
	early, late := NewIDAt(time.Unix(1_700_000_000, 0)), NewIDAt(time.Unix(1_700_000_001, 0))
	if !(early < late) {
		t.Fatalf("id of an earlier second %s does not sort before %s", early, late)
	}
	if got := IDTime(early); !got.Equal(time.Unix(1_700_000_000, 0)) {
		t.Fatalf("IDTime = %v", got)
	}
	for _, bad := range []string{"", "abc", "6b06292a3a237c548a31b98", "6b06292a3a237c548a31b98dd", "zb06292a3a237c548a31b98d"} {
		if IsID(bad) {
			t.Errorf("IsID(%q) = true", bad)
		}
	}
	if !IsID("6B06292A3A237C548A31B98D") {
		t.Error("upper-case hex ids are valid ObjectIds")
	}
}

func TestRoles(t *testing.T) {
	order := []string{RoleGuest, RoleUser, RoleTeammate, RoleAgent, RoleSupervisor, RoleAdmin, RoleOwner}
	for i, r := range order {
		for j, min := range order {
			if got := HasRole(r, min); got != (i >= j) {
				t.Errorf("HasRole(%s, %s) = %v", r, min, got)
			}
		}
	}
	if HasRole("emperor", RoleGuest) || IsRole("emperor") {
		t.Error("an unknown role passes")
	}
	if RoleTypeOf(RoleAgent) != RoleTypeAgent || RoleTypeOf(RoleGuest) != RoleTypeUser || RoleTypeOf(RoleUser) != RoleTypeUser {
		t.Error("role types differ from the original's")
	}
}

func TestIsBusy(t *testing.T) {
	three := 3
	p := &Project{Settings: map[string]any{"chat_limit_on": true, "max_agent_assigned_chat": 2.0}}
	for _, tc := range []struct {
		settings map[string]any
		own      *int
		n        int
		want     bool
	}{
		{nil, nil, 100, false},
		{map[string]any{"chat_limit_on": false, "max_agent_assigned_chat": 1.0}, nil, 5, false},
		{p.Settings, nil, 1, false},
		{p.Settings, nil, 2, true},
		{p.Settings, &three, 2, false},
		{p.Settings, &three, 3, true},
		{map[string]any{"chat_limit_on": true}, nil, 50, false},
	} {
		got := IsBusy(&Project{Settings: tc.settings}, &ProjectUser{MaxAssignedChat: tc.own, NumberAssignedRequests: tc.n})
		if got != tc.want {
			t.Errorf("IsBusy(%v, own %v, n %d) = %v", tc.settings, tc.own, tc.n, got)
		}
	}
}

func TestSetPath(t *testing.T) {
	m := map[string]any{"email": "not an object"}
	SetPath(m, "email.notification.assigned", true)
	SetPath(m, "chat_limit_on", false)
	if fmt.Sprint(m) != "map[chat_limit_on:false email:map[notification:map[assigned:true]]]" {
		t.Fatalf("SetPath result = %v", m)
	}
}

func TestErrors(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", Invalid("email", "bad %s", "address"))
	if ErrorCode(err) != EINVALID || ErrorField(err) != "email" || ErrorMessage(err) != "bad address" {
		t.Fatalf("code/field/message = %q %q %q", ErrorCode(err), ErrorField(err), ErrorMessage(err))
	}
	plain := errors.New("disk on fire")
	if ErrorCode(plain) != EINTERNAL || ErrorMessage(plain) == plain.Error() {
		t.Fatal("internal causes must map to EINTERNAL with a generic message")
	}
	if ErrorCode(nil) != "" {
		t.Fatal("nil has a code")
	}
}
