package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"mime/multipart"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

func TestBots(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		owner, agent := e.signup("Owner"), e.signup("Alex")
		pid := e.createProject(owner, "Shop")
		e.join(owner, agent, pid, tiledesk.RoleAgent)
		base := "/" + pid + "/faq_kb"

		r := e.do("POST", base, map[string]any{"name": "Café Helper", "description": "Answers orders",
			"attributes": map[string]any{"color": "blue"}}, owner.jwt()).want(t, 200)
		golden(t, "bot-create", r)
		bot := r.json(t)
		id := bot["_id"].(string)
		if bot["slug"] != "cafe-helper" || bot["type"] != "internal" || bot["secret"] != nil {
			t.Fatalf("new bot %v", bot)
		}
		if evs := e.events(pid); !slices.Contains(evs, tiledesk.EventBotCreate) || !slices.Contains(evs, tiledesk.EventIntentCreate) {
			t.Fatalf("creating a bot logs %v", evs)
		}
		// An internal bot starts with a greeting and a fallback; "empty" starts with none.
		if ins := e.do("GET", "/"+pid+"/faq?id_faq_kb="+id, nil, owner.jwt()).want(t, 200).list(t); len(ins) != 2 {
			t.Fatalf("a new internal bot has %d intents, want 2", len(ins))
		}
		r = e.do("POST", "/"+pid+"/bots", map[string]any{"name": "Café Helper", "type": "external",
			"url": "https://bots.example.com/hook", "template": "empty"}, owner.jwt()).want(t, 200)
		ext := r.json(t)
		if ext["slug"] != "cafe-helper-2" || ext["url"] != "https://bots.example.com/hook" {
			t.Fatalf("a second bot of the same name: %v", ext)
		}
		if ins := e.do("GET", "/"+pid+"/intents?id_faq_kb="+ext["_id"].(string), nil, owner.jwt()).want(t, 200).list(t); len(ins) != 0 {
			t.Fatalf("an external bot has %d intents", len(ins))
		}

		for field, body := range map[string]map[string]any{
			"name":     {"description": "no name"},
			"type":     {"name": "X", "type": "robot"},
			"url":      {"name": "X", "url": "ftp://example.com"},
			"slug":     {"name": "X", "slug": "Not A Slug"},
			"language": {"name": "X", "language": "english please"},
		} {
			if r := e.do("POST", base, body, owner.jwt()).want(t, 422); !strings.Contains(string(r.body), `"param":"`+field+`"`) {
				t.Errorf("bad %s: %s", field, r.body)
			}
		}
		// Internal addresses are refused as for webhooks: a bot's url is where the server will post.
		e.do("POST", base, map[string]any{"name": "X", "url": "http://127.0.0.1:6379/"}, owner.jwt()).want(t, 422)

		// Agents list the bots offered to them, without their addresses; admins see all.
		if l := e.do("GET", base, nil, agent.jwt()).want(t, 200).list(t); len(l) != 0 {
			t.Fatalf("agents see bots not offered to them: %v", l)
		}
		r = e.do("PUT", base+"/"+ext["_id"].(string), map[string]any{"agents_available": true, "name": "Orders"}, owner.jwt()).want(t, 200)
		if m := r.json(t); m["modified"] != true || m["name"] != "Orders" || m["slug"] != "cafe-helper-2" {
			t.Fatalf("updated bot %v", m)
		}
		l := e.do("GET", base, nil, agent.jwt()).want(t, 200).list(t)
		if len(l) != 1 || l[0].(map[string]any)["url"] != nil || l[0].(map[string]any)["name"] != "Orders" {
			t.Fatalf("an agent's list %v", l)
		}
		if l := e.do("GET", base+"?text=cafe", nil, owner.jwt()).want(t, 200).list(t); len(l) != 1 {
			t.Fatalf("text=cafe finds %d bots", len(l))
		}
		if l := e.do("GET", base+"?name=Orders", nil, owner.jwt()).want(t, 200).list(t); len(l) != 1 || l[0].(map[string]any)["_id"] != ext["_id"] {
			t.Fatalf("name=Orders finds %v", l)
		}
		e.do("GET", base+"/"+id, nil, agent.jwt()).want(t, 403)
		golden(t, "bot-get", e.do("GET", base+"/"+id, nil, owner.jwt()).want(t, 200))
		r = e.do("GET", base+"/"+tiledesk.NewID(), nil, owner.jwt()).want(t, 404)
		if !strings.Contains(string(r.body), "Chatbot not found with id") {
			t.Fatalf("unknown bot: %s", r.body)
		}
		e.do("PUT", base+"/"+id, map[string]any{"slug": "cafe-helper-2"}, owner.jwt()).want(t, 409)
		r = e.do("PATCH", base+"/"+id+"/attributes", map[string]any{"size": 2}, owner.jwt()).want(t, 200)
		if attrs := r.json(t)["attributes"].(map[string]any); attrs["color"] != "blue" || attrs["size"] != float64(2) {
			t.Fatalf("merged attributes %v", attrs)
		}
		// A trashed bot leaves the list.
		e.do("PUT", base+"/"+id, map[string]any{"trashed": true}, owner.jwt()).want(t, 200)
		if l := e.do("GET", base, nil, owner.jwt()).want(t, 200).list(t); len(l) != 1 {
			t.Fatalf("the list shows %d bots with one trashed", len(l))
		}

		// A bot a department routes to cannot be deleted; deleting another removes its intents.
		dept := e.do("POST", "/"+pid+"/departments", map[string]string{"name": "Bots", "id_bot": id}, owner.jwt()).want(t, 200).json(t)
		e.do("DELETE", base+"/"+id, nil, owner.jwt()).want(t, 409)
		e.do("PUT", "/"+pid+"/departments/"+dept["_id"].(string), map[string]any{"id_bot": nil}, owner.jwt()).want(t, 200)
		r = e.do("DELETE", base+"/"+id, nil, owner.jwt()).want(t, 200)
		if m := r.json(t); m["success"] != true || !strings.Contains(m["message"].(string), id) {
			t.Fatalf("delete answered %v", m)
		}
		e.do("GET", base+"/"+id, nil, owner.jwt()).want(t, 404)
		if ins := e.do("GET", "/"+pid+"/faq?id_faq_kb="+id, nil, owner.jwt()).want(t, 200).list(t); len(ins) != 0 {
			t.Fatalf("a deleted bot leaves %d intents", len(ins))
		}
		if evs := e.events(pid); evs[len(evs)-1] != tiledesk.EventBotDelete {
			t.Fatalf("deleting a bot logs %s last", evs[len(evs)-1])
		}
	})
}

