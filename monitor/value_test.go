package monitor

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/ovn-org/libovsdb/ovsdb/serverdb"
)

func TestUUID(t *testing.T) {
	u, err := ParseUUID("ABCDEF01-2345-6789-abcd-ef0123456789")
	mustOK(t, err)
	check.Equal(t, "abcdef01-2345-6789-abcd-ef0123456789", u.String())
	check.Equal(t, byte(0xab), u[0])
	check.Equal(t, byte(0x89), u[15])
	check.False(t, u.IsZero())
	check.True(t, UUID{}.IsZero())

	for _, bad := range []string{"", "abcdef01-2345-6789-abcd-ef012345678", "abcdef01-2345-6789-abcd-ef01234567890",
		"abcdef01x2345-6789-abcd-ef0123456789", "abcdef01-2345-6789-abcd-ef012345678g", "{abcdef01-2345-6789-abcd-ef01234567}"} {
		_, err := ParseUUID(bad)
		check.ErrorIs(t, err, ErrBadUUID, bad)
	}

	b, err := json.Marshal(u)
	mustOK(t, err)
	check.Equal(t, `"abcdef01-2345-6789-abcd-ef0123456789"`, string(b))
	var back UUID
	mustOK(t, json.Unmarshal(b, &back))
	check.Equal(t, u, back)
	check.ErrorIs(t, json.Unmarshal([]byte(`"nope"`), &back), ErrBadUUID)
	check.Panics(t, func() { MustParseUUID("nope") })
}

func TestAtom(t *testing.T) {
	u := MustParseUUID("00000000-0000-0000-0000-000000000001")
	cases := []struct {
		a    Atom
		json string
	}{
		{IntegerAtom(math.MinInt64), "-9223372036854775808"},
		{IntegerAtom(1<<53 + 1), "9007199254740993"},
		{RealAtom(2), "2"},
		{RealAtom(math.Copysign(0, -1)), "0"},
		{RealAtom(1e300), "1e+300"},
		{RealAtom(-0.25), "-0.25"},
		{BooleanAtom(true), "true"},
		{StringAtom("a\"b\\c\n\t\x01\x1f/<>&é\u2028"), `"a\"b\\c\n\t\u0001\u001f/<>&é` + "\u2028\""},
		{UUIDAtom(u), `["uuid","00000000-0000-0000-0000-000000000001"]`},
		{Atom{}, "null"},
	}
	for _, c := range cases {
		check.Equal(t, c.json, c.a.String())
		b, err := c.a.MarshalJSON()
		mustOK(t, err)
		check.Equal(t, c.json, string(b))
	}
	check.Equal(t, TypeUUID, UUIDAtom(u).Type())
	check.Equal(t, u, UUIDAtom(u).UUID())
	check.Equal(t, int64(5), IntegerAtom(5).Int())
	check.Equal(t, 1.5, RealAtom(1.5).Float())
	check.True(t, BooleanAtom(true).Bool())
	check.Equal(t, "x", StringAtom("x").Str())
	// Accessors of the wrong type give zero values.
	check.Equal(t, int64(0), StringAtom("5").Int())
	check.Equal(t, 0.0, IntegerAtom(5).Float())
	check.False(t, IntegerAtom(1).Bool())
	check.Equal(t, "", IntegerAtom(1).Str())
	check.Equal(t, UUID{}, StringAtom(string(u[:])).UUID())

	check.Negative(t, IntegerAtom(-5).Compare(IntegerAtom(3)))
	check.Negative(t, RealAtom(-5).Compare(RealAtom(-4.5)))
	check.Negative(t, BooleanAtom(false).Compare(BooleanAtom(true)))
	check.Negative(t, StringAtom("B").Compare(StringAtom("a")))
	check.Negative(t, StringAtom("a").Compare(StringAtom("é")))
	check.Negative(t, UUIDAtom(MustParseUUID("0fffffff-ffff-ffff-ffff-ffffffffffff")).Compare(UUIDAtom(MustParseUUID("10000000-0000-0000-0000-000000000000"))))
	check.Negative(t, IntegerAtom(100).Compare(StringAtom("")), "atoms of different types order by type")
	check.True(t, RealAtom(0).Equal(RealAtom(math.Copysign(0, -1))))

	check.Equal(t, "integer", TypeInteger.String())
	check.Equal(t, "AtomicType(9)", AtomicType(9).String())
}

