package monitor

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/ovn-org/libovsdb/ovsdb/serverdb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUUID(t *testing.T) {
	u, err := ParseUUID("ABCDEF01-2345-6789-abcd-ef0123456789")
	require.NoError(t, err)
	assert.Equal(t, "abcdef01-2345-6789-abcd-ef0123456789", u.String())
	assert.Equal(t, byte(0xab), u[0])
	assert.Equal(t, byte(0x89), u[15])
	assert.False(t, u.IsZero())
	assert.True(t, UUID{}.IsZero())

	for _, bad := range []string{"", "abcdef01-2345-6789-abcd-ef012345678", "abcdef01-2345-6789-abcd-ef01234567890",
		"abcdef01x2345-6789-abcd-ef0123456789", "abcdef01-2345-6789-abcd-ef012345678g", "{abcdef01-2345-6789-abcd-ef01234567}"} {
		_, err := ParseUUID(bad)
		assert.ErrorIs(t, err, ErrBadUUID, bad)
	}

	b, err := json.Marshal(u)
	require.NoError(t, err)
	assert.Equal(t, `"abcdef01-2345-6789-abcd-ef0123456789"`, string(b))
	var back UUID
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, u, back)
	assert.ErrorIs(t, json.Unmarshal([]byte(`"nope"`), &back), ErrBadUUID)
	assert.Panics(t, func() { MustParseUUID("nope") })
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
		assert.Equal(t, c.json, c.a.String())
		b, err := c.a.MarshalJSON()
		require.NoError(t, err)
		assert.Equal(t, c.json, string(b))
	}
	assert.Equal(t, TypeUUID, UUIDAtom(u).Type())
	assert.Equal(t, u, UUIDAtom(u).UUID())
	assert.Equal(t, int64(5), IntegerAtom(5).Int())
	assert.Equal(t, 1.5, RealAtom(1.5).Float())
	assert.True(t, BooleanAtom(true).Bool())
	assert.Equal(t, "x", StringAtom("x").Str())
	// Accessors of the wrong type give zero values.
	assert.Equal(t, int64(0), StringAtom("5").Int())
	assert.Equal(t, 0.0, IntegerAtom(5).Float())
	assert.False(t, IntegerAtom(1).Bool())
	assert.Equal(t, "", IntegerAtom(1).Str())
	assert.Equal(t, UUID{}, StringAtom(string(u[:])).UUID())

	assert.Negative(t, IntegerAtom(-5).Compare(IntegerAtom(3)))
	assert.Negative(t, RealAtom(-5).Compare(RealAtom(-4.5)))
	assert.Negative(t, BooleanAtom(false).Compare(BooleanAtom(true)))
	assert.Negative(t, StringAtom("B").Compare(StringAtom("a")))
	assert.Negative(t, StringAtom("a").Compare(StringAtom("é")))
	assert.Negative(t, UUIDAtom(MustParseUUID("0fffffff-ffff-ffff-ffff-ffffffffffff")).Compare(UUIDAtom(MustParseUUID("10000000-0000-0000-0000-000000000000"))))
	assert.Negative(t, IntegerAtom(100).Compare(StringAtom("")), "atoms of different types order by type")
	assert.True(t, RealAtom(0).Equal(RealAtom(math.Copysign(0, -1))))

	assert.Equal(t, "integer", TypeInteger.String())
	assert.Equal(t, "AtomicType(9)", AtomicType(9).String())
}

