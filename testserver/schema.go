package testserver

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/ovsdbcs/ovsdbcs/testserver/internal/jsonnum"
)

// This file parses OVSDB database schemas (RFC 7047 section 3.2) into the
// typed form the transaction engine and the monitors check values against,
// and prints them back in the normalized form ovsdb-server uses.

//go:embed schemas/lab.ovsschema
var labSchema []byte

// serverSchemaText is the _Server schema exactly as ovsdb-server 3.1 returns
// it for get_schema ["_Server"] (ovsdb/_server.ovsschema, version 1.2.0).
const serverSchemaText = `{"cksum":"3009684573 744","name":"_Server","version":"1.2.0","tables":{"Database":{"columns":{"name":{"type":"string"},"model":{"type":{"key":{"type":"string","enum":["set",["clustered","relay","standalone"]]}}},"connected":{"type":"boolean"},"leader":{"type":"boolean"},"schema":{"type":{"min":0,"key":"string"}},"sid":{"type":{"min":0,"key":"uuid"}},"cid":{"type":{"min":0,"key":"uuid"}},"index":{"type":{"min":0,"key":"integer"}}}}}}`

// ServerDatabase is the name of the database every member serves about itself.
const ServerDatabase = "_Server"

// LabSchema returns the example "Lab" schema (table Item with name, n and
// data; name is a unique index) used by demos and tests. The caller owns the
// returned slice.
func LabSchema() []byte {
	return append([]byte(nil), labSchema...)
}

// LoadSchemaFile reads a schema file (.ovsschema) and checks that it parses.
func LoadSchemaFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("testserver: read schema: %w", err)
	}
	if _, err := parseSchema(b); err != nil {
		return nil, fmt.Errorf("testserver: schema %s: %w", path, err)
	}
	return b, nil
}

type atomType uint8

const (
	atomInteger atomType = iota + 1
	atomReal
	atomBoolean
	atomString
	atomUUID
)

var atomTypeNames = [...]string{atomInteger: "integer", atomReal: "real", atomBoolean: "boolean", atomString: "string", atomUUID: "uuid"}

func (t atomType) String() string {
	if int(t) < len(atomTypeNames) && atomTypeNames[t] != "" {
		return atomTypeNames[t]
	}
	return "invalid"
}

func parseAtomType(s string) (atomType, bool) {
	for i, n := range atomTypeNames {
		if n != "" && n == s {
			return atomType(i), true
		}
	}
	return 0, false
}

// baseType is an RFC 7047 <base-type> with its constraints.
type baseType struct {
	typ      atomType
	enum     *datum // allowed values, or nil
	minInt   int64
	maxInt   int64
	minReal  float64
	maxReal  float64
	minLen   int64
	maxLen   int64
	refTable string
	refWeak  bool
}

func newBaseType(t atomType) baseType {
	return baseType{typ: t, minInt: math.MinInt64, maxInt: math.MaxInt64,
		minReal: -math.MaxFloat64, maxReal: math.MaxFloat64, maxLen: math.MaxUint32}
}

func (b *baseType) hasConstraints() bool {
	return b.enum != nil || b.minInt != math.MinInt64 || b.maxInt != math.MaxInt64 ||
		b.minReal != -math.MaxFloat64 || b.maxReal != math.MaxFloat64 ||
		b.minLen != 0 || b.maxLen != math.MaxUint32 || b.refTable != ""
}

// unlimited is the max of a column type with "max":"unlimited".
const unlimited = math.MaxInt32

// colType is an RFC 7047 <type>.
type colType struct {
	key   baseType
	value *baseType
	min   int
	max   int
}

func (t *colType) isMap() bool { return t.value != nil }

// isScalar reports a column that always holds exactly one atom.
func (t *colType) isScalar() bool { return t.value == nil && t.min == 1 && t.max == 1 }

// isOptionalScalar reports a column holding zero or one atom.
func (t *colType) isOptionalScalar() bool { return t.value == nil && t.min == 0 && t.max == 1 }

type column struct {
	name      string
	typ       colType
	mutable   bool
	ephemeral bool
}

// The implicit columns every table has.
var (
	uuidColumn    = &column{name: "_uuid", typ: colType{key: newBaseType(atomUUID), min: 1, max: 1}}
	versionColumn = &column{name: "_version", typ: colType{key: newBaseType(atomUUID), min: 1, max: 1}}
)

type tableSchema struct {
	name     string
	columns  map[string]*column
	colNames []string // sorted user columns (no _uuid/_version)
	indexes  [][]string
	isRoot   bool
	maxRows  int // 0: no limit
}

