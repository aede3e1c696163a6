package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// parseCPUList reads a CPU list as taskset(1) and /sys/devices/system/cpu/online write them
// ("0", "0-1", "0,2-3") into sorted, distinct CPU numbers.
func parseCPUList(s string) ([]int, error) {
	var cpus []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		first, err := strconv.Atoi(lo)
		if err != nil || first < 0 {
			return nil, fmt.Errorf("%q is not a CPU list such as 0, 0-1 or 0,2-3", s)
		}
		last := first
		if isRange {
			if last, err = strconv.Atoi(hi); err != nil || last < first {
				return nil, fmt.Errorf("%q is not a CPU list such as 0, 0-1 or 0,2-3", s)
			}
		}
		if last >= 1024 {
			return nil, fmt.Errorf("%q names a CPU above 1023", s)
		}
		for c := first; c <= last; c++ {
			cpus = append(cpus, c)
		}
	}
	slices.Sort(cpus)
	return slices.Compact(cpus), nil
}

// formatCPUList writes cpus back in the list syntax, for the command line of on-cpus.
func formatCPUList(cpus []int) string {
	parts := make([]string, len(cpus))
	for i, c := range cpus {
		parts[i] = strconv.Itoa(c)
	}
	return strings.Join(parts, ",")
}

// splitCPUs reads --cpus: "split" gives the server and its baselines the first half of the CPUs
// this process may use (the larger half when odd) and the load generator the rest; "shared" lets
// both run anywhere (nil lists); "SERVER/LOAD" names both lists. A split needs two CPUs; where
// there are fewer, or the OS cannot confine processes (allowed is empty), "split" falls back to
// shared and says so in note.
func splitCPUs(spec string, allowed []int) (server, load []int, note string, err error) {
	switch spec {
	case "shared":
		return nil, nil, "", nil
	case "split":
		if len(allowed) < 2 {
			return nil, nil, "tdbench: one CPU, or no way to confine processes: the server and the load generator share the machine", nil
		}
		half := (len(allowed) + 1) / 2
		return allowed[:half], allowed[half:], "", nil
	}
	serverList, loadList, ok := strings.Cut(spec, "/")
	if !ok {
		return nil, nil, "", fmt.Errorf(`%q is neither "split", "shared" nor SERVER/LOAD CPU lists such as 0/1 or 0-1/2-3`, spec)
	}
	if len(allowed) == 0 {
		return nil, nil, "", fmt.Errorf("CPU lists need Linux's sched_setaffinity")
	}
	if server, err = parseCPUList(serverList); err != nil {
		return nil, nil, "", fmt.Errorf("the server's CPUs: %w", err)
	}
	if load, err = parseCPUList(loadList); err != nil {
		return nil, nil, "", fmt.Errorf("the load generator's CPUs: %w", err)
	}
	for _, c := range append(slices.Clone(server), load...) {
		if !slices.Contains(allowed, c) {
			return nil, nil, "", fmt.Errorf("CPU %d is not one this process may run on (%s)", c, formatCPUList(allowed))
		}
	}
	return server, load, "", nil
}
