package monitor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/internal/ovsjson"
)

// ErrSchema is wrapped by every error NewSchema returns.
var ErrSchema = errors.New("monitor: bad schema")

// Unlimited is ColumnType.Max for a column declared "max": "unlimited".
const Unlimited = math.MaxInt

// BaseType is the type of a column's keys or values: an atomic type and its
// constraints, as declared in the schema.
type BaseType struct {
	// Type is the atomic type; TypeVoid for the value type of a column that
	// is not a map.
	Type AtomicType
	// Enum, if not nil, lists the allowed values in OVSDB order.
	Enum []Atom
	// MinInteger and MaxInteger bound integers (inclusive); without
	// constraints they span the whole int64 range.
	MinInteger, MaxInteger int64
	// MinReal and MaxReal bound reals (inclusive); without constraints they
	// are -math.MaxFloat64 and math.MaxFloat64.
	MinReal, MaxReal float64
	// MaxLength bounds the length of strings in Unicode code points; 0 means
	// no bound. (libovsdb's schema parser loses minLength, so it is not
	// checked.)
	MaxLength int
	// RefTable is the table a uuid refers to ("" if none) and RefType is
	// "strong" or "weak" ("" if RefTable is "").
	RefTable, RefType string
}

// ColumnType is the type of a column: key type, optional value type (maps),
// and the minimum and maximum number of elements.
type ColumnType struct {
	Key   BaseType
	Value BaseType // Value.Type is TypeVoid unless the column is a map
	Min   int      // 0 or 1
	Max   int      // at least 1; Unlimited for "unlimited"

	def string // encoding of the default datum when it is not empty
}

// IsMap reports whether the column holds a map.
func (t *ColumnType) IsMap() bool { return t.Value.Type != TypeVoid }

// IsScalar reports whether the column holds exactly one atom (not a map,
// min 1, max 1).
func (t *ColumnType) IsScalar() bool { return !t.IsMap() && t.Min == 1 && t.Max == 1 }

// IsOptional reports whether the column may be empty (min 0).
func (t *ColumnType) IsOptional() bool { return t.Min == 0 }

// String describes the type in OVSDB schema terms, for error messages.
func (t *ColumnType) String() string {
	var b strings.Builder
	switch {
	case t.IsScalar():
		b.WriteString(t.Key.Type.String())
	case t.IsMap():
		fmt.Fprintf(&b, "map of %s to %s", t.Key.Type, t.Value.Type)
	default:
		fmt.Fprintf(&b, "set of %s", t.Key.Type)
	}
	if !t.IsScalar() {
		if t.Max == Unlimited {
			fmt.Fprintf(&b, " (min %d, max unlimited)", t.Min)
		} else {
			fmt.Fprintf(&b, " (min %d, max %d)", t.Min, t.Max)
		}
	}
	return b.String()
}

// ColumnSchema is one column of a table.
type ColumnSchema struct {
	Name  string
	Index int // position in TableSchema.Columns and in a Row
	Type  ColumnType
}

// TableSchema is a table restricted to its monitored columns, which are
// sorted by name.
type TableSchema struct {
	Name    string
	Columns []*ColumnSchema
	byName  map[string]*ColumnSchema
	index   int
}

// Column returns the column with the given name, or nil.
func (t *TableSchema) Column(name string) *ColumnSchema { return t.byName[name] }

// Schema is a database schema compiled for monitoring: the monitored tables
// (sorted by name), each with its monitored columns. Build it with NewSchema;
// it is immutable and safe for concurrent use.
type Schema struct {
	Name    string
	Version string
	Tables  []*TableSchema
	byName  map[string]*TableSchema
	// skipUnknown makes the parsers skip tables and columns that are not
	// in the schema instead of rejecting them (see SkippingUnknown).
	skipUnknown bool
	// keepOrder keeps the rows of a full resync in message order (see
	// KeepingResyncOrder).
	keepOrder bool
}

