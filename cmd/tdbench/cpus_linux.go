package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

func cpuSet(cpus []int) *unix.CPUSet {
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	return &set
}

// pinSelf confines every thread of this process to cpus and sizes GOMAXPROCS to them. Affinity
// belongs to threads, and a thread the runtime starts later inherits its creator's, so setting it
// on each existing thread covers the process.
func pinSelf(cpus []int) error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Errorf("listing this process's threads: %w", err)
	}
	set := cpuSet(cpus)
	for _, task := range tasks {
		tid, err := strconv.Atoi(task.Name())
		if err != nil {
			continue
		}
		// A thread may exit between the listing and the call.
		if err := unix.SchedSetaffinity(tid, set); err != nil && err != unix.ESRCH {
			return fmt.Errorf("pinning thread %d to CPUs %s: %w", tid, formatCPUList(cpus), err)
		}
	}
	runtime.GOMAXPROCS(len(cpus))
	return nil
}

// execOnCPUs is "tdbench on-cpus LIST PROGRAM ARGS...": it confines its own thread to LIST and
// replaces itself with PROGRAM, which starts with that affinity on every thread it will have, so
// its runtime sizes GOMAXPROCS to LIST from the first instruction.
func execOnCPUs(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: tdbench on-cpus LIST PROGRAM [ARGS...]")
	}
	cpus, err := parseCPUList(args[0])
	if err != nil {
		return err
	}
	runtime.LockOSThread()
	if err := unix.SchedSetaffinity(0, cpuSet(cpus)); err != nil {
		return fmt.Errorf("pinning to CPUs %s: %w", args[0], err)
	}
	return syscall.Exec(args[1], args[1:], os.Environ())
}

// allowedCPUs returns the CPUs this process may run on, in order.
func allowedCPUs() []int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil
	}
	var cpus []int
	for c := 0; c < 1024 && len(cpus) < set.Count(); c++ { // a CPUSet holds CPUs 0-1023
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus
}