func TestNewSchema(t *testing.T) {
	db := loadDBSchema(t, "testdata/test.ovsschema")

	s, err := NewSchema(db, nil)
	require.NoError(t, err)
	assert.Equal(t, "Test", s.Name)
	assert.Equal(t, []string{"Empty", "Item", "Types"}, tableNames(s))
	item := s.Table("Item")
	require.True(t, nil != item)
	var cols []string
	for i, c := range item.Columns {
		assert.Equal(t, i, c.Index)
		cols = append(cols, c.Name)
	}
	assert.Equal(t, []string{"enabled", "ext", "n", "name", "refs", "tags"}, cols, "columns sorted by name")
	refs := item.Column("refs").Type
	assert.Equal(t, "Item", refs.Key.RefTable)
	assert.Equal(t, "weak", refs.Key.RefType)
	assert.Equal(t, Unlimited, refs.Max)
	assert.Equal(t, "set of uuid (min 0, max unlimited)", refs.String())
	assert.True(t, item.Column("ext").Type.IsMap())
	assert.True(t, item.Column("name").Type.IsScalar())
	assert.True(t, item.Column("n").Type.IsOptional())
	assert.Nil(t, item.Column("nope"))
	assert.Nil(t, s.Table("Nope"))

	types := s.Table("Types")
	assert.Equal(t, []Atom{StringAtom("blue"), StringAtom("green"), StringAtom("red")}, types.Column("e").Type.Key.Enum)
	assert.Equal(t, int64(1), types.Column("rng").Type.Key.MinInteger)
	assert.Equal(t, int64(10), types.Column("rng").Type.Key.MaxInteger)
	assert.Equal(t, -1.5, types.Column("rr").Type.Key.MinReal)
	assert.Equal(t, 2.5, types.Column("rr").Type.Key.MaxReal)
	assert.Equal(t, 3, types.Column("short").Type.Key.MaxLength)
	assert.Equal(t, int64(math.MinInt64), types.Column("i").Type.Key.MinInteger)

	// A selection of tables and columns; _uuid is ignored, _version kept.
	s, err = NewSchema(db, map[string][]string{"Item": {"name", "_uuid", "tags", "_version", "name"}, "Empty": nil})
	require.NoError(t, err)
	assert.Equal(t, []string{"Empty", "Item"}, tableNames(s))
	assert.Len(t, s.Table("Item").Columns, 3)
	assert.Equal(t, "uuid", s.Table("Item").Column(VersionColumn).Type.String())
	assert.Len(t, s.Table("Empty").Columns, 1)
	_, err = ParseUpdate2(s, []byte(`[null, {"Item": {"00000000-0000-0000-0000-000000000001": {"insert": {"n": 1}}}}]`))
	assert.ErrorContains(t, err, `unknown column "n"`)
	_, err = ParseUpdate2(s, []byte(`[null, {"Types": {}}]`))
	assert.ErrorContains(t, err, `unknown table "Types"`)

	_, err = NewSchema(db, map[string][]string{"Nope": nil})
	assert.ErrorIs(t, err, ErrSchema)
	_, err = NewSchema(db, map[string][]string{"Item": {"nope"}})
	assert.ErrorIs(t, err, ErrSchema)
	_, err = NewSchema(nil, nil)
	assert.ErrorIs(t, err, ErrSchema)

	for _, text := range []string{
		`{"name":"X","tables":{"T":{"columns":{"c":{"type":{"key":"integer","min":2,"max":3}}}}}}`,
		`{"name":"X","tables":{"T":{"columns":{"c":{"type":{"key":"integer","min":0,"max":0}}}}}}`,
		`{"name":"X","tables":{"T":{"columns":{"c":{"type":{"key":{"type":"integer","enum":["set",["x"]]}}}}}}}`,
		`{"name":"X","tables":{"T":{"columns":{"c":{"type":{"key":{"type":"boolean","enum":1.5}}}}}}}`,
		`{"name":"X","tables":{"T":{"columns":{"_c":{"type":"integer"}}}}}`,
	} {
		_, err := NewSchema(parseDBSchema(t, text), nil)
		assert.ErrorIs(t, err, ErrSchema, text)
	}
}

