package tiledesk

import (
	"strings"
	"testing"
	"time"
)

func TestTranscriptBuilderCuts(t *testing.T) {
	at := time.Date(2026, 11, 25, 0, 17, 50, 0, time.UTC)
	huge := &Message{SenderFullname: "A", Text: strings.Repeat("x", MaxTranscriptBytes), CreatedAt: at}
	if got := Transcript([]*Message{huge, {SenderFullname: "B", Text: "later", CreatedAt: at}}); got != TranscriptCut {
		t.Fatalf("a first message longer than a transcript gives %.80q, want the cut line alone", got)
	}
	var tb TranscriptBuilder
	small := &Message{SenderFullname: "A", Text: strings.Repeat("y", 1000), CreatedAt: at}
	n := 0
	for tb.Add(small) {
		n++
	}
	got := tb.String()
	if len(got) > MaxTranscriptBytes || !strings.HasSuffix(got, "\r\n"+TranscriptCut) || strings.Count(got, "\r\n") != n {
		t.Fatalf("%d lines kept in %d bytes, ends %q", n, len(got), got[len(got)-80:])
	}
	if tb.Add(small) || tb.String() != got {
		t.Fatal("a full transcript took another line")
	}
}

func TestCheckRequestGrowth(t *testing.T) {
	r := &Request{Followers: make([]string, MaxFollowers+5)}
	if err := CheckRequestGrowth(LengthsOf(r), r); err != nil {
		t.Fatalf("an over-full list that did not grow: %v", err)
	}
	before := LengthsOf(r)
	r.Followers = append(r.Followers, "one more")
	if err := CheckRequestGrowth(before, r); ErrorCode(err) != EINVALID || ErrorField(err) != "followers" {
		t.Fatalf("an over-full list that grew: %v", err)
	}
}
