package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/tiledesk-go/tiledesk"
)

// clockRow is a project's clocks as one query reads them: its lead clock and, where the engine
// keeps one (Dialect.PopulationClock), its population clock. It is zero for a project that has
// no counters yet.
type clockRow struct {
	leads      int64
	population tiledesk.PopulationClock
}

// readClocks reads the project's clocks in one query.
func (s *Store) readClocks(ctx context.Context, projectID string) (clockRow, error) {
	if !s.dialect.PopulationClock() {
		clock, err := s.readLeadClock(ctx, projectID)
		return clockRow{leads: clock}, err
	}
	var p tiledesk.PopulationClock
	err := s.queryRow(ctx, `SELECT requests_clock, leads_clock, members_clock,
		(SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'users_clock') FROM project_counters WHERE id_project = $1`, projectID).
		Scan(&p.Requests, &p.Leads, &p.Members, &p.Users)
	if errors.Is(err, sql.ErrNoRows) {
		return clockRow{}, nil
	} else if err != nil {
		return clockRow{}, fmt.Errorf("population clock: %w", err)
	}
	return clockRow{leads: p.Leads, population: p}, nil
}

// readLeadClock reads the project's leads_clock alone.
func (s *Store) readLeadClock(ctx context.Context, projectID string) (int64, error) {
	var clock int64
	err := s.queryRow(ctx, `SELECT leads_clock FROM project_counters WHERE id_project = $1`, projectID).Scan(&clock)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("lead list clock: %w", err)
	}
	return clock, nil
}

// keptClocks is readClocks where the store keeps clocks: read once per write of its own (kept).
func (s *Store) keptClocks(ctx context.Context, projectID string) (clockRow, error) {
	return kept(s, &s.clocks, projectID, func() (clockRow, error) { return s.readClocks(ctx, projectID) })
}

// LeadListClock reads the project's leads_clock, which every lead write advances in its
// transaction (leadClock) and a bulk load advances too; where the store keeps clocks, once per
// write of its own.
func (s *Store) LeadListClock(ctx context.Context, projectID string) (int64, error) {
	if s.keepsClocks() {
		c, err := s.keptClocks(ctx, projectID)
		return c.leads, err
	}
	return s.readLeadClock(ctx, projectID)
}

// Clocks: see tiledesk.ViewStore. Where the store keeps clocks (keepsClocks) it reads them once per
// write of its own, and gives its lead clock. Elsewhere it gives the population clock where the
// engine keeps one (triggers move it, whichever process writes: SQLite's schema, whose file may
// have been handed out), read on every call, and no lead clock.
func (s *Store) Clocks(ctx context.Context, projectID string) (tiledesk.Clocks, error) {
	switch {
	case s.keepsClocks():
		c, err := s.keptClocks(ctx, projectID)
		return tiledesk.Clocks{KeptLeads: c.leads, Population: c.population}, err
	case s.dialect.PopulationClock():
		c, err := s.readClocks(ctx, projectID)
		return tiledesk.Clocks{Population: c.population}, err
	}
	return tiledesk.Clocks{}, nil
}
