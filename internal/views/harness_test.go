package views

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/pgtest"
	"github.com/tiledesk-go/tiledesk/internal/postgres"
	"github.com/tiledesk-go/tiledesk/internal/sqlite"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
)

// engines are the storage engines openStore opens.
var engines = []string{"sqlite", "postgres"}

// forEachEngine runs test once per engine, as a subtest named after it; PostgreSQL's skips when no
// server is configured (pgtest.BaseURL).
func forEachEngine(t *testing.T, test func(t *testing.T, engine string)) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) { test(t, engine) })
	}
}

// openStore opens a migrated store on engine: "sqlite" (a file of its own) or "postgres" (a schema
// of its own on TILEDESK_TEST_POSTGRES's server).
func openStore(t *testing.T, engine string) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	var st *sqlstore.Store
	var err error
	switch engine {
	case "sqlite":
		st, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "views.db"), sqlite.Options{Synchronous: "OFF"})
	case "postgres":
		st, err = postgres.Open(ctx, pgtest.FreshSchema(t), postgres.Options{})
	default:
		t.Fatalf("no engine %q", engine)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	return st
}

// testLead is a lead as the test wire renders it.
type testLead struct {
	ID       string `json:"_id"`
	Fullname string `json:"fullname"`
	Email    string `json:"email,omitempty"`
}

// testPage is a page of leads as the test wire renders it.
type testPage struct {
	Count int        `json:"count"`
	More  bool       `json:"more"`
	Leads []testLead `json:"leads"`
}

// testWire renders leads and their lists (the wire of conversations is the API's to test).
var testWire = Wire{
	Lead: func(buf []byte, l *tiledesk.Lead) ([]byte, error) {
		b, err := json.Marshal(testLead{ID: l.ID, Fullname: l.Fullname, Email: l.Email})
		return append(buf, b...), err
	},
	List: func(buf []byte, name string, limit, count int, items [][]byte, next *tiledesk.Cursor) []byte {
		buf = fmt.Appendf(buf, `{"count":%d,"more":%v,%q:[`, count, next != nil, name)
		buf = append(buf, bytes.Join(items, []byte(","))...)
		return append(buf, "]}"...)
	},
	Tag: func(body []byte) string { return fmt.Sprintf(`"%x"`, sha256.Sum256(body)) },
}

// newTestViews returns views over st (reads counted by counter, when given) that keep up to 64 MiB.
func newTestViews(t *testing.T, st *sqlstore.Store, counter *readCounter) *Views {
	var store tiledesk.Store = st
	var fresh tiledesk.ViewStore = st
	if counter != nil {
		counter.Store, counter.ViewStore = st, st
		store, fresh = counter, counter
	}
	v := New(Config{Store: store, ViewStore: fresh, Wire: testWire, CacheBytes: 64 << 20,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(v.Close)
	return v
}

// readCounter counts the reads of leads the views make: pages of versions, and leads by id.
type readCounter struct {
	tiledesk.Store
	tiledesk.ViewStore
	pages, byIDs atomic.Int32
}

func (c *readCounter) FindLeadsByIDs(ctx context.Context, projectID string, ids []string) (map[string]*tiledesk.Lead, error) {
	c.byIDs.Add(1)
	return c.Store.FindLeadsByIDs(ctx, projectID, ids)
}

func (c *readCounter) FindLeadVersions(ctx context.Context, projectID string, f tiledesk.LeadFilter) (*tiledesk.VersionPage, error) {
	c.pages.Add(1)
	return c.ViewStore.FindLeadVersions(ctx, projectID, f)
}

// page reads a page of leads through the views and decodes it.
func page(t *testing.T, v *Views, projectID string, f tiledesk.LeadFilter) (testPage, []byte) {
	t.Helper()
	a, err := v.Leads.Page(context.Background(), projectID, f, f.Limit, nil)
	if err != nil {
		t.Fatal(err)
	}
	var p testPage
	if err := json.Unmarshal(a.Body, &p); err != nil {
		t.Fatalf("%v: %s", err, a.Body)
	}
	return p, a.Body
}

// createLeads creates n leads named Lead 0... with emails lead0@example.com... through the store.
func createLeads(t *testing.T, st tiledesk.Store, p *tiledesk.Project, n int) []*tiledesk.Lead {
	t.Helper()
	var out []*tiledesk.Lead
	for i := range n {
		l := &tiledesk.Lead{ID: tiledesk.NewID(), ProjectID: p.ID, LeadID: tiledesk.NewID(), Fullname: fmt.Sprint("Lead ", i),
			Email: fmt.Sprintf("lead%d@example.com", i), Tags: []string{}, Status: tiledesk.LeadActive, CreatedBy: p.CreatedBy}
		stored, _, err := st.CreateLead(context.Background(), l, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, stored)
	}
	return out
}

// head is the first page of the default list as the API asks for it.
func head(limit int) tiledesk.LeadFilter {
	return tiledesk.LeadFilter{Limit: limit, Sort: tiledesk.LeadSortCreatedAt, Desc: true}
}

// deep is the second page of the default list, after a head of limit leads.
func deep(t *testing.T, fresh tiledesk.ViewStore, projectID string, limit int) tiledesk.LeadFilter {
	t.Helper()
	first, err := fresh.FindLeadVersions(context.Background(), projectID, head(limit))
	if err != nil || first.Next == nil {
		t.Fatalf("the head of the list: %v, %v", first, err)
	}
	f := head(limit)
	f.After = first.Next
	return f
}
