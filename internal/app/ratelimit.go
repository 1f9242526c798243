package app

import (
	"math"
	"sync"
	"time"
)

// RateLimit is a token bucket: Events per Per on average, with bursts of up
// to Burst at once.
type RateLimit struct {
	Events int
	Per    time.Duration
	Burst  int
}

// The default report rate limits. The public may send 20 reports per 10
// minutes per client, 5 at once: enough for a person, too slow for a flood.
// Token holders (platforms, partner hotlines) and logged-in users get a
// rate far above the node's measured intake, so the limit only stops a
// runaway client.
var (
	DefaultAnonymousReportLimit = RateLimit{Events: 20, Per: 10 * time.Minute, Burst: 5}
	DefaultUserReportLimit      = RateLimit{Events: 5000, Per: time.Second, Burst: 5000}
)

func (l RateLimit) valid() bool { return l.Events > 0 && l.Per > 0 && l.Burst > 0 }

// buckets holds a token bucket per key, in memory: each server process
// limits on its own.
type buckets struct {
	mu     sync.Mutex
	rate   float64 // tokens per second
	burst  float64
	now    func() time.Time
	bucket map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was computed
}

// maxBuckets bounds memory under a flood of distinct keys: past it, buckets
// that have refilled (and so hold no state worth keeping) are dropped.
const maxBuckets = 100_000

func newBuckets(l RateLimit, now func() time.Time) *buckets {
	return &buckets{
		rate:   float64(l.Events) / l.Per.Seconds(),
		burst:  float64(l.Burst),
		now:    now,
		bucket: make(map[string]*bucket),
	}
}

// take takes one token from key's bucket. Without one it returns false and
// how long until there is one.
func (b *buckets) take(key string) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	bk, ok := b.bucket[key]
	if !ok {
		if len(b.bucket) >= maxBuckets {
			b.prune(now)
		}
		bk = &bucket{tokens: b.burst, at: now}
		b.bucket[key] = bk
	} else {
		b.refill(bk, now)
	}
	if bk.tokens >= 1 {
		bk.tokens--
		return true, 0
	}
	wait := time.Duration(math.Ceil((1 - bk.tokens) / b.rate * float64(time.Second)))
	return false, max(wait, time.Millisecond)
}

func (b *buckets) refill(bk *bucket, now time.Time) {
	if d := now.Sub(bk.at); d > 0 {
		bk.tokens = min(b.burst, bk.tokens+d.Seconds()*b.rate)
		bk.at = now
	}
}

func (b *buckets) prune(now time.Time) {
	for k, bk := range b.bucket {
		b.refill(bk, now)
		if bk.tokens >= b.burst {
			delete(b.bucket, k)
		}
	}
}
