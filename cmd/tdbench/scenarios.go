package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tiledesk-go/tiledesk/internal/seed"
)

// fixture is what scenarios draw their requests from: the seeded project, its owner's credentials
// and the seeded leads.
type fixture struct {
	api      string // server URL + "/v1"
	pid      string
	ownerID  string
	email    string
	password string
	token    string   // "JWT ..."
	leadIDs  []string // newest last, as seeded
	leadMS   []int64  // their createdAt in Unix milliseconds
	// requestIDs are the seeded conversations (--requests); guests are visitor tokens ("JWT ...")
	// for first messages.
	requestIDs []string
	guests     []string
	large      *largeFixture // the project of large leads, when a scenario named needs it
	abuse      *abuseFixture // the tenant whose searches search-abuse sends
}

// target is what a scenario must reach at targetConcurrency clients; source names the group of
// targets it belongs to, as docs/performance.md's table of targets does.
type target struct {
	source   string  // "lead reads"
	minRatio float64 // of the matching baseline's requests per second
	maxP99ms float64
	minRPS   float64
	clients  int // the clients it is stated for: targetConcurrency when 0
}

const targetConcurrency = 32

// scenario is one kind of request. A scenario whose routes do not exist yet has pending set and no
// build; adding it later is writing build. conversations marks those that need seeded
// conversations (--requests), skipped without them.
type scenario struct {
	name          string
	what          string
	baseline      string // "read", "write" or "" (no matching baseline)
	pageFloor     bool   // answers a page of 40 leads: also measure the page floor (see baselineHandler)
	target        *target
	pending       string
	conversations bool
	// largeLeads marks scenarios on the project of large leads, seeded only when --scenarios names
	// one; the server's heap is sampled while they run.
	largeLeads bool
	// webhooks marks the scenarios whose result is the webhook deliveries their load causes
	// (webhookLive, webhookBacklog: see measureWebhooks); the load itself is reported as <name>-load.
	webhooks int
	build    func(f *fixture) requestFunc
	// beside is load from other clients that runs during the scenario's warm-up and measurement,
	// reported as a result of its own.
	beside *sideLoad
}

// sideLoad is the other clients' load of a scenario that measures one load beside another.
type sideLoad struct {
	name    string
	clients int
	target  *target
	build   func(f *fixture) requestFunc
}

