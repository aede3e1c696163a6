package sqlstore

import (
	"context"
	"fmt"

	"github.com/tiledesk-go/tiledesk"
)

// The clocks are sums over the project's counter stripes (see Dialect.CounterStripe): every change
// adds one to its stripe, so a sum that reads the same twice saw the same committed changes.

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
	var stripes int
	err := s.queryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(requests_clock), 0), COALESCE(SUM(leads_clock), 0),
		COALESCE(SUM(members_clock), 0), `+s.dialect.UsersClock()+` FROM project_counters WHERE id_project = $1`, projectID).
		Scan(&stripes, &p.Requests, &p.Leads, &p.Members, &p.Users)
	if err != nil {
		return clockRow{}, fmt.Errorf("population clock: %w", err)
	}
	if stripes == 0 {
		return clockRow{}, nil
	}
	return clockRow{leads: p.Leads, population: p}, nil
}

// readLeadClock reads the project's leads_clock alone.
func (s *Store) readLeadClock(ctx context.Context, projectID string) (int64, error) {
	var clock int64
	err := s.queryRow(ctx, `SELECT COALESCE(SUM(leads_clock), 0) FROM project_counters WHERE id_project = $1`, projectID).Scan(&clock)
	if err != nil {
		return 0, fmt.Errorf("lead list clock: %w", err)
	}
	return clock, nil
}

// keptClocks is readClocks where the store keeps clocks: read once per write of its own (kept).
func (s *Store) keptClocks(ctx context.Context, projectID string) (clockRow, error) {
	return kept(s, &s.clocks, projectID, func() (clockRow, error) { return s.readClocks(ctx, projectID) })
}

// cheapClocks gives the project's clocks where the store has them for less than a statement of
// their own: kept between its own writes (keepsClocks), or from a round shared with concurrent
// callers (clockRounds, where many write). ok is false elsewhere.
func (s *Store) cheapClocks(ctx context.Context, projectID string) (c clockRow, ok bool, err error) {
	switch {
	case s.keepsClocks():
		c, err = s.keptClocks(ctx, projectID)
	case s.rounds != nil:
		c, err = s.rounds.get(ctx, projectID)
	default:
		return clockRow{}, false, nil
	}
	return c, true, err
}

// StampsInCommitOrder reports whether the stamps of a project's changes increase strictly in
// commit order (one writer: see stampChange), so that following updated_since misses nothing.
func (s *Store) StampsInCommitOrder() bool { return s.dialect.SingleWriter() }

// LeadListClock reads the project's leads_clock, which every lead write advances in its
// transaction (leadClock) and a bulk load advances too; where the store keeps clocks, once per
// write of its own.
func (s *Store) LeadListClock(ctx context.Context, projectID string) (int64, error) {
	if c, ok, err := s.cheapClocks(ctx, projectID); ok {
		return c.leads, err
	}
	return s.readLeadClock(ctx, projectID)
}

// KeptLeadClock: see tiledesk.ViewStore. Where clocks are read in rounds a caller's share of a
// round costs less than reading the lead's version, so the lead clock is given there too.
func (s *Store) KeptLeadClock(ctx context.Context, projectID string) (int64, error) {
	c, _, err := s.cheapClocks(ctx, projectID) // zero where not cheap
	return c.leads, err
}

// Clocks: see tiledesk.ViewStore. Where the store keeps clocks (keepsClocks) it reads them once per
// write of its own, and gives its lead clock; where it reads them in rounds (many writers), it
// gives them all from the caller's round. Elsewhere it gives the population clock where the
// engine keeps one (triggers move it, whichever process writes: SQLite's schema, whose file may
// have been handed out), read on every call, and no lead clock.
func (s *Store) Clocks(ctx context.Context, projectID string) (tiledesk.Clocks, error) {
	if c, ok, err := s.cheapClocks(ctx, projectID); ok {
		return tiledesk.Clocks{KeptLeads: c.leads, Population: c.population}, err
	}
	if s.dialect.PopulationClock() {
		c, err := s.readClocks(ctx, projectID)
		return tiledesk.Clocks{Population: c.population}, err
	}
	return tiledesk.Clocks{}, nil
}
