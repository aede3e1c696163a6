package storecache_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/sqlite"
	"github.com/tiledesk-go/tiledesk/internal/storecache"
	"github.com/tiledesk-go/tiledesk/internal/storetest"
)

func open(t *testing.T) tiledesk.Store { t.Helper(); return openOn(t, nil) }

// openOn is open with the store on the clock now.
func openOn(t *testing.T, now func() time.Time) tiledesk.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), sqlite.Options{Synchronous: "OFF", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The cached store is still a Store: it passes the whole conformance suite, which changes nothing
// it got from the cache.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) tiledesk.Store {
		c := storecache.NewChecked(openOn(t, now), time.Minute)
		t.Cleanup(func() {
			if err := c.Verify(); err != nil {
				t.Error(err)
			}
		})
		return c
	})
}

type fixture struct {
	raw, cached tiledesk.Store
	clock       *time.Time
	user        *tiledesk.User
	project     *tiledesk.Project
	owner       *tiledesk.ProjectUser
	agent       *tiledesk.ProjectUser
}

func setup(t *testing.T) *fixture {
	raw := open(t)
	return setupOn(t, raw, storecache.New(raw, 2*time.Second))
}

// setupOn is setup with c, a cache in front of raw.
func setupOn(t *testing.T, raw tiledesk.Store, c *storecache.Store) *fixture {
	ctx := context.Background()
	now := time.Now()
	c.SetClock(func() time.Time { return now })
	f := &fixture{raw: raw, cached: c, clock: &now}
	ts := tiledesk.Now()
	f.user = &tiledesk.User{ID: tiledesk.NewID(), Email: "a@example.com", PasswordHash: "h", Firstname: "A", Status: 100, CreatedAt: ts, UpdatedAt: ts}
	if err := c.CreateUser(ctx, f.user); err != nil {
		t.Fatal(err)
	}
	f.project = tiledesk.NewProject("P", f.user.ID, ts)
	f.owner = tiledesk.NewProjectUser(f.project.ID, tiledesk.RoleOwner, f.user.ID, ts)
	f.owner.UserID = f.user.ID
	if err := c.CreateProject(ctx, f.project, f.owner, tiledesk.NewDefaultDepartment(f.project.ID, f.user.ID, ts)); err != nil {
		t.Fatal(err)
	}
	agent := &tiledesk.User{ID: tiledesk.NewID(), Email: "b@example.com", PasswordHash: "h", Status: 100, CreatedAt: ts, UpdatedAt: ts}
	if err := c.CreateUser(ctx, agent); err != nil {
		t.Fatal(err)
	}
	f.agent = tiledesk.NewProjectUser(f.project.ID, tiledesk.RoleAgent, f.user.ID, ts)
	f.agent.UserID = agent.ID
	if err := c.CreateProjectUser(ctx, f.agent); err != nil {
		t.Fatal(err)
	}
	return f
}

// Changes made through the cache are seen at once.
func TestOwnWritesAreSeenAtOnce(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	c := f.cached
	// Warm every table.
	c.FindProjectByID(ctx, f.project.ID)
	c.FindUserByID(ctx, f.user.ID)
	c.FindUserByEmail(ctx, f.user.Email)
	c.FindMember(ctx, f.project.ID, f.agent.UserID, false)

	disabled := tiledesk.MemberDisabled
	if _, err := c.UpdateProjectUser(ctx, f.project.ID, f.agent.ID, tiledesk.ProjectUserUpdate{Status: &disabled}); err != nil {
		t.Fatal(err)
	}
	if pu, _ := c.FindMember(ctx, f.project.ID, f.agent.UserID, false); pu.IsActive() {
		t.Fatal("a disabled membership is still active through the cache")
	}
	if err := c.DeleteProjectUser(ctx, f.project.ID, f.agent.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.FindMember(ctx, f.project.ID, f.agent.UserID, false); tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		t.Fatalf("a deleted membership is still found: %v", err)
	}
	name := "Renamed"
	if _, err := c.UpdateUser(ctx, f.user.ID, tiledesk.UserUpdate{Firstname: &name}); err != nil {
		t.Fatal(err)
	}
	if u, _ := c.FindUserByID(ctx, f.user.ID); u.Firstname != "Renamed" {
		t.Fatal("a renamed user is stale by id")
	}
	if u, _ := c.FindUserByEmail(ctx, f.user.Email); u.Firstname != "Renamed" {
		t.Fatal("a renamed user is stale by email")
	}
	if err := c.SetUserPassword(ctx, f.user.ID, f.user.PasswordHash, "new-hash"); err != nil {
		t.Fatal(err)
	}
	if u, _ := c.FindUserByEmail(ctx, f.user.Email); u.PasswordHash != "new-hash" {
		t.Fatal("a changed password hash is stale")
	}
	pname := "New name"
	if _, err := c.UpdateProject(ctx, f.project.ID, tiledesk.ProjectUpdate{Name: &pname}); err != nil {
		t.Fatal(err)
	}
	if p, _ := c.FindProjectByID(ctx, f.project.ID); p.Name != "New name" {
		t.Fatal("a renamed project is stale")
	}
	c.FindMember(ctx, f.project.ID, f.user.ID, false)
	if _, err := c.DeleteProject(ctx, f.project.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.FindProjectByID(ctx, f.project.ID); tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
		t.Fatalf("a deleted project is still found: %v", err)
	}
}