// TestVersionColumn parses rows carrying "_version" (as ovsdb-server sends
// them when a monitor request names no columns, or names _version) with and
// without _version in the selection: kept as a uuid column when selected,
// checked and dropped otherwise.
func TestVersionColumn(t *testing.T) {
	db := loadDBSchema(t, "testdata/test.ovsschema")
	const (
		id = "00000000-0000-0000-0000-000000000001"
		v1 = "00000000-0000-0000-0000-0000000000a1"
		v2 = "00000000-0000-0000-0000-0000000000a2"
	)
	insert := `[null, {"Item": {"` + id + `": {"initial": {"name": "x", "_version": ["uuid", "` + v1 + `"]}}}}]`
	modify := `[null, {"Item": {"` + id + `": {"modify": {"n": 3, "_version": ["uuid", "` + v2 + `"]}}}}]`
	modifyV1 := `[null, {"Item": {"` + id + `": {"old": {"n": ["set", []], "_version": ["uuid", "` + v1 + `"]}, "new": {"name": "x", "n": 3, "_version": ["uuid", "` + v2 + `"]}}}}]`
	for _, tc := range []struct {
		name    string
		cols    []string
		version bool
	}{
		{"selected", []string{"name", "n", VersionColumn}, true},
		{"all columns", nil, false},
		{"named without it", []string{"name", "n"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSchema(db, map[string][]string{"Item": tc.cols})
			require.NoError(t, err)
			assert.Equal(t, tc.version, s.Table("Item").Column(VersionColumn) != nil)
			version := func(r *Replica) (Datum, bool) {
				row, ok := r.Get("Item", MustParseUUID(id))
				require.True(t, ok)
				assert.Equal(t, "x", row.Get("name").Str())
				return row.Column(VersionColumn)
			}
			for _, step := range []struct {
				name string
				fn   func(*Schema, []byte) (*Update, error)
				ups  []string
			}{
				{"update2", ParseUpdate2, []string{insert, modify}},
				{"update", ParseUpdate, []string{strings.Replace(insert, "initial", "new", 1), modifyV1}},
			} {
				r := NewReplica(s)
				for i, text := range step.ups {
					u, err := step.fn(s, []byte(text))
					require.NoError(t, err, step.name)
					_, err = r.Apply(u)
					require.NoError(t, err, step.name)
					d, ok := version(r)
					require.Equal(t, tc.version, ok, step.name)
					if ok {
						assert.Equal(t, []string{v1, v2}[i], d.UUID().String(), step.name)
					}
				}
			}
			// A _version that is not a uuid is an error either way.
			_, err = ParseUpdate2(s, []byte(`[null, {"Item": {"`+id+`": {"insert": {"_version": 5}}}}]`))
			assert.ErrorContains(t, err, "_version")
		})
	}
}