func TestNewSchema(t *testing.T) {
	db := loadDBSchema(t, "testdata/test.ovsschema")

	s, err := NewSchema(db, nil)
	mustOK(t, err)
	check.Equal(t, "Test", s.Name)
	check.Equal(t, []string{"Empty", "Item", "Types"}, tableNames(s))
	item := s.Table("Item")
	mustTrue(t, nil != item)
	var cols []string
	for i, c := range item.Columns {
		check.Equal(t, i, c.Index)
		cols = append(cols, c.Name)
	}
	check.Equal(t, []string{"enabled", "ext", "n", "name", "refs", "tags"}, cols, "columns sorted by name")
	refs := item.Column("refs").Type
	check.Equal(t, "Item", refs.Key.RefTable)
	check.Equal(t, "weak", refs.Key.RefType)
	check.Equal(t, Unlimited, refs.Max)
	check.Equal(t, "set of uuid (min 0, max unlimited)", refs.String())
	check.True(t, item.Column("ext").Type.IsMap())
	check.True(t, item.Column("name").Type.IsScalar())
	check.True(t, item.Column("n").Type.IsOptional())
	check.Nil(t, item.Column("nope"))
	check.Nil(t, s.Table("Nope"))

	types := s.Table("Types")
	check.Equal(t, []Atom{StringAtom("blue"), StringAtom("green"), StringAtom("red")}, types.Column("e").Type.Key.Enum)
	check.Equal(t, int64(1), types.Column("rng").Type.Key.MinInteger)
	check.Equal(t, int64(10), types.Column("rng").Type.Key.MaxInteger)
	check.Equal(t, -1.5, types.Column("rr").Type.Key.MinReal)
	check.Equal(t, 2.5, types.Column("rr").Type.Key.MaxReal)
	check.Equal(t, 3, types.Column("short").Type.Key.MaxLength)
	check.Equal(t, int64(math.MinInt64), types.Column("i").Type.Key.MinInteger)

	// A selection of tables and columns; _uuid and _version are ignored.
	s, err = NewSchema(db, map[string][]string{"Item": {"name", "_uuid", "tags", "_version", "name"}, "Empty": nil})
	mustOK(t, err)
	check.Equal(t, []string{"Empty", "Item"}, tableNames(s))
	check.Len(t, s.Table("Item").Columns, 2)
	check.Len(t, s.Table("Empty").Columns, 1)
	_, err = ParseUpdate2(s, []byte(`[null, {"Item": {"00000000-0000-0000-0000-000000000001": {"insert": {"n": 1}}}}]`))
	check.ErrorContains(t, err, `unknown column "n"`)
	_, err = ParseUpdate2(s, []byte(`[null, {"Types": {}}]`))
	check.ErrorContains(t, err, `unknown table "Types"`)

	_, err = NewSchema(db, map[string][]string{"Nope": nil})
	check.ErrorIs(t, err, ErrSchema)
	_, err = NewSchema(db, map[string][]string{"Item": {"nope"}})
	check.ErrorIs(t, err, ErrSchema)
	_, err = NewSchema(nil, nil)
	check.ErrorIs(t, err, ErrSchema)

	for _, text := range []string{
		`{"name":"X","tables":{"T":{"columns":{"c":{"type":{"key":"integer","min":2,"max":3}}}}}}`,
		`{"name":"X","tables":{"T":{"columns":{"c":{"type":{"key":"integer","min":0,"max":0}}}}}}`,
		`{"name":"X","tables":{"T":{"columns":{"c":{"type":{"key":{"type":"integer","enum":["set",["x"]]}}}}}}}`,
		`{"name":"X","tables":{"T":{"columns":{"c":{"type":{"key":{"type":"boolean","enum":1.5}}}}}}}`,
		`{"name":"X","tables":{"T":{"columns":{"_c":{"type":"integer"}}}}}`,
	} {
		_, err := NewSchema(parseDBSchema(t, text), nil)
		check.ErrorIs(t, err, ErrSchema, text)
	}
}

