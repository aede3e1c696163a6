// Package storecache keeps the lookups every authenticated request makes (its project, the user of
// its token or Basic credentials, and the caller's membership) in memory for a moment, in front of a
// tiledesk.Store. They cost three queries per request otherwise, more than the request's own work.
//
// Writes that go through this process drop the entries they change at once. Writes made by another
// process sharing the database (several servers on one PostgreSQL) are seen when the entry expires:
// TTL bounds how long a revoked membership or a deleted project can still be used there. Only found
// objects are kept, so a new membership or project is visible immediately everywhere.
//
// Never back in time: each table counts its invalidations (a generation), and a lookup keeps what
// it read only when no invalidation came between the start of its read and its put, so a read
// that raced a local write cannot put the old value back.
//
// Entries are shared, read-only: an answer is a copy of the entry's struct, whose fields are the
// caller's to set, but its maps and slices (a project's settings, up to 512 KiB of JSON) are the
// entry's, and callers only read them. Copying them on every request cost more than the request.
// A checked store (NewChecked) compares every entry with a deep copy taken when it was kept, so
// that a test suite run against one proves that no caller changes what it got.
package storecache

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// Store is a tiledesk.Store whose identity lookups are cached.
type Store struct {
	tiledesk.Store
	ttl time.Duration
	now func() time.Time

	projects    *table[*tiledesk.Project]     // by project id
	usersByID   *table[*tiledesk.User]        // by user id
	usersByMail *table[*tiledesk.User]        // by lower-cased email
	members     *table[*tiledesk.ProjectUser] // by project id + "\x00" + user id or uuid

	changed *changes // in a checked store: the entries found changed; nil otherwise
}

var _ tiledesk.Store = (*Store)(nil)

// maxEntries bounds each table; past it, the table is emptied (it is only a cache).
const maxEntries = 100_000

// New wraps s. A ttl of zero or less disables caching.
func New(s tiledesk.Store, ttl time.Duration) *Store {
	return &Store{Store: s, ttl: ttl, now: time.Now, projects: newTable[*tiledesk.Project](),
		usersByID: newTable[*tiledesk.User](), usersByMail: newTable[*tiledesk.User](),
		members: newTable[*tiledesk.ProjectUser]()}
}

// NewChecked is New for tests: every entry is compared with a deep copy taken when it was kept,
// whenever it is read, replaced or dropped, and by Verify. Checking costs a deep copy per miss and
// a deep comparison per hit.
func NewChecked(s tiledesk.Store, ttl time.Duration) *Store {
	c := New(s, ttl)
	c.changed = &changes{found: map[string]bool{}}
	c.projects.check(c.changed, "project", cloneProject)
	c.usersByID.check(c.changed, "user", cloneUser)
	c.usersByMail.check(c.changed, "user by email", cloneUser)
	c.members.check(c.changed, "membership", cloneProjectUser)
	return c
}

// Verify checks every entry kept, and returns an error naming each entry (kind and key) that was
// found changed since it was kept, now or earlier; nil when none was, or the store is not checked.
func (s *Store) Verify() error {
	if s.changed == nil {
		return nil
	}
	s.projects.verifyAll()
	s.usersByID.verifyAll()
	s.usersByMail.verifyAll()
	s.members.verifyAll()
	s.changed.mu.Lock()
	defer s.changed.mu.Unlock()
	if len(s.changed.found) == 0 {
		return nil
	}
	return fmt.Errorf("storecache: callers changed what they got: %s",
		strings.Join(slices.Sorted(maps.Keys(s.changed.found)), "; "))
}

// Unwrap returns the store underneath, for what only it offers (pool statistics).
func (s *Store) Unwrap() tiledesk.Store { return s.Store }

// SetClock replaces the clock, for tests.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

type entry[T any] struct {
	v        T
	expires  time.Time
	pristine T // in a checked store, a deep copy of v as it was kept
}

