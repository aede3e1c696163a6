package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// jsonList is a JSON array of n items made by item(i).
func jsonList(n int, item func(i int) string) string {
	items := make([]string, n)
	for i := range items {
		items[i] = item(i)
	}
	return "[" + strings.Join(items, ",") + "]"
}

// TestConversationListsBounded: notes, tags, participants and followers added one write at a time
// stop at their bounds with a 422 naming the list, on both engines, and the conversation still
// reads back whole and quickly.
func TestConversationListsBounded(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newBoundsEnv(t, engine)
		conv := "/" + e.pid + "/requests/" + e.rid
		for i := range tiledesk.MaxNotes {
			e.do("POST", conv+"/notes", fmt.Sprintf(`{"text":"note %d"}`, i), e.owner.jwt()).want(t, 200)
		}
		wantInvalid(t, e.do("POST", conv+"/notes", `{"text":"one too many"}`, e.owner.jwt()), "note past the bound",
			"notes", fmt.Sprintf("at most %d notes", tiledesk.MaxNotes))
		start := time.Now()
		got := e.do("GET", conv, nil, e.owner.jwt()).want(t, 200).json(t)
		if n := len(got["notes"].([]any)); n != tiledesk.MaxNotes {
			t.Fatalf("the conversation holds %d notes, want %d", n, tiledesk.MaxNotes)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("reading a conversation with every note it may hold took %v", d)
		}

		// Large notes reach the size bound first.
		rid2 := e.rid + "-large"
		e.do("POST", "/"+e.pid+"/requests/"+rid2+"/messages", `{"text":"hello"}`, e.owner.jwt()).want(t, 200)
		big := `{"text":"` + strings.Repeat("x", 60<<10) + `"}`
		for range 4 {
			e.do("POST", "/"+e.pid+"/requests/"+rid2+"/notes", big, e.owner.jwt()).want(t, 200)
		}
		wantInvalid(t, e.do("POST", "/"+e.pid+"/requests/"+rid2+"/notes", big, e.owner.jwt()), "a fifth large note",
			"notes", "at most 256 KiB")

		// Tags: one request may fill them, the next one is refused; a color is a color.
		e.do("PUT", conv+"/tag", jsonList(tiledesk.MaxTags, func(i int) string { return fmt.Sprintf(`"t%d"`, i) }), e.owner.jwt()).want(t, 200)
		wantInvalid(t, e.do("PUT", conv+"/tag", `["one too many"]`, e.owner.jwt()), "tag past the bound", "tags", "at most 100 tags")
		e.do("PUT", conv+"/tag", `["t0"]`, e.owner.jwt()).want(t, 200) // already there: nothing added
		wantInvalid(t, e.do("PATCH", conv, `{"tags":[{"tag":"red","color":"`+strings.Repeat("f", 1<<20-100)+`"}]}`, e.owner.jwt()),
			"a megabyte of color", "tags", "color is at most 64 bytes")

		// Participants: bots are not looked up, so only the bounds stop them.
		bots := func(n int) string { return jsonList(n, func(i int) string { return fmt.Sprintf(`"bot_%d"`, i) }) }
		wantInvalid(t, e.do("PUT", conv+"/participants", bots(tiledesk.MaxParticipants+1), e.owner.jwt()), "101 participants",
			"participants", "at most 100 participants")
		e.do("PUT", conv+"/participants", bots(tiledesk.MaxParticipants), e.owner.jwt()).want(t, 200)
		wantInvalid(t, e.do("POST", conv+"/participants", `{"member":"bot_one_more"}`, e.owner.jwt()), "participant past the bound",
			"participants", "at most 100 participants")
		wantInvalid(t, e.do("POST", conv+"/participants", `{"member":"bot_`+strings.Repeat("b", 1000)+`"}`, e.owner.jwt()),
			"a long bot id", "member", "at most 128 bytes")

		// Followers are memberships, looked up one by one: more than a conversation holds is
		// refused before any lookup, at creation too.
		ids := jsonList(tiledesk.MaxFollowers+1, func(int) string { return `"` + e.puID + `"` })
		wantInvalid(t, e.do("PUT", conv+"/followers", ids, e.owner.jwt()), "101 followers", "followers", "at most 100 followers")
		wantInvalid(t, e.do("POST", "/"+e.pid+"/requests", `{"first_text":"x","followers":`+ids+`}`, e.owner.jwt()),
			"creating with 101 followers", "followers", "at most 100 followers")
		wantInvalid(t, e.do("POST", "/"+e.pid+"/requests", `{"first_text":"x","followers":["`+strings.Repeat("f", 1000)+`"]}`, e.owner.jwt()),
			"creating with a follower that is no id", "followers", "project user ids")
		wantInvalid(t, e.do("POST", "/"+e.pid+"/requests/"+e.rid+"-crowded/messages", `{"text":"x","participants":`+bots(101)+`}`, e.owner.jwt()),
			"creating with 101 participants", "participants", "at most 100 participants")
		e.readAll(t)
	})
}

