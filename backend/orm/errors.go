package orm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Kind classifies a database error the same way on every dialect.
type Kind int

const (
	// Other is an error the ORM does not classify further.
	Other Kind = iota
	// NotFound: a query for one row found none.
	NotFound
	// UniqueViolation: an insert or update collided with a unique
	// constraint; Error.Constraint names it where the server says.
	UniqueViolation
	// ForeignKeyViolation: a referenced row is missing or still referenced.
	ForeignKeyViolation
	// NotNullViolation: a required column got NULL.
	NotNullViolation
	// SerializationFailure: the transaction lost a conflict (serialization
	// failure, deadlock, SQLite busy); running it again is safe.
	SerializationFailure
	// Timeout: the statement or the wait for a connection ran out of time.
	Timeout
)

func (k Kind) String() string {
	switch k {
	case NotFound:
		return "not found"
	case UniqueViolation:
		return "unique violation"
	case ForeignKeyViolation:
		return "foreign key violation"
	case NotNullViolation:
		return "not null violation"
	case SerializationFailure:
		return "serialization failure"
	case Timeout:
		return "timeout"
	}
	return "database error"
}

// Error is a classified database error. Use errors.As, or the predicates
// IsNotFound, IsUniqueViolation and SafeToRetry.
type Error struct {
	Kind Kind
	// Constraint names the violated constraint or index, when known.
	Constraint string
	// Err is the driver's error.
	Err error
}

func (e *Error) Error() string {
	if e.Constraint != "" {
		return fmt.Sprintf("%s (%s): %v", e.Kind, e.Constraint, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Kind, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrNotFound is returned (wrapped in an *Error of Kind NotFound) when a
// query for one row finds none. Read only.
var ErrNotFound = errors.New("orm: no rows")

// KindOf returns the Kind of err, Other when it carries none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Other
}

// IsNotFound reports whether err means that no row was found.
func IsNotFound(err error) bool { return KindOf(err) == NotFound }

// IsUniqueViolation reports whether err is a unique-constraint collision.
func IsUniqueViolation(err error) bool { return KindOf(err) == UniqueViolation }

// SafeToRetry reports whether the whole transaction can be run again.
func SafeToRetry(err error) bool { return KindOf(err) == SerializationFailure }

func notFound(table string) error {
	return &Error{Kind: NotFound, Err: fmt.Errorf("%w in %s", ErrNotFound, table)}
}

// ClassifyCommon classifies what every dialect shares: a missing row from
// database/sql, and context deadlines. Dialects call it before looking at
// their driver's own error type; ok is false when err is none of these.
func ClassifyCommon(err error) (classified error, ok bool) {
	var e *Error
	switch {
	case err == nil:
		return nil, true
	case errors.As(err, &e):
		return err, true
	case errors.Is(err, sql.ErrNoRows):
		return &Error{Kind: NotFound, Err: err}, true
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Kind: Timeout, Err: err}, true
	}
	return err, false
}
