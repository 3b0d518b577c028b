package testserver

import (
	"os"
	"path/filepath"
	"testing"
)

func TestConditionsOnAllTypes(t *testing.T) {
	s, err := parseSchema(testSchema(t))
	require.NoError(t, err)
	ts := s.tables["T"]
	r := newDefaultRow(ts, "5f8a5d42-0000-4000-8000-000000000001")
	r.version = "5f8a5d42-0000-4000-8000-000000000002"
	set := func(col, value string) {
		d, err := parseDatumRaw([]byte(value), &ts.columns[col].typ, nil)
		require.NoError(t, err, "%s", value)
		r.cols[col] = d
	}
	set("s", `"abc"`)
	set("i", `5`)
	set("r", `2.5`)
	set("b", `true`)
	set("u", `["uuid","11111111-2222-4333-8444-555555555555"]`)
	set("e", `"b"`)
	set("iset", `["set",[1,2,3]]`)
	set("smap", `["map",[["k1","v1"],["k2","v2"]]]`)
	set("opt", `"x"`)

	for _, tc := range []struct {
		where string
		want  bool
	}{
		{`[]`, true},
		{`[true]`, true},
		{`[false]`, false},
		{`[["s","==","abc"]]`, true},
		{`[["s","!=","abc"]]`, false},
		{`[["s","includes","abc"]]`, true},
		{`[["s","excludes","abc"]]`, false},
		{`[["i","==",5]]`, true},
		{`[["i","<",6]]`, true},
		{`[["i","<=",5]]`, true},
		{`[["i",">",5]]`, false},
		{`[["i",">=",5]]`, true},
		{`[["r","<",2.6]]`, true},
		{`[["r",">",2]]`, true},
		{`[["r","==",2.5]]`, true},
		{`[["b","==",true]]`, true},
		{`[["b","!=",false]]`, true},
		{`[["u","==",["uuid","11111111-2222-4333-8444-555555555555"]]]`, true},
		{`[["_uuid","==",["uuid","5f8a5d42-0000-4000-8000-000000000001"]]]`, true},
		{`[["_version","!=",["uuid","5f8a5d42-0000-4000-8000-000000000001"]]]`, true},
		{`[["e","==","b"]]`, true},
		{`[["e","==","zz"]]`, false}, // enums do not constrain arguments
		{`[["iset","==",["set",[3,2,1]]]]`, true},
		{`[["iset","==",["set",[1,2]]]]`, false},
		{`[["iset","includes",["set",[1,3]]]]`, true},
		{`[["iset","includes",["set",[1,4]]]]`, false},
		{`[["iset","includes",["set",[]]]]`, true},
		{`[["iset","excludes",["set",[4,5]]]]`, true},
		{`[["iset","excludes",["set",[3,5]]]]`, false},
		{`[["iset","includes",2]]`, true},
		{`[["smap","includes",["map",[["k1","v1"]]]]]`, true},
		{`[["smap","includes",["map",[["k1","v2"]]]]]`, false},
		{`[["smap","excludes",["map",[["k1","v2"]]]]]`, true},
		{`[["smap","==",["map",[["k2","v2"],["k1","v1"]]]]]`, true},
		{`[["opt","==","x"]]`, true},
		{`[["opt","==",["set",[]]]]`, false},
		{`[["two","==",["set",[]]]]`, true},
		{`[["i","==",5],["s","==","abc"]]`, true},
		{`[["i","==",5],["s","==","abd"]]`, false},
	} {
		cond, err := parseCondition([]byte(tc.where), ts, nil)
		require.NoError(t, err, "%s", tc.where)
		require.Equal(t, tc.want, cond.eval(r), "%s", tc.where)
	}

	// Relational functions on an empty optional column are false.
	lim := newDefaultRow(ts, "5f8a5d42-0000-4000-8000-000000000003")
	for _, where := range []string{`[["two","<",1]]`} {
		_, err := parseCondition([]byte(where), ts, nil)
		require.Error(t, err, "relational functions need a scalar column: %s", where)
	}
	cond, err := parseCondition([]byte(`[["lim",">=",0]]`), ts, nil)
	require.NoError(t, err)
	require.True(t, cond.eval(lim))
}

