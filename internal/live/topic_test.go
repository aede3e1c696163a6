package live

import (
	"encoding/json"
	"testing"
)

const pid = "6650f1a2b3c4d5e6f7a8b9c0"

func TestParseTopic(t *testing.T) {
	for _, c := range []struct {
		in   string
		kind TopicKind
		id   string
	}{
		{"/" + pid + "/requests", TopicRequests, ""},
		{"/" + pid + "/requests/support-group-x", TopicRequest, "support-group-x"},
		{"/" + pid + "/requests/support-group-x/messages", TopicMessages, "support-group-x"},
		{"/" + pid + "/project_users/6650F1A2B3C4D5E6F7A8B9C1", TopicProjectUser, "6650f1a2b3c4d5e6f7a8b9c1"},
		{"/6650F1A2B3C4D5E6F7A8B9C0/requests", TopicRequests, ""},
	} {
		got, ok := ParseTopic(c.in)
		if !ok || got.Kind != c.kind || got.ID != c.id || got.ProjectID != pid {
			t.Errorf("ParseTopic(%q) = %+v, %v", c.in, got, ok)
		}
	}
	for _, bad := range []string{"", "/", pid + "/requests", "/nope/requests", "/" + pid, "/" + pid + "/requests/",
		"/" + pid + "/requests//messages", "/" + pid + "/requests/x/notes", "/" + pid + "/project_users/me",
		"/" + pid + "/project_users/users/x", "/" + pid + "/events/x", "/" + pid + "/bots/x", "/" + pid + "/requests/x/messages/y"} {
		if got, ok := ParseTopic(bad); ok {
			t.Errorf("ParseTopic(%q) = %+v, want refused", bad, got)
		}
	}
}

// FuzzParseTopic: a topic the client sends is parsed without panic, and a parsed topic's name
// parses back to itself.
func FuzzParseTopic(f *testing.F) {
	for _, s := range []string{"/" + pid + "/requests", "/" + pid + "/requests/a/messages", "/" + pid + "/project_users/" + pid, "//", "/x/y/z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseTopic(s)
		if !ok {
			return
		}
		again, ok := ParseTopic(got.Name)
		if !ok || again != got {
			t.Fatalf("%q parsed as %+v, whose name parses as %+v, %v", s, got, again, ok)
		}
	})
}

// FuzzClientFrame: any client frame decodes without panic, and a since it takes is a sequence
// number.
func FuzzClientFrame(f *testing.F) {
	for _, s := range []string{`{"action":"subscribe","payload":{"topic":"/x","since":41}}`, `{"action":"subscribe","payload":{"since":"12"}}`,
		`{"action":"subscribe","payload":{"since":-1}}`, `{"action":"heartbeat","payload":{"message":{"text":"ping"}}}`, `{"action":"me"}`, `[]`, `{"payload":{"since":1e99}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var cf clientFrame
		if json.Unmarshal(data, &cf) != nil {
			return
		}
		if since, ok := parseSince(cf.Payload.Since); ok && since != nil && *since < 0 {
			t.Fatalf("since %d from %s", *since, data)
		}
	})
}

func TestParseSince(t *testing.T) {
	for in, want := range map[string]int64{`41`: 41, `"41"`: 41, `0`: 0} {
		got, ok := parseSince(json.RawMessage(in))
		if !ok || got == nil || *got != want {
			t.Errorf("parseSince(%s) = %v, %v", in, got, ok)
		}
	}
	for _, in := range []string{``, `null`} {
		if got, ok := parseSince(json.RawMessage(in)); !ok || got != nil {
			t.Errorf("parseSince(%q) = %v, %v; want absent", in, got, ok)
		}
	}
	for _, in := range []string{`-1`, `"x"`, `1.5`, `{}`, `true`} {
		if _, ok := parseSince(json.RawMessage(in)); ok {
			t.Errorf("parseSince(%s) accepted", in)
		}
	}
}
