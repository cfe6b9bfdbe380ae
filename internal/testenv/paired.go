package testenv

import (
	"slices"
	"testing"
	"time"
)

// PairedRatio times x and y side by side for benchmarks that compare two
// handlers on a shared machine: batches of batch calls to x and to y
// alternate (and which goes first alternates too), and the median of x's
// batch time over y's is reported as the metric "ratio" (1.10: x is 10%
// dearer). Load from other processes falls on both alike, which two
// separate benchmarks cannot ensure. ns/op is the time of one pair of
// batches.
func PairedRatio(b *testing.B, batch int, x, y func()) {
	run := func(f func()) time.Duration {
		start := time.Now()
		for range batch {
			f()
		}
		return time.Since(start)
	}
	var ratios []float64
	for i := 0; b.Loop(); i++ {
		var tx, ty time.Duration
		if i%2 == 0 {
			tx, ty = run(x), run(y)
		} else {
			ty, tx = run(y), run(x)
		}
		ratios = append(ratios, float64(tx)/float64(ty))
	}
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "ratio")
}
