package leader

import (
	"bytes"
	"fmt"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// serverSchemaJSON is the part of the _Server schema (1.2.0, the same in
// ovsdb-server 3.1) this package reads: the Database table's columns. The
// model column is a plain string here (the server's schema makes it an
// enum) so that a model this package does not know still parses; Check
// treats it as standalone.
const serverSchemaJSON = `{
	"name": "_Server",
	"version": "1.2.0",
	"tables": {
		"Database": {
			"columns": {
				"name": {"type": "string"},
				"model": {"type": "string"},
				"connected": {"type": "boolean"},
				"leader": {"type": "boolean"},
				"schema": {"type": {"key": {"type": "string"}, "min": 0, "max": 1}},
				"cid": {"type": {"key": {"type": "uuid"}, "min": 0, "max": 1}},
				"sid": {"type": {"key": {"type": "uuid"}, "min": 0, "max": 1}},
				"index": {"type": {"key": {"type": "integer"}, "min": 0, "max": 1}}
			}
		}
	}
}`

// serverSchema is serverSchemaJSON compiled for monitor's parser and
// replica. Tables and columns it lacks are skipped: only Database is
// monitored, and a newer server may add columns.
var serverSchema = func() *monitor.Schema {
	db, err := monitor.ParseDatabaseSchema([]byte(serverSchemaJSON))
	if err != nil {
		panic(fmt.Sprintf("leader: _Server schema: %v", err))
	}
	s, err := monitor.NewSchema(db, nil)
	if err != nil {
		panic(fmt.Sprintf("leader: _Server schema: %v", err))
	}
	return s.SkippingUnknown()
}()

// isObject reports whether raw starts like a JSON object.
func isObject(raw []byte) bool {
	t := bytes.TrimLeft(raw, " \t\r\n")
	return len(t) > 0 && t[0] == '{'
}

// databaseRow turns a row of monitor's replica into a Database.
func databaseRow(r monitor.Row) Database {
	d := Database{
		UUID:      r.UUID().String(),
		Name:      r.Get("name").Str(),
		Model:     Model(r.Get("model").Str()),
		Connected: r.Get("connected").Bool(),
		Leader:    r.Get("leader").Bool(),
	}
	if v := r.Get("schema"); v.Len() == 1 {
		d.Schema, d.HasSchema = v.Str(), true
	}
	if v := r.Get("cid"); v.Len() == 1 {
		d.CID = v.UUID().String()
	}
	if v := r.Get("sid"); v.Len() == 1 {
		d.SID = v.UUID().String()
	}
	if v := r.Get("index"); v.Len() == 1 {
		d.Index, d.HasIndex = v.Int(), true
	}
	return d
}