func TestParseDatabaseSchema(t *testing.T) {
	raw, err := os.ReadFile("testdata/test.ovsschema")
	mustOK(t, err)
	db, err := ParseDatabaseSchema(raw)
	mustOK(t, err)
	s, err := NewSchema(db, nil)
	mustOK(t, err)
	check.Len(t, s.Tables, 3)
	for _, bad := range []string{
		``, `[]`, `{}`, `{"name":"x"}`,
		`{"name":"x","tables":{"T":{"columns":{"c":{}}}}}`,
		`{"name":"x","tables":{"T":{"columns":{"c":{"type":{"key":{"type":"string","enum":["set"]}}}}}}}`,
		`{"name":"x","tables":{"T":{"columns":{"c":{"type":{"key":{"type":"uuid","enum":["uuid","x"]}}}}}}}`,
	} {
		_, err := ParseDatabaseSchema([]byte(bad))
		check.ErrorIs(t, err, ErrSchema, bad)
	}
	// libovsdb accepts a type without a key; NewSchema does not.
	db, err = ParseDatabaseSchema([]byte(`{"name":"x","tables":{"T":{"columns":{"c":{"type":{"value":"string"}}}}}}`))
	mustOK(t, err)
	_, err = NewSchema(db, nil)
	check.ErrorIs(t, err, ErrSchema)
}

func tableNames(s *Schema) []string {
	var out []string
	for _, t := range s.Tables {
		out = append(out, t.Name)
	}
	return out
}

// Real schemas compile: the _Server schema libovsdb embeds, and Open
// vSwitch's when it is installed.
func TestRealSchemas(t *testing.T) {
	server := serverdb.Schema()
	s, err := NewSchema(&server, nil)
	mustOK(t, err)
	db := s.Table("Database")
	mustTrue(t, nil != db)
	check.Equal(t, []Atom{StringAtom("clustered"), StringAtom("relay"), StringAtom("standalone")}, db.Column("model").Type.Key.Enum)
	u, err := ParseMonitorCondReply(s, []byte(`{"Database":{"5c1928c7-e044-46dd-a207-a8a4703fd1dc":{"initial":{
		"name":"OVN_Northbound","model":"clustered","connected":true,"leader":true,"schema":"{}",
		"cid":["uuid","0f0e0d0c-0b0a-0908-0706-050403020100"],"sid":["uuid","1f0e0d0c-0b0a-0908-0706-050403020100"],"index":12345}}}}`))
	mustOK(t, err)
	r := NewReplica(s)
	_, err = r.Apply(u)
	mustOK(t, err)
	row, ok := r.Get("Database", MustParseUUID("5c1928c7-e044-46dd-a207-a8a4703fd1dc"))
	mustTrue(t, ok)
	check.Equal(t, int64(12345), row.Get("index").Int())
	check.Equal(t, "clustered", row.Get("model").Str())
	check.True(t, row.Get("leader").Bool())

	for _, path := range []string{"/usr/share/openvswitch/vswitch.ovsschema", "/usr/share/ovn/ovn-nb.ovsschema", "/usr/share/ovn/ovn-sb.ovsschema"} {
		if _, err := os.Stat(path); err != nil {
			continue
		}
		t.Run(path, func(t *testing.T) {
			s, err := NewSchema(loadDBSchema(t, path), nil)
			mustOK(t, err)
			check.NotEmpty(t, s.Tables)
		})
	}
}