func TestParseDatabaseSchema(t *testing.T) {
	raw, err := os.ReadFile("testdata/test.ovsschema")
	require.NoError(t, err)
	db, err := ParseDatabaseSchema(raw)
	require.NoError(t, err)
	s, err := NewSchema(db, nil)
	require.NoError(t, err)
	assert.Len(t, s.Tables, 3)
	for _, bad := range []string{
		``, `[]`, `{}`, `{"name":"x"}`,
		`{"name":"x","tables":{"T":{"columns":{"c":{}}}}}`,
		`{"name":"x","tables":{"T":{"columns":{"c":{"type":{"key":{"type":"string","enum":["set"]}}}}}}}`,
		`{"name":"x","tables":{"T":{"columns":{"c":{"type":{"key":{"type":"uuid","enum":["uuid","x"]}}}}}}}`,
	} {
		_, err := ParseDatabaseSchema([]byte(bad))
		assert.ErrorIs(t, err, ErrSchema, bad)
	}
	// libovsdb accepts a type without a key; NewSchema does not.
	db, err = ParseDatabaseSchema([]byte(`{"name":"x","tables":{"T":{"columns":{"c":{"type":{"value":"string"}}}}}}`))
	require.NoError(t, err)
	_, err = NewSchema(db, nil)
	assert.ErrorIs(t, err, ErrSchema)
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
	require.NoError(t, err)
	db := s.Table("Database")
	require.True(t, nil != db)
	assert.Equal(t, []Atom{StringAtom("clustered"), StringAtom("relay"), StringAtom("standalone")}, db.Column("model").Type.Key.Enum)
	u, err := ParseMonitorCondReply(s, []byte(`{"Database":{"5c1928c7-e044-46dd-a207-a8a4703fd1dc":{"initial":{
		"name":"OVN_Northbound","model":"clustered","connected":true,"leader":true,"schema":"{}",
		"cid":["uuid","0f0e0d0c-0b0a-0908-0706-050403020100"],"sid":["uuid","1f0e0d0c-0b0a-0908-0706-050403020100"],"index":12345}}}}`))
	require.NoError(t, err)
	r := NewReplica(s)
	_, err = r.Apply(u)
	require.NoError(t, err)
	row, ok := r.Get("Database", MustParseUUID("5c1928c7-e044-46dd-a207-a8a4703fd1dc"))
	require.True(t, ok)
	assert.Equal(t, int64(12345), row.Get("index").Int())
	assert.Equal(t, "clustered", row.Get("model").Str())
	assert.True(t, row.Get("leader").Bool())

	for _, path := range []string{"/usr/share/openvswitch/vswitch.ovsschema", "/usr/share/ovn/ovn-nb.ovsschema", "/usr/share/ovn/ovn-sb.ovsschema"} {
		if _, err := os.Stat(path); err != nil {
			continue
		}
		t.Run(path, func(t *testing.T) {
			s, err := NewSchema(loadDBSchema(t, path), nil)
			require.NoError(t, err)
			assert.NotEmpty(t, s.Tables)
		})
	}
}

func TestDatumAccessors(t *testing.T) {
	s := testSchema(t)
	parse := func(column, js string) Datum {
		t.Helper()
		d, err := ParseDatum(col(t, s, "Types", column), []byte(js))
		require.NoError(t, err)
		return d
	}
	u1 := MustParseUUID("00000000-0000-0000-0000-000000000001")
	u2 := MustParseUUID("00000000-0000-0000-0000-000000000002")

	d := parse("i", "42")
	assert.Equal(t, int64(42), d.Int())
	assert.Equal(t, 1, d.Len())
	assert.False(t, d.IsDefault())
	d = parse("i", "0")
	assert.True(t, d.IsDefault())
	assert.Equal(t, 1, d.Len(), "a scalar always has one atom")
	a, ok := d.Atom()
	assert.True(t, ok)
	assert.Equal(t, IntegerAtom(0), a)

	assert.Equal(t, 2.5, parse("r", "2.5").Float())
	assert.True(t, parse("b", "true").Bool())
	assert.Equal(t, "x", parse("s", `"x"`).Str())
	assert.Equal(t, u1, parse("u", `["uuid","00000000-0000-0000-0000-000000000001"]`).UUID())

	d = parse("oi", `["set",[]]`)
	assert.Equal(t, 0, d.Len())
	_, ok = d.Atom()
	assert.False(t, ok)
	assert.Equal(t, int64(0), d.Int())
	assert.Equal(t, `["set",[]]`, d.String())
	assert.Equal(t, int64(7), parse("oi", "7").Int())

	d = parse("ss", `["set",["b","a","c"]]`)
	assert.Equal(t, []string{"a", "b", "c"}, d.Strings())
	assert.True(t, d.Contains(StringAtom("b")))
	assert.False(t, d.Contains(StringAtom("d")))
	assert.False(t, d.Contains(IntegerAtom(1)))
	assert.Equal(t, `["set",["a","b","c"]]`, d.String())

	d = parse("us", `["set",[["uuid","00000000-0000-0000-0000-000000000002"],["uuid","00000000-0000-0000-0000-000000000001"]]]`)
	assert.Equal(t, []UUID{u1, u2}, d.UUIDs())
	assert.Equal(t, []int64{-3, 5}, parse("is", `["set",[5,-3]]`).Ints())

	d = parse("msi", `["map",[["b",2],["a",1]]]`)
	assert.Equal(t, 2, d.Len())
	v, ok := d.Lookup(StringAtom("b"))
	assert.True(t, ok)
	assert.Equal(t, int64(2), v.Int())
	_, ok = d.Lookup(StringAtom("c"))
	assert.False(t, ok)
	assert.Equal(t, []string{"a", "b"}, d.Strings(), "the keys of a map")
	var keys []string
	for k, v := range d.Pairs() {
		keys = append(keys, k.Str()+"="+v.String())
	}
	assert.Equal(t, []string{"a=1", "b=2"}, keys)
	assert.Equal(t, `["map",[["a",1],["b",2]]]`, d.String())
	assert.Equal(t, map[string]string{}, parse("msi", `["map",[]]`).StringMap())

	d = parse("om", `["map",[["k","v"]]]`)
	assert.Equal(t, map[string]string{"k": "v"}, d.StringMap())

	// A set with min 1 defaults to one default atom.
	d = Datum{t: col(t, s, "Types", "ss1")}
	assert.True(t, d.IsDefault())
	assert.Equal(t, 1, d.Len())
	assert.Equal(t, []string{""}, d.Strings())
	assert.Equal(t, `""`, d.String())
	assert.True(t, parse("ss1", `["set",[""]]`).IsDefault())
	assert.True(t, parse("ss1", `""`).Equal(d))

	// The zero Datum reads as empty.
	var z Datum
	assert.Equal(t, 0, z.Len())
	assert.Nil(t, z.Strings())
	assert.Equal(t, "null", z.String())
	_, ok = z.Lookup(StringAtom("x"))
	assert.False(t, ok)
	assert.Nil(t, z.Type())

	// Datums of different columns are never equal.
	assert.False(t, parse("oi", "1").Equal(parse("is", "1")))
}

