package jwt

import (
	"fmt"
	"testing"
)

func TestCacheIsBounded(t *testing.T) {
	c := newCache(3)
	for i := range 10 {
		c.put(fmt.Sprint(i), &verified{})
	}
	if len(c.items) != 3 {
		t.Fatalf("%d entries, want 3", len(c.items))
	}
	v, _ := c.get(c.anyKey())
	c.remove(v)
	if len(c.items) != 2 {
		t.Fatalf("after remove: %d entries", len(c.items))
	}
}

func (c *cache) anyKey() string {
	for k := range c.items {
		return k
	}
	return ""
}