func TestDatumAccessors(t *testing.T) {
	s := testSchema(t)
	parse := func(column, js string) Datum {
		t.Helper()
		d, err := ParseDatum(col(t, s, "Types", column), []byte(js))
		mustOK(t, err)
		return d
	}
	u1 := MustParseUUID("00000000-0000-0000-0000-000000000001")
	u2 := MustParseUUID("00000000-0000-0000-0000-000000000002")

	d := parse("i", "42")
	check.Equal(t, int64(42), d.Int())
	check.Equal(t, 1, d.Len())
	check.False(t, d.IsDefault())
	d = parse("i", "0")
	check.True(t, d.IsDefault())
	check.Equal(t, 1, d.Len(), "a scalar always has one atom")
	a, ok := d.Atom()
	check.True(t, ok)
	check.Equal(t, IntegerAtom(0), a)

	check.Equal(t, 2.5, parse("r", "2.5").Float())
	check.True(t, parse("b", "true").Bool())
	check.Equal(t, "x", parse("s", `"x"`).Str())
	check.Equal(t, u1, parse("u", `["uuid","00000000-0000-0000-0000-000000000001"]`).UUID())

	d = parse("oi", `["set",[]]`)
	check.Equal(t, 0, d.Len())
	_, ok = d.Atom()
	check.False(t, ok)
	check.Equal(t, int64(0), d.Int())
	check.Equal(t, `["set",[]]`, d.String())
	check.Equal(t, int64(7), parse("oi", "7").Int())

	d = parse("ss", `["set",["b","a","c"]]`)
	check.Equal(t, []string{"a", "b", "c"}, d.Strings())
	check.True(t, d.Contains(StringAtom("b")))
	check.False(t, d.Contains(StringAtom("d")))
	check.False(t, d.Contains(IntegerAtom(1)))
	check.Equal(t, `["set",["a","b","c"]]`, d.String())

	d = parse("us", `["set",[["uuid","00000000-0000-0000-0000-000000000002"],["uuid","00000000-0000-0000-0000-000000000001"]]]`)
	check.Equal(t, []UUID{u1, u2}, d.UUIDs())
	check.Equal(t, []int64{-3, 5}, parse("is", `["set",[5,-3]]`).Ints())

	d = parse("msi", `["map",[["b",2],["a",1]]]`)
	check.Equal(t, 2, d.Len())
	v, ok := d.Lookup(StringAtom("b"))
	check.True(t, ok)
	check.Equal(t, int64(2), v.Int())
	_, ok = d.Lookup(StringAtom("c"))
	check.False(t, ok)
	check.Equal(t, []string{"a", "b"}, d.Strings(), "the keys of a map")
	var keys []string
	for k, v := range d.Pairs() {
		keys = append(keys, k.Str()+"="+v.String())
	}
	check.Equal(t, []string{"a=1", "b=2"}, keys)
	check.Equal(t, `["map",[["a",1],["b",2]]]`, d.String())
	check.Equal(t, map[string]string{}, parse("msi", `["map",[]]`).StringMap())

	d = parse("om", `["map",[["k","v"]]]`)
	check.Equal(t, map[string]string{"k": "v"}, d.StringMap())

	// A set with min 1 defaults to one default atom.
	d = Datum{t: col(t, s, "Types", "ss1")}
	check.True(t, d.IsDefault())
	check.Equal(t, 1, d.Len())
	check.Equal(t, []string{""}, d.Strings())
	check.Equal(t, `""`, d.String())
	check.True(t, parse("ss1", `["set",[""]]`).IsDefault())
	check.True(t, parse("ss1", `""`).Equal(d))

	// The zero Datum reads as empty.
	var z Datum
	check.Equal(t, 0, z.Len())
	check.Nil(t, z.Strings())
	check.Equal(t, "null", z.String())
	_, ok = z.Lookup(StringAtom("x"))
	check.False(t, ok)
	check.Nil(t, z.Type())

	// Datums of different columns are never equal.
	check.False(t, parse("oi", "1").Equal(parse("is", "1")))
}

func TestNewDatum(t *testing.T) {
	s := testSchema(t)
	d, err := NewDatum(col(t, s, "Types", "ss"), StringAtom("b"), StringAtom("a"))
	mustOK(t, err)
	check.Equal(t, `["set",["a","b"]]`, d.String())
	d, err = NewDatum(col(t, s, "Types", "msi"), StringAtom("z"), IntegerAtom(1), StringAtom("a"), IntegerAtom(2))
	mustOK(t, err)
	check.Equal(t, `["map",[["a",2],["z",1]]]`, d.String())
	d, err = NewDatum(col(t, s, "Types", "i"), IntegerAtom(0))
	mustOK(t, err)
	check.True(t, d.IsDefault())

	for name, c := range map[string]struct {
		col   string
		atoms []Atom
	}{
		"wrong type":   {"ss", []Atom{IntegerAtom(1)}},
		"duplicate":    {"ss", []Atom{StringAtom("a"), StringAtom("a")}},
		"too many":     {"is3", []Atom{IntegerAtom(1), IntegerAtom(2), IntegerAtom(3), IntegerAtom(4)}},
		"too few":      {"i", nil},
		"odd map":      {"msi", []Atom{StringAtom("a")}},
		"enum":         {"e", []Atom{StringAtom("pink")}},
		"range":        {"rng", []Atom{IntegerAtom(11)}},
		"infinite":     {"r", []Atom{RealAtom(math.Inf(1))}},
		"not a number": {"r", []Atom{RealAtom(math.NaN())}},
	} {
		_, err := NewDatum(col(t, s, "Types", c.col), c.atoms...)
		check.Error(t, err, name)
	}
	_, err = NewDatum(nil)
	check.Error(t, err)
	_, err = ParseDatum(nil, []byte("1"))
	check.Error(t, err)
}

