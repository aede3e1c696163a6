package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/webhook"
)

func TestSubscriptionsCRUD(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		owner := e.signup("Owner")
		pid := e.createProject(owner, "Hooks")
		body := map[string]string{"event": "request.create", "target": "https://hooks.example.com/a"}
		r := e.do("POST", "/"+pid+"/subscriptions", body, owner.jwt()).want(t, 200)
		created := r.json(t)
		secret, _ := created["secret"].(string)
		if secret == "" || r.header.Get("X-Hook-Secret") != secret {
			t.Fatalf("the creation shows secret %q, header %q", secret, r.header.Get("X-Hook-Secret"))
		}
		id := created["_id"].(string)
		if created["event"] != "request.create" || created["target"] != "https://hooks.example.com/a" ||
			created["id_project"] != pid || created["createdBy"] != owner.id || created["__v"] != 0.0 {
			t.Fatalf("created %v", created)
		}
		// A duplicate answers the existing one, without its secret.
		dup := e.do("POST", "/"+pid+"/subscriptions", body, owner.jwt()).want(t, 200)
		if m := dup.json(t); m["_id"] != id || m["secret"] != nil || dup.header.Get("X-Hook-Secret") != "" {
			t.Fatalf("duplicate answered %s", dup.body)
		}
		for _, path := range []string{"/" + pid + "/subscriptions", "/" + pid + "/subscriptions/" + id} {
			r := e.do("GET", path, nil, owner.jwt()).want(t, 200)
			if strings.Contains(string(r.body), secret) || strings.Contains(string(r.body), `"secret"`) {
				t.Fatalf("GET %s shows the secret: %s", path, r.body)
			}
		}
		if l := e.do("GET", "/"+pid+"/subscriptions", nil, owner.jwt()).want(t, 200).list(t); len(l) != 1 {
			t.Fatalf("list = %d", len(l))
		}
		r = e.do("PUT", "/"+pid+"/subscriptions/"+id, map[string]string{"event": "lead.create"}, owner.jwt()).want(t, 200)
		if m := r.json(t); m["event"] != "lead.create" || m["target"] != "https://hooks.example.com/a" {
			t.Fatalf("PUT answered %s", r.body)
		}
		r = e.do("DELETE", "/"+pid+"/subscriptions/"+id, nil, owner.jwt()).want(t, 200)
		if r.json(t)["_id"] != id {
			t.Fatalf("DELETE answered %s", r.body)
		}
		e.do("GET", "/"+pid+"/subscriptions/"+id, nil, owner.jwt()).want(t, 404)
		got := e.events(pid)
		for _, name := range []string{"subscription.create", "subscription.update", "subscription.delete"} {
			if !strings.Contains(strings.Join(got, ","), name) {
				t.Errorf("events %v lack %s", got, name)
			}
		}
	})
}

