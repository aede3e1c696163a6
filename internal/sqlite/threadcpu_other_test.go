//go:build !linux

package sqlite_test

func threadCPU() int64 { return -1 }
