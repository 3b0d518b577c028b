package monitor

import (
	"encoding/json"
	"os"
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
