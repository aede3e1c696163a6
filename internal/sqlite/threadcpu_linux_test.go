package sqlite_test

import "syscall"

// threadCPU is the CPU time the calling thread has used, in nanoseconds (-1 where unknown). A
// benchmark locked to its thread reads the work of its own calls with it, which a machine shared
// with other work does not inflate as it does the elapsed time.
func threadCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
