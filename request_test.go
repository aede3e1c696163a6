package tiledesk

import (
	"fmt"
	"testing"
	"time"
)

func TestRoute(t *testing.T) {
	assigned := &Department{Routing: RoutingAssigned}
	agents := []Agent{{UserID: "c", Available: true}, {UserID: "a", Available: true}, {UserID: "b", Available: false}}
	for _, tc := range []struct {
		name  string
		d     *Department
		last  string
		noBot bool
		want  string
	}{
		{"first in id order", assigned, "", false, "[a]"},
		{"after the last one", assigned, "a", false, "[c]"},
		{"wraps around", assigned, "c", false, "[a]"},
		{"last one no longer available", assigned, "b", false, "[c]"},
		{"pooled", &Department{Routing: RoutingPooled}, "", false, "[]"},
		{"bot", &Department{Routing: RoutingAssigned, IDBot: "x"}, "", false, "[bot_x]"},
		{"bot skipped", &Department{Routing: RoutingAssigned, IDBot: "x"}, "", true, "[a]"},
	} {
		got := Route(tc.d, agents, tc.last, tc.noBot)
		if fmt.Sprint(got.Participants) != tc.want || got.AvailableAgentsCount != 2 {
			t.Errorf("%s: %v (%d available), want %s", tc.name, got.Participants, got.AvailableAgentsCount, tc.want)
		}
	}
	if got := Route(assigned, []Agent{{UserID: "a"}}, "", false); len(got.Participants) != 0 || got.AvailableAgentsCount != 0 {
		t.Errorf("nobody available: %+v", got)
	}
}

func TestRequestParticipantsAndStatus(t *testing.T) {
	now := time.Date(2024, 5, 24, 14, 0, 0, 0, time.UTC)
	r := &Request{Status: RequestUnassigned, CreatedAt: now.Add(-time.Minute)}
	r.SetParticipants([]string{"u1", "bot_b1", "u1", ""}, now)
	if fmt.Sprint(r.Participants, r.ParticipantsAgents, r.ParticipantsBots) != "[u1 bot_b1] [u1] [b1]" || !r.HasBot ||
		r.Status != RequestAssigned || r.AssignedAt == nil || !r.IsOpen() {
		t.Fatalf("after SetParticipants: %+v", r)
	}
	if r.RemoveParticipant("nobody", now) {
		t.Fatal("removed a participant that was not there")
	}
	r.RemoveParticipant("bot_b1", now)
	r.RemoveParticipant("u1", now)
	if r.Status != RequestUnassigned || r.HasBot || len(r.Participants) != 0 {
		t.Fatalf("without participants: %+v", r)
	}
	r.AddParticipant("u2", now)
	r.Close("u2", now, "t")
	if r.Status != RequestClosed || *r.Duration != 60000 || r.ClosedBy != "u2" || r.IsOpen() {
		t.Fatalf("closed: %+v", r)
	}
	r.RemoveParticipant("u2", now)
	if r.Status != RequestClosed {
		t.Fatal("a participant change reopened a closed conversation")
	}
	r.Reopen(now)
	if r.Status != RequestUnassigned {
		t.Fatalf("reopened without participants = %d", r.Status)
	}
	r.AddParticipant("u3", now)
	r.Close("u3", now, "")
	r.Reopen(now)
	if r.Status != RequestAssigned {
		t.Fatalf("reopened with participants = %d", r.Status)
	}
	if (&Request{Status: RequestAssigned, Preflight: true}).IsOpen() || (&Request{Status: RequestTemp}).IsOpen() ||
		(&Request{Status: RequestAbandoned}).IsOpen() {
		t.Fatal("preflight, temporary and abandoned conversations are not in the default list")
	}
}

func TestTranscript(t *testing.T) {
	at := time.Date(2026, 11, 25, 0, 17, 50, 0, time.UTC)
	got := Transcript([]*Message{{SenderFullname: "Sample One", Text: "Hello", CreatedAt: at},
		{SenderFullname: "Agent", Text: "Hi", CreatedAt: at.Add(time.Second)}})
	if want := "25/11/2026, 00:17:50 Sample One: Hello\r\n25/11/2026, 00:17:51 Agent: Hi"; got != want {
		t.Fatalf("transcript = %q, want %q", got, want)
	}
}

func TestSearchTerms(t *testing.T) {
	if got := fmt.Sprint(SearchTerms("Mário  ROSSI <m.rossi@Example.com>")); got != "[mario rossi m rossi example com]" {
		t.Fatalf("SearchTerms = %s", got)
	}
	if got := SearchText("José", "", "Müller"); got != "jose muller" {
		t.Fatalf("SearchText = %q", got)
	}
}
