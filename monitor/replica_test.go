package monitor

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// The scenario files under testdata/replica and testdata/parse drive a
// replica of testdata/test.ovsschema. In the JSON input, "@N" stands for the
// uuid 00000000-0000-0000-0000-<N as 12 hex digits>; the output prints such
// uuids back as @N.
//
//	reset                      a new, empty replica
//	parse kind=<kind>          parse the message and print it
//	apply kind=<kind>          parse and apply it; print the changes or the error
//	dump                       print every row (non-default columns only)
//	get table=<T> uuid=@N      print one row with all its columns
//
// <kind> is one of monitor, monitor_cond, monitor_cond_since (replies: the
// input is the "result"), update, update2, update3 (notifications: the input
// is the "params").
func TestReplicaScripts(t *testing.T) {
	datadriven.Walk(t, "testdata/replica", runScript)
}

func TestParseScripts(t *testing.T) {
	datadriven.Walk(t, "testdata/parse", runScript)
}

func runScript(t *testing.T, path string) {
	s := testSchema(t).KeepingResyncOrder()
	r := NewReplica(s)
	datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
		switch d.Cmd {
		case "reset":
			r = NewReplica(s)
			return ""
		case "parse":
			u, err := parseKind(t, d, s)
			if err != nil {
				return "error: " + shortUUIDs(err.Error()) + "\n"
			}
			return renderUpdate(u)
		case "apply":
			u, err := parseKind(t, d, s)
			if err != nil {
				return "error: " + shortUUIDs(err.Error()) + "\n"
			}
			before := dump(r)
			changes, err := r.Apply(u)
			if err != nil {
				if after := dump(r); after != before {
					t.Fatalf("%s: failed Apply changed the replica:\nbefore:\n%safter:\n%s", d.Pos, before, after)
				}
				kind := "malformed"
				if errors.Is(err, ErrInconsistent) {
					kind = "inconsistent"
				}
				return kind + ": " + shortUUIDs(err.Error()) + "\n"
			}
			return renderChanges(changes.Slice())
		case "dump":
			return dump(r)
		case "get":
			var table, id string
			d.ScanArgs(t, "table", &table)
			d.ScanArgs(t, "uuid", &id)
			row, ok := r.Get(table, testUUID(t, id))
			if !ok {
				return "no such row\n"
			}
			return shortUUIDs(row.String()) + "\n"
		}
		t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
		return ""
	})
}

func parseKind(t *testing.T, d *datadriven.TestData, s *Schema) (*Update, error) {
	var kind string
	d.ScanArgs(t, "kind", &kind)
	in := []byte(expandUUIDs(d.Input))
	switch kind {
	case "monitor":
		return ParseMonitorReply(s, in)
	case "monitor_cond":
		return ParseMonitorCondReply(s, in)
	case "monitor_cond_since":
		return ParseMonitorCondSinceReply(s, in)
	case "update", "update2", "update3":
		return ParseNotification(s, kind, in)
	}
	t.Fatalf("%s: unknown kind %q", d.Pos, kind)
	return nil, nil
}

var (
	shortRE = regexp.MustCompile(`"@([0-9]+)"`)
	longRE  = regexp.MustCompile(`00000000-0000-0000-0000-([0-9a-f]{12})`)
)

// expandUUIDs replaces "@N" by the uuid string it stands for.
func expandUUIDs(s string) string {
	return shortRE.ReplaceAllStringFunc(s, func(m string) string {
		n, _ := strconv.Atoi(m[2 : len(m)-1])
		return fmt.Sprintf(`"00000000-0000-0000-0000-%012x"`, n)
	})
}

// shortUUIDs prints the test uuids as @N.
func shortUUIDs(s string) string {
	return longRE.ReplaceAllStringFunc(s, func(m string) string {
		n, _ := strconv.ParseUint(m[24:], 16, 64)
		return "@" + strconv.FormatUint(n, 10)
	})
}

