package app

import (
	"sync"
	"time"

	"alliance"
)

// TokenCacheTTL is how long TokenActor trusts a token it has looked up. A
// platform sending thousands of reports a second through one token then
// costs one database read every few seconds instead of one per request
// (on PostgreSQL three round trips: begin, select, commit). The price: a
// token revoked, or a user disabled, keeps working for up to this long; a
// use case that revokes tokens or disables users must
// also drop the cached entries.
const TokenCacheTTL = 5 * time.Second

// maxCachedTokens bounds the cache; past it, expired entries are dropped,
// and if none has expired, all are.
const maxCachedTokens = 10_000

// tokenCache maps the SHA-256 of a token secret to its actor.
type tokenCache struct {
	mu      sync.Mutex
	now     func() time.Time
	entries map[string]cachedToken
}

type cachedToken struct {
	actor   alliance.Actor
	expires time.Time
}

func newTokenCache(now func() time.Time) *tokenCache {
	return &tokenCache{now: now, entries: make(map[string]cachedToken)}
}

func (c *tokenCache) get(hash []byte) (alliance.Actor, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[string(hash)]
	if !ok || !c.now().Before(e.expires) {
		return alliance.Actor{}, false
	}
	return e.actor, true
}

func (c *tokenCache) put(hash []byte, actor alliance.Actor) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.entries) >= maxCachedTokens {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxCachedTokens {
			clear(c.entries)
		}
	}
	c.entries[string(hash)] = cachedToken{actor: actor, expires: now.Add(TokenCacheTTL)}
}

// drop removes the cached tokens whose actor matches, so a revocation or a
// disabled user takes effect at once in this process.
func (c *tokenCache) drop(match func(alliance.Actor) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if match(e.actor) {
			delete(c.entries, k)
		}
	}
}
