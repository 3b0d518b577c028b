package idl

import (
	"errors"
	"fmt"
)

var (
	// ErrModel is matched (errors.Is) by every error about a model that does
	// not fit the server's schema: a missing table or column, or a field
	// whose Go type cannot hold the column's values.
	ErrModel = errors.New("idl: model does not fit the schema")
	// ErrValue is matched by every error about a value a write would send
	// that the schema rejects: wrong type, a string not in the enum, an
	// integer out of range, too many or too few elements.
	ErrValue = errors.New("idl: value does not fit the schema")
	// ErrNotFound is returned by Get when no row matches.
	ErrNotFound = errors.New("idl: object not found")
	// ErrNotSynced is returned by reads and writes before the first
	// schema has arrived and been checked.
	ErrNotSynced = errors.New("idl: schema not known yet")
	// ErrWrongType is matched by errors about an argument of the wrong Go
	// type: a model of a type the ClientDBModel does not hold, a result
	// that is not a pointer to a slice of models, a bad predicate.
	ErrWrongType = errors.New("idl: wrong argument type")
)

// ModelError names the table, column and types of a model that does not fit
// the server's schema. It matches ErrModel.
type ModelError struct {
	Table  string
	Column string // "" for a table-level problem
	Field  string // Go field name, "" if none
	Reason string
}

func (e *ModelError) Error() string {
	switch {
	case e.Column == "":
		return fmt.Sprintf("idl: model for table %q: %s", e.Table, e.Reason)
	case e.Field == "":
		return fmt.Sprintf("idl: model for table %q column %q: %s", e.Table, e.Column, e.Reason)
	}
	return fmt.Sprintf("idl: model for table %q: field %s (column %q): %s", e.Table, e.Field, e.Column, e.Reason)
}

// Unwrap returns ErrModel.
func (e *ModelError) Unwrap() error { return ErrModel }

// ValueError names the table and column of a value the schema rejects. It
// matches ErrValue.
type ValueError struct {
	Table, Column string
	Op            string // "insert", "update", "mutate", "wait", "select"
	Err           error
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("idl: %s of table %q column %q: %v", e.Op, e.Table, e.Column, e.Err)
}

// Unwrap returns ErrValue and the underlying error.
func (e *ValueError) Unwrap() []error { return []error{ErrValue, e.Err} }
