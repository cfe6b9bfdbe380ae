//go:build unix

package testenv

import (
	"syscall"
	"time"
)

// ProcessCPU is the CPU time the process has used, in user and system
// mode, on every thread (the garbage collector's too), for benchmarks that
// report it per operation: on a shared machine it is steadier than
// wall-clock time, which counts the time other processes run.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