func TestDatumDiff(t *testing.T) {
	s, err := parseSchema(testSchema(t))
	require.NoError(t, err)
	ts := s.tables["T"]
	for _, tc := range []struct{ col, old, new, want string }{
		{"iset", `["set",[1,2,3]]`, `["set",[1,3,7]]`, `["set",[2,7]]`},
		{"smap", `["map",[["k","v"]]]`, `["map",[["k2","v2"]]]`, `["map",[["k","v"],["k2","v2"]]]`},
		{"smap", `["map",[["k","v"]]]`, `["map",[["k","w"]]]`, `["map",[["k","w"]]]`},
		{"opt", `"o"`, `["set",[]]`, `["set",[]]`},
		{"opt", `["set",[]]`, `"o"`, `"o"`},
		{"i", `1`, `2`, `2`},
	} {
		typ := &ts.columns[tc.col].typ
		o, err := parseDatumRaw([]byte(tc.old), typ, nil)
		require.NoError(t, err)
		n, err := parseDatumRaw([]byte(tc.new), typ, nil)
		require.NoError(t, err)
		require.Equal(t, tc.want, string(marshal(diff(o, n, typ).toJSON(typ))), "%s: %s -> %s", tc.col, tc.old, tc.new)
	}
}

func TestSchemaParsing(t *testing.T) {
	s, err := parseSchema(testSchema(t))
	require.NoError(t, err)
	// The normalized form ovsdb-server 3.1 returned for this schema.
	require.JSONEq(t, `{"name":"Test","version":"1.2.3","tables":{"R":{"maxRows":100,"columns":{"name":{"type":"string"}}},"T":{"isRoot":true,"indexes":[["s"],["i","b"]],"columns":{"imm":{"mutable":false,"type":"string"},"opt":{"type":{"min":0,"key":"string"}},"iset":{"type":{"max":"unlimited","min":0,"key":"integer"}},"wref":{"type":{"min":0,"key":{"refType":"weak","type":"uuid","refTable":"R"}}},"two":{"type":{"max":2,"min":0,"key":"integer"}},"u":{"type":"uuid"},"r":{"type":"real"},"e":{"type":{"key":{"type":"string","enum":["set",["a","b","c"]]}}},"ref":{"type":{"max":"unlimited","min":0,"key":{"type":"uuid","refTable":"R"}}},"eph":{"ephemeral":true,"type":"integer"},"smap":{"type":{"max":"unlimited","min":0,"key":"string","value":"string"}},"b":{"type":"boolean"},"lim":{"type":{"key":{"minInteger":0,"maxInteger":10,"type":"integer"}}},"i":{"type":"integer"},"s":{"type":"string"}}}}}`,
		string(s.json))
	for _, bad := range []string{
		`[]`,
		`{"tables":{}}`,
		`{"name":"X","tables":{"T":{"columns":{}}}}`,
		`{"name":"X","tables":{"T":{"columns":{"c":{"type":"nope"}}}}}`,
		`{"name":"X","tables":{"T":{"columns":{"c":{"type":{"key":{"type":"uuid","refTable":"Missing"}}}}}}}`,
		`{"name":"X","tables":{"T":{"columns":{"c":{"type":"string"}},"indexes":[["d"]]}}}`,
		`{"name":"X","tables":{"T":{"columns":{"c":{"type":{"key":"string","min":2}}}}}}`,
	} {
		_, err := parseSchema([]byte(bad))
		require.Error(t, err, "%s", bad)
	}

	dir := t.TempDir()
	p := filepath.Join(dir, "lab.ovsschema")
	require.NoError(t, os.WriteFile(p, LabSchema(), 0o600))
	b, err := LoadSchemaFile(p)
	require.NoError(t, err)
	require.Equal(t, string(LabSchema()), string(b))
	require.NoError(t, os.WriteFile(p, []byte(`{"name":`), 0o600))
	_, err = LoadSchemaFile(p)
	require.Error(t, err)
	_, err = LoadSchemaFile(filepath.Join(dir, "missing"))
	require.Error(t, err)
	_, err = NewCluster(1, []byte(`{}`))
	require.Error(t, err)
	_, err = NewCluster(0, LabSchema())
	require.Error(t, err)
	_, err = NewCluster(1, LabSchema(), WithModel("bogus"))
	require.Error(t, err)
	_, err = NewCluster(1, LabSchema(), WithInitialLeader(3))
	require.ErrorIs(t, err, ErrBadMember)
}