func TestSubscriptionValidation(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Hooks")
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"target": "https://hooks.example.com/"}, "event"},
		{map[string]any{"event": "request.create"}, "target"},
		{map[string]any{"event": "request.*", "target": "https://hooks.example.com/"}, "event"},
		{map[string]any{"event": "not an event", "target": "https://hooks.example.com/"}, "event"},
		{map[string]any{"event": 7, "target": "https://hooks.example.com/"}, "event"},
		{map[string]any{"event": "request.create", "target": "hooks.example.com/x"}, "target"},
		{map[string]any{"event": "request.create", "target": "ftp://hooks.example.com/"}, "target"},
		{map[string]any{"event": "request.create", "target": "http://127.0.0.1:8080/"}, "target"},
		{map[string]any{"event": "request.create", "target": "http://10.0.0.5/"}, "target"},
		{map[string]any{"event": "request.create", "target": "http://169.254.169.254/latest/meta-data"}, "target"},
		{map[string]any{"event": "request.create", "target": "http://localhost:3000/"}, "target"},
	} {
		r := e.do("POST", "/"+pid+"/subscriptions", tc.body, owner.jwt()).want(t, 422)
		if !strings.Contains(string(r.body), `"param":"`+tc.field+`"`) {
			t.Errorf("%v: 422 does not name %s: %s", tc.body, tc.field, r.body)
		}
	}
	r := e.do("POST", "/"+pid+"/subscriptions", map[string]string{"event": "lead.create", "target": "https://hooks.example.com/"}, owner.jwt()).want(t, 200)
	id := r.json(t)["_id"].(string)
	e.do("PUT", "/"+pid+"/subscriptions/"+id, map[string]string{"target": "http://192.168.1.1/"}, owner.jwt()).want(t, 422)
	e.do("GET", "/"+pid+"/subscriptions/"+id+"/deliveries?limit=0", nil, owner.jwt()).want(t, 400)
	e.do("GET", "/"+pid+"/subscriptions/"+id+"/deliveries?before=x", nil, owner.jwt()).want(t, 400)
	e.do("POST", "/"+pid+"/subscriptions/"+id+"/deliveries/nonsense/redeliver", nil, owner.jwt()).want(t, 404)
	e.do("POST", "/"+pid+"/subscriptions/"+id+"/deliveries/"+id+"-1/redeliver", nil, owner.jwt()).want(t, 404)
}

// hookReceiver records the deliveries it gets, each checked against its signature.
type hookReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
	heads  []http.Header
	secret string
	t      *testing.T
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{t: t}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		sig := r.Header.Get("X-Tiledesk-Signature")
		ts, _, _ := strings.Cut(strings.TrimPrefix(sig, "t="), ",")
		var sec int64
		for _, c := range ts {
			sec = sec*10 + int64(c-'0')
		}
		if want := webhook.Sign(h.secret, time.Unix(sec, 0), raw); sig != want {
			t.Errorf("signature %q, want %q", sig, want)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Errorf("body %s: %v", raw, err)
		}
		h.bodies = append(h.bodies, m)
		h.heads = append(h.heads, r.Header.Clone())
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) count() int { h.mu.Lock(); defer h.mu.Unlock(); return len(h.bodies) }

