package events_test

import (
	"fmt"

	"github.com/covetpy/covet/backend/events"
)

func ExampleHub() {
	hub := events.New(events.Config{SubscriberBuffer: 2})
	fmt.Println("active before subscribing:", hub.Active())

	sub := hub.Subscribe()
	defer sub.Close()
	for i := range 3 {
		if hub.Active() { // one atomic load on the hot path
			hub.Publish("request", i)
		}
	}
	<-sub.Ready()
	batch, dropped := sub.Drain(nil)
	for _, ev := range batch {
		fmt.Println(ev.Seq, ev.Type, ev.Data)
	}
	fmt.Println("dropped:", dropped)
	// Output:
	// active before subscribing: false
	// 2 request 1
	// 3 request 2
	// dropped: 1
}
