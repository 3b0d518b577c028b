// Package jsonnum decodes JSON into generic values (map[string]any, []any,
// string, bool, nil) with every number kept as a json.Number, so that
// 64-bit integers survive exactly: the form in which testserver and
// testserver/ovsdbserver handle OVSDB values.
package jsonnum

import (
	"bytes"
	"encoding/json"
)

// Decode decodes the first JSON value in raw.
func Decode(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}
