//go:build unix

package main

import (
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// maintenanceSwitch is the part of api.Server that SIGUSR1 drives.
type maintenanceSwitch interface {
	Maintenance() bool
	SetMaintenance(bool)
}

// toggleMaintenanceOnSignal lets an operator switch maintenance mode with SIGUSR1, without a restart
// and without an HTTP endpoint that would need its own credentials. It returns a stop function.
func toggleMaintenanceOnSignal(m maintenanceSwitch, log *slog.Logger) func() {
	sig := make(chan os.Signal, 1)
	done, exited := make(chan struct{}), make(chan struct{})
	signal.Notify(sig, syscall.SIGUSR1)
	go func() {
		defer close(exited)
		for {
			select {
			case <-sig:
				on := !m.Maintenance()
				m.SetMaintenance(on)
				log.Warn("maintenance mode switched by SIGUSR1", "on", on)
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(sig); close(done); <-exited }
}
