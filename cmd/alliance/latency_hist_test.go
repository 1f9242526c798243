package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestLatencyHist checks the histogram's quantiles against the exact ones
// of the same durations: within its 1% bucket width, the maximum exact.
func TestLatencyHist(t *testing.T) {
	var h latencyHist
	if h.quantile(0.5) != 0 {
		t.Fatal("empty histogram: want 0")
	}
	var all []time.Duration
	for range 100_000 {
		d := time.Duration(rand.ExpFloat64() * float64(3*time.Millisecond))
		all = append(all, d)
		h.add(d)
	}
	h.add(0)
	h.add(10 * time.Minute) // beyond the last bucket
	all = append(all, 0, 10*time.Minute)
	slices.Sort(all)
	for _, p := range []float64{0.01, 0.5, 0.9, 0.99, 0.999} {
		exact, got := percentile(all, p), h.quantile(p)
		if got < exact || float64(got) > float64(exact)*1.011+float64(time.Microsecond) {
			t.Errorf("p%g: got %v, exact %v", p*100, got, exact)
		}
	}
	if got := h.quantile(1); got != 10*time.Minute {
		t.Errorf("max: got %v, want 10m", got)
	}
}
