package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

var growthTests = []struct {
	name string
	fn   func(*testing.T, tiledesk.Store)
}{
	{"RequestListsBounded", testRequestListsBounded},
	{"RequestTranscriptBounded", testRequestTranscriptBounded},
}

// change applies fn to the conversation rid in one ChangeRequest.
func (c *chat) change(rid string, fn func(r *tiledesk.Request, env tiledesk.RequestEnv)) (*tiledesk.Request, error) {
	return c.s.ChangeRequest(context.Background(), c.p.ID, rid, nil, func(r *tiledesk.Request, env tiledesk.RequestEnv) ([]string, error) {
		fn(r, env)
		return nil, nil
	}, nil)
}

// wantInvalidList fails unless err is the EINVALID of a full list.
func wantInvalidList(t *testing.T, what string, err error, field, msg string) {
	t.Helper()
	if tiledesk.ErrorCode(err) != tiledesk.EINVALID || tiledesk.ErrorField(err) != field || !strings.Contains(tiledesk.ErrorMessage(err), msg) {
		t.Fatalf("%s: err = %v (field %q), want EINVALID on %s saying %q", what, err, tiledesk.ErrorField(err), field, msg)
	}
}

func notesOf(n int, text string) []tiledesk.Note {
	out := make([]tiledesk.Note, n)
	for i := range out {
		out[i] = tiledesk.Note{ID: tiledesk.NewID(), Text: text, CreatedBy: "agent", CreatedAt: tiledesk.Now(), UpdatedAt: tiledesk.Now()}
	}
	return out
}

func idsOf(n int, prefix string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

// testRequestListsBounded: a write that lengthens a conversation's notes, tags, participants or
// followers past its bound is refused in the store's transaction, whatever the caller checked,
// and stores nothing; writes that do not lengthen a full list go through.
func testRequestListsBounded(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	c := newChat(t, s)
	g := c.guest(t)
	rid := c.create(t, c.newRequest(g, g.UUIDUser, "Hello")).RequestID

	// Full lists, each reached in one write.
	r, err := c.change(rid, func(r *tiledesk.Request, env tiledesk.RequestEnv) {
		r.Notes = notesOf(tiledesk.MaxNotes, "n")
		for _, tag := range idsOf(tiledesk.MaxTags, "t") {
			r.Tags = append(r.Tags, tiledesk.RequestTag{ID: tiledesk.NewID(), Tag: tag})
		}
		r.SetParticipants(idsOf(tiledesk.MaxParticipants, tiledesk.BotPrefix), env.Now())
		r.Followers = idsOf(tiledesk.MaxFollowers, "f")
	})
	if err != nil || len(r.Notes) != tiledesk.MaxNotes || len(r.Participants) != tiledesk.MaxParticipants {
		t.Fatalf("filling every list: %v", err)
	}
	for _, add := range []struct {
		field string
		bound int
		fn    func(r *tiledesk.Request, env tiledesk.RequestEnv)
	}{
		{"notes", tiledesk.MaxNotes, func(r *tiledesk.Request, _ tiledesk.RequestEnv) { r.Notes = append(r.Notes, notesOf(1, "one more")...) }},
		{"tags", tiledesk.MaxTags, func(r *tiledesk.Request, _ tiledesk.RequestEnv) {
			r.Tags = append(r.Tags, tiledesk.RequestTag{ID: tiledesk.NewID(), Tag: "one more"})
		}},
		{"participants", tiledesk.MaxParticipants, func(r *tiledesk.Request, env tiledesk.RequestEnv) { r.AddParticipant("bot_one_more", env.Now()) }},
		{"followers", tiledesk.MaxFollowers, func(r *tiledesk.Request, _ tiledesk.RequestEnv) { r.Followers = append(r.Followers, "one more") }},
	} {
		_, err := c.change(rid, func(r *tiledesk.Request, env tiledesk.RequestEnv) {
			r.Subject = "not stored"
			add.fn(r, env)
		})
		wantInvalidList(t, "one more of "+add.field, err, add.field, fmt.Sprintf("at most %d %s", add.bound, add.field))
	}
	r, err = s.FindRequest(ctx, c.p.ID, rid, nil)
	if err != nil || r.Subject != "" || len(r.Notes) != tiledesk.MaxNotes || len(r.Tags) != tiledesk.MaxTags ||
		len(r.Participants) != tiledesk.MaxParticipants || len(r.Followers) != tiledesk.MaxFollowers {
		t.Fatalf("a refused write was stored: subject %q, %d notes, %v", r.Subject, len(r.Notes), err)
	}
	// A full conversation is still changed in every other way, and its lists still shrink.
	r, err = c.change(rid, func(r *tiledesk.Request, env tiledesk.RequestEnv) {
		r.Subject = "full"
		r.Notes = r.Notes[1:]
		r.RemoveParticipant(tiledesk.BotPrefix+"0", env.Now())
	})
	if err != nil || r.Subject != "full" || len(r.Notes) != tiledesk.MaxNotes-1 {
		t.Fatalf("changing a full conversation: %v", err)
	}

	// The notes' size is bounded too: a few large notes fill a conversation before their count.
	rid2 := c.create(t, c.newRequest(g, g.UUIDUser, "Large notes")).RequestID
	big := strings.Repeat("x", 60<<10)
	for i := range 4 {
		if _, err := c.change(rid2, func(r *tiledesk.Request, _ tiledesk.RequestEnv) { r.Notes = append(r.Notes, notesOf(1, big)...) }); err != nil {
			t.Fatalf("large note %d: %v", i, err)
		}
	}
	_, err = c.change(rid2, func(r *tiledesk.Request, _ tiledesk.RequestEnv) { r.Notes = append(r.Notes, notesOf(1, big)...) })
	wantInvalidList(t, "a fifth large note", err, "notes", "at most 256 KiB")

	// Creating a conversation with more participants or followers than it holds is refused too.
	in := c.newRequest(g, g.UUIDUser, "Crowded")
	in.Participants = idsOf(tiledesk.MaxParticipants+1, tiledesk.BotPrefix)
	_, err = s.CreateRequest(ctx, in)
	wantInvalidList(t, "creating with too many participants", err, "participants", "at most")
	in = c.newRequest(g, g.UUIDUser, "Followed")
	in.Request.Followers = idsOf(tiledesk.MaxFollowers+1, "f")
	_, err = s.CreateRequest(ctx, in)
	wantInvalidList(t, "creating with too many followers", err, "followers", "at most")
	if _, err := s.FindRequest(ctx, c.p.ID, in.Request.RequestID, nil); tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		t.Fatalf("a refused creation was stored: %v", err)
	}
}

