package api

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/auth"
	"github.com/tiledesk-go/tiledesk/internal/eventbus"
	"github.com/tiledesk-go/tiledesk/internal/pgtest"
	"github.com/tiledesk-go/tiledesk/internal/postgres"
	"github.com/tiledesk-go/tiledesk/internal/sqlite"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
	"github.com/tiledesk-go/tiledesk/internal/storecache"
	"golang.org/x/crypto/bcrypt"
)

var update = flag.Bool("update", false, "rewrite golden files")

type testEnv struct {
	t      *testing.T
	srv    *Server
	http   *httptest.Server
	store  tiledesk.Store
	engine *sqlstore.Store
	tokens *auth.Tokens
	mails  *mailbox     // every mail the server sent
	clock  *testClock   // the server's and the store's: every stamp is read from it
	users  atomic.Int64 // numbers the addresses signup makes, from 1 in every server
	// testRoutes are routes a test registers for itself, which the description does not hold.
	testRoutes map[string]bool
}

// testClock is a settable clock. A test server and its store share one, frozen at testEpoch until
// the test moves it, so that every date a response shows is the same from run to run.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

// testEpoch is when every test server's clock stands at first.
var testEpoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv with the Config adjusted first (rate limits, proxies, maintenance, ...).
func newEnvWith(t *testing.T, adjust func(*Config)) *testEnv {
	t.Helper()
	return newEnvOn(t, "sqlite", adjust)
}

// engines are the storage engines newEnvOn opens.
var engines = []string{"sqlite", "postgres"}

// forEachEngine runs test once per engine, as a subtest named after it; PostgreSQL's skips when no
// server is configured (pgtest.BaseURL), and fails when one is but cannot be reached.
func forEachEngine(t *testing.T, test func(t *testing.T, engine string)) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) { test(t, engine) })
	}
}

// newEnvOn is newEnvWith on the named engine: "sqlite" (a file of its own) or "postgres" (a
// schema of its own on TILEDESK_TEST_POSTGRES's server).
func newEnvOn(t *testing.T, engine string, adjust func(*Config)) *testEnv {
	t.Helper()
	ctx := context.Background()
	clock := &testClock{t: testEpoch}
	var store *sqlstore.Store
	var err error
	switch engine {
	case "sqlite":
		store, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "api.db"), sqlite.Options{Synchronous: "OFF", Now: clock.Now})
	case "postgres":
		store, err = postgres.Open(ctx, pgtest.FreshSchema(t), postgres.Options{Now: clock.Now})
	default:
		t.Fatalf("no engine %q", engine)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.NewTokens([]byte("test secret of sufficient length"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// Through the identity cache, as the binary runs: every test that changes a membership and
	// expects the next call to see it also checks the cache's invalidation. The cache is checked:
	// callers share its entries read-only, and every test proves that no handler changed one.
	cachedStore := storecache.NewChecked(store, 2*time.Second)
	t.Cleanup(func() {
		if err := cachedStore.Verify(); err != nil {
			t.Error(err)
		}
	})
	mails := &mailbox{}
	cfg := Config{Store: cachedStore, ViewStore: store, Tokens: tokens, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		MaxBodyBytes: 64 << 10, PasswordCost: bcrypt.MinCost, Mailer: mails, PublicURL: "https://desk.example.com",
		LinkKey: []byte("test link key of sufficient length"), Now: clock.Now, Events: eventbus.New()}
	store.OnEvents(cfg.Events.Advance) // as cmd/tiledesk wires them
	if adjust != nil {
		adjust(&cfg)
	}
	srv := New(cfg)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); store.Close() })
	return &testEnv{t: t, srv: srv, http: hs, store: cachedStore, engine: store, tokens: tokens, mails: mails, clock: clock}
}

// db is the SQLite file's write pool, for changes behind the store's back. Handing it out makes the
// store stop keeping what it read (it can no longer count every write), as it would in production.
func (e *testEnv) db() *sql.DB { return e.engine.WriteDB() }

// resp is a recorded response.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r *resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

func (r *resp) list(t *testing.T) []any {
	t.Helper()
	var l []any
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatalf("body is not a JSON array: %v\n%s", err, r.body)
	}
	return l
}

func (r *resp) want(t *testing.T, status int) *resp {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); r.status != http.StatusNoContent && !strings.HasPrefix(ct, "application/json") &&
		!strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type = %q", ct)
	}
	return r
}