// column returns a user column or one of the implicit ones.
func (t *tableSchema) column(name string) *column {
	switch name {
	case "_uuid":
		return uuidColumn
	case "_version":
		return versionColumn
	}
	return t.columns[name]
}

type dbSchema struct {
	name       string
	version    string
	cksum      string
	tables     map[string]*tableSchema
	tableNames []string // sorted
	// json is the normalized schema, as get_schema returns it and as the
	// _Server Database "schema" column holds it (keys sorted, no spaces).
	json json.RawMessage
	text string // string(json), kept for the _Server rows
}

var idPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// parseSchema parses a database schema.
func parseSchema(raw []byte) (*dbSchema, error) {
	v, err := jsonnum.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("schema is not JSON: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("schema is not a JSON object")
	}
	s := &dbSchema{tables: map[string]*tableSchema{}}
	if s.name, ok = obj["name"].(string); !ok || !idPattern.MatchString(s.name) {
		return nil, fmt.Errorf("schema name missing or not an <id>")
	}
	if ver, ok := obj["version"]; ok {
		if s.version, ok = ver.(string); !ok {
			return nil, fmt.Errorf("schema version is not a string")
		}
	}
	if ck, ok := obj["cksum"]; ok {
		if s.cksum, ok = ck.(string); !ok {
			return nil, fmt.Errorf("schema cksum is not a string")
		}
	}
	for k := range obj {
		switch k {
		case "name", "version", "cksum", "tables":
		default:
			return nil, fmt.Errorf("schema member %q not allowed", k)
		}
	}
	tables, ok := obj["tables"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("schema tables missing or not an object")
	}
	anyRoot := false
	for name, tv := range tables {
		if !idPattern.MatchString(name) || name[0] == '_' {
			return nil, fmt.Errorf("table name %q is not a valid <id>", name)
		}
		t, err := parseTable(name, tv)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", name, err)
		}
		anyRoot = anyRoot || t.isRoot
		s.tables[name] = t
		s.tableNames = append(s.tableNames, name)
	}
	sort.Strings(s.tableNames)
	if !anyRoot {
		// RFC 7047: with isRoot omitted or false everywhere, every table is
		// part of the root set.
		for _, t := range s.tables {
			t.isRoot = true
		}
	}
	// References must name tables of this schema.
	for _, t := range s.tables {
		for _, c := range t.columns {
			for _, b := range []*baseType{&c.typ.key, c.typ.value} {
				if b != nil && b.refTable != "" && s.tables[b.refTable] == nil {
					return nil, fmt.Errorf("column %s.%s refers to undefined table %s", t.name, c.name, b.refTable)
				}
			}
		}
		for _, idx := range t.indexes {
			for _, cn := range idx {
				c := t.columns[cn]
				if c == nil {
					return nil, fmt.Errorf("table %s index refers to unknown column %s", t.name, cn)
				}
				if c.ephemeral {
					return nil, fmt.Errorf("table %s index refers to ephemeral column %s", t.name, cn)
				}
			}
		}
	}
	s.json = marshal(s.toJSON())
	s.text = string(s.json)
	return s, nil
}

func parseTable(name string, v any) (*tableSchema, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not an object")
	}
	t := &tableSchema{name: name, columns: map[string]*column{}}
	for k := range obj {
		switch k {
		case "columns", "maxRows", "isRoot", "indexes":
		default:
			return nil, fmt.Errorf("member %q not allowed", k)
		}
	}
	cols, ok := obj["columns"].(map[string]any)
	if !ok || len(cols) == 0 {
		return nil, fmt.Errorf("columns missing or empty")
	}
	for cn, cv := range cols {
		if !idPattern.MatchString(cn) || cn[0] == '_' {
			return nil, fmt.Errorf("column name %q is not a valid <id>", cn)
		}
		c, err := parseColumn(cn, cv)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", cn, err)
		}
		t.columns[cn] = c
		t.colNames = append(t.colNames, cn)
	}
	sort.Strings(t.colNames)
	if mr, ok := obj["maxRows"]; ok {
		n, err := jsonInt(mr)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("maxRows must be a positive integer")
		}
		t.maxRows = int(n)
	}
	if r, ok := obj["isRoot"]; ok {
		b, ok := r.(bool)
		if !ok {
			return nil, fmt.Errorf("isRoot is not a boolean")
		}
		t.isRoot = b
	}
	if iv, ok := obj["indexes"]; ok {
		arr, ok := iv.([]any)
		if !ok {
			return nil, fmt.Errorf("indexes is not an array")
		}
		for _, ix := range arr {
			cols, ok := ix.([]any)
			if !ok || len(cols) == 0 {
				return nil, fmt.Errorf("index is not a non-empty array")
			}
			var names []string
			for _, c := range cols {
				s, ok := c.(string)
				if !ok {
					return nil, fmt.Errorf("index member is not a column name")
				}
				names = append(names, s)
			}
			t.indexes = append(t.indexes, names)
		}
	}
	return t, nil
}