func TestIntents(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		owner := e.signup("Owner")
		pid := e.createProject(owner, "Shop")
		bot := e.do("POST", "/"+pid+"/faq_kb", map[string]any{"name": "Helper", "template": "empty"}, owner.jwt()).want(t, 200).json(t)["_id"].(string)
		base := "/" + pid + "/faq"

		r := e.do("POST", base, map[string]any{"id_faq_kb": bot, "intent_display_name": "opening_hours",
			"question": "When are you open?", "answer": "Every day from 9 to 18.", "webhook_enabled": false,
			"language": "en"}, owner.jwt()).want(t, 200)
		golden(t, "intent-create", r)
		in := r.json(t)
		if in["id"] != in["_id"] || in["enabled"] != true || in["topic"] != "default" || in["status"] != "live" {
			t.Fatalf("new intent %v", in)
		}
		r = e.do("POST", base, map[string]any{"id_faq_kb": bot, "intent_display_name": "opening_hours", "question": "Open?"},
			owner.jwt()).want(t, 409)
		if !strings.Contains(string(r.body), "Duplicate  intent_display_name.") {
			t.Fatalf("duplicate display name: %s", r.body)
		}
		e.do("POST", base, map[string]any{"id_faq_kb": tiledesk.NewID(), "question": "?"}, owner.jwt()).want(t, 404)
		e.do("POST", base, map[string]any{"question": "?"}, owner.jwt()).want(t, 422)
		e.do("POST", base, map[string]any{"id_faq_kb": bot, "reply": "not an object"}, owner.jwt()).want(t, 422)
		second := e.do("POST", base, map[string]any{"id_faq_kb": bot, "question": "Do you deliver?",
			"answer": "Yes, in town."}, owner.jwt()).want(t, 200).json(t)
		if name, _ := second["intent_display_name"].(string); name == "" {
			t.Fatalf("an intent without a display name gets none: %v", second)
		}

		list := func(query string) []any { return e.do("GET", base+"?"+query, nil, owner.jwt()).want(t, 200).list(t) }
		if l := list("id_faq_kb=" + bot + "&text=OPEN"); len(l) != 1 {
			t.Fatalf("text=OPEN finds %d intents", len(l))
		}
		if l := list("id_faq_kb=" + bot + "&text=deliver%20town"); len(l) != 1 {
			t.Fatalf("two words find %d intents", len(l))
		}
		if l := list("intent_display_name=opening_hours"); len(l) != 1 {
			t.Fatalf("by display name: %d", len(l))
		}
		if l := list("id_faq_kb=" + bot + "&limit=1&page=1"); len(l) != 1 || l[0].(map[string]any)["_id"] != second["_id"] {
			t.Fatalf("second page %v", l)
		}
		e.do("GET", base+"?limit=0", nil, owner.jwt()).want(t, 400)

		id := in["_id"].(string)
		r = e.do("PUT", base+"/"+id, map[string]any{"answer": "Every day, 9 to 19.", "intent_display_name": "hours"}, owner.jwt()).want(t, 200)
		if m := r.json(t); m["answer"] != "Every day, 9 to 19." || m["intent_display_name"] != "hours" || m["question"] != "When are you open?" {
			t.Fatalf("updated intent %v", m)
		}
		e.do("PUT", base+"/"+id, map[string]any{"intent_display_name": second["intent_display_name"]}, owner.jwt()).want(t, 409)
		r = e.do("PATCH", base+"/"+id+"/attributes", map[string]any{"x": 1}, owner.jwt()).want(t, 200)
		if r.json(t)["attributes"].(map[string]any)["x"] != float64(1) {
			t.Fatalf("attributes %s", r.body)
		}
		golden(t, "intent-get", e.do("GET", base+"/"+id, nil, owner.jwt()).want(t, 200))
		e.do("DELETE", base+"/"+id, nil, owner.jwt()).want(t, 200)
		e.do("GET", base+"/"+id, nil, owner.jwt()).want(t, 404)
		if evs := e.events(pid); evs[len(evs)-1] != tiledesk.EventIntentDelete {
			t.Fatalf("deleting an intent logs %s last", evs[len(evs)-1])
		}
	})
}