// wantBody asserts the exact JSON body (compared after compaction).
func (r *resp) wantBody(t *testing.T, status int, body string) {
	t.Helper()
	r.want(t, status)
	var want, got any
	if err := json.Unmarshal([]byte(body), &want); err != nil {
		t.Fatalf("bad expected body: %v", err)
	}
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatalf("body is not JSON: %s", r.body)
	}
	wb, _ := json.Marshal(want)
	gb, _ := json.Marshal(got)
	if !bytes.Equal(wb, gb) {
		t.Fatalf("body = %s\nwant %s", gb, wb)
	}
}

// cred is how a request authenticates.
type cred func(*http.Request)

func jwtCred(token string) cred {
	return func(r *http.Request) { r.Header.Set("Authorization", token) }
}

func basicCred(email, password string) cred {
	return func(r *http.Request) { r.SetBasicAuth(email, password) }
}

func header(k, v string) cred { return func(r *http.Request) { r.Header.Set(k, v) } }

var noCred cred = func(*http.Request) {}

// do sends a request; body may be nil, a string (sent as is with a JSON type), url.Values (a form) or
// anything else (encoded as JSON).
func (e *testEnv) do(method, path string, body any, creds ...cred) *resp {
	e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case []byte:
		rd, ct = bytes.NewReader(b), "application/json"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd, ct = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, e.http.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for _, c := range creds {
		c(req)
	}
	res, err := e.http.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	e.conforms(req, res.StatusCode, res.Header, b)
	return &resp{status: res.StatusCode, header: res.Header, body: b}
}

// send is do for goroutines other than the test's: it reports failures instead of stopping the
// test. A non-empty body is sent as JSON.
func (e *testEnv) send(method, path, body string, creds ...cred) (int, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.http.URL+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	for _, c := range creds {
		c(req)
	}
	res, err := e.http.Client().Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err == nil {
		e.conforms(req, res.StatusCode, res.Header, b)
	}
	return res.StatusCode, b, err
}

// account is a signed-up user with its token.
type account struct {
	id, email, password, token string
}

func (a account) jwt() cred   { return jwtCred(a.token) }
func (a account) basic() cred { return basicCred(a.email, a.password) }

// signup signs up a user whose address is verified, as if it had followed the mailed link.
func (e *testEnv) signup(first string) account {
	e.t.Helper()
	a := e.signupUnverified(first)
	if _, err := e.store.VerifyUserEmail(context.Background(), a.id, a.email); err != nil {
		e.t.Fatal(err)
	}
	return a
}

// signupUnverified signs up a user that has not confirmed its address.
func (e *testEnv) signupUnverified(first string) account {
	e.t.Helper()
	n := e.users.Add(1)
	a := account{email: fmt.Sprintf("%s%d@example.com", strings.ToLower(first), n), password: "Passw0rd!"}
	r := e.do("POST", "/auth/signup", map[string]string{"email": a.email, "password": a.password,
		"firstname": first, "lastname": "Test"}).want(e.t, 200)
	a.id = r.json(e.t)["user"].(map[string]any)["_id"].(string)
	r = e.do("POST", "/auth/signin", map[string]string{"email": a.email, "password": a.password}).want(e.t, 200)
	a.token = r.json(e.t)["token"].(string)
	return a
}

func (e *testEnv) createProject(owner account, name string) string {
	e.t.Helper()
	r := e.do("POST", "/projects", map[string]string{"name": name}, owner.jwt()).want(e.t, 200)
	return r.json(e.t)["_id"].(string)
}

// join makes a an active member of the project with role, through an owner's invitation and update.
func (e *testEnv) join(owner, a account, pid, role string) string {
	e.t.Helper()
	invRole := role
	if role == tiledesk.RoleOwner || role == tiledesk.RoleGuest || role == tiledesk.RoleUser {
		invRole = tiledesk.RoleAgent
	}
	r := e.do("POST", "/"+pid+"/project_users/invite", map[string]string{"email": a.email, "role": invRole}, owner.jwt()).want(e.t, 200)
	id := r.json(e.t)["_id"].(string)
	if invRole != role {
		pu, err := e.store.UpdateProjectUser(context.Background(), pid, id, tiledesk.ProjectUserUpdate{Role: &role})
		if err != nil || pu.Role != role {
			e.t.Fatalf("set role %s: %v", role, err)
		}
	}
	return id
}

// guest signs in anonymously to a project.
func (e *testEnv) guest(pid string) (token, uuid string) {
	e.t.Helper()
	r := e.do("POST", "/auth/signinAnonymously", map[string]string{"id_project": pid, "firstname": "Visitor"}).want(e.t, 200)
	m := r.json(e.t)
	return m["token"].(string), m["user"].(map[string]any)["_id"].(string)
}