// scenarios are every kind of request; the read baseline sends the first one's (a lead by id) to
// the bare server, which answers only that and pages of leads.
var scenarios = []scenario{
	{name: "lead-by-id-jwt", what: "GET /v1/{pid}/leads/{id} with a JWT", baseline: "read",
		target: &target{source: "lead reads", minRatio: 0.5},
		build: func(f *fixture) requestFunc {
			return func(rng *rand.Rand) (*http.Request, error) {
				return f.get("/leads/"+f.leadIDs[rng.IntN(len(f.leadIDs))], f.jwt)
			}
		}},
	{name: "lead-by-id-basic", what: "GET /v1/{pid}/leads/{id} with Basic credentials", baseline: "read",
		build: func(f *fixture) requestFunc {
			return func(rng *rand.Rand) (*http.Request, error) {
				return f.get("/leads/"+f.leadIDs[rng.IntN(len(f.leadIDs))], f.basic)
			}
		}},
	{name: "leads-page-first", what: "GET /v1/{pid}/leads (first page of 40, newest first, with count)", baseline: "read", pageFloor: true,
		target: &target{source: "lead reads", minRatio: 0.25, maxP99ms: 5},
		build: func(f *fixture) requestFunc {
			return func(*rand.Rand) (*http.Request, error) { return f.get("/leads", f.jwt) }
		}},
	{name: "leads-page-cursor", what: "GET /v1/{pid}/leads?cursor= (a page of 40 anywhere in the list)", baseline: "read", pageFloor: true,
		target: &target{source: "lead reads", minRatio: 0.25, maxP99ms: 5},
		build: func(f *fixture) requestFunc {
			return func(rng *rand.Rand) (*http.Request, error) {
				return f.get("/leads?cursor="+f.cursorAt(rng.IntN(len(f.leadIDs))), f.jwt)
			}
		}},
	{name: "leads-page-offset", what: "GET /v1/{pid}/leads?page=N (a page of 40 anywhere, by offset as the original)", baseline: "read", pageFloor: true,
		build: func(f *fixture) requestFunc {
			return func(rng *rand.Rand) (*http.Request, error) {
				return f.get("/leads?page="+strconv.Itoa(rng.IntN(len(f.leadIDs)/40)), f.jwt)
			}
		}},
	{name: "leads-email", what: "GET /v1/{pid}/leads?email= (an existing lead's email)", baseline: "read",
		target: &target{source: "lead reads", minRatio: 0.25, maxP99ms: 5},
		build: func(f *fixture) requestFunc {
			return func(rng *rand.Rand) (*http.Request, error) {
				return f.get("/leads?email="+url.QueryEscape(seed.Email(rng.IntN(len(f.leadIDs)))), f.jwt)
			}
		}},
	{name: "leads-search", what: `GET /v1/{pid}/leads?full_text= (two prefixes, "mar ros")`, baseline: "read",
		target: &target{source: "lead reads", maxP99ms: 20},
		build: func(f *fixture) requestFunc {
			return func(rng *rand.Rand) (*http.Request, error) {
				return f.get("/leads?full_text="+url.QueryEscape(seed.SearchQuery(rng.IntN(1<<20))), f.jwt)
			}
		}},
	{name: "lead-create", what: "POST /v1/{pid}/leads (one durable insert with its event)", baseline: "write",
		build: func(f *fixture) requestFunc { return f.newLead }},
	{name: "webhook-deliveries", what: "lead.create deliveries/s to a local receiver (one subscription, in order) of the backlog clients POSTing leads left",
		target: &target{source: "webhooks", minRPS: 1000}, webhooks: webhookBacklog,
		build: func(f *fixture) requestFunc { return f.newLead }},
	{name: "webhook-live", what: "lead.create deliveries/s to a local receiver while clients POST leads; p50/p99: lag from the lead's creation",
		webhooks: webhookLive,
		build:    func(f *fixture) requestFunc { return f.newLead }},
	{name: "signin", what: "POST /v1/auth/signin (one bcrypt comparison at cost 10)",
		build: func(f *fixture) requestFunc {
			body, _ := json.Marshal(map[string]string{"email": f.email, "password": f.password})
			return func(*rand.Rand) (*http.Request, error) { return f.post(f.api+"/auth/signin", body, nil) }
		}},
	{name: "leads-large-pages", what: "GET /v1/{pid}/leads?limit=1000&cursor= on 1,000 leads of 600 KB (peak heap sampled)", largeLeads: true,
		build: func(f *fixture) requestFunc { return f.largePage }},
	// Conversations, on --requests conversations holding --messages messages in all.
	{name: "requests-page", what: "GET /v1/{pid}/requests (a page of 40, default filters, populated)", baseline: "read",
		target: &target{source: "conversation reads", minRatio: 0.2, maxP99ms: 10}, conversations: true,
		build: func(f *fixture) requestFunc {
			return func(*rand.Rand) (*http.Request, error) { return f.get("/requests", f.jwt) }
		}},
	{name: "requests-page-beside-search-abuse", what: fmt.Sprintf("GET /v1/{pid}/requests as requests-page, while %d more clients search a one-conversation project"+
		" (16 words, 4 of one letter, answered; 36 one-letter words, refused) as search-abuse", abuseClients),
		baseline: "read", conversations: true,
		build: func(f *fixture) requestFunc {
			return func(*rand.Rand) (*http.Request, error) { return f.get("/requests", f.jwt) }
		},
		beside: &sideLoad{name: "search-abuse", clients: abuseClients, target: &target{source: "tenant isolation", maxP99ms: 20},
			build: func(f *fixture) requestFunc { return f.abusiveSearch }}},
	{name: "requests-page-beside-plain-reads", what: fmt.Sprintf("GET /v1/{pid}/requests as requests-page, while %d more clients read the"+
		" one-conversation project's list without searching (the control for search-abuse)", abuseClients),
		baseline: "read", conversations: true,
		build: func(f *fixture) requestFunc {
			return func(*rand.Rand) (*http.Request, error) { return f.get("/requests", f.jwt) }
		},
		beside: &sideLoad{name: "plain-reads", clients: abuseClients,
			build: func(f *fixture) requestFunc { return f.abuserPlainRead }}},
	{name: "request-by-id", what: "GET /v1/{pid}/requests/{request_id}", baseline: "read", conversations: true,
		build: func(f *fixture) requestFunc {
			return func(rng *rand.Rand) (*http.Request, error) {
				return f.get("/requests/"+f.requestIDs[rng.IntN(len(f.requestIDs))], f.jwt)
			}
		}},
	{name: "message-post", what: "POST /v1/{pid}/requests/{request_id}/messages into an existing request (agent)", baseline: "write",
		target: &target{source: "conversation writes", minRatio: 1.0 / 3, minRPS: 2000}, conversations: true,
		build: func(f *fixture) requestFunc {
			body := []byte(`{"text":"A reply from the benchmark"}`)
			return func(rng *rand.Rand) (*http.Request, error) {
				return f.post(f.api+"/"+f.pid+"/requests/"+f.requestIDs[rng.IntN(len(f.requestIDs))]+"/messages", body, f.jwt)
			}
		}},
	{name: "message-first", what: "POST /v1/{pid}/requests/{new request_id}/messages by a visitor (creates the request)", baseline: "write",
		conversations: true,
		build: func(f *fixture) requestFunc {
			body := []byte(`{"text":"Hello, I have a question"}`)
			return func(rng *rand.Rand) (*http.Request, error) {
				guest := f.guests[rng.IntN(len(f.guests))]
				rid := fmt.Sprintf("support-group-%s-%016x", f.pid, rng.Uint64())
				return f.post(f.api+"/"+f.pid+"/requests/"+rid+"/messages", body, func(r *http.Request) { r.Header.Set("Authorization", guest) })
			}
		}},
	{name: "analytics-requests-day", what: "GET /v1/{pid}/analytics/requests/aggregate/day?lastdays=30 (every conversation of 30 days, counted per day)",
		target: &target{source: "analytics", maxP99ms: 100, clients: 1}, conversations: true,
		build: func(f *fixture) requestFunc {
			return func(*rand.Rand) (*http.Request, error) {
				return f.get("/analytics/requests/aggregate/day?lastdays=30", f.jwt)
			}
		}},
	{name: "analytics-requests-waiting", what: "GET /v1/{pid}/analytics/requests/waiting (the average waiting time of 30 days' conversations)",
		target: &target{source: "analytics", maxP99ms: 100, clients: 1}, conversations: true,
		build: func(f *fixture) requestFunc {
			return func(*rand.Rand) (*http.Request, error) { return f.get("/analytics/requests/waiting", f.jwt) }
		}},
	{name: "analytics-messages-count", what: "GET /v1/{pid}/analytics/messages/count (the messages of 30 days)",
		target: &target{source: "analytics", maxP99ms: 100, clients: 1}, conversations: true,
		build: func(f *fixture) requestFunc {
			return func(*rand.Rand) (*http.Request, error) { return f.get("/analytics/messages/count", f.jwt) }
		}},
}

