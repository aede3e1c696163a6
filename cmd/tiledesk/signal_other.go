//go:build !unix

package main

import "log/slog"

type maintenanceSwitch interface {
	Maintenance() bool
	SetMaintenance(bool)
}

// toggleMaintenanceOnSignal does nothing where there is no SIGUSR1; --maintenance still works.
func toggleMaintenanceOnSignal(maintenanceSwitch, *slog.Logger) func() { return func() {} }