func TestBotToken(t *testing.T) {
	e := newEnv(t)
	owner, other := e.signup("Owner"), e.signup("Other")
	pid, pidB := e.createProject(owner, "Shop"), e.createProject(other, "Elsewhere")
	id := e.do("POST", "/"+pid+"/faq_kb", map[string]any{"name": "Helper", "description": "private notes",
		"attributes": map[string]any{"k": "v"}}, owner.jwt()).want(t, 200).json(t)["_id"].(string)
	minted := e.do("GET", "/"+pid+"/faq_kb/"+id+"/jwt", nil, owner.jwt()).want(t, 200).json(t)
	if _, shown := minted["secret"]; shown {
		t.Fatalf("minting a token shows the bot's secret: %v", minted)
	}
	tok := minted["jwt"].(string)
	claims := jwtPayload(t, tok)
	if claims["sub"] != "bot" || claims["aud"] != "https://tiledesk.com/bots/"+id || claims["_id"] != id ||
		claims["id_project"] != pid || claims["name"] != "Helper" {
		t.Fatalf("bot token claims %v", claims)
	}
	for _, hidden := range []string{"secret", "description", "attributes"} {
		if _, ok := claims[hidden]; ok {
			t.Fatalf("the bot token carries %s: %v", hidden, claims)
		}
	}
	bot := header("Authorization", "JWT "+tok)

	// The bot acts in its project where the original admits bots, and writes as bot_<id>.
	e.do("GET", "/"+pid+"/leads", nil, bot).want(t, 200)
	visitor, _ := e.guest(pid)
	rid := "support-group-" + pid + "-botchat"
	e.do("POST", "/"+pid+"/requests/"+rid+"/messages", map[string]string{"text": "Hi"}, jwtCred(visitor)).want(t, 200)
	m := e.do("POST", "/"+pid+"/requests/"+rid+"/messages", map[string]string{"text": "Hello, I am a bot"}, bot).want(t, 200).json(t)
	if m["sender"] != "bot_"+id || m["senderFullname"] != "Helper" {
		t.Fatalf("a bot's message: sender %v, senderFullname %v", m["sender"], m["senderFullname"])
	}
	// A bot starts a conversation for a member it names: it is no member, and cannot be the requester.
	for _, path := range []string{"/requests/" + rid + "-new/messages", "/requests"} {
		f := e.do("POST", "/"+pid+path, map[string]string{"text": "Hi", "first_text": "Hi"}, bot).want(t, 422).json(t)
		if f["errors"].([]any)[0].(map[string]any)["param"] != "sender" {
			t.Fatalf("POST %s by a bot without sender: %v", path, f)
		}
		e.do("POST", "/"+pid+path, map[string]string{"text": "Hi", "first_text": "Hi", "sender": owner.id}, bot).want(t, 200)
	}
	e.do("PUT", "/"+pid+"/faq_kb/"+id, map[string]any{"description": "changed by itself"}, bot).want(t, 200)
	// Not what only admins may do, not account routes, not another project.
	e.do("POST", "/"+pid+"/faq_kb", map[string]any{"name": "Spawn"}, bot).want(t, 403)
	e.do("DELETE", "/"+pid+"/faq_kb/"+id, nil, bot).want(t, 403)
	e.do("GET", "/projects/"+pid, nil, bot).want(t, 403)
	e.do("PUT", "/users", map[string]any{"firstname": "X"}, bot).want(t, 403)
	e.do("GET", "/"+pidB+"/leads", nil, bot).want(t, 403)

	// A token of the bot's audience signed with anything but its secret is refused.
	forged, err := e.srv.tokens.IssueWith([]byte("not the bot's secret"), map[string]any{"_id": id, "id_project": pid},
		"bot", "https://tiledesk.com/bots/"+id)
	if err != nil {
		t.Fatal(err)
	}
	e.do("GET", "/"+pid+"/leads", nil, header("Authorization", "JWT "+forged)).want(t, 401)
	// Rotating the secret ends the tokens issued before; the answer is a token that works.
	rotated := e.do("POST", "/"+pid+"/faq_kb/"+id+"/jwt/rotate", nil, owner.jwt()).want(t, 200).json(t)
	fresh, secret := rotated["jwt"].(string), rotated["secret"].(string)
	if stored, err := e.store.FindBot(context.Background(), pid, id); err != nil || stored.Secret != secret || len(secret) < 32 {
		t.Fatalf("the rotated secret %q is not the bot's (%v)", secret, err)
	}
	e.do("GET", "/"+pid+"/leads", nil, bot).want(t, 401)
	e.do("GET", "/"+pid+"/leads", nil, header("Authorization", "JWT "+fresh)).want(t, 200)
	// A trashed bot's tokens stop working.
	e.do("PUT", "/"+pid+"/faq_kb/"+id, map[string]any{"trashed": true}, owner.jwt()).want(t, 200)
	e.do("GET", "/"+pid+"/leads", nil, header("Authorization", "JWT "+fresh)).want(t, 401)
}

