package monitor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
)

// The property test drives a Replica with random, valid update streams in
// every format (update, update2, update3, the three monitor replies), each
// written the way a server could write it (members in any order, one-element
// sets bare or not, strings escaped or not, diffs for columns of at most one
// element as ovsdb-server and as libovsdb's server write them), and checks after every message that the
// replica equals a reference model built directly from the same random
// operations, and that Apply reported exactly the rows that changed.
//
// The reference model below shares nothing with the code under test except
// Atom (for ordering) and the schema, and nothing with testserver's diff
// either: its state is the rows each operation leaves, and its diffs are
// computed from their definition (refDiff).

// refDatum is a column value in the model: keys sorted, vals parallel (maps).
type refDatum struct{ keys, vals []Atom }

type refRow map[string]refDatum

type refDB map[string]map[UUID]refRow

func refDefault(t *ColumnType) refDatum {
	if t.IsScalar() || t.Min > 0 {
		d := refDatum{keys: []Atom{zeroAtom(t.Key.Type)}}
		if t.IsMap() {
			d.vals = []Atom{zeroAtom(t.Value.Type)}
		}
		return d
	}
	return refDatum{}
}

func zeroAtom(t AtomicType) Atom {
	switch t {
	case TypeInteger:
		return IntegerAtom(0)
	case TypeReal:
		return RealAtom(0)
	case TypeBoolean:
		return BooleanAtom(false)
	case TypeString:
		return StringAtom("")
	}
	return UUIDAtom(UUID{})
}

func (d refDatum) equal(o refDatum) bool {
	return slices.EqualFunc(d.keys, o.keys, Atom.Equal) && slices.EqualFunc(d.vals, o.vals, Atom.Equal)
}

// gen makes random values and messages.
type gen struct {
	rng *rand.Rand
	s   *Schema
}

var (
	propStrings = []string{"", "a", "b", "B", "é", "日本", "😀", `"q"`, "tab\t", `back\slash`, "\x01ctl", "/", "line\nbreak", "longer string value"}
	propInts    = []int64{0, 1, -1, 2, 42, 1 << 53, 1<<53 + 1, math.MaxInt64, math.MinInt64}
	propReals   = []float64{0, 0.25, -1.5, 2.5, 1e300, -3.75e-10, 123456.789}
	propUUIDs   []UUID
)

func init() {
	for i := range 12 {
		var u UUID
		u[0] = byte(i * 37)
		u[15] = byte(i)
		propUUIDs = append(propUUIDs, u)
	}
}

func (g *gen) atom(b *BaseType) Atom {
	if b.Enum != nil {
		return b.Enum[g.rng.IntN(len(b.Enum))]
	}
	switch b.Type {
	case TypeInteger:
		for {
			v := propInts[g.rng.IntN(len(propInts))]
			if g.rng.IntN(2) == 0 {
				v = g.rng.Int64N(20) - 5
			}
			if v >= b.MinInteger && v <= b.MaxInteger {
				return IntegerAtom(v)
			}
		}
	case TypeReal:
		for {
			v := propReals[g.rng.IntN(len(propReals))]
			if v >= b.MinReal && v <= b.MaxReal {
				return RealAtom(v)
			}
		}
	case TypeBoolean:
		return BooleanAtom(g.rng.IntN(2) == 0)
	case TypeString:
		for {
			v := propStrings[g.rng.IntN(len(propStrings))]
			if b.MaxLength == 0 || len([]rune(v)) <= b.MaxLength {
				return StringAtom(v)
			}
		}
	}
	return UUIDAtom(propUUIDs[g.rng.IntN(len(propUUIDs))])
}

// datum returns a random valid value of type t.
func (g *gen) datum(t *ColumnType) refDatum {
	n := 1
	if !t.IsScalar() {
		hi := min(t.Max, 4)
		n = t.Min + g.rng.IntN(hi-t.Min+1)
	}
	var d refDatum
	for range 20 {
		if len(d.keys) == n {
			break
		}
		k := g.atom(&t.Key)
		if slices.ContainsFunc(d.keys, k.Equal) {
			continue
		}
		d.keys = append(d.keys, k)
		if t.IsMap() {
			d.vals = append(d.vals, g.atom(&t.Value))
		}
	}
	sortRef(&d)
	return d
}

func sortRef(d *refDatum) {
	idx := make([]int, len(d.keys))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return d.keys[a].Compare(d.keys[b]) })
	keys := make([]Atom, len(idx))
	var vals []Atom
	for i, j := range idx {
		keys[i] = d.keys[j]
		if d.vals != nil {
			vals = append(vals, d.vals[j])
		}
	}
	d.keys, d.vals = keys, vals
}

