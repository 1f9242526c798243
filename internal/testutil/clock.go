package testutil

import (
	"sync"
	"time"
)

// FixedClock is a clock that stands still until told to move; safe for
// concurrent use. Pass its Now method to store.DB.SetClock.
type FixedClock struct {
	mu sync.Mutex
	t  time.Time
}

// Epoch is a convenient start time for tests: a UTC instant with
// microseconds, the precision the databases keep.
var Epoch = time.Date(2025, time.March, 14, 15, 9, 26, 535897000, time.UTC)

// NewFixedClock returns a clock showing t.
func NewFixedClock(t time.Time) *FixedClock { return &FixedClock{t: t} }

// Now returns the clock's time.
func (c *FixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *FixedClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Advance moves the clock forward by d and returns the new time.
func (c *FixedClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}
