package monitor

import (
	"errors"
	"testing"
)

// Fuzz targets: any input must give a value or an error, never a panic, and
// what parses must print back as JSON that parses to the same value.
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 60s ./monitor/
//	go test -run '^$' -fuzz FuzzApply -fuzztime 60s ./monitor/
//	go test -run '^$' -fuzz FuzzDatum -fuzztime 60s ./monitor/

var fuzzSeeds = []string{
	`{"Item":{"00000000-0000-0000-0000-000000000001":{"initial":{"name":"a","n":1,"tags":["set",["x","y"]],"refs":["uuid","00000000-0000-0000-0000-000000000002"],"ext":["map",[["k","v"]]],"enabled":true}}}}`,
	`[["monid","Test"],{"Item":{"00000000-0000-0000-0000-000000000001":{"modify":{"tags":["set",["y","z"]],"ext":["map",[["k","v"],["k2","v2"]]],"n":["set",[]]}}}}]`,
	`[["monid","Test"],"00000000-0000-0000-0000-000000000009",{"Item":{"00000000-0000-0000-0000-000000000001":{"delete":null}}}]`,
	`[["monid","Test"],{"Item":{"00000000-0000-0000-0000-000000000001":{"old":{"name":"a"},"new":{"name":"b"}}}}]`,
	`[true,"00000000-0000-0000-0000-000000000009",{"Types":{"00000000-0000-0000-0000-000000000003":{"insert":{"i":-9223372036854775808,"r":1e300,"s":"\u00e9\ud83d\ude00","msi":["map",[["a",1]]],"mu":["map",[[["uuid","00000000-0000-0000-0000-000000000001"],1.5]]],"e":"red","ss1":"x"}}}}]`,
	`[false,"00000000-0000-0000-0000-000000000000",{}]`,
	`[null,{"Types":{"00000000-0000-0000-0000-000000000003":{"modify":{"is":["set",[3,1,2]],"om":["map",[["a","b"]]],"oi":5}}}}]`,
	`[[[[[["x"]]]]],{}]`,
}

func FuzzParse(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(uint8(i), []byte(s))
	}
	s := testSchema(f)
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		u, err := parseAny(s, kind, data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("parse error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		checkUpdateRoundTrip(t, u)
		r := NewReplica(s)
		_, _ = r.Apply(u)
	})
}

func FuzzApply(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(uint8(i), []byte(fuzzSeeds[0]), []byte(s))
	}
	s := testSchema(f)
	f.Fuzz(func(t *testing.T, kind uint8, first, second []byte) {
		r := NewReplica(s)
		u, err := ParseMonitorCondReply(s, first)
		if err != nil {
			return
		}
		if _, err := r.Apply(u); err != nil {
			return
		}
		u, err = parseAny(s, kind, second)
		if err != nil {
			return
		}
		before := dump(r)
		changes, err := r.Apply(u)
		if err != nil {
			if after := dump(r); after != before {
				t.Fatalf("failed Apply changed the replica:\nbefore:\n%safter:\n%s", before, after)
			}
			if !errors.Is(err, ErrInconsistent) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("Apply error is neither inconsistent nor malformed: %v", err)
			}
			return
		}
		for c := range changes.All() {
			checkChange(c)
			if c.New.Valid() {
				checkRowRoundTrip(t, c.New)
			}
		}
		_ = dump(r)
	})
}

func FuzzDatum(f *testing.F) {
	for _, s := range []string{`1`, `["set",[1,2]]`, `["map",[["a",1]]]`, `"x"`, `["uuid","00000000-0000-0000-0000-000000000001"]`, `2.5`, `true`, `["set",[]]`} {
		for c := range 6 {
			f.Add(uint8(c), []byte(s))
		}
	}
	s := testSchema(f)
	cols := s.Table("Types").Columns
	f.Fuzz(func(t *testing.T, c uint8, data []byte) {
		typ := &cols[int(c)%len(cols)].Type
		d, err := ParseDatum(typ, data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		checkDatumRoundTrip(t, d)
	})
}

func parseAny(s *Schema, kind uint8, data []byte) (*Update, error) {
	switch kind % 6 {
	case 0:
		return ParseMonitorReply(s, data)
	case 1:
		return ParseMonitorCondReply(s, data)
	case 2:
		return ParseMonitorCondSinceReply(s, data)
	case 3:
		return ParseUpdate(s, data)
	case 4:
		return ParseUpdate2(s, data)
	}
	return ParseUpdate3(s, data)
}

// checkDatumRoundTrip checks that d prints as JSON that parses back to d,
// and that its accessors agree with each other.
func checkDatumRoundTrip(t *testing.T, d Datum) {
	t.Helper()
	js := d.String()
	back, err := ParseDatum(d.Type(), []byte(js))
	if err != nil {
		t.Fatalf("%s does not parse back: %v", js, err)
	}
	if !back.Equal(d) {
		t.Fatalf("%s parses back as %s", js, back)
	}
	n := 0
	var prev Atom
	for a := range d.All() {
		if n > 0 && prev.Compare(a) >= 0 {
			t.Fatalf("%s: atoms out of order", js)
		}
		if !d.Contains(a) {
			t.Fatalf("%s: Contains(%s) is false", js, a)
		}
		prev = a
		n++
	}
	if n != d.Len() {
		t.Fatalf("%s: Len %d, iterated %d", js, d.Len(), n)
	}
	if d.Type().IsMap() {
		for k, v := range d.Pairs() {
			if got, ok := d.Lookup(k); !ok || !got.Equal(v) {
				t.Fatalf("%s: Lookup(%s) = %s, %t", js, k, got, ok)
			}
		}
	}
	atoms := make([]Atom, 0, 2*n)
	if d.Type().IsMap() {
		for k, v := range d.Pairs() {
			atoms = append(atoms, k, v)
		}
	} else {
		for a := range d.All() {
			atoms = append(atoms, a)
		}
	}
	rebuilt, err := NewDatum(d.Type(), atoms...)
	if err != nil || !rebuilt.Equal(d) {
		t.Fatalf("%s: NewDatum from its atoms gives %s, %v", js, rebuilt, err)
	}
}

func checkRowRoundTrip(t *testing.T, r Row) {
	t.Helper()
	for i := range r.Table().Columns {
		checkDatumRoundTrip(t, r.At(i))
	}
}

func checkUpdateRoundTrip(t *testing.T, u *Update) {
	t.Helper()
	for _, tu := range u.tables {
		for _, ru := range tu.rows {
			if ru.op == opInsert {
				checkRowRoundTrip(t, Row{t: tu.t, id: ru.id, enc: ru.data})
			}
		}
	}
}

func FuzzSchema(f *testing.F) {
	for _, s := range []string{
		`{"name":"x","tables":{"T":{"columns":{"c":{"type":{"key":{"type":"string","enum":["set",["a","b"]]},"min":0,"max":"unlimited"}}}}}}`,
		`{"name":"x","tables":{"T":{"columns":{"c":{"type":{"key":{"type":"integer","minInteger":1,"maxInteger":3},"value":"uuid","max":2}}}}}}`,
		`{"name":"x","tables":{"T":{"columns":{"c":{"type":"real"},"d":{"type":{"key":{"type":"uuid","refTable":"T","refType":"weak"}}}}}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		db, err := ParseDatabaseSchema(data)
		if err != nil {
			return
		}
		s, err := NewSchema(db, nil)
		if err != nil {
			return
		}
		for _, ts := range s.Tables {
			for _, c := range ts.Columns {
				_ = c.Type.String()
				_, _ = ParseDatum(&c.Type, []byte(`["set",[]]`))
			}
		}
	})
}