// jwtPayload reads a token's claims without checking it.
func jwtPayload(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func TestBotAskAndIntentFiles(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		owner := e.signup("Owner")
		pid := e.createProject(owner, "Shop")
		bot := e.do("POST", "/"+pid+"/faq_kb", map[string]any{"name": "Helper"}, owner.jwt()).want(t, 200).json(t)["_id"].(string)

		// The dashboard's upload: a multipart file, ';' between question and answer.
		csvText := "question;answer\nWhen are you open?;From 9 to 18\n\"Do you deliver; at home?\";\"Yes, in town\"\nShipping costs?;Free over 50 €;shipping\n"
		r := e.upload("/"+pid+"/faq/uploadcsv", "uploadFile", "faqs.csv", csvText, map[string]string{"id_faq_kb": bot}, owner.jwt()).want(t, 200)
		if m := r.json(t); m["success"] != true || m["count"] != float64(3) {
			t.Fatalf("upload answered %v", m)
		}
		// A script's: the text in JSON, another delimiter; a known display name replaces its intent.
		e.do("POST", "/"+pid+"/intents/uploadcsv", map[string]any{"id_faq_kb": bot, "delimiter": ",",
			"uploadFile": "Shipping costs?,Free over 40 €,shipping"}, owner.jwt()).want(t, 200)
		ins := e.do("GET", "/"+pid+"/faq?id_faq_kb="+bot, nil, owner.jwt()).want(t, 200).list(t)
		if len(ins) != 5 { // the two a new bot starts with, and three
			t.Fatalf("after the uploads the bot has %d intents", len(ins))
		}
		for _, bad := range []map[string]any{
			{"id_faq_kb": bot, "uploadFile": "only a question"},
			{"id_faq_kb": bot, "uploadFile": "a;b", "delimiter": "\""},
			{"id_faq_kb": "nope", "uploadFile": "a;b"},
			{"id_faq_kb": bot},
		} {
			e.do("POST", "/"+pid+"/faq/uploadcsv", bad, owner.jwt()).want(t, 422)
		}
		e.do("POST", "/"+pid+"/faq/uploadcsv", map[string]any{"id_faq_kb": tiledesk.NewID(), "uploadFile": "a;b"}, owner.jwt()).want(t, 404)
		// The whole body a CSV file: its fields are the query's, and a 422 says so.
		f := e.do("POST", "/"+pid+"/faq/uploadcsv?id_faq_kb=nope", "a;b", header("Content-Type", "text/csv"), owner.jwt()).
			want(t, 422).json(t)["errors"].([]any)[0].(map[string]any)
		if f["param"] != "id_faq_kb" || f["location"] != "query" {
			t.Fatalf("a CSV body's bad query field: %v", f)
		}

		csv := e.do("GET", "/"+pid+"/faq/csv?id_faq_kb="+bot, nil, owner.jwt())
		if body := string(csv.body); csv.status != 200 || !strings.HasPrefix(body, "question;answer;intent_display_name\n") ||
			!strings.Contains(body, "Shipping costs?;Free over 40 €;shipping") || !strings.Contains(body, `"Do you deliver; at home?"`) {
			t.Fatalf("exported CSV:\n%s", body)
		}

		ask := func(q string) []any {
			return e.do("POST", "/"+pid+"/faq_kb/askbot", map[string]any{"id_faq_kb": bot, "question": q}, owner.jwt()).
				want(t, 200).json(t)["hits"].([]any)
		}
		if hits := ask("when are you OPEN"); len(hits) != 1 || hits[0].(map[string]any)["answer"] != "From 9 to 18" {
			t.Fatalf("an exact question: %v", hits)
		}
		if hits := ask("what are the shipping costs"); len(hits) == 0 || hits[0].(map[string]any)["intent_display_name"] != "shipping" {
			t.Fatalf("a question sharing words: %v", hits)
		}
		if hits := ask("quantum physics"); len(hits) != 0 {
			t.Fatalf("an unrelated question: %v", hits)
		}
		ext := e.do("POST", "/"+pid+"/faq_kb", map[string]any{"name": "Hook", "type": "external", "url": "https://bots.example.com/h"},
			owner.jwt()).want(t, 200).json(t)["_id"].(string)
		e.do("POST", "/"+pid+"/faq_kb/askbot", map[string]any{"id_faq_kb": ext, "question": "hi"}, owner.jwt()).want(t, 400)
	})
}

