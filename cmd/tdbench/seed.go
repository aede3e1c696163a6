package main

import (
	"context"
	"fmt"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/auth"
	"github.com/tiledesk-go/tiledesk/internal/seed"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
)

// seedData creates the owner and project through the store and bulk-loads n leads.
func seedData(ctx context.Context, store *sqlstore.Store, n int) (*fixture, error) {
	f := &fixture{email: "bench.owner@example.com", password: "bench-password"}
	hash, err := auth.HashPassword(f.password, auth.BcryptCost)
	if err != nil {
		return nil, err
	}
	now := tiledesk.Now()
	owner := &tiledesk.User{ID: tiledesk.NewIDAt(now), Email: f.email, PasswordHash: hash, Firstname: "Bench",
		Lastname: "Owner", Status: tiledesk.UserActive, CreatedAt: now, UpdatedAt: now}
	if err := store.CreateUser(ctx, owner); err != nil {
		return nil, fmt.Errorf("seed owner: %w", err)
	}
	p, err := seedProject(ctx, store, "Benchmark", owner.ID)
	if err != nil {
		return nil, err
	}
	f.pid, f.ownerID = p.ID, owner.ID
	base := now.Add(-time.Duration(n+1000) * time.Millisecond)
	for i := 0; i < n; i += 10_000 {
		batch := seed.Leads(p.ID, owner.ID, i, min(10_000, n-i), base)
		if err := store.SeedLeads(ctx, batch); err != nil {
			return nil, err
		}
		for _, l := range batch {
			f.leadIDs = append(f.leadIDs, l.ID)
			f.leadMS = append(f.leadMS, l.CreatedAt.UnixMilli())
		}
	}
	if name, _ := store.Engine(); name == "postgres" {
		// A bulk load leaves PostgreSQL's statistics behind until autovacuum's next pass.
		if _, err := store.WriteDB().ExecContext(ctx, `ANALYZE`); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// seedProject creates a project owned by ownerID, with its owner membership and default department.
func seedProject(ctx context.Context, store *sqlstore.Store, name, ownerID string) (*tiledesk.Project, error) {
	now := tiledesk.Now()
	p := tiledesk.NewProject(name, ownerID, now)
	pu := tiledesk.NewProjectUser(p.ID, tiledesk.RoleOwner, ownerID, now)
	pu.UserID = ownerID
	if err := store.CreateProject(ctx, p, pu, tiledesk.NewDefaultDepartment(p.ID, ownerID, now)); err != nil {
		return nil, fmt.Errorf("seed the project %q: %w", name, err)
	}
	return p, nil
}
