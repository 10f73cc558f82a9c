package loadgen

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// Scenario is what a run's virtual users do. Each virtual user gets its own
// User (its connection, its token) and repeats Do until the run ends.
// HTTP is the scenario of this package; a WebSocket or GraphQL scenario is
// another implementation of the same two interfaces.
type Scenario interface {
	// NewUser prepares virtual user n (from 0). It is called before the
	// run starts its clock; an error fails the run before any load.
	NewUser(n int) (User, error)
	// Describe names the target in one line, for reports ("GET http://…").
	Describe() string
}

// User is one virtual user. Its methods are called from one goroutine.
type User interface {
	// Do performs one request and waits for the whole answer. It returns
	// promptly when ctx ends (the run is over or cancelled).
	Do(ctx context.Context) Outcome
	// Close releases the user's connection.
	Close() error
}

// Outcome is what one request got.
type Outcome struct {
	// Status is the HTTP status, 0 when no response arrived.
	Status int
	// Bytes is how many bytes of response were read, headers included.
	Bytes int
	// Err is why no response arrived; ErrNone when one did.
	Err ErrorKind
}

// ErrorKind classifies a request that got no response.
type ErrorKind uint8

// The kinds of transport errors.
const (
	ErrNone     ErrorKind = iota
	ErrTimeout            // no complete answer within the request timeout
	ErrRefused            // the connection was refused
	ErrReset              // the connection was reset or broken mid-request
	ErrClosed             // the server closed the connection before answering
	ErrProtocol           // the answer was not valid HTTP
	ErrOther              // anything else (DNS, a refused target, TLS)
	numErrorKinds
)

// String is the kind's name in results ("timeout", "refused", …).
func (k ErrorKind) String() string {
	if int(k) < len(errorKindNames) {
		return errorKindNames[k]
	}
	return "other"
}

// errorKindNames are the names of the ErrorKinds. Read only.
var errorKindNames = [numErrorKinds]string{"", "timeout", "refused", "reset", "closed", "protocol", "other"}

// ErrNotLoopback is returned (wrapped) when a run would send load to an
// address that is neither loopback nor explicitly allowed. Read only.
var ErrNotLoopback = errors.New("not a loopback address")

// Classify maps a transport error to its kind.
func Classify(err error) ErrorKind {
	var ne net.Error
	switch {
	case err == nil:
		return ErrNone
	case errors.Is(err, ErrNotLoopback):
		return ErrOther
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return ErrTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return ErrReset
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return ErrClosed
	case errors.Is(err, errProtocol):
		return ErrProtocol
	}
	return ErrOther
}
