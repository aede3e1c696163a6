package api

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/tiledesk-go/tiledesk"
)

func TestPublicTranscripts(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Shop")
	visitor, _ := e.guest(pid)
	rid := "support-group-" + pid + "-" + strings.ReplaceAll(uuid.NewString(), "-", "")
	base := "/public/requests/" + rid + "/"
	e.do("POST", "/"+pid+"/requests/"+rid+"/messages", map[string]any{"text": "<b>hi</b> & <script>alert(1)</script>",
		"senderFullname": "Ada"}, jwtCred(visitor)).want(t, 200)
	e.do("POST", "/"+pid+"/requests/"+rid+"/messages", map[string]any{"text": "secret note about Ada",
		"attributes": map[string]any{tiledesk.InternalKey: true}}, owner.jwt()).want(t, 200)
	e.do("POST", "/"+pid+"/requests/"+rid+"/messages", map[string]any{"text": "How can I help?"}, owner.jwt()).want(t, 200)

	r := e.do("GET", base+"messages", nil).want(t, 200)
	golden(t, "public-transcript", r)
	if got := r.list(t); len(got) != 2 {
		t.Fatalf("the transcript shows %d messages, want the visitor's view of 2", len(got))
	}
	txt := e.do("GET", base+"messages.txt", nil, header("Accept", "text/plain")).want(t, 200)
	want := "Chat transcript:\n[ 3/1/2026, 12:00:00 PM] Ada: <b>hi</b> & <script>alert(1)</script>\n[ 3/1/2026, 12:00:00 PM] Owner Test: How can I help?\n"
	if string(txt.body) != want || txt.header.Get("Content-Disposition") != `attachment; filename="transcript.txt"` {
		t.Fatalf("text transcript %q %v", txt.body, txt.header)
	}
	status := func(r *resp, want int) *resp {
		t.Helper()
		if r.status != want {
			t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
		}
		return r
	}
	html := status(e.do("GET", base+"messages.html", nil, header("Accept", "text/html")), 200)
	if b := string(html.body); !strings.Contains(b, "&lt;script&gt;alert(1)&lt;/script&gt;") || strings.Contains(b, "<script>") ||
		!strings.Contains(b, "How can I help?") || !strings.HasPrefix(html.header.Get("Content-Type"), "text/html") ||
		html.header.Get("Content-Security-Policy") == "" {
		t.Fatalf("html transcript %v\n%s", html.header, b)
	}
	csv := status(e.do("GET", base+"messages.csv", nil, header("Accept", "text/csv")), 200)
	if lines := strings.Split(strings.TrimSpace(string(csv.body)), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "_id;sender;") {
		t.Fatalf("csv transcript %q", csv.body)
	}
	for _, b := range [][]byte{r.body, txt.body, html.body, csv.body} {
		if strings.Contains(string(b), "secret note") {
			t.Fatalf("a transcript shows an agents' note: %s", b)
		}
	}

	// Only an unguessable request_id of an existing conversation has a transcript.
	guessable := "support-group-" + pid + "-1"
	e.do("POST", "/"+pid+"/requests/"+guessable+"/messages", map[string]any{"text": "hello"}, jwtCred(visitor)).want(t, 200)
	for _, path := range []string{"/public/requests/" + guessable + "/messages", "/public/requests/" + guessable + "/messages.txt",
		"/public/requests/support-group-" + pid + "-" + strings.ReplaceAll(uuid.NewString(), "-", "") + "/messages",
		"/public/requests/support-group-6650a1e9c2b7e2a1d4f00001-" + strings.ReplaceAll(uuid.NewString(), "-", "") + "/messages",
		base + "messages.pdf", base + "other.txt"} {
		e.do("GET", path, nil).want(t, 404)
	}
}