// upload posts a multipart/form-data body: the file as part, and fields beside it.
func (e *testEnv) upload(path, part, filename, content string, fields map[string]string, creds ...cred) *resp {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			e.t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile(part, filename)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := fw.Write([]byte(content)); err != nil {
		e.t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		e.t.Fatal(err)
	}
	return e.do("POST", path, buf.Bytes(), append(creds, header("Content-Type", mw.FormDataContentType()))...)
}

// TestBotFiles: a bot exported as a file comes back whole, as a new bot, into the same project or,
// forked, into another one its caller administers; imported over a bot, its intents are added,
// skipped, overwritten or replace all of the bot's, as asked.
func TestBotFiles(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		owner, other := e.signup("Owner"), e.signup("Other")
		pid, pidB := e.createProject(owner, "Shop"), e.createProject(other, "Elsewhere")
		pidC := e.createProject(owner, "Second shop")
		rule := map[string]any{"when": map[string]any{"urlRegex": ".*"}, "do": []any{map[string]any{"message": map[string]any{
			"participants": []any{"bot_000000000000000000000000"}, "text": "\\start"}}}}
		bot := e.do("POST", "/"+pid+"/faq_kb", map[string]any{"name": "Helper", "description": "Answers",
			"attributes": map[string]any{"rules": []any{rule}, "globals": map[string]any{"apiKey": "secret-key"}}}, owner.jwt()).
			want(t, 200).json(t)["_id"].(string)
		e.do("POST", "/"+pid+"/faq", map[string]any{"id_faq_kb": bot, "intent_display_name": "hours", "question": "Open?", "answer": "9 to 18",
			"actions": []any{map[string]any{"_tdActionType": "reply"}}}, owner.jwt()).want(t, 200)

		r := e.do("GET", "/"+pid+"/faq_kb/exportjson/"+bot, nil, owner.jwt()).want(t, 200)
		if r.header.Get("Content-Disposition") != `attachment; filename="bot.json"` {
			t.Fatalf("Content-Disposition %q", r.header.Get("Content-Disposition"))
		}
		golden(t, "bot-export", r)
		file := r.json(t)
		if file["attributes"].(map[string]any)["globals"] != nil || len(file["intents"].([]any)) != 3 {
			t.Fatalf("the export shows globals, or lacks intents: %v", file)
		}
		if only := e.do("GET", "/"+pid+"/faq_kb/exportjson/"+bot+"?intentsOnly=true", nil, owner.jwt()).want(t, 200).json(t); len(only) != 1 {
			t.Fatalf("intentsOnly: %v", only)
		}

		// Imported as a new bot: its own slug, its intents, its rules starting conversations with it.
		copyBot := e.upload("/"+pid+"/faq_kb/importjson/null?create=true", "uploadFile", "bot.json", string(r.body), nil, owner.jwt()).
			want(t, 200).json(t)
		copyID := copyBot["_id"].(string)
		if copyBot["slug"] != "helper-2" || copyBot["name"] != "Helper" {
			t.Fatalf("the imported bot %v", copyBot)
		}
		rules := copyBot["attributes"].(map[string]any)["rules"].([]any)
		if p := rules[0].(map[string]any)["do"].([]any)[0].(map[string]any)["message"].(map[string]any)["participants"].([]any)[0]; p != "bot_"+copyID {
			t.Fatalf("the imported rule starts conversations with %v", p)
		}
		intents := func(id string) map[string]string {
			out := map[string]string{}
			for _, v := range e.do("GET", "/"+pid+"/faq?id_faq_kb="+id, nil, owner.jwt()).want(t, 200).list(t) {
				m := v.(map[string]any)
				out[m["intent_display_name"].(string)] = m["answer"].(string)
			}
			return out
		}
		if got := intents(copyID); len(got) != 3 || got["hours"] != "9 to 18" {
			t.Fatalf("the imported bot's intents %v", got)
		}

		// Over a bot: a known name is skipped, then overwritten; replace leaves the file's alone.
		update := map[string]any{"name": "Helper two", "type": "external", "intents": []any{
			map[string]any{"intent_display_name": "hours", "question": "Open?", "answer": "10 to 19"},
			map[string]any{"intent_display_name": "prices", "question": "How much?", "answer": "Ten"}}}
		m := e.do("POST", "/"+pid+"/faq_kb/importjson/"+copyID, update, owner.jwt()).want(t, 200).json(t)
		if m["name"] != "Helper two" || m["type"] != "internal" {
			t.Fatalf("imported over: %v", m)
		}
		if got := intents(copyID); len(got) != 4 || got["hours"] != "9 to 18" {
			t.Fatalf("without overwrite: %v", got)
		}
		e.do("POST", "/"+pid+"/faq_kb/importjson/"+copyID+"?overwrite=true", update, owner.jwt()).want(t, 200)
		if got := intents(copyID); len(got) != 4 || got["hours"] != "10 to 19" {
			t.Fatalf("with overwrite: %v", got)
		}
		e.do("POST", "/"+pid+"/faq_kb/importjson/"+copyID+"?replace=true", update, owner.jwt()).want(t, 200)
		if got := intents(copyID); len(got) != 2 {
			t.Fatalf("with replace: %v", got)
		}
		// Each invalid field of an intent is named, within its intent.
		bad := e.do("POST", "/"+pid+"/faq_kb/importjson/"+copyID, map[string]any{"intents": []any{map[string]any{}, map[string]any{"reply": "no", "question": 5}}},
			owner.jwt()).want(t, 422).json(t)["errors"].([]any)
		var params []string
		for _, f := range bad {
			params = append(params, f.(map[string]any)["param"].(string))
		}
		if sort.Strings(params); strings.Join(params, ",") != "intents[1].question,intents[1].reply" {
			t.Fatalf("the invalid fields of an imported intent: %v", bad)
		}
		e.do("POST", "/"+pid+"/faq_kb/importjson/"+tiledesk.NewID(), update, owner.jwt()).want(t, 404)

		// Forked into another project of its admin; not into a project the caller does not administer.
		fork := e.do("POST", "/"+pid+"/faq_kb/fork/"+bot+"?projectid="+pidC, nil, owner.jwt()).want(t, 200).json(t)
		forked := e.do("GET", "/"+pidC+"/faq_kb/"+fork["bot_id"].(string), nil, owner.jwt()).want(t, 200).json(t)
		if forked["name"] != "Helper" || forked["id_project"] != pidC {
			t.Fatalf("the fork %v", forked)
		}
		e.do("POST", "/"+pid+"/faq_kb/fork/"+bot+"?projectid="+pidB, nil, owner.jwt()).want(t, 403)
		otherBot := e.do("POST", "/"+pidB+"/faq_kb", map[string]any{"name": "B's"}, other.jwt()).want(t, 200).json(t)["_id"].(string)
		e.do("POST", "/"+pidB+"/faq_kb/fork/"+otherBot+"?projectid="+pid, nil, other.jwt()).want(t, 403)
		e.do("GET", "/"+pid+"/faq_kb/"+bot+"/whatever", nil, owner.jwt()).want(t, 404)

		// The language of a bot and of all its intents at once.
		if m := e.do("PUT", "/"+pid+"/faq_kb/"+bot+"/language/it", nil, owner.jwt()).want(t, 200).json(t); m["language"] != "it" {
			t.Fatalf("the bot's language %v", m["language"])
		}
		for _, v := range e.do("GET", "/"+pid+"/faq?id_faq_kb="+bot, nil, owner.jwt()).want(t, 200).list(t) {
			if lang := v.(map[string]any)["language"]; lang != "it" {
				t.Fatalf("an intent's language %v", lang)
			}
		}
		e.do("PUT", "/"+pid+"/faq_kb/"+bot+"/language/not%20a%20language", nil, owner.jwt()).want(t, 422)
	})
}