// newLead creates a lead.
func (f *fixture) newLead(rng *rand.Rand) (*http.Request, error) {
	body, _ := json.Marshal(map[string]any{"fullname": "Bench Lead", "email": fmt.Sprintf("bench%d@example.com", rng.Uint64()),
		"attributes": map[string]any{"source": "tdbench"}})
	return f.post(f.api+"/"+f.pid+"/leads", body, f.jwt)
}

func (f *fixture) jwt(r *http.Request)   { r.Header.Set("Authorization", f.token) }
func (f *fixture) basic(r *http.Request) { r.SetBasicAuth(f.email, f.password) }

// get builds a GET of a project path.
func (f *fixture) get(path string, auth func(*http.Request)) (*http.Request, error) {
	r, err := http.NewRequest(http.MethodGet, f.api+"/"+f.pid+path, nil)
	if err == nil {
		auth(r)
	}
	return r, err
}

func (f *fixture) post(u string, body []byte, auth func(*http.Request)) (*http.Request, error) {
	r, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/json")
	if auth != nil {
		auth(r)
	}
	return r, nil
}

// cursorAt is the cursor the default list (newest first) returns after seeded lead i, encoded as the
// server encodes it; prepare checks the encoding against the server's own first next_cursor.
func (f *fixture) cursorAt(i int) string { return cursorOf(f.leadMS[i], f.leadIDs[i]) }

// cursorOf is the default list's cursor after the lead created at ms with that id.
func cursorOf(ms int64, id string) string {
	raw, _ := json.Marshal(struct {
		S string `json:"s"`
		D bool   `json:"d"`
		V int64  `json:"v"`
		I string `json:"i"`
	}{"createdAt", true, ms, id})
	return base64.RawURLEncoding.EncodeToString(raw)
}