// refDiff is the update2 "modify" value that turns old into new, written
// from RFC 7047's definition rather than from any implementation's merge:
// for a column of at most one element (unless oldStyle), the new value, as
// ovsdb-server sends it; for a set, every element that is in exactly one of
// old and new; for a map, every key of old missing from new (with its old
// value) and every key of new that old lacks or holds with another value
// (with its new value). With oldStyle, columns of at most one element get
// the per-element difference too, as libovsdb's server sends them.
func refDiff(t *ColumnType, old, new refDatum, oldStyle bool) refDatum {
	if t.IsScalar() || (t.Max == 1 && !oldStyle) {
		return new
	}
	// find returns the index of key k in d, or -1.
	find := func(d refDatum, k Atom) int {
		for i, x := range d.keys {
			if x.Equal(k) {
				return i
			}
		}
		return -1
	}
	var d refDatum
	add := func(k Atom, v Atom) {
		d.keys = append(d.keys, k)
		if t.IsMap() {
			d.vals = append(d.vals, v)
		}
	}
	val := func(src refDatum, i int) Atom {
		if t.IsMap() {
			return src.vals[i]
		}
		return Atom{}
	}
	for i, k := range old.keys {
		if find(new, k) < 0 {
			add(k, val(old, i)) // removed
		}
	}
	for j, k := range new.keys {
		switch i := find(old, k); {
		case i < 0:
			add(k, val(new, j)) // added
		case t.IsMap() && !old.vals[i].Equal(new.vals[j]):
			add(k, new.vals[j]) // value changed
		}
	}
	sortRef(&d)
	return d
}

// writeAtom writes an atom in OVSDB JSON, varying the spelling.
func (g *gen) writeAtom(b *bytes.Buffer, a Atom) {
	switch a.Type() {
	case TypeInteger:
		b.WriteString(strconv.FormatInt(a.Int(), 10))
	case TypeReal:
		f := a.Float()
		switch g.rng.IntN(3) {
		case 0:
			b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
		case 1:
			b.WriteString(strconv.FormatFloat(f, 'e', -1, 64))
		default:
			if f == math.Trunc(f) && math.Abs(f) < 1e15 {
				b.WriteString(strconv.FormatFloat(f, 'f', 1, 64))
			} else {
				b.WriteString(strconv.FormatFloat(f, 'E', 20, 64))
			}
		}
	case TypeBoolean:
		b.WriteString(strconv.FormatBool(a.Bool()))
	case TypeString:
		if g.rng.IntN(3) == 0 {
			b.WriteString(asciiJSON(a.Str()))
		} else {
			enc := json.NewEncoder(b)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(a.Str())
			b.Truncate(b.Len() - 1) // newline
		}
	case TypeUUID:
		s := a.UUID().String()
		if g.rng.IntN(4) == 0 {
			s = strings.ToUpper(s)
		}
		fmt.Fprintf(b, `["uuid",%q]`, s)
	}
}

// asciiJSON writes s as a JSON string with every non-ASCII or special
// character as a \u escape (surrogate pairs above U+FFFF).
func asciiJSON(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r >= 0x20 && r < 0x7f && r != '"' && r != '\\' {
			b.WriteRune(r)
			continue
		}
		if r > 0xffff {
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&b, `\u%04x\u%04X`, r1, r2)
			continue
		}
		fmt.Fprintf(&b, `\u%04x`, r)
	}
	b.WriteByte('"')
	return b.String()
}

// writeDatum writes a value in OVSDB JSON, members in a random order.
func (g *gen) writeDatum(b *bytes.Buffer, t *ColumnType, d refDatum) {
	order := g.rng.Perm(len(d.keys))
	if t.IsMap() {
		b.WriteString(`["map",[`)
		for i, j := range order {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('[')
			g.writeAtom(b, d.keys[j])
			b.WriteString(", ")
			g.writeAtom(b, d.vals[j])
			b.WriteByte(']')
		}
		b.WriteString("]]")
		return
	}
	if len(d.keys) == 1 && g.rng.IntN(3) != 0 {
		g.writeAtom(b, d.keys[0])
		return
	}
	b.WriteString(`["set", [`)
	for i, j := range order {
		if i > 0 {
			b.WriteByte(',')
		}
		g.writeAtom(b, d.keys[j])
	}
	b.WriteString("]]")
}

