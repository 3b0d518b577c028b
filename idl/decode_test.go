package idl

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/go-logr/logr"
	"github.com/ovn-org/libovsdb/model"
	"github.com/ovn-org/libovsdb/ovsdb"
	"github.com/stretchr/testify/require"

	"github.com/ovsdbcs/ovsdbcs/cs"
	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// allKinds has a field of each shape decoders handle: the typed ones
// (string, *string, []string, map[string]string, int, *int, bool, *bool)
// and the reflect ones (real, uuid sets, integer maps and sets).
type allKinds struct {
	UUID   string             `ovsdb:"_uuid"`
	S      string             `ovsdb:"s"`
	OptS   *string            `ovsdb:"opt_s"`
	SetS   []string           `ovsdb:"set_s"`
	MapSS  map[string]string  `ovsdb:"map_ss"`
	I      int                `ovsdb:"i"`
	OptI   *int               `ovsdb:"opt_i"`
	B      bool               `ovsdb:"b"`
	OptB   *bool              `ovsdb:"opt_b"`
	R      float64            `ovsdb:"r"`
	OptR   *float64           `ovsdb:"opt_r"`
	SetI   []int              `ovsdb:"set_i"`
	MapSI  map[string]int     `ovsdb:"map_si"`
	MapIR  map[int]float64    `ovsdb:"map_ir"`
	Refs   []string           `ovsdb:"refs"`
	MapSR  map[string]float64 `ovsdb:"map_sr"`
	Enum   string             `ovsdb:"enum"`
	OptRef *string            `ovsdb:"opt_ref"`
}

const allKindsSchema = `{"name":"K","version":"1.0.0","tables":{"T":{"columns":{
"s":{"type":"string"},
"opt_s":{"type":{"key":"string","min":0,"max":1}},
"set_s":{"type":{"key":"string","min":0,"max":"unlimited"}},
"map_ss":{"type":{"key":"string","value":"string","min":0,"max":"unlimited"}},
"i":{"type":"integer"},
"opt_i":{"type":{"key":"integer","min":0,"max":1}},
"b":{"type":"boolean"},
"opt_b":{"type":{"key":"boolean","min":0,"max":1}},
"r":{"type":"real"},
"opt_r":{"type":{"key":"real","min":0,"max":1}},
"set_i":{"type":{"key":"integer","min":0,"max":"unlimited"}},
"map_si":{"type":{"key":"string","value":"integer","min":0,"max":"unlimited"}},
"map_ir":{"type":{"key":"integer","value":"real","min":0,"max":"unlimited"}},
"refs":{"type":{"key":"uuid","min":0,"max":"unlimited"}},
"map_sr":{"type":{"key":"string","value":"real","min":0,"max":"unlimited"}},
"enum":{"type":{"key":{"type":"string","enum":["set",["a","b"]]}}},
"opt_ref":{"type":{"key":"uuid","min":0,"max":1}}}}}}`

// TestDecodePair: the models of a modify equal the models decoded from each
// row alone, for every field shape, whether a column goes from empty to
// set, from set to empty, changes, or stays.
func TestDecodePair(t *testing.T) {
	var odb ovsdb.DatabaseSchema
	require.NoError(t, json.Unmarshal([]byte(allKindsSchema), &odb))
	ms, err := monitor.NewSchema(&odb, map[string][]string{"T": nil})
	require.NoError(t, err)
	m, err := model.NewClientDBModel("K", map[string]model.Model{"T": &allKinds{}})
	require.NoError(t, err)
	c, err := NewCache(m, logr.Discard())
	require.NoError(t, err)
	r := monitor.NewReplica(ms)
	const id = "0b0b4c5e-6e3b-4a53-9e8e-0c1f0c1f0c1f"
	full := `{"s":"x","opt_s":"y","set_s":["set",["a","b"]],"map_ss":["map",[["k","v"],["k2","v2"]]],` +
		`"i":7,"opt_i":8,"b":true,"opt_b":false,"r":1.5,"opt_r":2.5,"set_i":["set",[1,2]],` +
		`"map_si":["map",[["a",1]]],"map_ir":["map",[[1,0.5]]],"refs":["set",[["uuid","` + id + `"]]],` +
		`"map_sr":["map",[["z",3.5]]],"enum":"b","opt_ref":["uuid","` + id + `"]}`
	empty := `{"s":"","opt_s":["set",[]],"set_s":["set",[]],"map_ss":["map",[]],"i":0,"opt_i":["set",[]],` +
		`"b":false,"opt_b":["set",[]],"r":0,"opt_r":["set",[]],"set_i":["set",[]],"map_si":["map",[]],` +
		`"map_ir":["map",[]],"refs":["set",[]],"map_sr":["map",[]],"enum":"a","opt_ref":["set",[]]}`
	other := `{"s":"x2","opt_s":"y","set_s":["set",["a"]],"map_ss":["map",[["k","v"],["k2","v3"]]],` +
		`"i":7,"opt_i":9,"b":true,"opt_b":true,"r":1.5,"opt_r":3.5,"set_i":["set",[2]],` +
		`"map_si":["map",[["a",2]]],"map_ir":["map",[[1,0.5]]],"refs":["set",[]],` +
		`"map_sr":["map",[["z",3.5],["y",1]]],"enum":"b","opt_ref":["set",[]]}`
	rows := map[string]monitor.Row{}
	for name, body := range map[string]string{"full": full, "empty": empty, "other": other} {
		r := monitor.NewReplica(ms)
		u, err := monitor.ParseMonitorCondReply(ms, []byte(fmt.Sprintf(`{"T":{"%s":{"initial":%s}}}`, id, body)))
		require.NoError(t, err)
		ch, err := r.Apply(u)
		require.NoError(t, err)
		rows[name] = ch.Slice()[0].New
	}
	require.NoError(t, c.Process(&odb, r, cs.Update{Clear: true}))
	ti := c.st.si.tables["T"]
	for _, was := range []string{"full", "empty", "other"} {
		for _, now := range []string{"full", "empty", "other"} {
			oldV, newV := ti.decodePair(rows[was], rows[now])
			require.True(t, reflect.DeepEqual(ti.decodeRow(rows[was]).Interface(), oldV.Interface()), "old %s -> %s: %+v", was, now, oldV.Interface())
			require.True(t, reflect.DeepEqual(ti.decodeRow(rows[now]).Interface(), newV.Interface()), "new %s -> %s: %+v", was, now, newV.Interface())
		}
	}
}