// table is one kind of entry. gen counts the table's invalidations: a lookup keeps what it read
// only if no invalidation happened since it began, so that a read that started before a local
// write never puts back what the write changed (the write's drop came between the read and its
// put, and would otherwise be undone for a whole TTL).
type table[T any] struct {
	mu  sync.RWMutex
	m   map[string]entry[T]
	gen uint64

	// In a checked store: deep copies v for its entry's pristine, and changed collects the
	// entries found different from theirs.
	deep    func(T) T
	kind    string
	changed *changes
}

type changes struct {
	mu    sync.Mutex
	found map[string]bool
}

func (t *table[T]) check(c *changes, kind string, deep func(T) T) {
	t.changed, t.kind, t.deep = c, kind, deep
}

// verify notes e as changed when it differs from its pristine copy. Called with t.mu held.
func (t *table[T]) verify(key string, e entry[T]) {
	if t.deep == nil || reflect.DeepEqual(e.v, e.pristine) {
		return
	}
	t.changed.mu.Lock()
	t.changed.found[fmt.Sprintf("%s %q", t.kind, key)] = true
	t.changed.mu.Unlock()
}

func (t *table[T]) verifyAll() {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for k, e := range t.m {
		t.verify(k, e)
	}
}

func newTable[T any]() *table[T] { return &table[T]{m: map[string]entry[T]{}} }

func (t *table[T]) get(key string, now time.Time) (T, bool) {
	t.mu.RLock()
	e, ok := t.m[key]
	if ok {
		t.verify(key, e)
	}
	t.mu.RUnlock()
	if !ok || now.After(e.expires) {
		var zero T
		return zero, false
	}
	return e.v, true
}

// generation is the count of invalidations, to read before a lookup's load.
func (t *table[T]) generation() uint64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.gen
}

// put keeps v unless the table was invalidated since generation gen was read.
func (t *table[T]) put(key string, v T, expires time.Time, gen uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.gen != gen {
		return
	}
	if len(t.m) >= maxEntries {
		t.clearLocked()
	}
	if old, ok := t.m[key]; ok {
		t.verify(key, old)
	}
	e := entry[T]{v: v, expires: expires}
	if t.deep != nil {
		e.pristine = t.deep(v)
	}
	t.m[key] = e
}

func (t *table[T]) drop(key string) {
	t.mu.Lock()
	t.gen++
	if e, ok := t.m[key]; ok {
		t.verify(key, e)
	}
	delete(t.m, key)
	t.mu.Unlock()
}

// dropPrefix drops the keys that start with prefix (the memberships of one project).
func (t *table[T]) dropPrefix(prefix string) {
	t.mu.Lock()
	t.gen++
	for k, e := range t.m {
		if strings.HasPrefix(k, prefix) {
			t.verify(k, e)
			delete(t.m, k)
		}
	}
	t.mu.Unlock()
}

func (t *table[T]) clear() {
	t.mu.Lock()
	t.gen++
	t.clearLocked()
	t.mu.Unlock()
}

func (t *table[T]) clearLocked() {
	if t.deep != nil {
		for k, e := range t.m {
			t.verify(k, e)
		}
	}
	t.m = map[string]entry[T]{}
}

// cached answers from table when it can, else from load, keeping what load found unless the
// table was invalidated meanwhile. Every answer is share's copy of the entry: its fields are the
// caller's, the maps and slices in them the entry's.
func cached[T any](s *Store, t *table[*T], key string, share func(*T) *T, load func() (*T, error)) (*T, error) {
	if s.ttl <= 0 {
		return load()
	}
	if v, ok := t.get(key, s.now()); ok {
		return share(v), nil
	}
	gen := t.generation()
	v, err := load()
	if err != nil {
		return v, err
	}
	t.put(key, v, s.now().Add(s.ttl), gen)
	return share(v), nil
}

func memberKey(projectID, who string) string { return projectID + "\x00" + who }

// FindProjectByID is cached.
func (s *Store) FindProjectByID(ctx context.Context, id string) (*tiledesk.Project, error) {
	return cached(s, s.projects, id, shareProject, func() (*tiledesk.Project, error) { return s.Store.FindProjectByID(ctx, id) })
}