// events returns the names of a project's outbox events, oldest first.
func (e *testEnv) events(pid string) []string {
	e.t.Helper()
	evs, err := e.store.FindEvents(context.Background(), pid, tiledesk.EventFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	var names []string
	for _, ev := range evs {
		names = append(names, ev.Name)
	}
	return names
}

// original loads a response body recorded against the original server.
func original(t *testing.T, name string) (int, any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "original", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Status int `json:"status"`
		Body   any `json:"body"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	return rec.Status, rec.Body
}

// matchesOriginal asserts that a response has the status of the recorded original one and the same
// shape: the same keys at every level, each with the same JSON type. Values are not compared. extra
// lists dotted paths of keys we add on purpose; a path prefixed with "-" is a key we leave out on
// purpose (documented in docs/compatibility.md).
func matchesOriginal(t *testing.T, r *resp, name string, extra ...string) {
	t.Helper()
	status, want := original(t, name)
	if r.status != status {
		t.Fatalf("%s: status = %d, original answered %d; body %s", name, r.status, status, r.body)
	}
	var got any
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatalf("%s: body is not JSON: %s", name, r.body)
	}
	allowed := map[string]bool{}
	for _, x := range extra {
		allowed[x] = true
	}
	omitted := func(path string) bool { return allowed["-"+path] }
	var diffs []string
	compareShape(got, want, "", allowed, &diffs)
	diffs = slices.DeleteFunc(diffs, func(d string) bool {
		path, what, _ := strings.Cut(d, ": ")
		return what == "missing" && omitted(path)
	})
	if len(diffs) > 0 {
		sort.Strings(diffs)
		t.Fatalf("%s: shape differs from the original:\n  %s\nbody: %s", name, strings.Join(diffs, "\n  "), r.body)
	}
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func compareShape(got, want any, path string, allowed map[string]bool, diffs *[]string) {
	if jsonType(got) != jsonType(want) {
		*diffs = append(*diffs, fmt.Sprintf("%s: %s, original %s", orRoot(path), jsonType(got), jsonType(want)))
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				*diffs = append(*diffs, fmt.Sprintf("%s: missing", join(path, k)))
				continue
			}
			compareShape(gv, wv, join(path, k), allowed, diffs)
		}
		for k := range g {
			if _, ok := w[k]; !ok && !allowed[join(path, k)] {
				*diffs = append(*diffs, fmt.Sprintf("%s: not in the original", join(path, k)))
			}
		}
	case []any:
		g := got.([]any)
		if len(w) > 0 && len(g) > 0 {
			compareShape(g[0], w[0], path+"[]", allowed, diffs)
		}
	}
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func orRoot(p string) string {
	if p == "" {
		return "(root)"
	}
	return p
}

// What golden normalises are the values random by design, and only those: ids (random process bytes
// and a counter started at random), uuids, and tokens (signed over ids, on the token issuer's own
// clock). Dates and elapsed times are not normalised: the server and its store share a frozen
// clock (testEnv.clock), so they are the same from run to run.
var (
	reID         = regexp.MustCompile(`"[0-9a-f]{24}"`)
	reEmbeddedID = regexp.MustCompile(`-[0-9a-f]{24}-`)
	reHexUUID    = regexp.MustCompile(`-[0-9a-f]{32}"`)
	reJWT        = regexp.MustCompile(`JWT [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`)
	reUUID       = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	reBotID      = regexp.MustCompile(`"bot_[0-9a-f]{24}"`)
)

// golden compares a response body, with the values random by design normalised (ids, uuids,
// tokens), against testdata/golden/<name>.json; -update rewrites it.
func golden(t *testing.T, name string, r *resp) {
	t.Helper()
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("%s: body is not JSON: %s", name, r.body)
	}
	pretty, _ := json.MarshalIndent(v, "", "  ")
	s := string(pretty)
	s = reID.ReplaceAllString(s, `"<id>"`)
	s = reBotID.ReplaceAllString(s, `"bot_<id>"`)
	s = reEmbeddedID.ReplaceAllString(s, `-<id>-`)
	s = reHexUUID.ReplaceAllString(s, `-<uuid>"`)
	s = reJWT.ReplaceAllString(s, `JWT <token>`)
	s = reUUID.ReplaceAllString(s, `<uuid>`)
	s = fmt.Sprintf("%d\n%s\n", r.status, s)
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v (run go test ./internal/api -update to create it)", name, err)
	}
	if string(want) != s {
		t.Fatalf("%s: response differs from the golden file %s (rerun with -update if intended):\n%s", name, path, s)
	}
}
