package monitor_test

import (
	"encoding/json"
	"fmt"

	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

const exampleSchema = `{"name": "Example", "version": "1.0.0", "tables": {
  "Port": {"columns": {
    "name": {"type": "string"},
    "tag": {"type": {"key": {"type": "integer", "minInteger": 0, "maxInteger": 4095}, "min": 0, "max": 1}},
    "external_ids": {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}}}}}}`

func Example() {
	var db ovsdb.DatabaseSchema
	if err := json.Unmarshal([]byte(exampleSchema), &db); err != nil {
		panic(err)
	}
	s, err := monitor.NewSchema(&db, nil)
	if err != nil {
		panic(err)
	}
	r := monitor.NewReplica(s)

	// The "result" of a monitor_cond request, then the "params" of an
	// update2 notification, as the JSON-RPC layer hands them over.
	reply := []byte(`{"Port": {"1c3e6f12-0000-4000-8000-000000000001": {"initial": {"name": "p1", "tag": 10, "external_ids": ["map", [["owner", "a"]]]}}}}`)
	update := []byte(`[["monid", "Example"], {"Port": {"1c3e6f12-0000-4000-8000-000000000001": {"modify": {"tag": 20, "external_ids": ["map", [["owner", "b"], ["zone", "z1"]]]}}}}]`)

	u, err := monitor.ParseMonitorCondReply(s, reply)
	if err != nil {
		panic(err)
	}
	if _, err := r.Apply(u); err != nil {
		panic(err)
	}
	u, err = monitor.ParseUpdate2(s, update)
	if err != nil {
		panic(err)
	}
	changes, err := r.Apply(u)
	if err != nil {
		panic(err) // errors.Is(err, monitor.ErrInconsistent): resync
	}
	for c := range changes.All() {
		fmt.Println(c.Op, c.Table, c.UUID)
		fmt.Println("old:", c.Old)
		fmt.Println("new:", c.New)
	}
	r.View(func(tx monitor.ReadTx) {
		for _, row := range tx.Rows("Port") {
			owner, _ := row.Get("external_ids").Lookup(monitor.StringAtom("owner"))
			fmt.Println(row.Get("name").Str(), row.Get("tag").Int(), owner.Str())
		}
	})
	// Output:
	// modify Port 1c3e6f12-0000-4000-8000-000000000001
	// old: {"external_ids":["map",[["owner","a"]]],"name":"p1","tag":10}
	// new: {"external_ids":["map",[["owner","b"],["zone","z1"]]],"name":"p1","tag":20}
	// p1 20 b
}