// Changes made by another process (here: straight to the database) are seen once the entry expires,
// and not before: the TTL is the bound on staleness.
func TestOtherWritesAreSeenWithinTTL(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	if pu, _ := f.cached.FindMember(ctx, f.project.ID, f.agent.UserID, false); !pu.IsActive() {
		t.Fatal("setup: the agent is not active")
	}
	disabled := tiledesk.MemberDisabled
	if _, err := f.raw.UpdateProjectUser(ctx, f.project.ID, f.agent.ID, tiledesk.ProjectUserUpdate{Status: &disabled}); err != nil {
		t.Fatal(err)
	}
	if pu, _ := f.cached.FindMember(ctx, f.project.ID, f.agent.UserID, false); !pu.IsActive() {
		t.Fatal("the cache did not answer from memory within its TTL")
	}
	*f.clock = f.clock.Add(2*time.Second + time.Millisecond)
	if pu, _ := f.cached.FindMember(ctx, f.project.ID, f.agent.UserID, false); pu.IsActive() {
		t.Fatal("a membership disabled elsewhere is still active after the TTL")
	}
}

// Callers get copies: changing what the cache returned does not change the cache.
func TestCallersGetCopies(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	p, _ := f.cached.FindProjectByID(ctx, f.project.ID)
	p.Name = "mutated"
	if again, _ := f.cached.FindProjectByID(ctx, f.project.ID); again.Name == "mutated" {
		t.Fatal("a caller's change reached the cache")
	}
}

