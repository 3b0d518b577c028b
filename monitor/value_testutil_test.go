package monitor

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// loadDBSchema reads a schema file with libovsdb's parser.
func loadDBSchema(t testing.TB, path string) *ovsdb.DatabaseSchema {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var db ovsdb.DatabaseSchema
	if err := json.Unmarshal(b, &db); err != nil {
		t.Fatal(err)
	}
	return &db
}

// testSchema compiles testdata/test.ovsschema with every table and column.
func testSchema(t testing.TB) *Schema {
	t.Helper()
	s, err := NewSchema(loadDBSchema(t, "testdata/test.ovsschema"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// col returns the type of a column of the test schema.
func col(t testing.TB, s *Schema, table, column string) *ColumnType {
	t.Helper()
	tb := s.Table(table)
	if tb == nil {
		t.Fatalf("no table %s", table)
	}
	c := tb.Column(column)
	if c == nil {
		t.Fatalf("no column %s.%s", table, column)
	}
	return &c.Type
}

// parseDBSchema parses a schema from JSON text with libovsdb's parser.
func parseDBSchema(t testing.TB, text string) *ovsdb.DatabaseSchema {
	t.Helper()
	var db ovsdb.DatabaseSchema
	if err := json.Unmarshal([]byte(text), &db); err != nil {
		t.Fatal(err)
	}
	return &db
}

// Small assertion helpers (the standard library only).

func mustOK(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustTrue(t testing.TB, ok bool, msg ...any) {
	t.Helper()
	if !ok {
		t.Fatal(append([]any{"condition failed"}, msg...)...)
	}
}

// checker reports mismatches and lets the test go on.
type checker struct{}

var check checker

func (checker) Equal(t testing.TB, want, got any, msg ...any) {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		t.Errorf("got %#v, want %#v %v", got, want, msg)
	}
}

func (checker) True(t testing.TB, ok bool, msg ...any) {
	t.Helper()
	if !ok {
		t.Errorf("not true %v", msg)
	}
}

func (checker) False(t testing.TB, ok bool, msg ...any) {
	t.Helper()
	if ok {
		t.Errorf("not false %v", msg)
	}
}

func (checker) Nil(t testing.TB, v any, msg ...any) {
	t.Helper()
	if v != nil && !reflect.ValueOf(v).IsNil() {
		t.Errorf("got %#v, want nil %v", v, msg)
	}
}

func (checker) NotEmpty(t testing.TB, v any, msg ...any) {
	t.Helper()
	if reflect.ValueOf(v).Len() == 0 {
		t.Errorf("empty %v", msg)
	}
}

func (checker) Len(t testing.TB, v any, n int, msg ...any) {
	t.Helper()
	if l := reflect.ValueOf(v).Len(); l != n {
		t.Errorf("length %d, want %d %v", l, n, msg)
	}
}

func (checker) Negative(t testing.TB, v int, msg ...any) {
	t.Helper()
	if v >= 0 {
		t.Errorf("%d is not negative %v", v, msg)
	}
}

func (checker) Error(t testing.TB, err error, msg ...any) {
	t.Helper()
	if err == nil {
		t.Errorf("no error %v", msg)
	}
}

func (checker) ErrorIs(t testing.TB, err, target error, msg ...any) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("error %v is not %v %v", err, target, msg)
	}
}

func (checker) ErrorContains(t testing.TB, err error, sub string, msg ...any) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), sub) {
		t.Errorf("error %v does not contain %q %v", err, sub, msg)
	}
}

func (checker) Panics(t testing.TB, f func(), msg ...any) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("no panic %v", msg)
		}
	}()
	f()
}