func parseColumn(name string, v any) (*column, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not an object")
	}
	c := &column{name: name, mutable: true}
	for k, mv := range obj {
		switch k {
		case "type":
		case "ephemeral":
			b, ok := mv.(bool)
			if !ok {
				return nil, fmt.Errorf("ephemeral is not a boolean")
			}
			c.ephemeral = b
		case "mutable":
			b, ok := mv.(bool)
			if !ok {
				return nil, fmt.Errorf("mutable is not a boolean")
			}
			c.mutable = b
		default:
			return nil, fmt.Errorf("member %q not allowed", k)
		}
	}
	tv, ok := obj["type"]
	if !ok {
		return nil, fmt.Errorf("type missing")
	}
	t, err := parseColType(tv)
	if err != nil {
		return nil, err
	}
	c.typ = t
	return c, nil
}

func parseColType(v any) (colType, error) {
	if s, ok := v.(string); ok {
		at, ok := parseAtomType(s)
		if !ok {
			return colType{}, fmt.Errorf("unknown atomic type %q", s)
		}
		return colType{key: newBaseType(at), min: 1, max: 1}, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return colType{}, fmt.Errorf("type is neither a string nor an object")
	}
	t := colType{min: 1, max: 1}
	for k := range obj {
		switch k {
		case "key", "value", "min", "max":
		default:
			return colType{}, fmt.Errorf("type member %q not allowed", k)
		}
	}
	kv, ok := obj["key"]
	if !ok {
		return colType{}, fmt.Errorf("type key missing")
	}
	key, err := parseBaseType(kv)
	if err != nil {
		return colType{}, fmt.Errorf("key: %w", err)
	}
	t.key = key
	if vv, ok := obj["value"]; ok {
		val, err := parseBaseType(vv)
		if err != nil {
			return colType{}, fmt.Errorf("value: %w", err)
		}
		t.value = &val
	}
	if mv, ok := obj["min"]; ok {
		n, err := jsonInt(mv)
		if err != nil || n < 0 || n > 1 {
			return colType{}, fmt.Errorf("min must be 0 or 1")
		}
		t.min = int(n)
	}
	if mv, ok := obj["max"]; ok {
		if s, ok := mv.(string); ok && s == "unlimited" {
			t.max = unlimited
		} else {
			n, err := jsonInt(mv)
			if err != nil || n < 1 || n > unlimited {
				return colType{}, fmt.Errorf("max must be a positive integer or \"unlimited\"")
			}
			t.max = int(n)
		}
	}
	if t.min > t.max {
		return colType{}, fmt.Errorf("min exceeds max")
	}
	return t, nil
}

func parseBaseType(v any) (baseType, error) {
	if s, ok := v.(string); ok {
		at, ok := parseAtomType(s)
		if !ok {
			return baseType{}, fmt.Errorf("unknown atomic type %q", s)
		}
		return newBaseType(at), nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return baseType{}, fmt.Errorf("base type is neither a string nor an object")
	}
	ts, _ := obj["type"].(string)
	at, ok := parseAtomType(ts)
	if !ok {
		return baseType{}, fmt.Errorf("base type has no valid \"type\"")
	}
	b := newBaseType(at)
	for k, mv := range obj {
		var err error
		switch k {
		case "type":
		case "enum":
			et := colType{key: newBaseType(at), min: 0, max: unlimited}
			var d datum
			d, err = parseDatum(mv, &et, nil)
			if err == nil {
				b.enum = &d
			}
		case "minInteger", "maxInteger":
			if at != atomInteger {
				return baseType{}, fmt.Errorf("%s only applies to integers", k)
			}
			var n int64
			n, err = jsonInt(mv)
			if k == "minInteger" {
				b.minInt = n
			} else {
				b.maxInt = n
			}
		case "minReal", "maxReal":
			if at != atomReal {
				return baseType{}, fmt.Errorf("%s only applies to reals", k)
			}
			var f float64
			f, err = jsonFloat(mv)
			if k == "minReal" {
				b.minReal = f
			} else {
				b.maxReal = f
			}
		case "minLength", "maxLength":
			if at != atomString {
				return baseType{}, fmt.Errorf("%s only applies to strings", k)
			}
			var n int64
			n, err = jsonInt(mv)
			if k == "minLength" {
				b.minLen = n
			} else {
				b.maxLen = n
			}
		case "refTable":
			if at != atomUUID {
				return baseType{}, fmt.Errorf("refTable only applies to uuids")
			}
			s, ok := mv.(string)
			if !ok {
				return baseType{}, fmt.Errorf("refTable is not a string")
			}
			b.refTable = s
		case "refType":
			s, _ := mv.(string)
			switch s {
			case "strong":
			case "weak":
				b.refWeak = true
			default:
				return baseType{}, fmt.Errorf("refType must be \"strong\" or \"weak\"")
			}
		default:
			return baseType{}, fmt.Errorf("base type member %q not allowed", k)
		}
		if err != nil {
			return baseType{}, fmt.Errorf("%s: %w", k, err)
		}
	}
	return b, nil
}