// Table returns the table with the given name, or nil.
func (s *Schema) Table(name string) *TableSchema { return s.byName[name] }

// SkippingUnknown returns a copy of s for which the parsers skip the
// tables and columns an update names that s lacks (their JSON must still be
// valid, and a table update an object), instead of rejecting the update.
// It suits a client that monitors a fixed subset of a schema a newer
// server may extend.
func (s *Schema) SkippingUnknown() *Schema {
	c := *s
	c.skipUnknown = true
	return &c
}

// KeepingResyncOrder returns a copy of s whose parsers keep the rows of a
// full resync (a monitor reply) in the order the server sent them, so that
// Changes.All yields a resync's inserts into an empty table in that order.
// It costs 16 bytes a row for as long as the Update or its Changes is
// kept; without it those rows come in no particular order. The server's
// order is that of its own hash table: only a tool that must print rows in
// exactly the order another OVSDB client would (as ovsdb-client does) needs
// it.
func (s *Schema) KeepingResyncOrder() *Schema {
	c := *s
	c.keepOrder = true
	return &c
}

// ParseDatabaseSchema parses a database schema (the result of get_schema,
// or the schema column of a _Server Database row) with libovsdb's parser,
// turning the panics that parser has on some malformed schemas (a column
// without a type, a malformed enum) into errors wrapping ErrSchema. Compile
// the result with NewSchema, which checks the rest.
func ParseDatabaseSchema(data []byte) (db *ovsdb.DatabaseSchema, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: %v", ErrSchema, r)
		}
	}()
	db = new(ovsdb.DatabaseSchema)
	if err := json.Unmarshal(data, db); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSchema, err)
	}
	if db.Name == "" || db.Tables == nil {
		return nil, fmt.Errorf("%w: no name or no tables", ErrSchema)
	}
	return db, nil
}

// NewSchema compiles db for monitoring. selection restricts it to the tables
// it names and, per table, to the listed columns; a nil selection means every
// table, and a nil or empty column list means every column of that table.
// The pseudo-column "_uuid" may be listed and is ignored (a row's uuid is
// always known). The pseudo-column "_version" (a uuid that ovsdb-server
// changes with every modification of the row) is kept as a column of the row
// only when listed; otherwise the parsers check it and drop it, since
// ovsdb-server sends it with every row when a monitor request names no
// columns.
//
// The parsers reject any table or column outside the compiled schema, since
// a server only sends what the client asked for.
func NewSchema(db *ovsdb.DatabaseSchema, selection map[string][]string) (*Schema, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: nil schema", ErrSchema)
	}
	s := &Schema{Name: db.Name, Version: db.Version, byName: map[string]*TableSchema{}}
	var names []string
	if selection == nil {
		for name := range db.Tables {
			names = append(names, name)
		}
	} else {
		for name := range selection {
			if _, ok := db.Tables[name]; !ok {
				return nil, fmt.Errorf("%w: database %q has no table %q", ErrSchema, db.Name, name)
			}
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		ts := db.Tables[name]
		t, err := compileTable(name, &ts, selection[name])
		if err != nil {
			return nil, err
		}
		t.index = len(s.Tables)
		s.Tables = append(s.Tables, t)
		s.byName[name] = t
	}
	return s, nil
}

// VersionColumn is the name of the pseudo-column every OVSDB table has
// beside "_uuid": a uuid that ovsdb-server changes with every modification of
// the row (ovsdb_table_schema_create in ovsdb/table.c adds it). A selection
// lists it to keep it as a column of the row.
const VersionColumn = "_version"

// versionColumnSchema is the type of the _version column: exactly one uuid.
var versionColumnSchema = ovsdb.ColumnSchema{Type: ovsdb.TypeUUID, TypeObj: &ovsdb.ColumnType{Key: &ovsdb.BaseType{Type: ovsdb.TypeUUID}}}

