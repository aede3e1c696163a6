package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// inboxFixture is a project made through the API for the inbox tests: an owner (unavailable, so
// that visitors' conversations wait unassigned), and a way to have visitors write.
type inboxFixture struct {
	t                 *testing.T
	base, pid, token  string
	ownerID, password string
	visitors          map[string]map[string]string // a visitor's headers by its conversation
}

func newInboxFixture(t *testing.T, base string) *inboxFixture {
	f := &inboxFixture{t: t, base: base, password: "a long password", visitors: map[string]map[string]string{}}
	js := map[string]string{"Content-Type": "application/json"}
	if st, _, _ := call(t, "POST", base+"/auth/signup", `{"email":"owner@example.com","password":"`+f.password+`","firstname":"Olga","lastname":"Owner"}`, js); st != 200 {
		t.Fatalf("signup = %d", st)
	}
	_, m, _ := call(t, "POST", base+"/auth/signin", `{"email":"owner@example.com","password":"`+f.password+`"}`, js)
	f.token, f.ownerID = m["token"].(string), m["user"].(map[string]any)["_id"].(string)
	_, p, _ := call(t, "POST", base+"/projects", `{"name":"Shop"}`, f.auth())
	f.pid = p["_id"].(string)
	if st, _, _ := call(t, "PUT", base+"/"+f.pid+"/project_users", `{"user_available":false}`, f.auth()); st != 200 {
		t.Fatalf("unavailable = %d", st)
	}
	return f
}

func (f *inboxFixture) auth() map[string]string {
	return map[string]string{"Content-Type": "application/json", "Authorization": f.token}
}

// visitor signs a visitor in and has it write text in a new conversation, whose request_id it
// returns.
func (f *inboxFixture) visitor(name, text string) string {
	js := map[string]string{"Content-Type": "application/json"}
	_, m, _ := call(f.t, "POST", f.base+"/auth/signinAnonymously", `{"id_project":"`+f.pid+`","firstname":"`+name+`"}`, js)
	auth := map[string]string{"Content-Type": "application/json", "Authorization": m["token"].(string)}
	rid := fmt.Sprintf("support-group-%s-%s", f.pid, strings.ToLower(name))
	f.visitors[rid] = auth
	f.writes(rid, text)
	return rid
}

// writes has the visitor of a conversation write text in it.
func (f *inboxFixture) writes(rid, text string) {
	if st, _, _ := call(f.t, "POST", f.base+"/"+f.pid+"/requests/"+rid+"/messages", `{"text":"`+text+`"}`, f.visitors[rid]); st != 200 {
		f.t.Fatalf("the visitor of %s writes = %d", rid, st)
	}
}

// conversation reads a conversation through the API.
func (f *inboxFixture) conversation(rid string) map[string]any {
	_, m, _ := call(f.t, "GET", f.base+"/"+f.pid+"/requests/"+rid, "", f.auth())
	return m
}

// text is a JavaScript predicate: some element matching sel has text containing s.
func text(sel, s string) string {
	return fmt.Sprintf(`[...document.querySelectorAll(%q)].some(e => e.textContent.includes(%q))`, sel, s)
}

