package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk/internal/pgtest"
	"github.com/tiledesk-go/tiledesk/internal/webhook"
)

// The webhook tests run the real server as a child process (see crash_test.go) against a receiver
// in this process, allowed by --webhook-allow 127.0.0.1.

// hookSink is a webhook target: it checks each signature and records each delivery.
type hookSink struct {
	t      *testing.T
	srv    *httptest.Server
	secret atomic.Pointer[string]
	down   atomic.Bool
	mu     sync.Mutex
	ids    []string // X-Tiledesk-Delivery of each accepted delivery, in arrival order
	seqs   []int64
	leads  []string // the payload's lead_id of each
}

func newHookSink(t *testing.T) *hookSink {
	h := &hookSink{t: t}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		raw, _ := io.ReadAll(r.Body)
		sig := r.Header.Get("X-Tiledesk-Signature")
		ts, _, _ := strings.Cut(strings.TrimPrefix(sig, "t="), ",")
		sec, _ := strconv.ParseInt(ts, 10, 64)
		if want := webhook.Sign(*h.secret.Load(), time.Unix(sec, 0), raw); sig != want {
			t.Errorf("signature %q, want %q", sig, want)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var b struct {
			Payload struct {
				LeadID string `json:"lead_id"`
			} `json:"payload"`
		}
		_ = json.Unmarshal(raw, &b)
		seq, _ := strconv.ParseInt(r.Header.Get("X-Tiledesk-Event-Seq"), 10, 64)
		h.mu.Lock()
		h.ids = append(h.ids, r.Header.Get("X-Tiledesk-Delivery"))
		h.seqs = append(h.seqs, seq)
		h.leads = append(h.leads, b.Payload.LeadID)
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// firsts returns the leads of the first delivery of each delivery id, in arrival order, and how
// many deliveries repeated an earlier one.
func (h *hookSink) firsts() (leads []string, seqs []int64, repeats int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[string]bool{}
	for i, id := range h.ids {
		if seen[id] {
			repeats++
			continue
		}
		seen[id] = true
		leads, seqs = append(leads, h.leads[i]), append(seqs, h.seqs[i])
	}
	return leads, seqs, repeats
}

// hookSetup signs up through srv, creates a project and subscribes the sink to lead.create.
func hookSetup(t *testing.T, url string, sink *hookSink) (token, pid string) {
	t.Helper()
	call(t, "POST", url+"/v1/auth/signup", `{"email":"hooks@example.com","password":"Passw0rd!","firstname":"H","lastname":"O"}`,
		map[string]string{"Content-Type": "application/json"})
	_, m, _ := call(t, "POST", url+"/v1/auth/signin", `{"email":"hooks@example.com","password":"Passw0rd!"}`,
		map[string]string{"Content-Type": "application/json"})
	token, _ = m["token"].(string)
	auth := map[string]string{"Content-Type": "application/json", "Authorization": token}
	_, m, _ = call(t, "POST", url+"/v1/projects", `{"name":"Hooks"}`, auth)
	pid, _ = m["_id"].(string)
	status, m, _ := call(t, "POST", url+"/v1/"+pid+"/subscriptions",
		fmt.Sprintf(`{"event":"lead.create","target":%q}`, sink.srv.URL+"/hook"), auth)
	secret, _ := m["secret"].(string)
	if status != 200 || secret == "" {
		t.Fatalf("subscribing: %d %v", status, m)
	}
	sink.secret.Store(&secret)
	return token, pid
}

func postLead(t *testing.T, url, token, pid, leadID string) {
	t.Helper()
	status, m, _ := call(t, "POST", url+"/v1/"+pid+"/leads", fmt.Sprintf(`{"fullname":"L","lead_id":%q}`, leadID),
		map[string]string{"Content-Type": "application/json", "Authorization": token})
	if status != 200 {
		t.Fatalf("lead %s: %d %v", leadID, status, m)
	}
}

// waitLeads waits until the sink has a first delivery of every lead, then checks they came in order.
func waitLeads(t *testing.T, sink *hookSink, want []string) int {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, seqs, repeats := sink.firsts()
		if len(got) >= len(want) {
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("delivered %v, want %v", got, want)
			}
			for i := 1; i < len(seqs); i++ {
				if seqs[i] <= seqs[i-1] {
					t.Fatalf("Seq %d delivered after %d", seqs[i], seqs[i-1])
				}
			}
			return repeats
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60 s the receiver has %d of %d events", len(got), len(want))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var hookArgs = []string{"--webhook-allow", "127.0.0.1", "--webhook-timeout", "500ms"}

// A SIGKILL after the writes committed, before any was delivered, or while they are being
// delivered, loses none: the restarted server delivers them all, in order.
func TestWebhooksSurviveSIGKILL(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "hooks.db")
			if engine == "postgres" {
				db = pgtest.FreshSchema(t)
			}
			args := append([]string{"--db", db}, hookArgs...)
			sink := newHookSink(t)
			sink.down.Store(true)
			srv := startChild(t, args...)
			token, pid := hookSetup(t, srv.url, sink)
			var want []string
			for i := range 10 {
				want = append(want, fmt.Sprintf("killed-%d", i))
				postLead(t, srv.url, token, pid, want[i])
			}
			srv.kill(t)
			sink.down.Store(false)
			srv = startChild(t, args...)
			waitLeads(t, sink, want)
			// Killed again while delivering to a healthy receiver: some events are sent, some
			// recorded, some neither; the next process sends the rest, perhaps some twice.
			for i := range 30 {
				want = append(want, fmt.Sprintf("midstream-%d", i))
				postLead(t, srv.url, token, pid, want[len(want)-1])
			}
			srv.kill(t)
			srv = startChild(t, args...)
			waitLeads(t, sink, want)
			// The restarted process counts what it delivered: one event at least, sent after it
			// started (the killed one may have sent and recorded all the others).
			want = append(want, "after-restart")
			postLead(t, srv.url, token, pid, want[len(want)-1])
			waitLeads(t, sink, want)
			deadline := time.Now().Add(20 * time.Second)
			for {
				res, err := http.Get(srv.url + "/metrics")
				if err != nil {
					t.Fatal(err)
				}
				raw, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if strings.Contains(string(raw), `tiledesk_webhook_attempts_total{status="success"}`) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("/metrics counts no successful webhook attempt:\n%s", raw)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// Targets on the server's own networks are refused, unless --webhook-allow lists them.
func TestWebhooksRefusePrivateTargetsUnlessAllowed(t *testing.T) {
	for _, tc := range []struct {
		allow   []string
		refused map[string]bool
	}{
		{nil, map[string]bool{"http://127.0.0.1:9/hook": true, "http://10.1.2.3/hook": true, "http://[::1]/": true}},
		{[]string{"--webhook-allow", "10.0.0.0/8"}, map[string]bool{"http://127.0.0.1:9/hook": true, "http://10.1.2.3/hook": false}},
	} {
		srv := startChild(t, append([]string{"--db", filepath.Join(t.TempDir(), "ssrf.db")}, tc.allow...)...)
		sink := newHookSink(t) // on 127.0.0.1: subscribing it is refused too without an allow list
		auth := map[string]string{"Content-Type": "application/json"}
		call(t, "POST", srv.url+"/v1/auth/signup", `{"email":"ssrf@example.com","password":"Passw0rd!","firstname":"S","lastname":"O"}`, auth)
		_, m, _ := call(t, "POST", srv.url+"/v1/auth/signin", `{"email":"ssrf@example.com","password":"Passw0rd!"}`, auth)
		auth["Authorization"], _ = m["token"].(string)
		_, m, _ = call(t, "POST", srv.url+"/v1/projects", `{"name":"SSRF"}`, auth)
		pid, _ := m["_id"].(string)
		tc.refused[sink.srv.URL+"/hook"] = true
		for target, refused := range tc.refused {
			status, m, _ := call(t, "POST", srv.url+"/v1/"+pid+"/subscriptions", fmt.Sprintf(`{"event":"lead.create","target":%q}`, target), auth)
			if refused && (status != 422 || !strings.Contains(fmt.Sprint(m), "target")) || !refused && status != 200 {
				t.Errorf("allow %v, target %s: %d %v", tc.allow, target, status, m)
			}
		}
	}
}

// Two processes on one PostgreSQL deliver each event once to a healthy receiver, in order,
// whichever process committed it.
func TestWebhooksTwoProcessesDeliverEachEventOnce(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	args := append([]string{"--db", dsn}, hookArgs...)
	a := startChild(t, args...)
	b := startChild(t, args...)
	sink := newHookSink(t)
	token, pid := hookSetup(t, a.url, sink)
	var want []string
	for i := range 60 {
		want = append(want, fmt.Sprintf("twice-%d", i))
		url := a.url
		if i%2 == 1 {
			url = b.url
		}
		postLead(t, url, token, pid, want[i])
	}
	waitLeads(t, sink, want)
	time.Sleep(200 * time.Millisecond) // a second delivery of any would arrive now
	if _, _, repeats := sink.firsts(); repeats != 0 {
		t.Fatalf("%d events were delivered twice", repeats)
	}
}