func TestWebhookDeliveryEndToEnd(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		guard, _ := webhook.ParseAllow("127.0.0.1")
		e := newEnvOn(t, engine, func(c *Config) { c.WebhookGuard = guard })
		e.engine.OnEvents(e.srv.events.Advance)
		d := webhook.New(webhook.Options{Store: e.engine, Events: e.srv.events, Render: e.srv.RenderEvent, Guard: guard,
			Poll: 10 * time.Millisecond})
		d.Start()
		defer d.Stop(time.Second)
		recv := newHookReceiver(t)
		owner := e.signup("Owner")
		pid := e.createProject(owner, "Hooks")
		r := e.do("POST", "/"+pid+"/subscriptions", map[string]string{"event": "message.create", "target": recv.srv.URL + "/hook"},
			owner.jwt()).want(t, 200)
		sub := r.json(t)
		recv.mu.Lock()
		recv.secret = sub["secret"].(string)
		recv.mu.Unlock()
		id := sub["_id"].(string)
		token, _ := e.guest(pid)
		e.do("POST", "/"+pid+"/requests/support-group-hook/messages", map[string]string{"text": "hello hooks"},
			header("Authorization", token)).want(t, 200)
		waitUntil(t, "the delivery", func() bool { return recv.count() == 1 })
		recv.mu.Lock()
		b, head := recv.bodies[0], recv.heads[0]
		recv.mu.Unlock()
		payload, _ := b["payload"].(map[string]any)
		req, _ := payload["request"].(map[string]any)
		hook, _ := b["hook"].(map[string]any)
		if payload["text"] != "hello hooks" || req["request_id"] != "support-group-hook" || hook["_id"] != id || hook["secret"] != nil {
			t.Fatalf("delivered %v", b)
		}
		if head.Get("X-Hook-Secret") != sub["secret"] || head.Get("User-Agent") != "tiledesk-webhooks" ||
			!strings.HasPrefix(head.Get("X-Tiledesk-Delivery"), id+"-") || head.Get("X-Tiledesk-Event-Seq") == "" {
			t.Fatalf("headers %v", head)
		}
		var list []any
		waitUntil(t, "the attempt recorded", func() bool {
			list = e.do("GET", "/"+pid+"/subscriptions/"+id+"/deliveries", nil, owner.jwt()).want(t, 200).list(t)
			return len(list) == 1
		})
		attempt := list[0].(map[string]any)
		if attempt["status"] != tiledesk.DeliverySucceeded || attempt["code"] != 200.0 || attempt["attempt"] != 1.0 ||
			attempt["delivery_id"] != head.Get("X-Tiledesk-Delivery") {
			t.Fatalf("attempt %v", attempt)
		}
		state := e.do("GET", "/"+pid+"/subscriptions/"+id, nil, owner.jwt()).want(t, 200).json(t)["delivery"].(map[string]any)
		// Past the delivered event (and past the events after it that are not message.create).
		delivered, _ := strconv.ParseFloat(head.Get("X-Tiledesk-Event-Seq"), 64)
		if seq, _ := state["seq"].(float64); seq < delivered || state["failures"] != 0.0 || state["next_attempt"] != nil {
			t.Fatalf("delivery state %v after delivering seq %s", state, head.Get("X-Tiledesk-Event-Seq"))
		}
		e.do("POST", "/"+pid+"/subscriptions/"+id+"/deliveries/"+attempt["delivery_id"].(string)+"/redeliver", nil,
			owner.jwt()).want(t, 202)
		waitUntil(t, "the redelivery", func() bool { return recv.count() == 2 })
		recv.mu.Lock()
		again := recv.heads[1].Get("X-Tiledesk-Delivery")
		recv.mu.Unlock()
		if again != head.Get("X-Tiledesk-Delivery") {
			t.Fatalf("redelivered as %s, want %s", again, head.Get("X-Tiledesk-Delivery"))
		}
		// Another project's owner reads nothing of it.
		other := e.signup("Other")
		pidB := e.createProject(other, "B")
		e.do("GET", "/"+pidB+"/subscriptions/"+id+"/deliveries", nil, other.jwt()).want(t, 404)
		e.do("GET", "/"+pid+"/subscriptions/"+id+"/deliveries", nil, other.jwt()).want(t, 403)
	})
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWebhookRequestCloseCarriesItsMessages(t *testing.T) {
	guard, _ := webhook.ParseAllow("127.0.0.1")
	e := newEnvWith(t, func(c *Config) { c.WebhookGuard = guard })
	d := webhook.New(webhook.Options{Store: e.engine, Events: e.srv.events, Render: e.srv.RenderEvent, Guard: guard,
		Poll: 10 * time.Millisecond})
	d.Start()
	defer d.Stop(time.Second)
	recv := newHookReceiver(t)
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Hooks")
	sub := e.do("POST", "/"+pid+"/subscriptions", map[string]string{"event": "request.close", "target": recv.srv.URL},
		owner.jwt()).want(t, 200).json(t)
	recv.mu.Lock()
	recv.secret = sub["secret"].(string)
	recv.mu.Unlock()
	token, _ := e.guest(pid)
	for _, text := range []string{"first", "second"} {
		e.do("POST", "/"+pid+"/requests/support-group-close/messages", map[string]string{"text": text},
			header("Authorization", token)).want(t, 200)
	}
	e.do("PUT", "/"+pid+"/requests/support-group-close/close", nil, owner.jwt()).want(t, 200)
	waitUntil(t, "the delivery", func() bool { return recv.count() == 1 })
	recv.mu.Lock()
	payload := recv.bodies[0]["payload"].(map[string]any)
	recv.mu.Unlock()
	msgs, _ := payload["messages"].([]any)
	if payload["request_id"] != "support-group-close" || len(msgs) < 2 || msgs[0].(map[string]any)["text"] != "first" {
		t.Fatalf("request.close delivered %v", payload)
	}
}