// Strings must be valid UTF-8 without NUL, as in Open vSwitch.
func TestParseStrings(t *testing.T) {
	s := testSchema(t)
	typ := col(t, s, "Types", "s")
	for _, bad := range []string{"\"\xff\"", "\"a\xc3\"", "\"tab\tin\"", "\"\x00\"", `"\u00"`, `"\ud800\u0041"`, `"\udc00"`, `"x`, `"\`} {
		_, err := ParseDatum(typ, []byte(bad))
		check.ErrorIs(t, err, ErrMalformed, "%q", bad)
	}
	for in, want := range map[string]string{
		`"\u00e9\ud83d\ude00"`:       "é😀",
		`"\/\b\f\n\r\t\"\\"`:         "/\b\f\n\r\t\"\\",
		"\"raw é\"":                  "raw é",
		`"mixed \u0041 and \u00e9x"`: "mixed A and éx",
	} {
		d, err := ParseDatum(typ, []byte(in))
		mustOK(t, err)
		check.Equal(t, want, d.Str(), in)
	}
}

// A monitor id nested a million levels deep is skipped without recursion.
func TestDeepNesting(t *testing.T) {
	s := testSchema(t)
	const depth = 1000000
	deep := strings.Repeat("[", depth) + strings.Repeat("]", depth)
	u, err := ParseUpdate2(s, []byte("["+deep+", {}]"))
	mustOK(t, err)
	check.Len(t, u.MonitorID, 2*depth)
	_, err = ParseUpdate2(s, []byte("["+strings.Repeat("[", depth)+", {}]"))
	check.ErrorIs(t, err, ErrMalformed)
	_, err = ParseUpdate2(s, []byte(`[null, {"Item": {"00000000-0000-0000-0000-000000000001": {"insert": {"tags": `+deep+`}}}}]`))
	check.ErrorIs(t, err, ErrMalformed)
}

func TestNotificationMonitorID(t *testing.T) {
	id, err := NotificationMonitorID([]byte(` [ ["monid", "OVN_Northbound"] , "ignored" ] `))
	mustOK(t, err)
	check.Equal(t, `["monid","OVN_Northbound"]`, string(id))
	for _, bad := range []string{``, `{}`, `[]`, `[["monid"`, `[nul]`} {
		_, err := NotificationMonitorID([]byte(bad))
		check.ErrorIs(t, err, ErrMalformed, bad)
	}
	s := testSchema(t)
	_, err = ParseNotification(s, "update4", []byte(`[null, {}]`))
	check.ErrorIs(t, err, ErrMalformed)
	_, err = ParseUpdate2(nil, []byte(`[null, {}]`))
	check.Error(t, err)
}

func TestUpdateAccessors(t *testing.T) {
	s := testSchema(t)
	u, err := ParseUpdate3(s, []byte(`[1, "00000000-0000-0000-0000-00000000000a", {"Types": {"00000000-0000-0000-0000-000000000001": {"delete": null}},
		"Item": {"00000000-0000-0000-0000-000000000001": {"delete": null}, "00000000-0000-0000-0000-000000000002": {"delete": null}}}]`))
	mustOK(t, err)
	check.Equal(t, 3, u.NumRows())
	check.Equal(t, []string{"Types", "Item"}, u.Tables())
	check.True(t, u.HasLastID)
	check.Equal(t, "00000000-0000-0000-0000-00000000000a", u.LastID.String())
	check.Equal(t, "1", string(u.MonitorID))
	check.Equal(t, 2, u.Version)
	check.False(t, u.Clear)
}

func TestErrorsAreTyped(t *testing.T) {
	s := testSchema(t)
	_, err := ParseMonitorCondReply(s, []byte(`{"Item": {"x": {}}}`))
	check.ErrorIs(t, err, ErrMalformed)
	check.False(t, errors.Is(err, ErrInconsistent))

	r := NewReplica(s)
	u, err := ParseUpdate2(s, []byte(`[null, {"Item": {"00000000-0000-0000-0000-000000000001": {"delete": null}}}]`))
	mustOK(t, err)
	_, err = r.Apply(u)
	check.ErrorIs(t, err, ErrInconsistent)
	var ie *InconsistencyError
	mustTrue(t, errors.As(err, &ie))
	check.Equal(t, "Item", ie.Table)
	check.Equal(t, "delete", ie.Op)
	check.Equal(t, "no such row", ie.Reason)
	check.Equal(t, MustParseUUID("00000000-0000-0000-0000-000000000001"), ie.UUID)

	// An update parsed with one schema cannot go to a replica of another.
	other, err := NewSchema(loadDBSchema(t, "testdata/test.ovsschema"), nil)
	mustOK(t, err)
	_, err = NewReplica(other).Apply(u)
	check.ErrorContains(t, err, "another schema")
}
