package main

import (
	"context"
	"fmt"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/seed"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
)

// seedSettings gives the benchmark project settings of kb KiB (--project-settings-kb), which every
// request of the project looks up with its project.
func seedSettings(ctx context.Context, store *sqlstore.Store, pid string, kb int) error {
	if kb == 0 {
		return nil
	}
	if _, err := store.UpdateProject(ctx, pid, tiledesk.ProjectUpdate{Settings: seed.ProjectSettings(kb)}); err != nil {
		return fmt.Errorf("seed project settings: %w", err)
	}
	return nil
}
