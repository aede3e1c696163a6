package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
)

// The search abuse scenario: a tenant with one conversation searches as widely as the server lets it,
// from abuseClients clients, while the benchmark project's conversations are read as in
// requests-page. It shows what one tenant's searches cost the others (the readers' p99 beside the
// plain requests-page run) and what the searches themselves cost (the abuser's p99). The search
// budget is off in every benchmark (serverFlags), so this is the worst case: an abuser with as many
// credentials as it likes.
const abuseClients = 8

// abuseFixture is the abusing tenant: a project of its own, owned by the benchmark owner.
type abuseFixture struct {
	pid string
}

// seedAbuser creates the abusing tenant's project with one conversation of ten messages.
func seedAbuser(ctx context.Context, store *sqlstore.Store, ownerID string) (*abuseFixture, error) {
	p, err := seedProject(ctx, store, "Search abuser", ownerID)
	if err != nil {
		return nil, err
	}
	visitor := tiledesk.NewProjectUser(p.ID, tiledesk.RoleGuest, "abuse-visitor", p.CreatedAt)
	visitor.UUIDUser = "abuse-visitor"
	if err := store.CreateProjectUser(ctx, visitor); err != nil {
		return nil, fmt.Errorf("seed the abusing project's visitor: %w", err)
	}
	one := &fixture{pid: p.ID, requestIDs: make([]string, 1)}
	if err := seedConversation(ctx, store, one, ownerID, visitor, 0, 10); err != nil {
		return nil, err
	}
	return &abuseFixture{pid: p.ID}, nil
}

// abusiveQueries are what the abuser sends, in turn: the widest searches the server accepts (16
// distinct words, 4 of them one letter long) on both searchable lists, and 36 one-letter words,
// which it refuses with 400 before touching the database.
var abusiveQueries = []struct {
	path, text string
	status     int
}{
	{"/requests", widestSearch, http.StatusOK},
	{"/leads", widestSearch, http.StatusOK},
	{"/requests", oneLetterWords, http.StatusBadRequest},
	{"/leads", oneLetterWords, http.StatusBadRequest},
}

var (
	widestSearch   = "a e i o ma ro gi lu an fr se pa el co ch da"
	oneLetterWords = strings.Join(strings.Split("abcdefghijklmnopqrstuvwxyz0123456789", ""), " ")
)

// abusiveSearch builds the abuser's next search in its own project.
func (f *fixture) abusiveSearch(rng *rand.Rand) (*http.Request, error) {
	q := abusiveQueries[rng.IntN(len(abusiveQueries))]
	r, err := http.NewRequest(http.MethodGet, f.api+"/"+f.abuse.pid+q.path+"?full_text="+url.QueryEscape(q.text), nil)
	if err != nil {
		return nil, err
	}
	f.jwt(r)
	return expecting(r, q.status), nil
}

// abuserPlainRead is the control for abusiveSearch: the same tenant's list, without a search.
func (f *fixture) abuserPlainRead(*rand.Rand) (*http.Request, error) {
	r, err := http.NewRequest(http.MethodGet, f.api+"/"+f.abuse.pid+"/requests", nil)
	if err == nil {
		f.jwt(r)
	}
	return r, err
}

// expectStatusKey marks a request whose expected answer is not a 2xx (see expecting).
type expectStatusKey struct{}

// expecting marks req as answered correctly by exactly status.
func expecting(req *http.Request, status int) *http.Request {
	if status/100 == 2 {
		return req
	}
	return req.WithContext(context.WithValue(req.Context(), expectStatusKey{}, status))
}

// answeredAsExpected says whether status is the answer req expects: its marked status, or any 2xx.
func answeredAsExpected(req *http.Request, status int) bool {
	if want, ok := req.Context().Value(expectStatusKey{}).(int); ok {
		return status == want
	}
	return status/100 == 2
}

// driveBeside starts a scenario's side load, with clients of its own, for the same warm-up and
// measured time as the scenario; the channel gives its result once it ends. Its CPU is not
// accounted: the scenario's own figures hold the server's CPU for both.
func driveBeside(ctx context.Context, side *sideLoad, f *fixture, clientKind string, cfg loadConfig) <-chan result {
	done := make(chan result, 1)
	if side == nil {
		return done
	}
	own := loadConfig{concurrency: side.clients, warmup: cfg.warmup, duration: cfg.duration, timeout: cfg.timeout}
	client := newClient(clientKind, side.clients, cfg.timeout)
	go func() {
		defer client.closeIdle()
		r := drive(ctx, client, side.build(f), own, 0)
		r.Scenario, r.BesideConcurrency = side.name, cfg.concurrency
		done <- r
	}()
	return done
}
