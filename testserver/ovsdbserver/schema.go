package ovsdbserver

import _ "embed"

//go:embed testdata/lab.ovsschema
var labSchema []byte

// LabSchema returns the Lab schema used by the lab scripts: database "Lab",
// table "Item" with columns name (string, indexed), n (integer) and data
// (string). Each call returns a fresh copy.
func LabSchema() []byte { return append([]byte(nil), labSchema...) }
