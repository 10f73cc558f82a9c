package tokens

import (
	"container/heap"
	"time"
)

// expiring is a map whose entries end at a time of their own, with a
// min-heap on that time so purging the ended ones costs O(log n) each:
// every entry is pushed and popped once, so purge is amortised over the
// inserts. It is not safe for concurrent use; its owner locks.
type expiring[V any] struct {
	items map[string]*entry[V]
	order byUntil[V] // a min-heap of the same entries
}

type entry[V any] struct {
	key   string
	value V
	until time.Time
	index int // position in order
}

func newExpiring[V any]() expiring[V] {
	return expiring[V]{items: map[string]*entry[V]{}}
}

func (e *expiring[V]) len() int { return len(e.items) }

func (e *expiring[V]) get(key string) (V, bool) {
	it, ok := e.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	return it.value, true
}

// put adds key, or replaces its value and end.
func (e *expiring[V]) put(key string, value V, until time.Time) {
	if it, ok := e.items[key]; ok {
		it.value, it.until = value, until
		heap.Fix(&e.order, it.index)
		return
	}
	it := &entry[V]{key: key, value: value, until: until}
	e.items[key] = it
	heap.Push(&e.order, it)
}

func (e *expiring[V]) remove(key string) {
	if it, ok := e.items[key]; ok {
		heap.Remove(&e.order, it.index)
		delete(e.items, key)
	}
}

// purge drops the entries whose end is at or before now.
func (e *expiring[V]) purge(now time.Time) {
	for len(e.order) > 0 && !e.order[0].until.After(now) {
		it := heap.Pop(&e.order).(*entry[V])
		delete(e.items, it.key)
	}
}

// byUntil implements heap.Interface; use it through container/heap only.
type byUntil[V any] []*entry[V]

func (h byUntil[V]) Len() int           { return len(h) }
func (h byUntil[V]) Less(i, j int) bool { return h[i].until.Before(h[j].until) }
func (h byUntil[V]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *byUntil[V]) Push(x any) {
	it := x.(*entry[V])
	it.index = len(*h)
	*h = append(*h, it)
}
func (h *byUntil[V]) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return it
}
