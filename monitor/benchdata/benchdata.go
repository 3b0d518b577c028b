// Package benchdata generates the data of the Bench schema: one table with
// a string, an optional integer, a set of strings, a set of uuids, a string
// map and a boolean, its rows as ovsdb-server sends them, and streams of
// modifications. monitor's benchmarks and the comparisons of the separate
// bench module (github.com/ovsdbcs/ovsdbcs/bench) use the same rows from
// here. It depends on nothing but the standard library.
package benchdata

import (
	"fmt"
	"slices"
	"strings"
)

// SchemaJSON is the Bench schema: table Item with a string, an optional
// integer, a set of strings, a set of uuids (weak references to Item), a
// string map and a boolean.
const SchemaJSON = `{"name":"Bench","version":"1.0.0","tables":{"Item":{"columns":{
 "name":{"type":"string"},
 "n":{"type":{"key":"integer","min":0,"max":1}},
 "tags":{"type":{"key":"string","min":0,"max":"unlimited"}},
 "refs":{"type":{"key":{"type":"uuid","refTable":"Item","refType":"weak"},"min":0,"max":"unlimited"}},
 "ext":{"type":{"key":"string","value":"string","min":0,"max":"unlimited"}},
 "enabled":{"type":"boolean"}}}}}`

// RowUUID is the uuid of row i.
func RowUUID(i int) string {
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", i*2654435761&0xffffffff, i&0xffff, i&0xfff, (i>>12)&0xfff, i*7919)
}

// RowJSON is row i of rows as an OVSDB <row> (about 390 bytes with its
// uuid and "initial" wrapper).
func RowJSON(i, rows int) string {
	// Members in OVSDB order, as ovsdb-server sends them.
	refs := []string{RowUUID((i + 1) % rows), RowUUID((i + 2) % rows), RowUUID((i + 3) % rows)}
	slices.Sort(refs)
	return fmt.Sprintf(`{"name":"item-%07d","n":%d,"tags":["set",["tag-blue","tag-green-%d","tag-red"]],`+
		`"refs":["set",[["uuid","%s"],["uuid","%s"],["uuid","%s"]]],`+
		`"ext":["map",[["neutron:id","%s"],["owner","team-%d"],["zone","zone-%d"]]],"enabled":%t}`,
		i, i*37, i%100, refs[0], refs[1], refs[2],
		RowUUID(i + rows)[:8], i%17, i%5, i%3 != 0)
}

// Initial is the result of a monitor_cond request: a <table-updates2> with
// rows "initial" rows.
func Initial(rows int) []byte {
	var b strings.Builder
	b.WriteString(`{"Item":{`)
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"%s":{"initial":%s}`, RowUUID(i), RowJSON(i, rows))
	}
	b.WriteString(`}}`)
	return []byte(b.String())
}

// Modifies is a stream of n update2 notification params, each modifying one
// row of a replica built from Initial(rows): a new integer, a tag added (or
// removed when the stream is applied again), a map value replaced (or the key
// removed when applied again). Applying it any number of times is valid.
func Modifies(n, rows int) [][]byte {
	out := make([][]byte, n)
	for k := range n {
		// Updates come in pairs on the same row, so that the integer
		// alternates between two values and a repeated stream stays valid
		// (ovsdb-server never sends a column that did not change).
		i := k / 2 * 7 % rows
		out[k] = []byte(fmt.Sprintf(`[["monid","Bench"],{"Item":{"%s":{"modify":{"n":%d,"tags":["set",["tag-k%d"]],"ext":["map",[["zone","zone-x%d"]]]}}}}]`,
			RowUUID(i), 1000000+k%2, k%10, k%4))
	}
	return out
}