// TestConversationStringsBounded: the strings a conversation and a message keep that need far
// less than 64 KiB are held to bounds of their own, a channel's name above all (it had none), and
// what the widget and the dashboard send passes.
func TestConversationStringsBounded(t *testing.T) {
	e := newBoundsEnv(t, "sqlite")
	p := "/" + e.pid
	mega := strings.Repeat("c", 1_000_000)
	for _, w := range []struct{ method, path, body, param, msg string }{
		{"POST", p + "/requests", `{"first_text":"x","channel":{"name":"` + mega + `"}}`, "channel.name", "at most 128 bytes"},
		{"POST", p + "/requests/" + e.rid + "/messages", `{"text":"x","channel":{"name":"` + mega + `"}}`, "channel.name", "at most 128 bytes"},
		{"POST", p + "/requests/" + e.rid + "-new/messages", `{"text":"x","channel":{"name":"` + mega + `"}}`, "channel.name", "at most 128 bytes"},
		{"POST", p + "/requests/" + e.rid + "/messages/multi", `[{"text":"x","channel":{"name":"` + mega + `"}}]`, "[0].channel.name", "at most 128 bytes"},
		{"PATCH", p + "/requests/" + e.rid, `{"channelName":"` + mega[:1000] + `"}`, "channelName", "at most 128 bytes"},
		{"PUT", "/projects/" + e.pid, `{"channels":[{"name":"` + mega[:60000] + `"}]}`, "channels", "at most 128 bytes"},
		{"POST", p + "/requests", `{"first_text":"x","sourcePage":"https://a.example/` + mega[:17<<10] + `"}`, "sourcePage", "at most 16384 bytes"},
		{"PATCH", p + "/requests/" + e.rid, `{"sourcePage":"https://a.example/` + mega[:17<<10] + `"}`, "sourcePage", "at most 16384 bytes"},
		{"POST", p + "/requests", `{"first_text":"x","userAgent":"` + mega[:9<<10] + `"}`, "userAgent", "at most 8192 bytes"},
		{"POST", p + "/requests", `{"first_text":"x","subject":"` + mega[:5<<10] + `"}`, "subject", "at most 4096 bytes"},
		{"PATCH", p + "/requests/" + e.rid, `{"subject":"` + mega[:5<<10] + `"}`, "subject", "at most 4096 bytes"},
		{"POST", p + "/requests", `{"first_text":"x","language":"` + mega[:200] + `"}`, "language", "at most 128 bytes"},
		{"PATCH", p + "/requests/" + e.rid, `{"language":"` + mega[:200] + `"}`, "language", "at most 128 bytes"},
		{"POST", p + "/requests/" + e.rid + "/messages", `{"text":"x","language":"` + mega[:200] + `"}`, "language", "at most 128 bytes"},
		{"POST", p + "/requests", `{"first_text":"x","senderFullname":"` + mega[:2<<10] + `"}`, "senderFullname", "at most 1024 bytes"},
		{"POST", p + "/requests/" + e.rid + "/messages", `{"text":"x","senderFullname":"` + mega[:2<<10] + `"}`, "senderFullname", "at most 1024 bytes"},
		{"POST", p + "/requests/" + e.rid + "/messages", `{"text":"x","recipientFullname":"` + mega[:2<<10] + `"}`, "recipientFullname", "at most 1024 bytes"},
	} {
		wantInvalid(t, e.do(w.method, w.path, w.body, e.owner.jwt()), w.method+" "+w.path+" "+w.param, w.param, w.msg)
	}
	// A visitor's first message as the widget sends it, with a long page address and a long
	// browser string.
	page := "https://shop.example.com/checkout?utm_source=newsletter&utm_campaign=" + strings.Repeat("spring-sale-", 300) + "#step=2"
	ua := "Mozilla/5.0 (Linux; Android 14; Pixel 8 Pro Build/AP2A.240805.005; wv) AppleWebKit/537.36 (KHTML, like Gecko) " +
		"Version/4.0 Chrome/127.0.6533.103 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/476.0.0.49.74;IABMV/1;" + strings.Repeat("x", 600) + "]"
	widget, _ := json.Marshal(map[string]any{"text": "Hi, I need help with my order", "type": "text",
		"senderFullname": "Maria Giovanna Rossi-Bianchi", "channel": map[string]any{"name": "chat21"}, "language": "it-IT",
		"sourcePage": page, "userAgent": ua, "subject": "Order #12345: delivery", "attributes": map[string]any{
			"client": ua, "sourcePage": page, "departments": map[string]any{"d1": "Sales"}}})
	token, _ := e.guest(e.pid)
	r := e.do("POST", p+"/requests/support-group-"+e.pid+"-widget/messages", string(widget), jwtCred(token)).want(t, 200).json(t)
	if r["channel"].(map[string]any)["name"] != "chat21" {
		t.Fatalf("message = %v", r)
	}
	e.do("PATCH", p+"/requests/support-group-"+e.pid+"-widget", `{"channelName":"whatsapp","language":"en-GB,en;q=0.9,it;q=0.8"}`, e.owner.jwt()).want(t, 200)
	e.do("PUT", "/projects/"+e.pid, `{"channels":[{"name":"chat21"},{"name":"voice-vxml"}]}`, e.owner.jwt()).want(t, 200)
}