func jsonInt(v any) (int64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("not a number")
	}
	i, ok := jsonInteger(n)
	if !ok {
		return 0, fmt.Errorf("%s is not an integer", n)
	}
	return i, nil
}

func jsonFloat(v any) (float64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("not a number")
	}
	return n.Float64()
}

// toJSON prints the schema the way ovsdb-server normalizes it.
func (s *dbSchema) toJSON() map[string]any {
	allRoot := true
	for _, t := range s.tables {
		allRoot = allRoot && t.isRoot
	}
	tables := map[string]any{}
	for name, t := range s.tables {
		cols := map[string]any{}
		for cn, c := range t.columns {
			cj := map[string]any{"type": c.typ.toJSON()}
			if c.ephemeral {
				cj["ephemeral"] = true
			}
			if !c.mutable {
				cj["mutable"] = false
			}
			cols[cn] = cj
		}
		tj := map[string]any{"columns": cols}
		if t.maxRows > 0 {
			tj["maxRows"] = t.maxRows
		}
		if t.isRoot != allRoot {
			tj["isRoot"] = t.isRoot
		}
		if len(t.indexes) > 0 {
			tj["indexes"] = t.indexes
		}
		tables[name] = tj
	}
	out := map[string]any{"name": s.name, "tables": tables}
	if s.version != "" {
		out["version"] = s.version
	}
	if s.cksum != "" {
		out["cksum"] = s.cksum
	}
	return out
}

func (t *colType) toJSON() any {
	if t.min == 1 && t.max == 1 && t.value == nil && !t.key.hasConstraints() && !t.key.refWeak {
		return t.key.typ.String()
	}
	out := map[string]any{"key": t.key.toJSON()}
	if t.value != nil {
		out["value"] = t.value.toJSON()
	}
	if t.min != 1 {
		out["min"] = t.min
	}
	if t.max == unlimited {
		out["max"] = "unlimited"
	} else if t.max != 1 {
		out["max"] = t.max
	}
	return out
}

func (b *baseType) toJSON() any {
	if !b.hasConstraints() && !b.refWeak {
		return b.typ.String()
	}
	out := map[string]any{"type": b.typ.String()}
	if b.enum != nil {
		et := colType{key: newBaseType(b.typ), min: 0, max: unlimited}
		out["enum"] = b.enum.toJSON(&et)
	}
	if b.minInt != math.MinInt64 {
		out["minInteger"] = b.minInt
	}
	if b.maxInt != math.MaxInt64 {
		out["maxInteger"] = b.maxInt
	}
	if b.minReal != -math.MaxFloat64 {
		out["minReal"] = b.minReal
	}
	if b.maxReal != math.MaxFloat64 {
		out["maxReal"] = b.maxReal
	}
	if b.minLen != 0 {
		out["minLength"] = b.minLen
	}
	if b.maxLen != math.MaxUint32 {
		out["maxLength"] = b.maxLen
	}
	if b.refTable != "" {
		out["refTable"] = b.refTable
		if b.refWeak {
			out["refType"] = "weak"
		}
	}
	return out
}

// english describes a type the way ovsdb-server's error messages do.
func (t *colType) english() string {
	key := t.key.typ.String()
	if t.isScalar() {
		return key
	}
	var b strings.Builder
	if t.isMap() {
		b.WriteString("map")
	} else {
		b.WriteString("set")
	}
	switch {
	case t.max == unlimited && t.min > 0:
		fmt.Fprintf(&b, " of %d or more", t.min)
	case t.max == unlimited:
		b.WriteString(" of")
	case t.min > 0:
		fmt.Fprintf(&b, " of %d to %d", t.min, t.max)
	default:
		fmt.Fprintf(&b, " of up to %d", t.max)
	}
	if t.isMap() {
		fmt.Fprintf(&b, " (%s, %s) pairs", key, t.value.typ.String())
	} else {
		fmt.Fprintf(&b, " %ss", key)
	}
	return b.String()
}
