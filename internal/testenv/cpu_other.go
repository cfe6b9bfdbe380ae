//go:build !unix

package testenv

import "time"

// ProcessCPU is not measured here: benchmarks leave out their CPU-time
// metric when it is 0.
func ProcessCPU() time.Duration { return 0 }
