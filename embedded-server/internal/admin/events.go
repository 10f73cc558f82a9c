package admin

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/covetpy/covet/backend/events"
	"github.com/covetpy/covet/backend/problem"
	"github.com/gorilla/websocket"
)

// Limits of the event stream.
const (
	streamWriteTimeout = 10 * time.Second
	streamPingInterval = 20 * time.Second
	streamReadLimit    = 4 << 10 // clients send only control frames
)

var upgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 8192,
	Subprotocols:    []string{subprotocol},
	// guard has already checked Origin (own or explicitly allowed).
	CheckOrigin: func(*http.Request) bool { return true },
}

// handleEvents streams hub events to one WebSocket client until the client
// leaves, a write fails or the API is closed.
func (a *API) handleEvents(w http.ResponseWriter, r *http.Request) {
	if !isUpgrade(r) {
		w.Header().Set("Upgrade", "websocket")
		problem.Write(w, problem.New(http.StatusUpgradeRequired, "this endpoint speaks WebSocket only"))
		return
	}
	// Never echo the token subprotocol back: answer covet.v1 only.
	respHeader := http.Header{}
	if !slices.Contains(websocketProtocols(r), subprotocol) {
		respHeader = nil
	}
	conn, err := upgrader.Upgrade(w, r, respHeader)
	if err != nil {
		return // Upgrade has answered the client
	}
	defer conn.Close()
	sub := a.hub.Subscribe()
	defer sub.Close()

	// The reader owns the read side: it handles control frames and notices
	// when the client goes away.
	gone := make(chan struct{})
	conn.SetReadLimit(streamReadLimit)
	go func() {
		defer close(gone)
		for {
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
		}
	}()

	ping := time.NewTicker(streamPingInterval)
	defer ping.Stop()
	var batch []events.Event
	for {
		select {
		case <-a.ctx.Done():
			_ = conn.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"),
				time.Now().Add(time.Second))
			return
		case <-gone:
			return
		case <-ping.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(streamWriteTimeout)); err != nil {
				return
			}
		case <-sub.Ready():
			var dropped uint64
			batch, dropped = sub.Drain(batch[:0])
			if dropped > 0 {
				batch = append([]events.Event{{Type: EventDropped, Time: time.Now().UTC(), Data: DroppedEvent{Count: dropped}}}, batch...)
			}
			for _, ev := range batch {
				if err := a.writeEvent(conn, ev); err != nil {
					return
				}
			}
		}
	}
}

func (a *API) writeEvent(conn *websocket.Conn, ev events.Event) error {
	data, err := json.Marshal(ev)
	if err != nil {
		a.log.Error("encoding an event", "type", ev.Type, "err", err)
		return nil
	}
	_ = conn.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	return conn.WriteMessage(websocket.TextMessage, data)
}