// TestCallersShareEntriesReadOnly: what a lookup answers, on a miss or a hit, is the caller's to
// set field by field without changing the entry; a change inside one of its maps or slices is a
// change of the entry, which a checked store reports, naming it.
func TestCallersShareEntriesReadOnly(t *testing.T) {
	ctx := context.Background()
	raw := open(t)
	f := setupOn(t, raw, storecache.NewChecked(raw, time.Minute))
	settings := map[string]any{"chat_limit_on": true, "nested": map[string]any{"k": "v"}}
	if _, err := f.cached.UpdateProject(ctx, f.project.ID, tiledesk.ProjectUpdate{Settings: settings}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cached.UpdateUser(ctx, f.user.ID, tiledesk.UserUpdate{Attributes: map[string]any{"a": []any{"x"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cached.UpdateProjectUser(ctx, f.project.ID, f.agent.ID, tiledesk.ProjectUserUpdate{Tags: []string{"t"},
		Attributes: map[string]any{"a": map[string]any{"b": 1.0}}}); err != nil {
		t.Fatal(err)
	}
	c := f.cached.(*storecache.Store)
	for round := 0; round < 2; round++ { // the first on a miss, the second on a hit
		p, _ := c.FindProjectByID(ctx, f.project.ID)
		p.Name, p.Settings = "mine", map[string]any{}
		u, _ := c.FindUserByEmail(ctx, f.user.Email)
		u.PasswordHash, u.Attributes = "", nil
		pu, _ := c.FindMember(ctx, f.project.ID, f.agent.UserID, false)
		pu.Role, pu.Tags = tiledesk.RoleOwner, nil

		p, _ = c.FindProjectByID(ctx, f.project.ID)
		u, _ = c.FindUserByEmail(ctx, f.user.Email)
		pu, _ = c.FindMember(ctx, f.project.ID, f.agent.UserID, false)
		if p.Name != "P" || p.Settings["chat_limit_on"] != true || u.PasswordHash != "h" || u.Attributes == nil ||
			pu.Role != tiledesk.RoleAgent || pu.Tags[0] != "t" {
			t.Fatalf("round %d: a caller's own fields reached the cache: %+v %+v %+v", round, p, u, pu)
		}
	}
	if err := c.Verify(); err != nil {
		t.Fatalf("fields set on the copies handed out were reported: %v", err)
	}

	for _, change := range []struct {
		entry  string
		change func()
	}{
		{`project "` + f.project.ID + `"`, func() {
			p, _ := c.FindProjectByID(ctx, f.project.ID)
			p.Settings["nested"].(map[string]any)["k"] = "mutated"
		}},
		{`user by email "a@example.com"`, func() {
			u, _ := c.FindUserByEmail(ctx, f.user.Email)
			u.Attributes["a"].([]any)[0] = "mutated"
		}},
		{`membership "` + f.project.ID + `\x00` + f.agent.UserID + `"`, func() {
			pu, _ := c.FindMember(ctx, f.project.ID, f.agent.UserID, false)
			pu.Attributes["a"].(map[string]any)["b"] = 2.0
		}},
	} {
		change.change()
		err := c.Verify()
		if err == nil || !strings.Contains(err.Error(), change.entry) {
			t.Fatalf("a change inside the %s: Verify = %v", change.entry, err)
		}
	}
}

// gatedStore holds a lookup between its database read and its return, so that a write can be
// made in between: the read then answers what was true before the write.
type gatedStore struct {
	tiledesk.Store
	loaded, release chan struct{}
}

func (g *gatedStore) hold() {
	if g.loaded != nil {
		g.loaded <- struct{}{}
		<-g.release
	}
}

func (g *gatedStore) FindProjectByID(ctx context.Context, id string) (*tiledesk.Project, error) {
	p, err := g.Store.FindProjectByID(ctx, id)
	g.hold()
	return p, err
}

func (g *gatedStore) FindUserByEmail(ctx context.Context, email string) (*tiledesk.User, error) {
	u, err := g.Store.FindUserByEmail(ctx, email)
	g.hold()
	return u, err
}

func (g *gatedStore) FindMember(ctx context.Context, projectID, who string, guest bool) (*tiledesk.ProjectUser, error) {
	pu, err := g.Store.FindMember(ctx, projectID, who, guest)
	g.hold()
	return pu, err
}

// A read that began before a write made through the cache, and ends after it, must not put back
// what it read: the next lookup sees the write, not the old value for a whole TTL.
func TestReadBeforeWriteIsNotKept(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		read  func(s tiledesk.Store, f *fixture) string
		write func(s tiledesk.Store, f *fixture) error
		want  string
	}{
		{"project", func(s tiledesk.Store, f *fixture) string {
			p, _ := s.FindProjectByID(ctx, f.project.ID)
			return p.Name
		}, func(s tiledesk.Store, f *fixture) error {
			name := "renamed"
			_, err := s.UpdateProject(ctx, f.project.ID, tiledesk.ProjectUpdate{Name: &name})
			return err
		}, "renamed"},
		{"user", func(s tiledesk.Store, f *fixture) string {
			u, _ := s.FindUserByEmail(ctx, f.user.Email)
			return u.PasswordHash
		}, func(s tiledesk.Store, f *fixture) error {
			return s.SetUserPassword(ctx, f.user.ID, f.user.PasswordHash, "new-hash")
		}, "new-hash"},
		{"membership", func(s tiledesk.Store, f *fixture) string {
			pu, _ := s.FindMember(ctx, f.project.ID, f.agent.UserID, false)
			return pu.Status
		}, func(s tiledesk.Store, f *fixture) error {
			disabled := tiledesk.MemberDisabled
			_, err := s.UpdateProjectUser(ctx, f.project.ID, f.agent.ID, tiledesk.ProjectUserUpdate{Status: &disabled})
			return err
		}, tiledesk.MemberDisabled},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := setup(t)
			gate := &gatedStore{Store: f.raw}
			cache := storecache.New(gate, time.Minute)
			gate.loaded, gate.release = make(chan struct{}), make(chan struct{})
			stale := make(chan string)
			go func() { stale <- c.read(cache, f) }()
			<-gate.loaded // the read has its answer from before the write
			gate.loaded = nil
			if err := c.write(cache, f); err != nil {
				t.Fatal(err)
			}
			close(gate.release)
			if got := <-stale; got == c.want {
				t.Fatalf("setup: the read saw the write")
			}
			if got := c.read(cache, f); got != c.want {
				t.Fatalf("after the write the cache answers %q, want %q: a read older than the write was kept", got, c.want)
			}
		})
	}
}
