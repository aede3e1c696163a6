package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Where many processes write one database, the clocks a view checks its kept answers against must
// be read from the database for every answer: any process may have moved them. Read one query per
// answer, that is a round trip and a query for each, most of what a kept answer costs. Concurrent
// callers share rounds instead: a caller joins a round that has not started yet, so that what it
// gets was read after it asked, and holds every change committed before the call, as if it had read
// alone. One query reads every project of a round.

const (
	// maxRoundProjects bounds one round's query; callers of more projects wait for the next round.
	maxRoundProjects = 128
	// maxRunningRounds is how many rounds read at once. With one, the callers arriving while it
	// reads share the next: a caller waits at most for the round running and its own, and a
	// process whose clients are few still shares its reads (a second round at once cost more
	// where several processes split the clients than the wait it saved).
	maxRunningRounds = 1
	// clockRoundTimeout bounds a round, which no single caller's context may cancel for the others.
	clockRoundTimeout = 10 * time.Second
)

// clockRounds reads projects' clocks in shared rounds (see above).
type clockRounds struct {
	read    func(ctx context.Context, projectIDs []string) (map[string]clockRow, error)
	mu      sync.Mutex
	pending []*clockRound // rounds not started yet, oldest first; callers join the last
	running int
}

// clockRound is one query's projects, and then its answers.
type clockRound struct {
	projects []string
	has      map[string]bool
	done     chan struct{}
	rows     map[string]clockRow
	err      error
}

func newClockRounds(read func(ctx context.Context, projectIDs []string) (map[string]clockRow, error)) *clockRounds {
	return &clockRounds{read: read}
}

// get returns the project's clocks as a round started after the call read them.
func (c *clockRounds) get(ctx context.Context, projectID string) (clockRow, error) {
	c.mu.Lock()
	r := c.join(projectID)
	start := c.startable()
	c.mu.Unlock()
	if start == r {
		c.run(r)
	} else if start != nil {
		go c.run(start)
	}
	select {
	case <-r.done:
		if r.err != nil {
			return clockRow{}, r.err
		}
		return r.rows[projectID], nil
	case <-ctx.Done():
		return clockRow{}, ctx.Err()
	}
}

// join adds the project to a round not started yet. Called with c.mu held.
func (c *clockRounds) join(projectID string) *clockRound {
	if n := len(c.pending); n > 0 {
		last := c.pending[n-1]
		if last.has[projectID] {
			return last
		}
		if len(last.projects) < maxRoundProjects {
			last.projects = append(last.projects, projectID)
			last.has[projectID] = true
			return last
		}
	}
	r := &clockRound{projects: []string{projectID}, has: map[string]bool{projectID: true}, done: make(chan struct{})}
	c.pending = append(c.pending, r)
	return r
}

// startable takes the oldest pending round off the queue when fewer than maxRunningRounds read,
// counting it as running; nil otherwise. Called with c.mu held.
func (c *clockRounds) startable() *clockRound {
	if len(c.pending) == 0 || c.running >= maxRunningRounds {
		return nil
	}
	r := c.pending[0]
	c.pending[0] = nil
	c.pending = c.pending[1:]
	c.running++
	return r
}

// run reads the round, answers its callers, and starts the next round waiting, if any.
func (c *clockRounds) run(r *clockRound) {
	ctx, cancel := context.WithTimeout(context.Background(), clockRoundTimeout)
	r.rows, r.err = c.read(ctx, r.projects)
	cancel()
	close(r.done)
	c.mu.Lock()
	c.running--
	next := c.startable()
	c.mu.Unlock()
	if next != nil {
		go c.run(next)
	}
}

// readClocksOf reads the clocks of several projects in one query (see readClocks); a project with
// no counters yet is missing from the answer, its clocks zero. The list of placeholders is padded
// to a power of two by repeating the last project, so that few statements are ever prepared.
func (s *Store) readClocksOf(ctx context.Context, projectIDs []string) (map[string]clockRow, error) {
	n := 1
	for n < len(projectIDs) {
		n *= 2
	}
	args := make([]any, n)
	marks := make([]string, n)
	for i := range args {
		args[i] = projectIDs[min(i, len(projectIDs)-1)]
		marks[i] = fmt.Sprintf("$%d", i+1)
	}
	rows, err := s.query(ctx, `SELECT id_project, COALESCE(SUM(requests_clock), 0), COALESCE(SUM(leads_clock), 0),
		COALESCE(SUM(members_clock), 0), `+s.dialect.UsersClock()+` FROM project_counters
		WHERE id_project IN (`+strings.Join(marks, ", ")+`) GROUP BY id_project`, args...)
	if err != nil {
		return nil, fmt.Errorf("clocks: %w", err)
	}
	defer rows.Close()
	out := make(map[string]clockRow, len(projectIDs))
	for rows.Next() {
		var id string
		var c clockRow
		if err := rows.Scan(&id, &c.population.Requests, &c.population.Leads, &c.population.Members, &c.population.Users); err != nil {
			return nil, fmt.Errorf("clocks: %w", err)
		}
		c.leads = c.population.Leads
		if !s.dialect.PopulationClock() {
			c.population = clockRow{}.population
		}
		out[id] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clocks: %w", err)
	}
	return out, nil
}