// writeRow writes the named columns of row (in a random order).
func (g *gen) writeRow(b *bytes.Buffer, t *TableSchema, cols []string, values func(c *ColumnSchema) refDatum) {
	b.WriteByte('{')
	for i, j := range g.rng.Perm(len(cols)) {
		if i > 0 {
			b.WriteByte(',')
		}
		c := t.Column(cols[j])
		fmt.Fprintf(b, "%q: ", c.Name)
		g.writeDatum(b, &c.Type, values(c))
	}
	b.WriteByte('}')
}

func allCols(t *TableSchema) []string {
	var out []string
	for _, c := range t.Columns {
		out = append(out, c.Name)
	}
	return out
}

// nonDefault lists the columns of row that differ from their default.
func nonDefault(t *TableSchema, row refRow) []string {
	var out []string
	for _, c := range t.Columns {
		if !row[c.Name].equal(refDefault(&c.Type)) {
			out = append(out, c.Name)
		}
	}
	return out
}

// refOp is one row operation of a transaction.
type refOp struct {
	table    *TableSchema
	id       UUID
	old, new refRow // nil for insert / delete
}

func (g *gen) newRow(t *TableSchema) refRow {
	row := refRow{}
	for _, c := range t.Columns {
		if g.rng.IntN(2) == 0 {
			row[c.Name] = g.datum(&c.Type)
		} else {
			row[c.Name] = refDefault(&c.Type)
		}
	}
	return row
}

// txn makes a random transaction against db (and applies it to db).
func (g *gen) txn(db refDB, nextID *int) []refOp {
	var ops []refOp
	used := map[UUID]bool{}
	for range 1 + g.rng.IntN(4) {
		t := g.s.Tables[g.rng.IntN(len(g.s.Tables))]
		rows := db[t.Name]
		var ids []UUID
		for id := range rows {
			if !used[id] {
				ids = append(ids, id)
			}
		}
		slices.SortFunc(ids, func(a, b UUID) int { return strings.Compare(a.String(), b.String()) })
		switch k := g.rng.IntN(10); {
		case k < 4 || len(ids) == 0: // insert
			*nextID++
			var id UUID
			id[8] = byte(*nextID >> 8)
			id[9] = byte(*nextID)
			id[15] = 0xaa
			row := g.newRow(t)
			rows[id] = row
			used[id] = true
			ops = append(ops, refOp{table: t, id: id, new: row})
		case k < 8: // modify some columns
			id := ids[g.rng.IntN(len(ids))]
			old := rows[id]
			row := refRow{}
			for name, v := range old {
				row[name] = v
			}
			for _, c := range t.Columns {
				if g.rng.IntN(3) == 0 {
					row[c.Name] = g.datum(&c.Type)
				}
			}
			rows[id] = row
			used[id] = true
			ops = append(ops, refOp{table: t, id: id, old: old, new: row})
		default: // delete
			id := ids[g.rng.IntN(len(ids))]
			ops = append(ops, refOp{table: t, id: id, old: rows[id]})
			delete(rows, id)
			used[id] = true
		}
	}
	return ops
}