// FindUserByID is cached.
func (s *Store) FindUserByID(ctx context.Context, id string) (*tiledesk.User, error) {
	return cached(s, s.usersByID, id, shareUser, func() (*tiledesk.User, error) { return s.Store.FindUserByID(ctx, id) })
}

// FindUserByEmail is cached.
func (s *Store) FindUserByEmail(ctx context.Context, email string) (*tiledesk.User, error) {
	key := tiledesk.EmailKey(email)
	return cached(s, s.usersByMail, key, shareUser, func() (*tiledesk.User, error) { return s.Store.FindUserByEmail(ctx, email) })
}

// FindMember is cached; the exact FindProjectUserBy* lookups are not (their counters move with every
// conversation).
func (s *Store) FindMember(ctx context.Context, projectID, who string, guest bool) (*tiledesk.ProjectUser, error) {
	key := memberKey(projectID, who)
	if guest {
		key += "\x00guest" // a uuid and a user id are looked up in different columns
	}
	return cached(s, s.members, key, shareProjectUser, func() (*tiledesk.ProjectUser, error) {
		return s.Store.FindMember(ctx, projectID, who, guest)
	})
}

// UpdateProject drops the project's entry.
func (s *Store) UpdateProject(ctx context.Context, id string, upd tiledesk.ProjectUpdate) (*tiledesk.Project, error) {
	defer s.projects.drop(id)
	return s.Store.UpdateProject(ctx, id, upd)
}

// DeleteProject drops the project's entry and its memberships.
func (s *Store) DeleteProject(ctx context.Context, id string) (*tiledesk.Project, error) {
	defer s.projects.drop(id)
	defer s.members.dropPrefix(memberKey(id, ""))
	return s.Store.DeleteProject(ctx, id)
}

// UpdateUser drops the user's entries.
func (s *Store) UpdateUser(ctx context.Context, id string, upd tiledesk.UserUpdate) (*tiledesk.User, error) {
	defer s.dropUser()
	return s.Store.UpdateUser(ctx, id, upd)
}

// SetUserPassword drops the user's entries.
func (s *Store) SetUserPassword(ctx context.Context, id, oldHash, newHash string) error {
	defer s.dropUser()
	return s.Store.SetUserPassword(ctx, id, oldHash, newHash)
}

// VerifyUserEmail drops the user's entries; the memberships it may create are new, so nothing
// cached shows their absence.
func (s *Store) VerifyUserEmail(ctx context.Context, id, email string) (*tiledesk.User, error) {
	defer s.dropUser()
	return s.Store.VerifyUserEmail(ctx, id, email)
}

// DeleteUser drops the user's entries, and every membership entry: its memberships, in any
// project, are disabled with it.
func (s *Store) DeleteUser(ctx context.Context, id string) (*tiledesk.User, error) {
	defer s.members.clear()
	defer s.dropUser()
	return s.Store.DeleteUser(ctx, id)
}

// dropUser empties both user tables: user writes are rare, and the email of an id is not at hand.
func (s *Store) dropUser() {
	s.usersByID.clear()
	s.usersByMail.clear()
}

// UpdateProjectUser drops the membership's entry.
func (s *Store) UpdateProjectUser(ctx context.Context, projectID, id string, upd tiledesk.ProjectUserUpdate) (*tiledesk.ProjectUser, error) {
	defer s.members.dropPrefix(memberKey(projectID, ""))
	return s.Store.UpdateProjectUser(ctx, projectID, id, upd)
}

// SetChatPresence drops the membership entries of the projects whose memberships it changed.
func (s *Store) SetChatPresence(ctx context.Context, userID, process string, online bool, at, freshAfter time.Time) ([]*tiledesk.ProjectUser, error) {
	changed, err := s.Store.SetChatPresence(ctx, userID, process, online, at, freshAfter)
	for _, pu := range changed {
		s.members.dropPrefix(memberKey(pu.ProjectID, ""))
	}
	return changed, err
}

// DeleteProjectUser drops the project's membership entries.
func (s *Store) DeleteProjectUser(ctx context.Context, projectID, id string) error {
	defer s.members.dropPrefix(memberKey(projectID, ""))
	return s.Store.DeleteProjectUser(ctx, projectID, id)
}