// TestBrowserInboxActions drives what an agent does in the inbox besides chatting: signing in and
// picking the project, the tabs and their counts, assigning, internal notes, tags,
// moving to a department, closing and reopening, availability, the leads search, the teammates and
// departments pages, and the one-column layout of a phone. Each step is checked in the page and,
// where it changes data, through the API.
func TestBrowserInboxActions(t *testing.T) {
	b := newBrowser(t)
	base, _, stop := start(t, []string{"--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "inbox.db")}, nil)
	defer stop()
	f := newInboxFixture(t, base)
	first := f.visitor("Alice", "I need an invoice")
	agent := b.tab("agent")
	b.do(agent, "sign in", chromedp.Navigate(base+"/dashboard/"), chromedp.WaitVisible(chromedp.CSS("#f-email")),
		chromedp.SendKeys(chromedp.CSS("#f-email"), "owner@example.com"), chromedp.SendKeys(chromedp.CSS("#f-password"), f.password+"\r"),
		until(text(".projects a", "Shop")), chromedp.Click(chromedp.CSS(".projects a")),
		until(`document.querySelectorAll("#conversations li[data-request-id]").length === 1`))
	counts := `[...document.querySelectorAll(".tabs .count")].map(e => e.textContent).join(",")`
	b.do(agent, "tabs: one unassigned, none mine", until(counts+` === "1,0,1"`),
		js(`document.querySelector("#tab-mine").click()`), until(`document.querySelectorAll("#conversations li[data-request-id]").length === 0`),
		js(`document.querySelector("#tab-unassigned").click()`), until(`document.querySelectorAll("#conversations li[data-request-id]").length === 1`))

	// A second visitor writes while the agent looks at the list.
	bob := f.visitor("Bob", "Where is my parcel?")
	b.do(agent, "Bob's conversation appears", until(text("#conversations .who", "Bob")), until(counts+` === "2,0,2"`))

	// Unread counts: one per message the visitors wrote, cleared by opening the conversation,
	// kept across a reload, not counted for the conversation on screen.
	badges := `[...document.querySelectorAll("#conversations li[data-request-id]")].map(e => e.querySelector(".who").firstChild.textContent + ":" + (e.querySelector(".badge")?.textContent || "0")).sort().join(",")`
	b.do(agent, "unread: a new conversation each", until(badges+` === "Alice:1,Bob:1"`), until(`document.title === "(2) Tiledesk inbox"`))
	f.writes(bob, "Hello?")
	f.writes(bob, "Anyone there?")
	b.do(agent, "unread: Bob wrote twice more", until(badges+` === "Alice:1,Bob:3"`), until(text("#conversations .last", "Anyone there?")))
	b.do(agent, "unread: opening Bob's reads it", js(`location.hash = "#/p/`+f.pid+`/inbox/`+bob+`"`),
		until(text(".messages .text", "Anyone there?")), until(badges+` === "Alice:1,Bob:0"`), until(`document.title === "(1) Tiledesk inbox"`))
	f.writes(bob, "Thanks")
	b.do(agent, "unread: not for the conversation on screen", until(text(".messages .text", "Thanks")), until(badges+` === "Alice:1,Bob:0"`))
	b.do(agent, "unread: kept across a reload", js(`location.hash = "#/p/`+f.pid+`/inbox"`), chromedp.Reload(),
		until(badges+` === "Alice:1,Bob:0"`))

	b.do(agent, "open Alice's and assign it to herself",
		js(`[...document.querySelectorAll("#conversations li")].find(e => e.textContent.includes("Alice")).querySelector("a").click()`),
		until(text(".messages .text", "I need an invoice")),
		js(fmt.Sprintf(`const s = document.querySelector("#assign"); s.value = %q; s.dispatchEvent(new Event("change"))`, f.ownerID)),
		until(`document.querySelector("#tab-mine .count").textContent === "1"`))
	if parts := f.conversation(first)["participants"].([]any); len(parts) != 1 || parts[0] != f.ownerID {
		t.Fatalf("participants after assigning: %v", parts)
	}
	b.do(agent, "internal note", js(`document.querySelector("#as-note").click()`), chromedp.Focus(chromedp.CSS("#reply")),
		chromedp.KeyEvent("Sent the invoice by mail\r"), until(text(".side li", "Sent the invoice by mail")))
	b.do(agent, "tag", chromedp.SendKeys(chromedp.CSS("#new-tag"), "billing\r"), until(text(".tags .tag", "billing")))
	if tags := f.conversation(first)["tags"].([]any); len(tags) != 1 {
		t.Fatalf("tags: %v", tags)
	}
	b.do(agent, "untag", js(`document.querySelector('.tags button[aria-label="Remove tag billing"]').click()`),
		until(`document.querySelectorAll(".tags .tag").length === 0`))
	b.do(agent, "close and reopen", js(`[...document.querySelectorAll(".conv-head button")].find(e => e.textContent === "Close").click()`),
		until(text(".conv-head button", "Reopen")), js(`[...document.querySelectorAll(".conv-head button")].find(e => e.textContent === "Reopen").click()`),
		until(text(".conv-head button", "Close")))
	if st := f.conversation(first)["status"]; st == float64(1000) {
		t.Fatalf("status after reopening: %v", st)
	}

	b.do(agent, "a department", js(`location.hash = "#/p/`+f.pid+`/departments"`), chromedp.WaitVisible(chromedp.CSS("#department-name")),
		chromedp.SendKeys(chromedp.CSS("#department-name"), "Sales\r"), until(text("table td", "Sales")))
	var salesID string
	_, _, depts := call(t, "GET", base+"/"+f.pid+"/departments/allstatus", "", f.auth())
	for _, d := range depts {
		if d.(map[string]any)["name"] == "Sales" {
			salesID = d.(map[string]any)["_id"].(string)
		}
	}
	b.do(agent, "move to Sales", js(`location.hash = "#/p/`+f.pid+`/inbox/`+first+`"`), until(text(".messages .text", "I need an invoice")),
		until(`!!document.querySelector("#department option[value='`+salesID+`']")`),
		js(fmt.Sprintf(`const s = document.querySelector("#department"); s.value = %q; s.dispatchEvent(new Event("change"))`, salesID)),
		until(text("#toast", "Moved")))
	if d := f.conversation(first)["department"].(map[string]any)["_id"]; d != salesID {
		t.Fatalf("department after moving: %v, want %s", d, salesID)
	}

	b.do(agent, "available", js(`document.querySelector("#available").click()`), until(text("#toast", "You are available")))
	_, me, _ := call(t, "GET", base+"/"+f.pid+"/project_users/me", "", f.auth())
	_, _, meList := call(t, "GET", base+"/"+f.pid+"/project_users/me", "", f.auth())
	if len(meList) == 0 || meList[0].(map[string]any)["user_available"] != true {
		t.Fatalf("availability after the switch: %v %v", me, meList)
	}

	b.do(agent, "leads search", js(`location.hash = "#/p/`+f.pid+`/leads"`), chromedp.WaitVisible(chromedp.CSS("#lead-search")),
		until(`document.querySelectorAll("tbody tr").length === 2`),
		chromedp.SendKeys(chromedp.CSS("#lead-search"), "alice\r"),
		until(`document.querySelectorAll("tbody tr").length === 1`), until(text("tbody td", "Alice")))
	b.do(agent, "teammates: invite", js(`location.hash = "#/p/`+f.pid+`/team"`), chromedp.WaitVisible(chromedp.CSS("#invite-email")),
		until(text("tbody td", "owner@example.com")),
		chromedp.SendKeys(chromedp.CSS("#invite-email"), "new.agent@example.com\r"), until(text("#toast", "Invitation sent")))
	b.screenshot(agent, "inbox-desktop")

	// A phone: one column, the list first, then the conversation with a way back.
	b.do(agent, "phone", chromedp.EmulateViewport(390, 844), js(`location.hash = "#/p/`+f.pid+`/inbox"`),
		until(`getComputedStyle(document.querySelector(".list-pane")).display !== "none" && getComputedStyle(document.querySelector(".conv-pane")).display === "none"`),
		js(`location.hash = "#/p/`+f.pid+`/inbox/`+first+`"`),
		until(`getComputedStyle(document.querySelector(".list-pane")).display === "none" && getComputedStyle(document.querySelector(".back")).display !== "none"`))
	b.screenshot(agent, "inbox-phone")
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Fatalf("the pages logged errors:\n%s", strings.Join(errs, "\n"))
	}
}
