//go:build unix

package caddys3cors

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process has used, in user and system
// mode, on every thread (the garbage collector's too): on a shared
// machine it is steadier than wall-clock time. BenchmarkAdminPut reports
// it per operation.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