func testUUID(t testing.TB, s string) UUID {
	t.Helper()
	if strings.HasPrefix(s, "@") {
		s = expandUUIDs(`"` + s + `"`)
		s = s[1 : len(s)-1]
	}
	u, err := ParseUUID(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// compactRow prints the non-default columns of a row.
func compactRow(r Row) string {
	var b strings.Builder
	b.WriteByte('{')
	first := true
	for i, c := range r.t.Columns {
		d := r.At(i)
		if d.IsDefault() {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&b, "%q:%s", c.Name, d)
	}
	b.WriteByte('}')
	return shortUUIDs(b.String())
}

// renderPartial prints the columns of a partial row (diffs or new values).
func renderPartial(t *TableSchema, data string, isDiff bool) string {
	var b strings.Builder
	b.WriteByte('{')
	first := true
	for i, enc := range partialCols(data) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		c := t.Columns[i]
		fmt.Fprintf(&b, "%q:", c.Name)
		switch {
		case isDiff && enc == "" && c.Type.IsMap():
			b.WriteString(`["map",[]]`)
		case isDiff && enc == "" && !c.Type.IsScalar():
			b.WriteString(`["set",[]]`)
		default:
			b.WriteString(Datum{t: &c.Type, enc: enc}.String())
		}
	}
	b.WriteByte('}')
	return shortUUIDs(b.String())
}

func renderUpdate(u *Update) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version=%d clear=%t", u.Version, u.Clear)
	if u.HasLastID {
		fmt.Fprintf(&b, " found=%t last-id=%s", u.Found, shortUUIDs(u.LastID.String()))
	}
	if u.MonitorID != nil {
		fmt.Fprintf(&b, " monitor-id=%s", u.MonitorID)
	}
	b.WriteByte('\n')
	for _, tu := range u.tables {
		if tu.full != nil {
			ids := slices.Collect(func(yield func(UUID) bool) {
				for id := range tu.full.all() {
					if !yield(id) {
						return
					}
				}
			})
			if !tu.full.keepOrder {
				slices.SortFunc(ids, func(a, b UUID) int { return strings.Compare(a.String(), b.String()) })
			}
			for _, id := range ids {
				fmt.Fprintf(&b, "%s %s %s %s\n", tu.t.Name, shortUUIDs(id.String()), opInsert,
					compactRow(Row{t: tu.t, id: id, enc: tu.full.m[id]}))
			}
		}
		for _, ru := range tu.rows {
			fmt.Fprintf(&b, "%s %s %s", tu.t.Name, shortUUIDs(ru.id.String()), ru.op)
			switch ru.op {
			case opInsert:
				b.WriteString(" " + compactRow(Row{t: tu.t, id: ru.id, enc: ru.data}))
			case opModify, opReplace:
				b.WriteString(" " + renderPartial(tu.t, ru.data, ru.op == opModify))
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func renderChanges(changes []RowChange) string {
	if len(changes) == 0 {
		return "no changes\n"
	}
	var b strings.Builder
	for _, c := range changes {
		fmt.Fprintf(&b, "%s %s %s", c.Op, c.Table, shortUUIDs(c.UUID.String()))
		switch c.Op {
		case ChangeInsert:
			b.WriteString(" " + compactRow(c.New))
		case ChangeDelete:
			b.WriteString(" " + compactRow(c.Old))
		case ChangeModify:
			for i, col := range c.New.t.Columns {
				o, n := c.Old.At(i), c.New.At(i)
				if !o.Equal(n) {
					fmt.Fprintf(&b, " %s: %s -> %s;", col.Name, shortUUIDs(o.String()), shortUUIDs(n.String()))
				}
			}
		}
		b.WriteByte('\n')
		checkChange(c)
	}
	return b.String()
}

// checkChange panics if a RowChange breaks its documented shape.
func checkChange(c RowChange) {
	if c.Old.Valid() != (c.Op != ChangeInsert) || c.New.Valid() != (c.Op != ChangeDelete) {
		panic(fmt.Sprintf("bad change shape: %+v", c))
	}
}

// dump prints every row of every table, sorted.
func dump(r *Replica) string {
	var b strings.Builder
	r.View(func(tx ReadTx) {
		for _, t := range r.Schema().Tables {
			rows := maps.Collect(tx.Rows(t.Name))
			for _, id := range slices.SortedFunc(maps.Keys(rows), func(a, b UUID) int { return cmp.Compare(a.String(), b.String()) }) {
				fmt.Fprintf(&b, "%s %s %s\n", t.Name, shortUUIDs(id.String()), compactRow(rows[id]))
			}
			if n := tx.Len(t.Name); n != len(rows) {
				panic(fmt.Sprintf("Len(%s) = %d, iterated %d", t.Name, n, len(rows)))
			}
		}
	})
	if b.Len() == 0 {
		return "empty\n"
	}
	return b.String()
}
