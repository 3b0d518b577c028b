package monitor

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/ovn-org/libovsdb/ovsdb"
)

type condTestEnum string

func TestConditionEncoding(t *testing.T) {
	u1 := ovsdb.UUID{GoUUID: "83757c15-a3b7-4a3c-8dd6-3fbabb3badd5"}
	u2 := ovsdb.UUID{GoUUID: "0F0F0F0F-0000-4000-8000-000000000001"}
	str := "hv1"
	var nilStr *string
	tests := []struct {
		name  string
		value any
		want  string
	}{
		{"string", "a\"b", `"a\"b"`},
		{"named string (enum)", condTestEnum("lsp"), `"lsp"`},
		{"bool true", true, `true`},
		{"bool false", false, `false`},
		{"int", 42, `42`},
		{"int64 min", int64(math.MinInt64), `-9223372036854775808`},
		{"int64 beyond float precision", int64(9007199254740993), `9007199254740993`},
		{"uint64 max int", uint64(math.MaxInt64), `9223372036854775807`},
		{"int8", int8(-3), `-3`},
		{"real", 2.5, `2.5`},
		{"real integral stays real", 3.0, `3.0`},
		{"real negative zero", math.Copysign(0, -1), `-0.0`},
		{"real large", 1e21, `1e+21`},
		{"real small", 1.5e-7, `1.5e-07`},
		{"float32 shortest", float32(0.1), `0.1`},
		{"uuid", u1, `["uuid","83757c15-a3b7-4a3c-8dd6-3fbabb3badd5"]`},
		{"uuid upper case lowered", u2, `["uuid","0f0f0f0f-0000-4000-8000-000000000001"]`},
		{"set sorted", ovsdb.OvsSet{GoSet: []any{"c", "a", "b"}}, `["set",["a","b","c"]]`},
		{"set of one is the atom", ovsdb.OvsSet{GoSet: []any{7}}, `7`},
		{"empty set", ovsdb.OvsSet{}, `["set",[]]`},
		{"set of ints numeric order", ovsdb.OvsSet{GoSet: []any{10, 9, -1}}, `["set",[-1,9,10]]`},
		{"set of ints and reals", ovsdb.OvsSet{GoSet: []any{2.5, 1, int64(3)}}, `["set",[1,2.5,3]]`},
		{"set of uuids", ovsdb.OvsSet{GoSet: []any{u1, u2}}, `["set",[["uuid","0f0f0f0f-0000-4000-8000-000000000001"],["uuid","83757c15-a3b7-4a3c-8dd6-3fbabb3badd5"]]]`},
		{"set of bools", ovsdb.OvsSet{GoSet: []any{true, false}}, `["set",[false,true]]`},
		{"go slice", []string{"z", "y"}, `["set",["y","z"]]`},
		{"go array", [2]int{2, 1}, `["set",[1,2]]`},
		{"nil go slice", []string(nil), `["set",[]]`},
		{"pointer", &str, `"hv1"`},
		{"nil pointer is the empty set", nilStr, `["set",[]]`},
		{"pointer to set", &ovsdb.OvsSet{GoSet: []any{"b", "a"}}, `["set",["a","b"]]`},
		{"map sorted", ovsdb.OvsMap{GoMap: map[any]any{"b": "2", "a": "1", "c": "3"}}, `["map",[["a","1"],["b","2"],["c","3"]]]`},
		{"map int keys numeric", ovsdb.OvsMap{GoMap: map[any]any{10: "x", 9: "y"}}, `["map",[[9,"y"],[10,"x"]]]`},
		{"map uuid values", ovsdb.OvsMap{GoMap: map[any]any{"k": u1}}, `["map",[["k",["uuid","83757c15-a3b7-4a3c-8dd6-3fbabb3badd5"]]]]`},
		{"empty map", ovsdb.OvsMap{}, `["map",[]]`},
		{"go map", map[string]int{"y": 2, "x": 1}, `["map",[["x",1],["y",2]]]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := condAppendValue(nil, tt.value)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("not JSON: %s", got)
			}
		})
	}
}

// Go maps iterate in random order: the encoding must not.
func TestConditionEncodingDeterministic(t *testing.T) {
	m := map[any]any{}
	gm := map[string]string{}
	for i := range 64 {
		k := string(rune('A' + i))
		m[k] = i
		gm[k] = k
	}
	where := []ovsdb.Condition{
		{Column: "external_ids", Function: ovsdb.ConditionIncludes, Value: ovsdb.OvsMap{GoMap: m}},
		{Column: "other_config", Function: ovsdb.ConditionExcludes, Value: gm},
	}
	first, err := condEncodeWhere(where)
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		again, err := condEncodeWhere(where)
		if err != nil || string(again) != string(first) {
			t.Fatalf("encoding changed:\n%s\n%s", first, again)
		}
	}
	// libovsdb's own encoding is the same value, in some order.
	lib, err := json.Marshal([]any{where[0]})
	if err != nil {
		t.Fatal(err)
	}
	var mine, theirs []any
	if err := json.Unmarshal(first, &mine); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(lib, &theirs); err != nil {
		t.Fatal(err)
	}
	if !sameMapPairs(mine[0].([]any)[2], theirs[0].([]any)[2]) {
		t.Errorf("differs from libovsdb:\n%s\n%s", first, lib)
	}
}

// sameMapPairs compares two decoded ["map",[[k,v],...]] values ignoring order.
func sameMapPairs(a, b any) bool {
	pairs := func(v any) map[string]any {
		out := map[string]any{}
		for _, p := range v.([]any)[1].([]any) {
			kv := p.([]any)
			k, _ := json.Marshal(kv[0])
			out[string(k)] = kv[1]
		}
		return out
	}
	return reflect.DeepEqual(pairs(a), pairs(b))
}

func TestConditionWhere(t *testing.T) {
	tests := []struct {
		name  string
		where []ovsdb.Condition
		want  string
	}{
		{"nil is true", nil, `[true]`},
		{"empty is false", []ovsdb.Condition{}, `[false]`},
		{"clauses keep their order", []ovsdb.Condition{
			{Column: "z", Function: ovsdb.ConditionGreaterThan, Value: 1},
			{Column: "a", Function: ovsdb.ConditionLessThanOrEqual, Value: 2.5},
		}, `[["z",">",1],["a","<=",2.5]]`},
		{"every function", []ovsdb.Condition{
			{Column: "c", Function: ovsdb.ConditionLessThan, Value: 1},
			{Column: "c", Function: ovsdb.ConditionLessThanOrEqual, Value: 1},
			{Column: "c", Function: ovsdb.ConditionEqual, Value: 1},
			{Column: "c", Function: ovsdb.ConditionNotEqual, Value: 1},
			{Column: "c", Function: ovsdb.ConditionGreaterThan, Value: 1},
			{Column: "c", Function: ovsdb.ConditionGreaterThanOrEqual, Value: 1},
			{Column: "c", Function: ovsdb.ConditionIncludes, Value: 1},
			{Column: "c", Function: ovsdb.ConditionExcludes, Value: 1},
		}, `[["c","<",1],["c","<=",1],["c","==",1],["c","!=",1],["c",">",1],["c",">=",1],["c","includes",1],["c","excludes",1]]`},
		{"_uuid column", []ovsdb.Condition{ovsdb.NewCondition("_uuid", ovsdb.ConditionEqual, ovsdb.UUID{GoUUID: "83757c15-a3b7-4a3c-8dd6-3fbabb3badd5"})},
			`[["_uuid","==",["uuid","83757c15-a3b7-4a3c-8dd6-3fbabb3badd5"]]]`},
	}
	for _, tt := range tests {
		got, err := condEncodeWhere(tt.where)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: got %s, %v; want %s", tt.name, got, err, tt.want)
		}
	}
}

func TestConditionEncodingErrors(t *testing.T) {
	type weird struct{ X int }
	ch := make(chan int)
	tests := []struct {
		name string
		c    ovsdb.Condition
	}{
		{"no column", ovsdb.Condition{Function: ovsdb.ConditionEqual, Value: 1}},
		{"column not UTF-8", ovsdb.Condition{Column: "\xff", Function: ovsdb.ConditionEqual, Value: 1}},
		{"no function", ovsdb.Condition{Column: "c", Value: 1}},
		{"unknown function", ovsdb.Condition{Column: "c", Function: "like", Value: 1}},
		{"nil value", ovsdb.Condition{Column: "c", Function: ovsdb.ConditionEqual}},
		{"NaN", ovsdb.Condition{Column: "c", Function: ovsdb.ConditionEqual, Value: math.NaN()}},
		{"Inf", ovsdb.Condition{Column: "c", Function: ovsdb.ConditionEqual, Value: math.Inf(1)}},
		{"uint64 too big", ovsdb.Condition{Column: "c", Function: ovsdb.ConditionEqual, Value: uint64(math.MaxUint64)}},
		{"string not UTF-8", ovsdb.Condition{Column: "c", Function: ovsdb.ConditionEqual, Value: "\xc3"}},
		{"named uuid", ovsdb.Condition{Column: "c", Function: ovsdb.ConditionEqual, Value: ovsdb.UUID{GoUUID: "row1"}}},
		{"struct", ovsdb.Condition{Column: "c", Function: ovsdb.ConditionEqual, Value: weird{1}}},
		{"channel", ovsdb.Condition{Column: "c", Function: ovsdb.ConditionEqual, Value: ch}},
		{"func", ovsdb.Condition{Column: "c", Function: ovsdb.ConditionEqual, Value: func() {}}},
		{"nested set", ovsdb.Condition{Column: "c", Function: ovsdb.ConditionIncludes, Value: ovsdb.OvsSet{GoSet: []any{[]int{1}}}}},
		{"set with nil", ovsdb.Condition{Column: "c", Function: ovsdb.ConditionIncludes, Value: ovsdb.OvsSet{GoSet: []any{nil}}}},
		{"set of mixed types", ovsdb.Condition{Column: "c", Function: ovsdb.ConditionIncludes, Value: ovsdb.OvsSet{GoSet: []any{"a", 1}}}},
		{"set with duplicates", ovsdb.Condition{Column: "c", Function: ovsdb.ConditionIncludes, Value: ovsdb.OvsSet{GoSet: []any{"a", "a"}}}},
		{"set with int and int64 duplicate", ovsdb.Condition{Column: "c", Function: ovsdb.ConditionIncludes, Value: ovsdb.OvsSet{GoSet: []any{1, int64(1)}}}},
		{"map with set value", ovsdb.Condition{Column: "c", Function: ovsdb.ConditionIncludes, Value: ovsdb.OvsMap{GoMap: map[any]any{"a": []string{"x"}}}}},
		{"map keys of mixed types", ovsdb.Condition{Column: "c", Function: ovsdb.ConditionIncludes, Value: ovsdb.OvsMap{GoMap: map[any]any{"a": "x", 1: "y"}}}},
		{"map values of mixed types", ovsdb.Condition{Column: "c", Function: ovsdb.ConditionIncludes, Value: ovsdb.OvsMap{GoMap: map[any]any{"a": "x", "b": 1}}}},
		{"map with nil value", ovsdb.Condition{Column: "c", Function: ovsdb.ConditionIncludes, Value: map[string]any{"a": nil}}},
		{"map with bad key", ovsdb.Condition{Column: "c", Function: ovsdb.ConditionIncludes, Value: map[weird]string{{1}: "a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := condEncodeWhere([]ovsdb.Condition{{Column: "ok", Function: ovsdb.ConditionEqual, Value: 1}, tt.c})
			if !errors.Is(err, ErrBadCondition) {
				t.Errorf("error %v, want ErrBadCondition", err)
			}
			if got != nil {
				t.Errorf("encoded %s with an error", got)
			}
		})
	}
}
