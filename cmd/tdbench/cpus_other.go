//go:build !linux

package main

import "errors"

var errNoAffinity = errors.New("confining processes to CPUs needs Linux's sched_setaffinity")

func pinSelf([]int) error       { return errNoAffinity }
func execOnCPUs([]string) error { return errNoAffinity }

// allowedCPUs is empty where processes cannot be confined to CPUs: --cpus split falls back to
// shared.
func allowedCPUs() []int { return nil }