// message writes ops as one notification of the given method.
func (g *gen) message(method string, ops []refOp) []byte {
	var b bytes.Buffer
	b.WriteString(`[["monid","Test"], `)
	if method == "update3" {
		fmt.Fprintf(&b, "%q, ", propUUIDs[g.rng.IntN(len(propUUIDs))].String())
	}
	byTable := map[*TableSchema][]refOp{}
	var tables []*TableSchema
	for _, op := range ops {
		if byTable[op.table] == nil {
			tables = append(tables, op.table)
		}
		byTable[op.table] = append(byTable[op.table], op)
	}
	oldStyle := g.rng.IntN(2) == 0
	b.WriteByte('{')
	for i, t := range tables {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q: {", t.Name)
		for j, op := range byTable[t] {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%q: ", op.id.String())
			if method == "update" {
				g.rowUpdate1(&b, op)
			} else {
				g.rowUpdate2(&b, op, oldStyle)
			}
		}
		b.WriteByte('}')
	}
	b.WriteString("}]")
	return b.Bytes()
}

func (g *gen) rowUpdate2(b *bytes.Buffer, op refOp, oldStyle bool) {
	t := op.table
	switch {
	case op.old == nil:
		kind := "insert"
		if g.rng.IntN(4) == 0 {
			kind = "initial"
		}
		fmt.Fprintf(b, `{%q: `, kind)
		cols := nonDefault(t, op.new)
		if g.rng.IntN(4) == 0 {
			cols = allCols(t)
		}
		g.writeRow(b, t, cols, func(c *ColumnSchema) refDatum { return op.new[c.Name] })
		b.WriteByte('}')
	case op.new == nil:
		b.WriteString(`{"delete": null}`)
	default:
		var cols []string
		for _, c := range t.Columns {
			if !op.old[c.Name].equal(op.new[c.Name]) {
				cols = append(cols, c.Name)
			}
		}
		b.WriteString(`{"modify": `)
		g.writeRow(b, t, cols, func(c *ColumnSchema) refDatum {
			return refDiff(&c.Type, op.old[c.Name], op.new[c.Name], oldStyle)
		})
		b.WriteByte('}')
	}
}

func (g *gen) rowUpdate1(b *bytes.Buffer, op refOp) {
	t := op.table
	switch {
	case op.old == nil:
		b.WriteString(`{"new": `)
		g.writeRow(b, t, allCols(t), func(c *ColumnSchema) refDatum { return op.new[c.Name] })
		b.WriteByte('}')
	case op.new == nil:
		b.WriteString(`{"old": `)
		g.writeRow(b, t, allCols(t), func(c *ColumnSchema) refDatum { return op.old[c.Name] })
		b.WriteByte('}')
	default:
		var changed []string
		for _, c := range t.Columns {
			if !op.old[c.Name].equal(op.new[c.Name]) {
				changed = append(changed, c.Name)
			}
		}
		newCols := allCols(t)
		if g.rng.IntN(3) == 0 {
			newCols = changed
		}
		b.WriteString(`{"old": `)
		g.writeRow(b, t, changed, func(c *ColumnSchema) refDatum { return op.old[c.Name] })
		b.WriteString(`, "new": `)
		g.writeRow(b, t, newCols, func(c *ColumnSchema) refDatum { return op.new[c.Name] })
		b.WriteByte('}')
	}
}

// resync writes the whole of db as a monitor, monitor_cond or
// monitor_cond_since (found false) reply.
func (g *gen) resync(method string, db refDB) []byte {
	var b bytes.Buffer
	if method == "monitor_cond_since" {
		b.WriteString(`[false, "00000000-0000-0000-0000-000000000000", `)
	}
	b.WriteByte('{')
	first := true
	for _, t := range g.s.Tables {
		rows := db[t.Name]
		if len(rows) == 0 && g.rng.IntN(2) == 0 {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&b, "%q: {", t.Name)
		j := 0
		for id, row := range rows {
			if j > 0 {
				b.WriteByte(',')
			}
			j++
			fmt.Fprintf(&b, "%q: ", id.String())
			if method == "monitor" {
				b.WriteString(`{"new": `)
				g.writeRow(&b, t, allCols(t), func(c *ColumnSchema) refDatum { return row[c.Name] })
			} else {
				b.WriteString(`{"initial": `)
				g.writeRow(&b, t, nonDefault(t, row), func(c *ColumnSchema) refDatum { return row[c.Name] })
			}
			b.WriteByte('}')
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
	if method == "monitor_cond_since" {
		b.WriteByte(']')
	}
	return b.Bytes()
}

// refJSON renders a reference value in OVSDB notation, independently of
// Datum.MarshalJSON.
func refJSON(t *ColumnType, d refDatum) string {
	atom := func(a Atom) string {
		switch a.Type() {
		case TypeInteger:
			return strconv.FormatInt(a.Int(), 10)
		case TypeReal:
			return strconv.FormatFloat(a.Float(), 'g', -1, 64)
		case TypeBoolean:
			return strconv.FormatBool(a.Bool())
		case TypeString:
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(a.Str())
			return strings.TrimSuffix(b.String(), "\n")
		}
		return `["uuid","` + a.UUID().String() + `"]`
	}
	var parts []string
	if t.IsMap() {
		for i := range d.keys {
			parts = append(parts, "["+atom(d.keys[i])+","+atom(d.vals[i])+"]")
		}
		return `["map",[` + strings.Join(parts, ",") + "]]"
	}
	if len(d.keys) == 1 {
		return atom(d.keys[0])
	}
	for _, k := range d.keys {
		parts = append(parts, atom(k))
	}
	return `["set",[` + strings.Join(parts, ",") + "]]"
}

func refRowJSON(t *TableSchema, row refRow) string {
	var parts []string
	for _, c := range t.Columns {
		parts = append(parts, strconv.Quote(c.Name)+":"+refJSON(&c.Type, row[c.Name]))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// checkReplica compares the replica with the model.
func checkReplica(t *testing.T, step string, r *Replica, db refDB) {
	t.Helper()
	r.View(func(tx ReadTx) {
		for _, ts := range r.Schema().Tables {
			if got, want := tx.Len(ts.Name), len(db[ts.Name]); got != want {
				t.Fatalf("%s: table %s has %d rows, want %d", step, ts.Name, got, want)
			}
			for id, row := range db[ts.Name] {
				got, ok := tx.Get(ts.Name, id)
				if !ok {
					t.Fatalf("%s: row %s %s missing", step, ts.Name, id)
				}
				if g, w := got.String(), refRowJSON(ts, row); g != w {
					t.Fatalf("%s: row %s %s:\n got %s\nwant %s", step, ts.Name, id, g, w)
				}
			}
		}
	})
}

// expectChanges compares Apply's report with the difference between two
// model states.
func expectChanges(t *testing.T, step string, s *Schema, before, after refDB, changes []RowChange) {
	t.Helper()
	type key struct {
		table string
		id    UUID
	}
	got := map[key]RowChange{}
	for _, c := range changes {
		k := key{c.Table, c.UUID}
		if _, dup := got[k]; dup {
			t.Fatalf("%s: two changes for %v", step, k)
		}
		checkChange(c)
		got[k] = c
	}
	n := 0
	for _, ts := range s.Tables {
		for id, nr := range after[ts.Name] {
			or, existed := before[ts.Name][id]
			c, ok := got[key{ts.Name, id}]
			switch {
			case !existed:
				if !ok || c.Op != ChangeInsert || c.New.String() != refRowJSON(ts, nr) {
					t.Fatalf("%s: %s %s: want insert, got %+v", step, ts.Name, id, c)
				}
				n++
			case refRowJSON(ts, or) != refRowJSON(ts, nr):
				if !ok || c.Op != ChangeModify || c.New.String() != refRowJSON(ts, nr) || c.Old.String() != refRowJSON(ts, or) {
					t.Fatalf("%s: %s %s: want modify, got %+v", step, ts.Name, id, c)
				}
				n++
			case ok:
				t.Fatalf("%s: %s %s unchanged, got %+v", step, ts.Name, id, c)
			}
		}
		for id, or := range before[ts.Name] {
			if _, still := after[ts.Name][id]; still {
				continue
			}
			c, ok := got[key{ts.Name, id}]
			if !ok || c.Op != ChangeDelete || c.Old.String() != refRowJSON(ts, or) {
				t.Fatalf("%s: %s %s: want delete, got %+v", step, ts.Name, id, c)
			}
			n++
		}
	}
	if n != len(changes) {
		t.Fatalf("%s: %d changes reported, %d expected", step, len(changes), n)
	}
}

func cloneDB(db refDB) refDB {
	out := refDB{}
	for t, rows := range db {
		out[t] = map[UUID]refRow{}
		for id, r := range rows {
			out[t][id] = r
		}
	}
	return out
}

func TestReplicaProperty(t *testing.T) {
	s := testSchema(t)
	seeds := 40
	steps := 60
	if testing.Short() {
		seeds = 8
	}
	for seed := range seeds {
		g := &gen{rng: rand.New(rand.NewPCG(uint64(seed), 4)), s: s}
		db := refDB{}
		for _, ts := range s.Tables {
			db[ts.Name] = map[UUID]refRow{}
		}
		r := NewReplica(s)
		nextID := 0
		methods := []string{"update", "update2", "update3"}
		resyncs := []string{"monitor", "monitor_cond", "monitor_cond_since"}
		for step := range steps {
			before := cloneDB(db)
			ops := g.txn(db, &nextID)
			var msg []byte
			var u *Update
			var err error
			what := ""
			if g.rng.IntN(10) == 0 {
				method := resyncs[g.rng.IntN(len(resyncs))]
				msg = g.resync(method, db)
				what = method + " reply"
				switch method {
				case "monitor":
					u, err = ParseMonitorReply(s, msg)
				case "monitor_cond":
					u, err = ParseMonitorCondReply(s, msg)
				default:
					u, err = ParseMonitorCondSinceReply(s, msg)
				}
			} else {
				method := methods[g.rng.IntN(len(methods))]
				msg = g.message(method, ops)
				what = method
				u, err = ParseNotification(s, method, msg)
			}
			stepName := fmt.Sprintf("seed %d step %d (%s)", seed, step, what)
			if err != nil {
				t.Fatalf("%s: parse: %v\n%s", stepName, err, msg)
			}
			changes, err := r.Apply(u)
			if err != nil {
				t.Fatalf("%s: apply: %v\n%s", stepName, err, msg)
			}
			expectChanges(t, stepName, s, before, db, changes.Slice())
			checkReplica(t, stepName, r, db)
		}
	}
}
