package main

import (
	"math"
	"sync"
	"time"
)

// latencyHist counts durations in logarithmic buckets 1% wide, from 1 µs
// to about 2 minutes: a soak of hours keeps a few kilobytes per kind
// instead of every latency, so the load generator's own memory stays flat
// and does not blur the node's.
type latencyHist struct {
	mu     sync.Mutex
	counts [latencyBuckets]int64
	n      int64
	max    time.Duration
}

const (
	latencyGrowth  = 1.01
	latencyBuckets = 1900 // 1.01^1900 µs ≈ 165 s
)

var latencyLogGrowth = math.Log(latencyGrowth)

func latencyBucket(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us <= 1 {
		return 0
	}
	return min(int(math.Log(us)/latencyLogGrowth)+1, latencyBuckets-1)
}

func (h *latencyHist) add(d time.Duration) {
	h.mu.Lock()
	h.counts[latencyBucket(d)]++
	h.n++
	h.max = max(h.max, d)
	h.mu.Unlock()
}

// quantile returns the nearest-rank p-quantile, as the upper bound of its
// bucket (at most 1% above the true value); p = 1 is the exact maximum.
func (h *latencyHist) quantile(p float64) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == 0 {
		return 0
	}
	if p >= 1 {
		return h.max
	}
	rank := max(int64(math.Ceil(p*float64(h.n))), 1)
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			upper := time.Duration(math.Pow(latencyGrowth, float64(i)) * float64(time.Microsecond))
			return min(upper, h.max)
		}
	}
	return h.max
}
