package jwt

import "sync"

// verified is a token that passed every check, as the cache keeps it.
type verified struct {
	token  string
	claims Claims
	typ    Type
	kid    string
	alg    string
}

// cache remembers verified tokens by their exact text, at most max of
// them; when full, an arbitrary one makes room (Go's map order is
// random, so a client cannot aim evictions).
type cache struct {
	max int

	mu    sync.RWMutex // guards items
	items map[string]*verified
}

func newCache(max int) *cache {
	return &cache{max: max, items: make(map[string]*verified, min(max, 1024))}
}

func (c *cache) get(token string) (*verified, bool) {
	c.mu.RLock()
	v, ok := c.items[token]
	c.mu.RUnlock()
	return v, ok
}

func (c *cache) put(token string, v *verified) {
	v.token = token
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.items) >= c.max {
		for k := range c.items {
			delete(c.items, k)
			break
		}
	}
	c.items[token] = v
}

func (c *cache) remove(v *verified) {
	c.mu.Lock()
	if c.items[v.token] == v {
		delete(c.items, v.token)
	}
	c.mu.Unlock()
}
