package main

import (
	"flag"
	"fmt"
	"runtime/debug"
)

// memoryFlags registers the Go runtime's soft memory limit. The server collects garbage rarely
// (defaultGCPercent): its heap may grow to five times the live data between collections, which is
// cheap in CPU but, with ten thousand websockets held, several hundred MB. A limit makes the
// collector run sooner as the heap nears it, trading CPU for a bounded footprint (a container's
// memory, for example). GOMEMLIMIT, read by the runtime itself, applies when the flag is not set.
func memoryFlags(fs *flag.FlagSet, env *envDefaults, cfg *config) func(*config) error {
	fs.IntVar(&cfg.memoryLimitMB, "memory-limit-mb", env.integer("TILEDESK_MEMORY_LIMIT_MB", 0),
		"soft limit of the Go heap and runtime in MiB: garbage is collected more often near it; 0 leaves it to GOMEMLIMIT (TILEDESK_MEMORY_LIMIT_MB)")
	return func(cfg *config) error {
		if cfg.memoryLimitMB < 0 || cfg.memoryLimitMB > 1<<24 {
			return fmt.Errorf("--memory-limit-mb: %d is not a size from 0 to 16777216 MiB", cfg.memoryLimitMB)
		}
		return nil
	}
}

// applyMemoryLimit sets the soft memory limit when one is configured.
func applyMemoryLimit(cfg *config) {
	if cfg.memoryLimitMB > 0 {
		debug.SetMemoryLimit(int64(cfg.memoryLimitMB) << 20)
	}
}