// TestTranscriptBounded: closing a conversation whose messages would make a transcript longer
// than it keeps writes their first lines and a last line saying where the rest is.
func TestTranscriptBounded(t *testing.T) {
	e := newBoundsEnv(t, "sqlite")
	conv := "/" + e.pid + "/requests/" + e.rid
	for i := range 5 {
		e.do("POST", conv+"/messages", fmt.Sprintf(`{"text":"%d%s"}`, i, strings.Repeat("m", 60<<10)), e.owner.jwt()).want(t, 200)
	}
	e.do("PUT", conv+"/close", nil, e.owner.jwt()).want(t, 200)
	tr := e.do("GET", conv, nil, e.owner.jwt()).want(t, 200).json(t)["transcript"].(string)
	if len(tr) > tiledesk.MaxTranscriptBytes || !strings.HasSuffix(tr, "\r\n"+tiledesk.TranscriptCut) ||
		!strings.Contains(tr, ": hello\r\n") || !strings.Contains(tr, ": 2mmm") {
		t.Fatalf("transcript of %d bytes ends %q", len(tr), tr[max(0, len(tr)-100):])
	}
}

// TestOverBoundConversationStillAnswers: a conversation an older version stored with more notes
// and tags than this one allows is read back whole by every list and object, loses notes and
// tags, and is changed otherwise, but gets no more.
func TestOverBoundConversationStillAnswers(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newBoundsEnv(t, engine)
		conv := "/" + e.pid + "/requests/" + e.rid
		notes := make([]tiledesk.Note, 300)
		for i := range notes {
			notes[i] = tiledesk.Note{ID: tiledesk.NewID(), Text: fmt.Sprintf("old note %d", i), CreatedBy: e.owner.id,
				CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
		}
		tags := make([]tiledesk.RequestTag, 150)
		for i := range tags {
			tags[i] = tiledesk.RequestTag{ID: tiledesk.NewID(), Tag: fmt.Sprintf("old%d", i)}
		}
		nj, _ := json.Marshal(notes)
		tj, _ := json.Marshal(tags)
		e.sql(t, `UPDATE requests SET notes = $1, tags = $2, updated_at = updated_at + 1 WHERE id_project = $3 AND id = $4`,
			string(nj), string(tj), e.pid, e.req)
		e.sql(t, `UPDATE project_counters SET requests_clock = requests_clock + 1000 WHERE id_project = $1`, e.pid)

		got := e.do("GET", conv, nil, e.owner.jwt()).want(t, 200).json(t)
		if len(got["notes"].([]any)) != 300 || len(got["tags"].([]any)) != 150 {
			t.Fatalf("read back %d notes, %d tags", len(got["notes"].([]any)), len(got["tags"].([]any)))
		}
		e.readAll(t)
		wantInvalid(t, e.do("POST", conv+"/notes", `{"text":"more"}`, e.owner.jwt()), "a note on an over-full conversation",
			"notes", "at most 200 notes")
		wantInvalid(t, e.do("PUT", conv+"/tag", `["more"]`, e.owner.jwt()), "a tag on an over-full conversation", "tags", "at most 100 tags")
		e.do("DELETE", conv+"/notes/"+notes[0].ID, nil, e.owner.jwt()).want(t, 200)
		e.do("DELETE", conv+"/tag/old0", nil, e.owner.jwt()).want(t, 200)
		e.do("PATCH", conv, `{"subject":"still changes"}`, e.owner.jwt()).want(t, 200)
		e.do("POST", conv+"/messages", `{"text":"still chats"}`, e.owner.jwt()).want(t, 200)
		got = e.do("GET", conv, nil, e.owner.jwt()).want(t, 200).json(t)
		if len(got["notes"].([]any)) != 299 || len(got["tags"].([]any)) != 149 || got["subject"] != "still changes" {
			t.Fatalf("after the changes: %d notes, %d tags, subject %v", len(got["notes"].([]any)), len(got["tags"].([]any)), got["subject"])
		}
		e.readAll(t)
	})
}