func compileTable(name string, ts *ovsdb.TableSchema, cols []string) (*TableSchema, error) {
	t := &TableSchema{Name: name, byName: map[string]*ColumnSchema{}}
	var names []string
	if len(cols) == 0 {
		for c := range ts.Columns {
			names = append(names, c)
		}
	} else {
		for _, c := range cols {
			if c == "_uuid" {
				continue
			}
			if _, ok := ts.Columns[c]; !ok && c != VersionColumn {
				return nil, fmt.Errorf("%w: table %q has no column %q", ErrSchema, name, c)
			}
			names = append(names, c)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	for _, c := range names {
		cs := ts.Columns[c]
		if c == VersionColumn {
			cs = &versionColumnSchema
		} else if c == "" || c[0] == '_' {
			// Names starting with "_" are reserved for OVSDB itself.
			return nil, fmt.Errorf("%w: table %q: reserved column name %q", ErrSchema, name, c)
		}
		typ, err := compileColumnType(cs)
		if err != nil {
			return nil, fmt.Errorf("%w: table %q column %q: %w", ErrSchema, name, c, err)
		}
		col := &ColumnSchema{Name: c, Index: len(t.Columns), Type: typ}
		t.Columns = append(t.Columns, col)
		t.byName[c] = col
	}
	return t, nil
}

func compileColumnType(cs *ovsdb.ColumnSchema) (ColumnType, error) {
	var t ColumnType
	if cs == nil || cs.TypeObj == nil || cs.TypeObj.Key == nil {
		return t, errors.New("no type")
	}
	var err error
	if t.Key, err = compileBaseType(cs.TypeObj.Key); err != nil {
		return t, fmt.Errorf("key: %w", err)
	}
	if cs.TypeObj.Value != nil {
		if t.Value, err = compileBaseType(cs.TypeObj.Value); err != nil {
			return t, fmt.Errorf("value: %w", err)
		}
	}
	t.Min = cs.TypeObj.Min()
	t.Max = cs.TypeObj.Max()
	if t.Max == ovsdb.Unlimited {
		t.Max = Unlimited
	}
	if t.Min < 0 || t.Min > 1 {
		return t, fmt.Errorf("min %d is not 0 or 1", t.Min)
	}
	if t.Max < 1 || t.Max < t.Min {
		return t, fmt.Errorf("max %d is below 1 or below min", t.Max)
	}
	t.def = t.computeDefault()
	return t, nil
}

// compileBaseType reads the constraints through libovsdb's own JSON form of
// the base type, because its getters cannot tell an absent bound from the
// default one.
func compileBaseType(bt *ovsdb.BaseType) (BaseType, error) {
	b := BaseType{
		MinInteger: math.MinInt64, MaxInteger: math.MaxInt64,
		MinReal: -math.MaxFloat64, MaxReal: math.MaxFloat64,
	}
	var ok bool
	if b.Type, ok = atomicTypeFromName(bt.Type); !ok {
		return b, fmt.Errorf("unknown atomic type %q", bt.Type)
	}
	raw, err := json.Marshal(bt)
	if err != nil {
		return b, err
	}
	var j struct {
		MinInteger *json.Number `json:"minInteger"`
		MaxInteger *json.Number `json:"maxInteger"`
		MinReal    *json.Number `json:"minReal"`
		MaxReal    *json.Number `json:"maxReal"`
		MaxLength  *json.Number `json:"maxLength"`
		RefTable   *string      `json:"refTable"`
		RefType    *string      `json:"refType"`
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&j); err != nil {
		return b, err
	}
	readInt := func(n *json.Number, dst *int64) error {
		if n == nil {
			return nil
		}
		v, err := n.Int64()
		if err != nil {
			return fmt.Errorf("bad bound %s", *n)
		}
		*dst = v
		return nil
	}
	readReal := func(n *json.Number, dst *float64) error {
		if n == nil {
			return nil
		}
		v, err := n.Float64()
		if err != nil {
			return fmt.Errorf("bad bound %s", *n)
		}
		*dst = v
		return nil
	}
	switch b.Type {
	case TypeInteger:
		if err := readInt(j.MinInteger, &b.MinInteger); err != nil {
			return b, err
		}
		if err := readInt(j.MaxInteger, &b.MaxInteger); err != nil {
			return b, err
		}
	case TypeReal:
		if err := readReal(j.MinReal, &b.MinReal); err != nil {
			return b, err
		}
		if err := readReal(j.MaxReal, &b.MaxReal); err != nil {
			return b, err
		}
	case TypeString:
		var ml int64
		if err := readInt(j.MaxLength, &ml); err != nil {
			return b, err
		}
		if ml < 0 || ml > math.MaxInt32 {
			return b, fmt.Errorf("bad maxLength %d", ml)
		}
		b.MaxLength = int(ml)
	case TypeUUID:
		if j.RefTable != nil {
			b.RefTable = *j.RefTable
			b.RefType = ovsdb.Strong
			if j.RefType != nil {
				b.RefType = *j.RefType
			}
		}
	}
	if len(bt.Enum) > 0 {
		for _, v := range bt.Enum {
			a, err := enumAtom(b.Type, v)
			if err != nil {
				return b, err
			}
			b.Enum = append(b.Enum, a)
		}
		slices.SortFunc(b.Enum, Atom.Compare)
		b.Enum = slices.CompactFunc(b.Enum, Atom.Equal)
	}
	return b, nil
}

// enumAtom converts one enum member as libovsdb decoded it (encoding/json
// types) to an Atom of type t.
func enumAtom(t AtomicType, v any) (Atom, error) {
	switch x := v.(type) {
	case string:
		switch t {
		case TypeString:
			return StringAtom(x), nil
		case TypeUUID:
			if u, err := ParseUUID(x); err == nil {
				return UUIDAtom(u), nil
			}
		}
	case float64:
		switch t {
		case TypeInteger:
			if x == math.Trunc(x) && x >= -(1<<63) && x < 1<<63 {
				return IntegerAtom(int64(x)), nil
			}
		case TypeReal:
			return RealAtom(x), nil
		}
	case bool:
		if t == TypeBoolean {
			return BooleanAtom(x), nil
		}
	case []any:
		if len(x) == 2 && x[0] == "uuid" && t == TypeUUID {
			if s, ok := x[1].(string); ok {
				if u, err := ParseUUID(s); err == nil {
					return UUIDAtom(u), nil
				}
			}
		}
	}
	return Atom{}, fmt.Errorf("enum value %v is not a valid %s", v, t)
}

// checkAtom checks a against the constraints of b. a has type b.Type.
func (b *BaseType) checkAtom(a Atom) error {
	if b.Enum != nil {
		if _, found := slices.BinarySearchFunc(b.Enum, a, Atom.Compare); !found {
			return fmt.Errorf("%s is not one of the allowed values", ovsjson.Truncate(a.String(), 80))
		}
		return nil
	}
	switch b.Type {
	case TypeInteger:
		if v := a.Int(); v < b.MinInteger || v > b.MaxInteger {
			return fmt.Errorf("integer %d is out of range [%d, %d]", v, b.MinInteger, b.MaxInteger)
		}
	case TypeReal:
		if v := a.Float(); v < b.MinReal || v > b.MaxReal {
			return fmt.Errorf("real %g is out of range [%g, %g]", v, b.MinReal, b.MaxReal)
		}
	case TypeString:
		if b.MaxLength > 0 && len(a.s) > b.MaxLength && runeCount(a.s) > b.MaxLength {
			return fmt.Errorf("string is longer than %d characters", b.MaxLength)
		}
	}
	return nil
}

// constrained reports whether checkAtom can ever fail for b.
func (b *BaseType) constrained() bool {
	return b.Enum != nil || b.MinInteger != math.MinInt64 || b.MaxInteger != math.MaxInt64 ||
		b.MinReal != -math.MaxFloat64 || b.MaxReal != math.MaxFloat64 || b.MaxLength > 0
}