func TestNewDatum(t *testing.T) {
	s := testSchema(t)
	d, err := NewDatum(col(t, s, "Types", "ss"), StringAtom("b"), StringAtom("a"))
	require.NoError(t, err)
	assert.Equal(t, `["set",["a","b"]]`, d.String())
	d, err = NewDatum(col(t, s, "Types", "msi"), StringAtom("z"), IntegerAtom(1), StringAtom("a"), IntegerAtom(2))
	require.NoError(t, err)
	assert.Equal(t, `["map",[["a",2],["z",1]]]`, d.String())
	d, err = NewDatum(col(t, s, "Types", "i"), IntegerAtom(0))
	require.NoError(t, err)
	assert.True(t, d.IsDefault())

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
		assert.Error(t, err, name)
	}
	_, err = NewDatum(nil)
	assert.Error(t, err)
	_, err = ParseDatum(nil, []byte("1"))
	assert.Error(t, err)
}

// Strings must be valid UTF-8 without NUL, as in Open vSwitch.
func TestParseStrings(t *testing.T) {
	s := testSchema(t)
	typ := col(t, s, "Types", "s")
	for _, bad := range []string{"\"\xff\"", "\"a\xc3\"", "\"tab\tin\"", "\"\x00\"", `"\u00"`, `"\ud800\u0041"`, `"\udc00"`, `"x`, `"\`} {
		_, err := ParseDatum(typ, []byte(bad))
		assert.ErrorIs(t, err, ErrMalformed, "%q", bad)
	}
	for in, want := range map[string]string{
		`"\u00e9\ud83d\ude00"`:       "é😀",
		`"\/\b\f\n\r\t\"\\"`:         "/\b\f\n\r\t\"\\",
		"\"raw é\"":                  "raw é",
		`"mixed \u0041 and \u00e9x"`: "mixed A and éx",
	} {
		d, err := ParseDatum(typ, []byte(in))
		require.NoError(t, err)
		assert.Equal(t, want, d.Str(), in)
	}
}

// A monitor id nested a million levels deep is skipped without recursion.
func TestDeepNesting(t *testing.T) {
	s := testSchema(t)
	const depth = 1000000
	deep := strings.Repeat("[", depth) + strings.Repeat("]", depth)
	u, err := ParseUpdate2(s, []byte("["+deep+", {}]"))
	require.NoError(t, err)
	assert.Len(t, u.MonitorID, 2*depth)
	_, err = ParseUpdate2(s, []byte("["+strings.Repeat("[", depth)+", {}]"))
	assert.ErrorIs(t, err, ErrMalformed)
	_, err = ParseUpdate2(s, []byte(`[null, {"Item": {"00000000-0000-0000-0000-000000000001": {"insert": {"tags": `+deep+`}}}}]`))
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestNotificationMonitorID(t *testing.T) {
	id, err := NotificationMonitorID([]byte(` [ ["monid", "OVN_Northbound"] , "ignored" ] `))
	require.NoError(t, err)
	assert.Equal(t, `["monid","OVN_Northbound"]`, string(id))
	for _, bad := range []string{``, `{}`, `[]`, `[["monid"`, `[nul]`} {
		_, err := NotificationMonitorID([]byte(bad))
		assert.ErrorIs(t, err, ErrMalformed, bad)
	}
	s := testSchema(t)
	_, err = ParseNotification(s, "update4", []byte(`[null, {}]`))
	assert.ErrorIs(t, err, ErrMalformed)
	_, err = ParseUpdate2(nil, []byte(`[null, {}]`))
	assert.Error(t, err)
}

func TestUpdateAccessors(t *testing.T) {
	s := testSchema(t)
	u, err := ParseUpdate3(s, []byte(`[1, "00000000-0000-0000-0000-00000000000a", {"Types": {"00000000-0000-0000-0000-000000000001": {"delete": null}},
		"Item": {"00000000-0000-0000-0000-000000000001": {"delete": null}, "00000000-0000-0000-0000-000000000002": {"delete": null}}}]`))
	require.NoError(t, err)
	assert.Equal(t, 3, u.NumRows())
	assert.Equal(t, []string{"Types", "Item"}, u.Tables())
	assert.True(t, u.HasLastID)
	assert.Equal(t, "00000000-0000-0000-0000-00000000000a", u.LastID.String())
	assert.Equal(t, "1", string(u.MonitorID))
	assert.Equal(t, 2, u.Version)
	assert.False(t, u.Clear)
}

func TestErrorsAreTyped(t *testing.T) {
	s := testSchema(t)
	_, err := ParseMonitorCondReply(s, []byte(`{"Item": {"x": {}}}`))
	assert.ErrorIs(t, err, ErrMalformed)
	assert.False(t, errors.Is(err, ErrInconsistent))

	r := NewReplica(s)
	u, err := ParseUpdate2(s, []byte(`[null, {"Item": {"00000000-0000-0000-0000-000000000001": {"delete": null}}}]`))
	require.NoError(t, err)
	_, err = r.Apply(u)
	assert.ErrorIs(t, err, ErrInconsistent)
	var ie *InconsistencyError
	require.True(t, errors.As(err, &ie))
	assert.Equal(t, "Item", ie.Table)
	assert.Equal(t, "delete", ie.Op)
	assert.Equal(t, "no such row", ie.Reason)
	assert.Equal(t, MustParseUUID("00000000-0000-0000-0000-000000000001"), ie.UUID)

	// An update parsed with one schema cannot go to a replica of another.
	other, err := NewSchema(loadDBSchema(t, "testdata/test.ovsschema"), nil)
	require.NoError(t, err)
	_, err = NewReplica(other).Apply(u)
	assert.ErrorContains(t, err, "another schema")
}