// testRequestTranscriptBounded: closing writes the transcript of every message that fits in
// MaxTranscriptBytes, in order, reading past batches of messages with equal times; a longer
// conversation's transcript ends with TranscriptCut.
func testRequestTranscriptBounded(t *testing.T, s tiledesk.Store) {
	ctx := context.Background()
	c := newChat(t, s)
	g := c.guest(t)
	closeIt := func(rid string) string {
		t.Helper()
		r, err := s.ChangeRequest(ctx, c.p.ID, rid, nil, func(r *tiledesk.Request, env tiledesk.RequestEnv) ([]string, error) {
			transcript, err := env.Transcript()
			if err != nil {
				return nil, err
			}
			r.Close(c.owner.ID, env.Now(), transcript)
			return []string{tiledesk.EventRequestClose}, nil
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r.Transcript
	}
	// 200 short messages, many sharing a millisecond: every one, in order.
	rid := c.create(t, c.newRequest(g, g.UUIDUser, "Short")).RequestID
	var msgs []*tiledesk.Message
	at := tiledesk.Now()
	for i := range 200 {
		m := c.message(rid, g.UUIDUser, fmt.Sprintf("m%03d", i))
		m.CreatedAt, m.UpdatedAt = at, at // one millisecond for all: ordered by id
		msgs = append(msgs, m)
	}
	if _, err := s.AddMessages(ctx, c.p.ID, rid, nil, msgs, nil); err != nil {
		t.Fatal(err)
	}
	want := make([]string, 0, len(msgs))
	for _, m := range msgs {
		want = append(want, m.Text)
	}
	got := closeIt(rid)
	lines := strings.Split(got, "\r\n")
	if len(lines) != 200 {
		t.Fatalf("transcript has %d lines, want 200", len(lines))
	}
	for i, l := range lines {
		if !strings.HasSuffix(l, "Someone: "+want[i]) {
			t.Fatalf("line %d = %q, want %s", i, l, want[i])
		}
	}
	if strings.Contains(got, tiledesk.TranscriptCut) {
		t.Fatal("a short transcript was cut")
	}

	// Five messages of 60 KiB: the first four fit, then the cut.
	rid = c.create(t, c.newRequest(g, g.UUIDUser, "Long")).RequestID
	msgs = nil
	for i := range 5 {
		msgs = append(msgs, c.message(rid, g.UUIDUser, fmt.Sprintf("%d%s", i, strings.Repeat("y", 60<<10))))
	}
	if _, err := s.AddMessages(ctx, c.p.ID, rid, nil, msgs, nil); err != nil {
		t.Fatal(err)
	}
	got = closeIt(rid)
	if len(got) > tiledesk.MaxTranscriptBytes || !strings.HasSuffix(got, "\r\n"+tiledesk.TranscriptCut) ||
		strings.Count(got, "Someone: ") != 4 || !strings.Contains(got, "Someone: 3y") {
		t.Fatalf("long transcript: %d bytes, %d lines, ends %q", len(got), strings.Count(got, "\r\n")+1, got[max(0, len(got)-80):])
	}
}
