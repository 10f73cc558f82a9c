package events

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestHubActiveTracksSubscriptions(t *testing.T) {
	h := New(Config{})
	if h.Active() {
		t.Fatal("new hub is active, want inactive")
	}
	a, b := h.Subscribe(), h.Subscribe()
	if got := h.Subscribers(); got != 2 {
		t.Fatalf("Subscribers() = %d, want 2", got)
	}
	a.Close()
	a.Close() // idempotent
	if got := h.Subscribers(); got != 1 {
		t.Fatalf("after closing one twice: Subscribers() = %d, want 1", got)
	}
	b.Close()
	if h.Active() {
		t.Fatal("hub still active after all subscriptions closed")
	}
}

func TestSubscriptionReceivesInOrder(t *testing.T) {
	h := New(Config{})
	s := h.Subscribe()
	defer s.Close()
	for i := range 5 {
		h.Publish("request", i)
	}
	select {
	case <-s.Ready():
	case <-time.After(time.Second):
		t.Fatal("Ready not signalled after publishing")
	}
	got, dropped := s.Drain(nil)
	if dropped != 0 {
		t.Errorf("dropped = %d, want 0", dropped)
	}
	if len(got) != 5 {
		t.Fatalf("drained %d events, want 5", len(got))
	}
	for i, ev := range got {
		if ev.Data != i || ev.Seq != uint64(i+1) || ev.Type != "request" {
			t.Errorf("event %d = %+v, want data %d seq %d", i, ev, i, i+1)
		}
	}
	if again, _ := s.Drain(nil); len(again) != 0 {
		t.Errorf("second Drain returned %d events, want 0", len(again))
	}
}

func TestSlowSubscriberDropsOldest(t *testing.T) {
	tests := []struct {
		name        string
		buffer      int
		publish     int
		wantFirst   int
		wantDropped uint64
	}{
		{"fits", 4, 4, 0, 0},
		{"one over", 4, 5, 1, 1},
		{"many over", 4, 100, 96, 96},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New(Config{SubscriberBuffer: tt.buffer})
			s := h.Subscribe()
			defer s.Close()
			for i := range tt.publish {
				h.Publish("x", i)
			}
			got, dropped := s.Drain(nil)
			if dropped != tt.wantDropped {
				t.Errorf("dropped = %d, want %d", dropped, tt.wantDropped)
			}
			if h.Dropped() != tt.wantDropped {
				t.Errorf("hub Dropped() = %d, want %d", h.Dropped(), tt.wantDropped)
			}
			wantLen := min(tt.buffer, tt.publish)
			if len(got) != wantLen {
				t.Fatalf("drained %d, want %d", len(got), wantLen)
			}
			if got[0].Data != tt.wantFirst || got[len(got)-1].Data != tt.publish-1 {
				t.Errorf("drained %v..%v, want %d..%d", got[0].Data, got[len(got)-1].Data, tt.wantFirst, tt.publish-1)
			}
		})
	}
}

func TestRecentIsPerTypeNewestFirstAndBounded(t *testing.T) {
	h := New(Config{History: 3})
	for i := range 5 {
		h.Publish("request", i)
		h.Publish("metric", -i)
	}
	got := h.Recent("request", 10)
	if len(got) != 3 {
		t.Fatalf("Recent returned %d events, want 3 (the history size)", len(got))
	}
	for i, want := range []int{4, 3, 2} {
		if got[i].Data != want {
			t.Errorf("Recent[%d] = %v, want %d", i, got[i].Data, want)
		}
	}
	if got := h.Recent("request", 1); len(got) != 1 || got[0].Data != 4 {
		t.Errorf("Recent(limit 1) = %v, want [4]", got)
	}
	if got := h.Recent("unknown", 5); got == nil || len(got) != 0 {
		t.Errorf("Recent(unknown) = %#v, want empty non-nil slice", got)
	}
}

func TestClosedSubscriptionReceivesNothing(t *testing.T) {
	h := New(Config{})
	s := h.Subscribe()
	s.Close()
	h.Publish("x", 1)
	if got, _ := s.Drain(nil); len(got) != 0 {
		t.Errorf("closed subscription drained %d events, want 0", len(got))
	}
}

func TestConcurrentPublishAndSubscribe(t *testing.T) {
	h := New(Config{SubscriberBuffer: 64})
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Go(func() {
			for i := range 500 {
				h.Publish("x", fmt.Sprint(p, i))
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			for range 50 {
				s := h.Subscribe()
				s.Drain(nil)
				s.Close()
			}
		})
	}
	wg.Wait()
	if h.Active() {
		t.Fatal("hub active after every subscription closed")
	}
}

func BenchmarkPublishInactive(b *testing.B) {
	h := New(Config{})
	b.ReportAllocs()
	for b.Loop() {
		if h.Active() {
			h.Publish("request", 1)
		}
	}
}
